import WardenCore

/// Reads and writes the decisions of SPEC.md §6: each an object with one key
/// (`open_case`, `change_state`, `set_deadline`, `clear_deadline`, `note`, `book`,
/// `finding`). Reading checks the shape of every field; whether a decision may be
/// applied (the case exists, belongs to the module, the order is known) is the
/// engine's check, in the transaction that applies it.
public enum PluginDecisions {
    /// The `results` of an `evaluate` answer: one list of decisions per input, in order.
    public static func results(_ result: JSON, inputs: Int, module: String, zone: Zone) -> Result<[Result<[Decision], PluginProtocolError>], PluginProtocolError> {
        guard case .object(let o) = result, case .array(let results)? = o["results"] else {
            return .failure(PluginProtocolError("evaluate: the result must be {\"results\": [...]}"))
        }
        guard results.count == inputs else {
            return .failure(PluginProtocolError("evaluate: \(results.count) results for \(inputs) inputs; one result per input, in order"))
        }
        return .success(results.enumerated().map { i, r in
            guard case .object(let ro) = r, case .array(let list)? = ro["decisions"] else {
                return .failure(PluginProtocolError("results[\(i)]: expected {\"decisions\": [...]}"))
            }
            return decisions(list, module: module, zone: zone).mapError { PluginProtocolError("results[\(i)].\($0.message)") }
        })
    }

    /// One input's decisions.
    public static func decisions(_ list: [JSON], module: String, zone: Zone) -> Result<[Decision], PluginProtocolError> {
        guard list.count <= PluginProtocol.maxDecisions else {
            return .failure(PluginProtocolError("decisions: \(list.count) decisions; at most \(PluginProtocol.maxDecisions) per input"))
        }
        var out: [Decision] = []
        out.reserveCapacity(list.count)
        for (i, value) in list.enumerated() {
            switch decision(value, module: module, zone: zone) {
            case .success(let d): out.append(d)
            case .failure(let e): return .failure(PluginProtocolError("decisions[\(i)]\(e.message)"))
            }
        }
        return .success(out)
    }

    /// SPEC.md §6's decisions, then Warden's own: `attach_evidence` (a module that
    /// judges when evidence is in time itself; without it the core keeps an evidence
    /// input's items on the module's case) and `set_ship_terms` (an order's effective
    /// ship-by and the standing of its negotiations, shown by `order.get`).
    static let kinds = ["open_case", "change_state", "set_deadline", "clear_deadline", "note", "book", "finding", "attach_evidence", "set_ship_terms"]

    static func decision(_ value: JSON, module: String, zone: Zone) -> Result<Decision, PluginProtocolError> {
        guard case .object(let wrapper) = value, wrapper.count == 1, let (kind, body) = wrapper.pairs.first else {
            return .failure(PluginProtocolError(": a decision is an object with one key, one of \(kinds.joined(separator: ", "))"))
        }
        guard case .object(let o) = body else { return .failure(PluginProtocolError(".\(kind.prefix(40)): expected an object")) }
        var r = DecisionReader(object: o, zone: zone)
        let decision: Decision?
        switch kind {
        case "open_case": decision = openCase(&r, module: module)
        case "change_state": decision = changeState(&r)
        case "set_deadline": decision = setDeadline(&r)
        case "clear_deadline": decision = clearDeadline(&r)
        case "note": decision = note(&r)
        case "book": decision = book(&r, module: module)
        case "finding": decision = finding(&r)
        case "attach_evidence": decision = attachEvidence(&r, zone: zone)
        case "set_ship_terms": decision = setShipTerms(&r, zone: zone)
        default:
            return .failure(PluginProtocolError(": unknown decision \"\(kind.prefix(40))\"; expected one of \(kinds.joined(separator: ", "))"))
        }
        if let error = r.error { return .failure(PluginProtocolError(".\(kind).\(error)")) }
        guard let decision else { return .failure(PluginProtocolError(".\(kind): incomplete")) }
        return .success(decision)
    }

    // One reader per decision, each reading every field (so every error is found) and
    // building the decision only when all are valid.

