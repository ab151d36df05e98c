import WardenCore

extension ShipNegotiation {
    public static let type = RecordType("ship-negotiation")

    /// `ship-negotiation` (SPEC.md §2), owned by this module (M5). `tid` is accepted for
    /// `order_id`, as everywhere.
    public static let declaration = RecordDeclaration(
        type: type, module: ModelToys.id, key: ["order_id", "proposed_at"],
        fields: [
            ("order_id", .init(kind: .id, required: true, aliases: ["tid"])), ("new_ship_by", .init(kind: .time, required: true)),
            ("proposed_at", .init(kind: .time, required: true)), ("buyer_confirmed", .init(kind: .boolean, required: true)),
        ],
        crossCheck: { o, zone in
            guard let a = o["new_ship_by"]?.string.flatMap({ TimeFormat.parse($0, defaultZone: zone) }),
                let b = o["proposed_at"]?.string.flatMap({ TimeFormat.parse($0, defaultZone: zone) }), a <= b
            else { return [] }
            return [("new_ship_by", "must be after proposed_at")]
        })

    /// A validated `ship-negotiation` record.
    public init?(_ record: Record) {
        guard record.type == Self.type, let orderId = record.orderId, let newShipBy = record.time("new_ship_by"),
            let proposedAt = record.time("proposed_at"), let confirmed = record.body["buyer_confirmed"]?.bool
        else { return nil }
        self.init(orderId: orderId, newShipBy: newShipBy, proposedAt: proposedAt, buyerConfirmed: confirmed)
    }
}
