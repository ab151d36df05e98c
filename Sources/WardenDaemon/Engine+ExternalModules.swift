import Logging
import WardenCore
import WardenPluginProtocol
import WardenStore

/// The engine's side of external modules (SPEC.md §6): inputs are queued in the
/// transaction that stores a record or fires a deadline (`Applier.decide`); a module's
/// runner takes them from the queue, reads their facts (`prepare`), asks the module
/// outside any transaction, and applies the answers here (`apply`), each input in its
/// own savepoint and all of it or nothing of it.
///
/// Trusts nothing a module decides: a decision about a case or order that is not the
/// module's, a case opened twice, a deadline for a state without one, rejects the whole
/// result of that input. Inputs of one batch are evaluated on the facts read before the
/// call; an input whose order or case an earlier input of the batch changed (or one the
/// caller names as changed since its facts were read: `stale`) is left in the queue
/// and evaluated again on fresh facts, and so is every later input about the same
/// subjects, so they keep their order (a module is deterministic, so this gives what
/// one-by-one evaluation gives).
extension Engine {
    /// A queued input, read and shaped for `evaluate`.
    public struct PreparedInput: Sendable {
        public var item: QueuedItem
        /// The `evaluate` input as JSON text; nil when there is nothing to evaluate (its
        /// case is gone or its record cannot be read back): it is dropped from the queue.
        public var input: [UInt8]?
        /// `o:<order>`, `c:<case>`, `s:<shop>`: what its facts were read from.
        public var subjects: Set<String>
        var record: Record?
    }

    /// What applying one batch did.
    public struct BatchOutcome: Sendable {
        public var applied = 0
        /// Left in the queue: an earlier input of the batch changed their facts.
        public var deferred = 0
        /// The subjects (`o:`, `c:`) the batch changed or left inputs about in the queue
        /// (not the `stale` it was given): a batch whose facts were read before this one
        /// committed defers its inputs about them.
        public var touched = Set<String>()
        /// Inputs whose result could not be applied, with the reason.
        public var rejected: [(item: QueuedItem, reason: String)] = []
    }

