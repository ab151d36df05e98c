/// The release version, shown by `wardend --version`, `daemon.status` and `policy.list`.
public enum WardenVersion {
    public static let string = "0.1.0"
    /// The socket API version (`daemon.status` → `api`).
    public static let api = 1
}
