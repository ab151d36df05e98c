import WardenCore
import WardenStore

/// Shapes shared by the socket and the external module protocol, so `order.get` and a
/// module's `facts.order` cannot drift apart.
enum Views {
    /// An order as `order.get` shows it: its fields, the unknown fields of its record
    /// (kept), the module that manages it, refund, effective ship-by and negotiations.
    static func order(_ tx: StoreTransaction, id: String, registry: PolicyRegistry, zone: Zone) throws -> JSONObject? {
        guard let order = try tx.order(id: id) else { return nil }
        return try self.order(tx, order, raw: rawOrder(tx, id: id), registry: registry, zone: zone)
    }

    /// The stored order record's fields, as received (nil if there is none).
    static func rawOrder(_ tx: StoreTransaction, id: String) throws -> JSONObject? {
        guard let body = try tx.orderBody(id: id), case .object(let raw)? = try? JSONParser.parse(body) else { return nil }
        return raw
    }

    /// `order`'s view, with `raw` (its stored record) for the fields Warden does not read.
    static func order(_ tx: StoreTransaction, _ order: Order, raw: JSONObject?, registry: PolicyRegistry, zone: Zone) throws -> JSONObject {
        let id = order.orderId
        var o = order.json(in: zone)
        if let raw {
            for (k, v) in raw.pairs where o[k] == nil && k != "type" { o[k] = v }  // unknown fields, kept
        }
        o["managed_by"] = JSON(registry.policy(forCategory: order.category)?.id)
        let terms = try tx.shipTerms(orderId: id)
        o["refunded_at"] = order.refundedAt.map { .string(TimeFormat.format($0, in: zone)) } ?? .null
        o["ship_deadline"] = terms.shipDeadline.map { .string(TimeFormat.format($0, in: zone)) } ?? .null
        o["negotiations"] = .array(terms.negotiations.map { $0.json(in: zone) })
        return o
    }
}