    static func openCase(_ r: inout DecisionReader, module: String) -> Decision? {
        r.allow(["case_id", "order_id", "reason", "state", "opened_at", "deadline", "note"])
        let caseId = r.id("case_id")
        let orderId = r.id("order_id")
        let reason: ComplaintReason? = r.enumeration("reason")
        let state: CaseState? = r.enumeration("state")
        let openedAt = r.time("opened_at")
        let deadline = r.time("deadline", required: false)
        let note = r.text("note")
        guard r.error == nil, let caseId, let orderId, let reason, let state, let openedAt, let note else { return nil }
        return .openCase(NewCase(caseId: caseId, orderId: orderId, category: module, shop: nil, reason: reason, state: state, openedAt: openedAt, deadline: deadline, note: note))
    }

    static func changeState(_ r: inout DecisionReader) -> Decision? {
        r.allow(["case_id", "state", "at", "note"])
        let caseId = r.id("case_id")
        let state: CaseState? = r.enumeration("state")
        let at = r.time("at")
        let note = r.text("note")
        guard r.error == nil, let caseId, let state, let at, let note else { return nil }
        return .changeState(caseId: caseId, state: state, at: at, note: note)
    }

    static func setDeadline(_ r: inout DecisionReader) -> Decision? {
        r.allow(["case_id", "due_at"])
        let caseId = r.id("case_id")
        let due = r.time("due_at")
        guard r.error == nil, let caseId, let due else { return nil }
        return .setDeadline(caseId: caseId, due: due)
    }

    static func clearDeadline(_ r: inout DecisionReader) -> Decision? {
        r.allow(["case_id"])
        let caseId = r.id("case_id")
        guard r.error == nil, let caseId else { return nil }
        return .clearDeadline(caseId: caseId)
    }

    static func note(_ r: inout DecisionReader) -> Decision? {
        r.allow(["case_id", "at", "note"])
        let caseId = r.id("case_id")
        let at = r.time("at")
        let note = r.text("note")
        guard r.error == nil, let caseId, let at, let note else { return nil }
        return .note(caseId: caseId, at: at, note: note)
    }

    static func book(_ r: inout DecisionReader, module: String) -> Decision? {
        r.allow(["case_id", "order_id", "shop", "rule", "amount", "points", "at", "dedupe_key", "note"])
        let caseId = r.id("case_id", required: false)
        let orderId = r.id("order_id", required: false)
        let shop = r.id("shop", required: false)
        let rule = r.rule("rule")
        let amount = r.money("amount")
        let points = r.points("points")
        let at = r.time("at")
        let key = r.text("dedupe_key", max: 512)
        let note = r.text("note")
        if caseId == nil && orderId == nil && shop == nil && r.error == nil {
            r.fail("book", "names none of case_id, order_id, shop: a penalty is booked against one of them")
        }
        guard r.error == nil, let rule, let amount, let points, let at, let key, let note else { return nil }
        return .bookLedger(
            LedgerBooking(caseId: caseId, orderId: orderId, shop: shop, category: module, rule: rule, amount: amount, points: points, at: at, dedupeKey: key, note: note))
    }

    static func finding(_ r: inout DecisionReader) -> Decision? {
        r.allow(["rule", "subject", "severity", "message", "at", "dedupe_key"])
        let rule = r.rule("rule")
        let subject = r.text("subject", max: 512)
        let severity: Severity? = r.enumeration("severity")
        let message = r.text("message")
        let at = r.time("at")
        let key = r.text("dedupe_key", max: 512)
        guard r.error == nil, let rule, let subject, let severity, let message, let at, let key else { return nil }
        return .recordFinding(NewFinding(rule: rule, subject: subject, severity: severity, message: message, at: at, dedupeKey: key))
    }

