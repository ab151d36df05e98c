/// journald `MESSAGE_ID`s by `warden.event`, fixed forever once released; explained by
/// `packaging/warden.catalog` (`journalctl -x`). See docs/MESSAGE_IDS.md.
public enum MessageIDs {
    public static let byEvent: [String: String] = [
        "case.opened": "978ecef4fb334950b2442afcfc35af85",
        "deadline.warning": "e44db5c8a49b4b9d836f2ee937cdbdbc",
        "deadline.expired": "ead0d34167e84561acf0c834bff27925",
        "ledger.entry": "8c0a06176fa44eceba38cb5bfc5299ad",
        "spool.rejected": "4d3e9279cf684ad2ae0ba530ba5b5819",
        "spool.quarantined": "4365fdc2d0b34d1a8a1ca94e81ac4f30",
        "config.reloaded": "3bbd8b6caaac45ac970fb8935c97a390",
        "config.invalid": "e1be6f6a63f4468da41ae304b17f3876",
        "plugin.error": "702c5db46fa641b8bc2b8180c5689258",
        "plugin.failed": "68ef5d4a56ab4afa9e447d8bb1e32af4",
    ]
}
