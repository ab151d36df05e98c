/// A record's `"type"`. The core's own types (SPEC.md §2) are the static members; a
/// policy module may declare more (`RecordDeclaration`), validated from the declaration.
public struct RecordType: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ name: String) { self.rawValue = name }

    public static let order = RecordType("order")
    public static let complaint = RecordType("complaint")
    public static let shipment = RecordType("shipment")
    public static let refund = RecordType("refund")
    public static let ticketReply = RecordType("ticket-reply")
    public static let evidence = RecordType("evidence")
    public static let verdict = RecordType("verdict")
    public static let listing = RecordType("listing")

    /// The types the core parses itself: those several modules share (SPEC.md §2).
    /// `ship-negotiation`, `shop-profile` and `chat-metrics` are declared by the modules
    /// that use them (model-toys, luggage, service-quality).
    public static let builtin: [RecordType] = [
        .order, .complaint, .shipment, .refund, .ticketReply, .evidence, .verdict, .listing,
    ]

    public var isBuiltin: Bool { Self.builtin.contains(self) }
    public var description: String { rawValue }
    public static func < (a: RecordType, b: RecordType) -> Bool { a.rawValue < b.rawValue }
}
