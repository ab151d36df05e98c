import WardenCore

/// The module side of `facts` (SPEC.md §6): read back into the core's `Facts`, so a
/// built-in module served out of process (`wardend plugin serve`) decides from exactly
/// what the daemon sent. Besides SPEC's `{now, order?, case?, order_cases, records}`
/// Warden sends two fields of its own, which a module may ignore: `listing` (the listing
/// record a complaint or its order names with `listing_id`) and `booked` (the dedupe
/// keys of ledger entries already booked for the order).
public enum PluginFacts {
    /// Reads `facts`; nil (with what is wrong) if a field has the wrong shape.
    /// `declarations`: the module's own record types, to read `records` with.
    public static func decode(_ json: JSON, zone: Zone, declarations: [RecordType: RecordDeclaration] = [:]) -> Result<Facts, PluginProtocolError> {
        guard case .object(let o) = json else { return .failure(PluginProtocolError("facts: expected an object")) }
        guard case .string(let nowText)? = o["now"], let now = TimeFormat.parse(nowText, defaultZone: zone) else {
            return .failure(PluginProtocolError("facts.now: expected a time"))
        }
        var facts = Facts(now: now)
        if let order = o["order"], !order.isNull {
            guard let decoded = Order(json: order, zone: zone) else { return .failure(PluginProtocolError("facts.order: not an order")) }
            facts.order = decoded
        }
        let parser = RecordParser(zone: zone, declarations: declarations)
        for (i, r) in (o["records"]?.array ?? []).enumerated() {
            switch parser.parse(r) {
            case .success(let record): facts.records.append(record)
            case .failure(let e): return .failure(PluginProtocolError("facts.records[\(i)]: \(e.errors.first?.description ?? "not a record")"))
            }
        }
        if let c = o["case"], !c.isNull {
            guard let decoded = CaseRecord(json: c, zone: zone) else { return .failure(PluginProtocolError("facts.case: not a case")) }
            facts.currentCase = decoded
        }
        for (i, c) in (o["order_cases"]?.array ?? []).enumerated() {
            guard let decoded = CaseRecord(json: c, zone: zone) else { return .failure(PluginProtocolError("facts.order_cases[\(i)]: not a case")) }
            facts.orderCases.append(decoded)
        }
        if let l = o["listing"], !l.isNull {
            guard case .success(let record) = RecordParser(zone: zone).parse(l), case .listing(let listing) = record.payload else {
                return .failure(PluginProtocolError("facts.listing: not a listing record"))
            }
            facts.listing = listing
        }
        facts.bookedKeys = Set((o["booked"]?.array ?? []).compactMap(\.string))
        return .success(facts)
    }
}

extension Order {
    /// An order in `order.get`'s shape.
    public init?(json: JSON, zone: Zone) {
        func time(_ key: String) -> Timestamp?? {
            guard let v = json[key], !v.isNull else { return .some(nil) }
            guard case .string(let s) = v, let t = TimeFormat.parse(s, defaultZone: zone) else { return nil }
            return .some(t)
        }
        guard case .string(let id)? = json["order_id"], case .string(let category)? = json["category"],
            case .string(let paid)? = json["paid_amount"], let amount = Money(parsing: paid),
            case .some(let paidAt?) = time("paid_at"), case .some(let shipBy) = time("ship_by"), case .some(let shippedAt) = time("shipped_at"),
            case .some(let refundedAt) = time("refunded_at")
        else { return nil }
        self.init(
            orderId: id, category: category, paidAmount: amount, paidAt: paidAt, shop: json["shop"]?.string, item: json["item"]?.string,
            shipBy: shipBy, shippedAt: shippedAt, deliveryService: json["delivery_service"]?.string.flatMap(DeliveryService.init(rawValue:)),
            presale: json["presale"]?.bool, refundedAt: refundedAt)
    }
}

extension CaseRecord {
    /// A case in `case.get`'s shape.
    public init?(json: JSON, zone: Zone) {
        func time(_ v: JSON?) -> Timestamp? { v?.string.flatMap { TimeFormat.parse($0, defaultZone: zone) } }
        guard case .string(let id)? = json["case_id"], case .string(let orderId)? = json["order_id"], case .string(let category)? = json["category"],
            let reason = json["reason"]?.string.flatMap(ComplaintReason.init(rawValue:)), let state = json["state"]?.string.flatMap(CaseState.init(rawValue:)),
            let openedAt = time(json["opened_at"])
        else { return nil }
        var evidence: [EvidenceEntry] = []
        for e in json["evidence"]?.array ?? [] {
            guard let kind = e["kind"]?.string.flatMap(EvidenceKind.init(rawValue:)), case .string(let ref)? = e["ref"],
                let submitted = time(e["submitted_at"])
            else { return nil }
            evidence.append(
                EvidenceEntry(
                    item: EvidenceItem(kind: kind, ref: ref, sha256: e["sha256"]?.string, registeredAt: time(e["registered_at"])),
                    submittedAt: submitted, inTime: e["in_time"]?.bool ?? true))
        }
        var liability: Liability?
        if case .object(let l)? = json["liability"], let amount = l["amount"]?.string.flatMap(Money.init(parsing:)) {
            liability = Liability(amount: amount, points: l["points"]?.int ?? 0)
        }
        var history: [HistoryEntry] = []
        for h in json["history"]?.array ?? [] {
            guard let at = time(h["at"]), let s = h["state"]?.string.flatMap(CaseState.init(rawValue:)) else { return nil }
            history.append(HistoryEntry(at: at, state: s, note: h["note"]?.string ?? ""))
        }
        self.init(
            caseId: id, orderId: orderId, category: category, shop: json["shop"]?.string, reason: reason, state: state, openedAt: openedAt,
            deadline: time(json["deadline"]), evidence: evidence, liability: liability, history: history)
    }
}