    /// Reads each item's facts from one snapshot, and writes each `evaluate` input.
    public func prepare(_ items: [QueuedItem], module: String) throws -> [PreparedInput] {
        let settings = self.settings
        let parser = settings.parser
        let zone = settings.zone
        let now = clock.now()
        return try store.read { tx in
            var memo: [String: OrderFacts?] = [:]
            var prepared: [PreparedInput] = []
            prepared.reserveCapacity(items.count)
            for item in items {
                var out: [UInt8] = []
                switch item.input {
                case .record(let type, let key):
                    guard let body = try tx.recordBody(type: type, key: key), case .object(let object)? = try? JSONParser.parse(body),
                        case .success(let record) = parser.parse(.object(object))
                    else {
                        prepared.append(PreparedInput(item: item, input: nil, subjects: []))
                        continue
                    }
                    let facts = try Self.facts(
                        tx, module: module, orderId: record.orderId, caseId: record.complaintId, shop: record.shop, now: now, settings: settings,
                        record: record, memo: &memo)
                    out.append(contentsOf: #"{"kind":"record","record":"#.utf8)
                    Self.appendStored(body, into: &out)
                    facts.write(into: &out)
                    prepared.append(PreparedInput(item: item, input: out, subjects: facts.subjects, record: record))
                case .deadline(let caseId, let due):
                    guard try tx.caseExists(id: caseId) else {
                        prepared.append(PreparedInput(item: item, input: nil, subjects: []))
                        continue
                    }
                    let facts = try Self.facts(tx, module: module, orderId: nil, caseId: caseId, shop: nil, now: now, settings: settings, memo: &memo)
                    out.append(contentsOf: #"{"kind":"deadline","case_id":"#.utf8)
                    JSONWriter.write(.string(caseId), into: &out)
                    out.append(contentsOf: #","due_at":"#.utf8)
                    JSONWriter.write(.string(TimeFormat.format(due, in: zone)), into: &out)
                    facts.write(into: &out)
                    prepared.append(PreparedInput(item: item, input: out, subjects: facts.subjects))
                }
            }
            return prepared
        }
    }

    /// An input's facts: the object without `records`, and the bodies of `records` as
    /// stored (written into the input as they are, not parsed and written again).
    struct InputFacts {
        var object: JSONObject
        var records: [String]
        var subjects: Set<String>

        /// Appends `,"facts":{...}}`: the facts, and the end of the input.
        func write(into out: inout [UInt8]) {
            out.append(contentsOf: #","facts":"#.utf8)
            JSONWriter.write(.object(object), into: &out)
            out.removeLast()  // the object's "}": the records go in before it
            out.append(contentsOf: #","records":["#.utf8)
            for (i, body) in records.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Engine.appendStored(body, into: &out)
            }
            out.append(contentsOf: "]}}".utf8)
        }
    }

    /// Appends a stored record body to a protocol line. Bodies are JSON objects Warden
    /// checked before storing them; one kept as received may span lines (a `.json`
    /// file), and a line break there can only be white space, so it becomes a space.
    static func appendStored(_ body: String, into out: inout [UInt8]) {
        var body = body
        body.withUTF8 { utf8 in
            let start = out.count
            out.append(contentsOf: utf8)
            guard utf8.contains(0x0A) || utf8.contains(0x0D) else { return }
            for i in start..<out.count where out[i] == 0x0A || out[i] == 0x0D { out[i] = 0x20 }
        }
    }

    /// What the facts of every input about one order share, read once per snapshot (an
    /// order and its complaint usually arrive, and are prepared, together).
    struct OrderFacts {
        var view: JSONObject
        var caseIds: [String]
        var cases: [JSON]
        /// The `listing_id` of the order record.
        var listingId: String?
        var booked: JSON
    }

    static func orderFacts(_ tx: StoreTransaction, orderId: String, settings: Settings) throws -> OrderFacts? {
        guard let order = try tx.order(id: orderId) else { return nil }
        let raw = try Views.rawOrder(tx, id: orderId)
        let ids = try tx.caseIds(orderId: orderId)
        return OrderFacts(
            view: try Views.order(tx, order, raw: raw, registry: settings.registry, zone: settings.zone),
            caseIds: ids,
            cases: try ids.compactMap { try tx.caseRecord(id: $0)?.json(in: settings.zone) },
            listingId: raw?["listing_id"]?.string,
            booked: .array(try tx.bookedKeys(orderId: orderId).sorted().map(JSON.string)))
    }

    /// SPEC.md §6 `facts`: `{now, order?, case?, order_cases, records}`, and Warden's own
    /// additions (PLUGINS.md): the listing named by `listing_id`, and the dedupe keys
    /// already booked for the order. `memo` keeps what inputs about the same order share,
    /// for the snapshot `tx` reads.
    static func facts(
        _ tx: StoreTransaction, module: String, orderId: String?, caseId: String?, shop: String?, now: Timestamp, settings: Settings,
        record: Record? = nil, memo: inout [String: OrderFacts?]
    ) throws -> InputFacts {
        let zone = settings.zone
        var facts: JSONObject = ["now": .string(TimeFormat.format(now, in: zone))]
        var subjects = Set<String>()
        var orderId = orderId
        var current: CaseRecord?
        if let caseId {
            subjects.insert("c:" + caseId)
            if let c = try tx.caseRecord(id: caseId) {
                current = c
                facts["case"] = c.json(in: zone)
                orderId = orderId ?? c.orderId
            }
        }
        var shop = shop
        var known: OrderFacts?
        if let orderId {
            subjects.insert("o:" + orderId)
            if let kept = memo[orderId] {
                known = kept
            } else {
                known = try orderFacts(tx, orderId: orderId, settings: settings)
                memo.updateValue(known, forKey: orderId)
            }
            if let known {
                facts["order"] = .object(known.view)
                shop = shop ?? known.view["shop"]?.string
                for id in known.caseIds { subjects.insert("c:" + id) }
            }
        }
        facts["order_cases"] = .array(known?.cases ?? [])
        if let shop { subjects.insert("s:" + shop) }
        var records: [String] = []
        for declaration in settings.registry.declarations.values.sorted(by: { $0.type < $1.type }) where declaration.module == module {
            if let orderId, declaration.field("order_id") != nil {
                records += try tx.recordBodies(type: declaration.type, orderId: orderId)
            } else if let shop, declaration.key.first == "shop" {
                if let body = try tx.recordBody(type: declaration.type, key: shop) { records.append(body) }
                records += try tx.recordBodies(type: declaration.type, keyPrefix: shop + "|")
            }
        }
        if let known {
            let reader = FactReader(tx: tx, now: now, parser: settings.parser)
            if let found = try reader.namedListing(record: record, orderListingId: { known.listingId }, current: current) {
                facts["listing"] = found.json
            }
            facts["booked"] = known.booked
        }
        return InputFacts(object: facts, records: records, subjects: subjects)
    }

    /// Applies one batch's results in one transaction (see the type's comment).
    public func apply(
        module: String, _ prepared: [PreparedInput], results: [Result<[Decision], PluginProtocolError>], stale: Set<String> = []
    ) async throws -> BatchOutcome {
        let settings = self.settings
        let now = clock.now()
        return try await commit { tx in
            var outcome = BatchOutcome()
            var effects = Effects()
            var blocked = stale  // subjects whose facts in this batch may be out of date
            var touched = Set<String>()  // what this batch changed or left queued
            // Dequeued together at the end: in the same transaction as the decisions.
            var done: [Int64] = []
            for (input, result) in zip(prepared, results) {
                guard input.input != nil else {
                    done.append(input.item.id)
                    continue
                }
                guard input.subjects.isDisjoint(with: blocked) else {
                    outcome.deferred += 1
                    // Decisions change orders and cases, never what a shop's facts hold.
                    let kept = input.subjects.filter { !$0.hasPrefix("s:") }
                    blocked.formUnion(kept)
                    touched.formUnion(kept)
                    continue
                }
                let decisions: [Decision]
                switch result {
                case .failure(let e):
                    outcome.rejected.append((input.item, e.message))
                    continue
                case .success(let d): decisions = d
                }
                do {
                    let applied = try tx.savepoint { () throws -> Applier in
                        var applier = Applier(tx: tx, settings: settings, now: now, source: "module:\(module)")
                        let changed = try applier.applyExternal(decisions, module: module, input: input)
                        blocked.formUnion(changed)
                        touched.formUnion(changed)
                        return applier
                    }
                    done.append(input.item.id)
                    outcome.applied += 1
                    effects.merge(applied.effects)
                } catch let rejected as Applier.Rejected {
                    outcome.rejected.append((input.item, rejected.message))
                } catch where !Store.isEnvironmental(error) {
                    outcome.rejected.append((input.item, "\(error)"))
                }
            }
            try tx.dequeue(done)
            outcome.touched = touched
            return (outcome, effects)
        }
    }

    /// Counts a failed evaluation of `item`: the first failure leaves it queued (it is
    /// tried again once, after the module restarted); the second holds it, with a
    /// `plugin.error` event and an error in the journal naming module, input and reason.
    /// Returns true if it is now held.
    @discardableResult
    public func failQueued(_ item: QueuedItem, module: String, reason: String) async throws -> Bool {
        let now = clock.now()
        let hold = item.attempts >= 1
        try await commit { tx in
            try tx.failQueued(item.id, reason: reason, hold: hold)
            var effects = Effects()
            guard hold else { return ((), effects) }
            var body: JSONObject = ["module": .string(module), "reason": .string(reason)]
            var meta: Logger.Metadata = ["warden.event": "plugin.error", "warden.plugin": "\(module)", "warden.error": "\(reason)"]
            switch item.input {
            case .record(let type, let key):
                body["record"] = .string("\(type.rawValue):\(key)")
                meta["warden.record"] = "\(type.rawValue):\(key)"
            case .deadline(let caseId, let due):
                body["case_id"] = .string(caseId)
                body["due_at"] = .string(TimeFormat.format(due, in: .utc))
                meta["warden.case_id"] = "\(caseId)"
            }
            let seq = try tx.appendEvent(topic: "plugin.error", at: now, body: body)
            meta["warden.seq"] = "\(seq)"
            effects.events.append(StoredEvent(seq: seq, topic: "plugin.error", at: now, body: body))
            effects.logs.append(.init(level: .error, message: "Module \(module) failed twice on an input; it is held until a reload or restart: \(reason)", metadata: meta))
            return ((), effects)
        }
        return hold
    }

    /// Puts every held input back in its module's queue (on start and reload).
    @discardableResult
    public func releaseHeld() async throws -> Int {
        try await commit { tx in (try tx.releaseHeld(), Effects()) }
    }

    /// Receives the modules that have new inputs queued, after each commit.
    public func onQueued(_ hook: @escaping @Sendable (Set<String>) -> Void) {
        queueHook.value = hook
    }
}

extension Applier {
    /// A decision Warden cannot apply (SPEC.md §6): the input's whole result is refused.
    struct Rejected: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// Checks and applies an external module's decisions for one input, one at a time
    /// against the state the earlier ones left; returns the subjects they changed.
    mutating func applyExternal(_ decisions: [Decision], module: String, input: Engine.PreparedInput) throws -> Set<String> {
        var touched = Set<String>()
        func reject(_ i: Int, _ m: String) -> Rejected { Rejected(message: "decisions[\(i)]: \(m)") }
        func ownCase(_ i: Int, _ id: String) throws -> CaseRecord {
            guard let c = try tx.caseSummary(id: id) else { throw reject(i, "case \(id) does not exist") }
            guard c.category == module else { throw reject(i, "case \(id) is module \(c.category)'s; a module acts only on its own cases") }
            return c
        }
        func ownOrder(_ i: Int, _ id: String) throws -> Order {
            guard let o = try tx.order(id: id) else { throw reject(i, "order \(id) is not known") }
            let owner = registry.policy(forCategory: o.category)?.id
            guard owner == module else {
                throw reject(i, "order \(id) (category \(o.category)) is \(owner.map { "module \($0)'s" } ?? "managed by no module"); a module acts only on its own orders")
            }
            return o
        }
        // Evidence an input brings is kept on the module's case before its decisions,
        // unless the module judges it itself (`attach_evidence`).
        let attaches = decisions.contains { if case .attachEvidence = $0 { true } else { false } }
        if !attaches, let record = input.record, case .evidence(let e) = record.payload, let c = try tx.caseSummary(id: e.complaintId), c.category == module {
            let inTime = c.deadline.map { e.submittedAt <= $0 } ?? true
            try apply([.attachEvidence(caseId: c.caseId, items: e.items, submittedAt: e.submittedAt, inTime: inTime)], policy: module)
        }
        for (i, decision) in decisions.enumerated() {
            var checked = decision
            switch decision {
            case .openCase(var new):
                guard try !tx.caseExists(id: new.caseId) else { throw reject(i, "case \(new.caseId) already exists") }
                let order = try ownOrder(i, new.orderId)
                if new.state.hasDeadline && new.deadline == nil { throw reject(i, "state \(new.state.rawValue) runs against a deadline; give \"deadline\"") }
                new.category = module
                new.shop = order.shop
                checked = .openCase(new)
                touched.formUnion(["c:" + new.caseId, "o:" + new.orderId])
            case .changeState(let id, _, _, _), .note(let id, _, _), .clearDeadline(let id):
                let c = try ownCase(i, id)
                touched.formUnion(["c:" + id, "o:" + c.orderId])
            case .setDeadline(let id, _):
                let c = try ownCase(i, id)
                guard c.state.hasDeadline else { throw reject(i, "case \(id) is \(c.state.rawValue), a state without a deadline") }
                touched.formUnion(["c:" + id, "o:" + c.orderId])
            case .bookLedger(var booking):
                booking.category = module
                if let id = booking.caseId {
                    let c = try ownCase(i, id)
                    booking.orderId = booking.orderId ?? c.orderId
                    touched.formUnion(["c:" + id, "o:" + c.orderId])
                    if booking.shop == nil, let order = try tx.order(id: c.orderId) { booking.shop = order.shop }
                } else if let id = booking.orderId {
                    let order = try ownOrder(i, id)
                    if booking.shop == nil { booking.shop = order.shop }
                    touched.insert("o:" + id)
                }
                // A booking changes no fact sent for a shop (facts carry no shop ledger),
                // so later inputs about the shop in the round need not be sent again.
                checked = .bookLedger(booking)
            case .recordFinding:
                break
            case .attachEvidence(let id, _, _, _):
                let c = try ownCase(i, id)
                touched.formUnion(["c:" + id, "o:" + c.orderId])
            case .setShipTerms(let id, _, _):
                _ = try ownOrder(i, id)
                touched.insert("o:" + id)
            }
            try apply([checked], policy: module)
        }
        if let record = input.record, case .complaint(let c) = record.payload {
            try replayWaiting(forCase: c.complaintId)
        }
        return touched
    }
}