    static func attachEvidence(_ r: inout DecisionReader, zone: Zone) -> Decision? {
        r.allow(["case_id", "items", "submitted_at", "in_time"])
        let caseId = r.id("case_id")
        let at = r.time("submitted_at")
        let inTime = r.bool("in_time")
        var items: [EvidenceItem]?
        if let value = r.object["items"] {
            switch RecordParser(zone: zone).evidenceItems(value) {
            case .success(let list): items = list
            case .failure(let e): r.fail(e.field ?? "items", e.message)
            }
        } else {
            r.fail("items", "missing")
        }
        guard r.error == nil, let caseId, let at, let inTime, let items else { return nil }
        return .attachEvidence(caseId: caseId, items: items, submittedAt: at, inTime: inTime)
    }

    static func setShipTerms(_ r: inout DecisionReader, zone: Zone) -> Decision? {
        r.allow(["order_id", "ship_deadline", "negotiations"])
        let orderId = r.id("order_id")
        let shipDeadline = r.time("ship_deadline", required: false)
        var statuses: [NegotiationStatus] = []
        guard case .array(let list)? = r.object["negotiations"], list.count <= PluginProtocol.maxDecisions else {
            r.fail("negotiations", "expected a list")
            return nil
        }
        for (i, n) in list.enumerated() {
            guard case .object(let no) = n else {
                r.fail("negotiations[\(i)]", "expected an object")
                return nil
            }
            var nr = DecisionReader(object: no, zone: zone)
            let proposed = nr.time("proposed_at")
            let newShipBy = nr.time("new_ship_by")
            let confirmed = nr.bool("buyer_confirmed")
            let inForce = nr.bool("in_force")
            let text = nr.text("note")
            if let e = nr.error {
                r.fail("negotiations[\(i)]", e)
                return nil
            }
            guard let orderId, let proposed, let newShipBy, let confirmed, let inForce, let text else { return nil }
            statuses.append(
                NegotiationStatus(
                    negotiation: ShipNegotiation(orderId: orderId, newShipBy: newShipBy, proposedAt: proposed, buyerConfirmed: confirmed), inForce: inForce, note: text))
        }
        guard r.error == nil, let orderId else { return nil }
        return .setShipTerms(orderId: orderId, shipDeadline: shipDeadline, negotiations: statuses)
    }

    // MARK: - Writing (a module served by `wardend plugin serve`)

    /// A decision as a module writes it.
    public static func json(_ d: Decision, zone: Zone) -> JSON {
        func t(_ ts: Timestamp) -> JSON { .string(TimeFormat.format(ts, in: zone)) }
        switch d {
        case .openCase(let c):
            var o: JSONObject = [
                "case_id": .string(c.caseId), "order_id": .string(c.orderId), "reason": .string(c.reason.rawValue),
                "state": .string(c.state.rawValue), "opened_at": t(c.openedAt), "note": .string(c.note),
            ]
            if let d = c.deadline { o["deadline"] = t(d) }
            return ["open_case": .object(o)]
        case .changeState(let id, let state, let at, let note):
            return ["change_state": ["case_id": .string(id), "state": .string(state.rawValue), "at": t(at), "note": .string(note)]]
        case .setDeadline(let id, let due):
            return ["set_deadline": ["case_id": .string(id), "due_at": t(due)]]
        case .clearDeadline(let id):
            return ["clear_deadline": ["case_id": .string(id)]]
        case .note(let id, let at, let note):
            return ["note": ["case_id": .string(id), "at": t(at), "note": .string(note)]]
        case .bookLedger(let b):
            var o: JSONObject = [
                "rule": .string(b.rule), "amount": .string(b.amount.description), "points": JSON(b.points), "at": t(b.at),
                "dedupe_key": .string(b.dedupeKey), "note": .string(b.note),
            ]
            if let c = b.caseId { o["case_id"] = .string(c) }
            if let c = b.orderId { o["order_id"] = .string(c) }
            o["shop"] = JSON(b.shop)
            return ["book": .object(o)]
        case .recordFinding(let f):
            return [
                "finding": [
                    "rule": .string(f.rule), "subject": .string(f.subject), "severity": .string(f.severity.rawValue), "message": .string(f.message),
                    "at": t(f.at), "dedupe_key": .string(f.dedupeKey),
                ]
            ]
        case .attachEvidence(let id, let items, let at, let inTime):
            return [
                "attach_evidence": [
                    "case_id": .string(id), "submitted_at": t(at), "in_time": .bool(inTime),
                    "items": .array(items.map { item in
                        var o: JSONObject = ["kind": .string(item.kind.rawValue), "ref": .string(item.ref)]
                        if let sha = item.sha256 { o["sha256"] = .string(sha) }
                        if let r = item.registeredAt { o["registered_at"] = t(r) }
                        return .object(o)
                    }),
                ]
            ]
        case .setShipTerms(let orderId, let shipDeadline, let negotiations):
            return [
                "set_ship_terms": [
                    "order_id": .string(orderId), "ship_deadline": shipDeadline.map(t) ?? .null,
                    "negotiations": .array(negotiations.map { $0.json(in: zone) }),
                ]
            ]
        }
    }
}

/// Reads the fields of one decision, keeping the first error.
struct DecisionReader {
    let object: JSONObject
    let zone: Zone
    var error: String?

    init(object: JSONObject, zone: Zone) {
        self.object = object
        self.zone = zone
    }

    mutating func fail(_ field: String, _ message: String) {
        if error == nil { error = "\(field): \(message)" }
    }

    mutating func allow(_ names: Set<String>) {
        for key in object.keys where !names.contains(key) {
            fail(String(key.prefix(40)), "unknown field; expected \(names.sorted().joined(separator: ", "))")
        }
    }

    private mutating func value(_ name: String, required: Bool) -> JSON? {
        guard let v = object[name], !v.isNull else {
            if required { fail(name, "missing") }
            return nil
        }
        return v
    }

    mutating func id(_ name: String, required: Bool = true) -> String? {
        guard let v = value(name, required: required) else { return nil }
        guard case .string(let s) = v, !s.isEmpty, s.utf8.count <= RecordParser.maxIdLength, !s.contains(where: { $0.isNewline || $0 == "|" }) else {
            fail(name, "expected a string id (1 to \(RecordParser.maxIdLength) bytes, no line breaks or '|')")
            return nil
        }
        return s
    }

    mutating func text(_ name: String, max: Int = PluginProtocol.maxText) -> String? {
        guard let v = value(name, required: true) else { return nil }
        guard case .string(let s) = v, s.utf8.count <= max else {
            fail(name, "expected a string of at most \(max) bytes")
            return nil
        }
        return s
    }

    mutating func rule(_ name: String) -> String? {
        guard let s = text(name, max: 32) else { return nil }
        if s.isEmpty || s.contains(where: { $0.isNewline }) { fail(name, "expected a rule name such as \"K4\"") }
        return s
    }

    mutating func time(_ name: String, required: Bool = true) -> Timestamp? {
        guard let v = value(name, required: required) else { return nil }
        guard case .string(let s) = v, let t = TimeFormat.parse(s, defaultZone: zone), RecordParser.timeRange.contains(t) else {
            fail(name, "expected an RFC 3339 time from 1970 to 9999")
            return nil
        }
        return t
    }

    mutating func money(_ name: String) -> Money? {
        guard let v = value(name, required: true) else { return nil }
        guard case .string(let s) = v, let m = Money(parsing: s), m.fen >= 0, m <= Money.maximum else {
            fail(name, "expected a non-negative decimal string such as \"10.00\" (at most \(Money.maximum))")
            return nil
        }
        return m
    }

    mutating func bool(_ name: String) -> Bool? {
        guard let v = value(name, required: true) else { return nil }
        guard case .bool(let b) = v else {
            fail(name, "expected true or false")
            return nil
        }
        return b
    }

    mutating func points(_ name: String) -> Int? {
        guard let v = value(name, required: true) else { return nil }
        guard let i = v.int, i >= 0, i <= RecordParser.maxCount else {
            fail(name, "expected an integer from 0 to \(RecordParser.maxCount)")
            return nil
        }
        return i
    }

    mutating func enumeration<E: RawRepresentable & CaseIterable>(_ name: String) -> E? where E.RawValue == String {
        guard let v = value(name, required: true) else { return nil }
        guard case .string(let s) = v, let e = E(rawValue: s) else {
            fail(name, "expected one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return e
    }
}
