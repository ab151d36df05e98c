import Logging
import WardenCore
import WardenStore

/// Works inside one write transaction: stores records, asks the owning policy for
/// decisions, applies them, and collects the effects to release after the commit.
struct Applier {
    let tx: StoreTransaction
    let settings: Engine.Settings
    let now: Timestamp
    let source: String
    var report = Engine.IngestReport()
    var effects = Effects()
    /// The case a firing has just read, kept while its decisions are applied so they do
    /// not read it again: its state follows `changeState`; only its id, order,
    /// category and state are read from it.
    var caseHint: CaseRecord?
    /// The case whose deadline the firing has just marked fired: nothing of it is
    /// pending, so a state change that ends the deadline has nothing to cancel (unless
    /// a decision schedules it again first).
    var firedDeadline: String?

    init(tx: StoreTransaction, settings: Engine.Settings, now: Timestamp, source: String) {
        self.tx = tx
        self.settings = settings
        self.now = now
        self.source = source
    }

    var registry: PolicyRegistry { settings.registry }
    var zone: Zone { settings.zone }
    var parser: RecordParser { settings.parser }

    // MARK: - Records

    /// A record from outside: store it, then act on it if it is new. An update of a
    /// record that judges no case by itself (order, listing, shop figures, negotiation)
    /// is acted on again (findings and ledger entries are deduplicated); any update is
    /// noted in the history of the cases it concerns.
    mutating func receive(_ record: Record) throws {
        FaultInjection.crashIfPoison(record.key)
        switch try tx.storeRecord(record, source: source, now: now) {
        case .unchanged:
            report.unchanged += 1
        case .updated(let fields):
            report.updated += 1
            try noteUpdate(record, fields: fields)
            switch record.payload {
            case .order, .listing, .declared: try act(on: record)
            case .shipment, .refund: try applyOrderEvent(record)
            default: break
            }
        case .new:
            report.new += 1
            try act(on: record)
        }
    }

    /// Several records from one source, in order, with the same outcome as receiving
    /// them one by one. A run of new orders, complaints, evidence and verdicts (the bulk
    /// of a large file, an order and its complaint after another) is stored several rows
    /// per statement: the records, then the orders' rows; then each record of the run is
    /// acted on in file order, so events and logs come in the order one-by-one
    /// processing gives (`parts` says why the outcome is the same).
    mutating func receive(_ records: some Collection<Record>) throws {
        let records = Array(records)
        for record in records { effects.tally.records[record.type.rawValue, default: 0] += 1 }
        var i = 0
        while i < records.count {
            for part in try parts(records, from: i) {
                if part.count >= 2 { try receiveRun(records[part]) } else { try receive(records[part.lowerBound]) }
                i = part.upperBound
            }
        }
    }

    /// Record types a run may hold.
    static let batchedTypes: Set<RecordType> = [.order, .complaint, .evidence, .verdict]

    /// Records in a run at most (the queries that check a run take a few statements
    /// per 64 records).
    static let runLimit = 512

    /// The records from `start` on, up to `runLimit` of them, cut into parts received
    /// in order: runs of two or more records that may be stored before any of them is
    /// acted on without any of them seeing another early, and records received alone.
    /// A run's records are of a batched type, new (a record stored before, a
    /// re-delivery or an update, goes alone) and each the only one of its type and key
    /// in the window (which ends at a second one, or at a record of another type). An
    /// order goes alone when a record stored before refers to it, or a record earlier in
    /// the window does. Then acting on an order of a run reads nothing the run stored
    /// (an order without related records is judged on its own row); every other record
    /// reads orders and cases that earlier records made, as one by one, and records of
    /// its order or case only through `pending`, which a later record has not set. The
    /// window's checks are a few statements per 64 records, made once for the window.
    func parts(_ records: [Record], from start: Int) throws -> [Range<Int>] {
        var end = start
        var seen = Set<String>()
        while end < records.count, end - start < Self.runLimit, Self.batchedTypes.contains(records[end].type),
            seen.insert("\(records[end].type.rawValue)\u{0}\(records[end].key)").inserted
        {
            end += 1
        }
        guard end - start >= 2 else { return [start..<start + 1] }
        let window = records[start..<end]
        let stored = try Self.byType(window) { type, ofType in try tx.storedKeys(type: type, ofType.map(\.key)) }
        let related = try tx.ordersWithRelatedRecords(window.filter { $0.type == .order }.map(\.key))
        var parts: [Range<Int>] = []
        var runStart = start
        var referred = Set<String>()
        for i in window.indices {
            let r = records[i]
            if stored[r.type]?.contains(r.key) == true || (r.type == .order && (related.contains(r.key) || referred.contains(r.key))) {
                if i > runStart { parts.append(runStart..<i) }
                parts.append(i..<i + 1)
                runStart = i + 1
            }
            if r.type != .order, let orderId = r.orderId { referred.insert(orderId) }
        }
        if runStart < end { parts.append(runStart..<end) }
        return parts
    }

    /// `body`'s keys for each batched type the records hold (given that type's records).
    static func byType(_ records: ArraySlice<Record>, _ body: (RecordType, [Record]) throws -> Set<String>) rethrows -> [RecordType: Set<String>] {
        var out: [RecordType: Set<String>] = [:]
        for type in batchedTypes {
            let ofType = records.filter { $0.type == type }
            if !ofType.isEmpty { out[type] = try body(type, ofType) }
        }
        return out
    }

    /// A run from `parts`: its records' rows, then its orders' rows, are written
    /// several per statement; then every record is acted on in file order.
    private mutating func receiveRun(_ run: ArraySlice<Record>) throws {
        for record in run { FaultInjection.crashIfPoison(record.key) }
        let inserted = try Self.byType(run) { _, ofType in try tx.insertNewRecords(ofType[...], source: source, now: now) }
        var policies: [String: (any Policy)?] = [:]
        var rows: [(order: Order, module: String?)] = []
        for record in run {
            guard inserted[.order]?.contains(record.key) == true, case .order(let order) = record.payload else { continue }
            let policy = registry.policy(forCategory: order.category)
            policies[order.orderId] = policy
            rows.append((order, policy?.id))
        }
        try tx.upsertOrders(rows)
        for record in run {
            // Stored by another node between the check and the insert (a shared
            // database): received as any stored record is.
            guard inserted[record.type]?.contains(record.key) == true else {
                try receive(record)
                continue
            }
            report.new += 1
            if case .order(let order) = record.payload {
                try judge(record, order: order, policy: policies[order.orderId] ?? nil, related: false)
            } else {
                try act(on: record)
            }
        }
    }

    /// Acts on a new (or replayed) record.
    mutating func act(on record: Record) throws {
        switch record.payload {
        case .order(let order):
            let policy = registry.policy(forCategory: order.category)
            try tx.upsertOrder(order, module: policy?.id)
            try judge(record, order: order, policy: policy, related: tx.hasRelatedRecords(orderId: order.orderId))
        case .complaint(let complaint):
            guard try !tx.caseExists(id: complaint.complaintId) else { return }
            guard let order = try tx.order(id: complaint.orderId) else { return try wait(record, for: "order \(complaint.orderId)") }
            guard let policy = registry.policy(forCategory: order.category) else { return }  // unmanaged order
            try decide(policy, .record(record)) { r in try r.facts(order: order, current: nil, record: record) }
            try replayWaiting(forCase: complaint.complaintId)
        case .shipment, .refund:
            try applyOrderEvent(record)
        case .evidence, .verdict, .ticketReply:
            let caseId = record.complaintId!
            guard let current = try tx.caseRecord(id: caseId) else { return try wait(record, for: "case \(caseId)") }
            guard let policy = registry.policy(id: current.category) else {
                try addNote(caseId, state: current.state, "\(record.type.rawValue) recorded while policy \(current.category) is disabled; not judged")
                return
            }
            try decide(policy, .record(record)) { r in try r.facts(order: r.tx.order(id: current.orderId), current: current) }
        case .listing(let listing):
            guard let policy = registry.policy(forCategory: listing.category) else { return }
            try decide(policy, .record(record)) { r in Facts(listing: listing, now: r.now) }
        case .declared(let declared):
            // A type a module declared goes to that module, with the order and case it
            // names, when known (a record naming an unknown order or case waits for it).
            guard let policy = registry.policy(id: declared.module) else { return }
            var current: CaseRecord?
            if let caseId = declared.complaintId {
                guard let c = try tx.caseRecord(id: caseId) else { return try wait(record, for: "case \(caseId)") }
                current = c
            }
            var order: Order?
            if let orderId = declared.orderId ?? current?.orderId {
                guard let o = try tx.order(id: orderId) else { return try wait(record, for: "order \(orderId)") }
                // A module acts only on its own orders: a record of its type about
                // another module's order is kept, not judged.
                guard registry.policy(forCategory: o.category)?.id == policy.id else { return }
                order = o
            }
            try decide(policy, .record(record)) { r in try r.facts(order: order, current: current, record: record) }
        }
    }

    /// Judges a stored order whose row is up to date; `related`: whether any other record
    /// refers to it (`StoreTransaction.hasRelatedRecords`).
    private mutating func judge(_ record: Record, order: Order, policy: (any Policy)?, related: Bool) throws {
        guard related else {
            if let policy { try decide(policy, .record(record)) { r in Facts(order: order, now: r.now) } }
            return
        }
        if let policy {
            try decide(policy, .record(record)) { r in try r.facts(order: r.tx.order(id: order.orderId) ?? order, current: nil) }
        }
        // Complaints stored while the order was unknown or unmanaged, and other records
        // that were waiting for this order.
        if policy != nil {
            for body in try tx.complaintBodiesWithoutCase(orderId: order.orderId) {
                if let complaint = replayable(body) { try act(on: complaint) }
            }
        }
        for body in try tx.pendingBodies(orderId: order.orderId) {
            guard let waiting = replayable(body) else { continue }
            try tx.setPending(waiting.type, key: waiting.key, false)
            try act(on: waiting)
        }
    }

    /// A shipment or refund: recorded on its order, then judged by the order's policy
    /// (it may be the action an open case waits for).
    mutating func applyOrderEvent(_ record: Record) throws {
        let orderId = record.orderId!
        guard try tx.order(id: orderId) != nil else { return try wait(record, for: "order \(orderId)") }
        switch record.payload {
        case .shipment(let s): try tx.setShipped(orderId: orderId, at: s.shippedAt)
        case .refund(let r): try tx.setRefunded(orderId: orderId, at: r.refundedAt)
        default: break
        }
        guard let order = try tx.order(id: orderId), let policy = registry.policy(forCategory: order.category) else { return }
        try decide(policy, .record(record)) { r in try r.facts(order: order, current: nil) }
    }

    /// Asks `policy` about `input` now, or, for a module that runs out of process,
    /// queues the input for it (in this transaction: the record and its queue entry are
    /// committed together) and leaves the facts to be read when it is evaluated.
    mutating func decide(_ policy: any Policy, _ input: PolicyInput, facts: (FactReader) throws -> Facts) throws {
        guard policy.runsOutOfProcess else {
            return try apply(policy.evaluate(input, facts: facts(FactReader(tx: tx, now: now, parser: parser, module: policy.id))), policy: policy.id)
        }
        switch input {
        case .record(let record): try tx.enqueue(module: policy.id, .record(type: record.type, key: record.key), at: now)
        case .deadlineDue(let caseId, let due): try tx.enqueue(module: policy.id, .deadline(caseId: caseId, due: due), at: now)
        }
        effects.queued.insert(policy.id)
    }

    /// Once a case exists, the records that waited for it (evidence, verdicts, ticket
    /// replies, a module's own types) are acted on, oldest first.
    mutating func replayWaiting(forCase caseId: String) throws {
        guard try tx.caseExists(id: caseId) else { return }
        for body in try tx.pendingBodies(complaintId: caseId) {
            guard let waiting = replayable(body) else { continue }
            try tx.setPending(waiting.type, key: waiting.key, false)
            try act(on: waiting)
        }
    }

    /// Stores nothing more: the record is already stored; it waits for what it refers to.
    mutating func wait(_ record: Record, for what: String) throws {
        try tx.setPending(record.type, key: record.key, true)
        report.waiting += 1
        log(.info, "\(record.type.rawValue) record waits for \(what)", event: "record.waiting", ["warden.record": "\(record.type.rawValue):\(record.key)"])
    }

    func facts(order: Order?, current: CaseRecord?, record: Record? = nil) throws -> Facts {
        try FactReader(tx: tx, now: now, parser: parser).facts(order: order, current: current, record: record)
    }

    func replayable(_ body: String) -> Record? { FactReader.replayable(body, parser: parser) }

    mutating func noteUpdate(_ record: Record, fields: [String]) throws {
        let what = "\(record.type.rawValue) record updated (\(fields.joined(separator: ", "))) by \(source)"
        var caseIds: [String] = []
        if let complaintId = record.complaintId {
            caseIds = [complaintId]
        } else if let orderId = record.orderId {
            caseIds = try tx.caseIds(orderId: orderId)
        }
        for id in caseIds {
            guard let current = try tx.caseSummary(id: id) else { continue }
            try addNote(id, state: current.state, what + "; earlier judgements stand")
        }
    }

    // MARK: - Deadlines

    mutating func fire(_ firing: DeadlineSchedule.Firing) throws {
        switch firing {
        case .expiry(let caseId, let due):
            effects.touchedCases.insert(caseId)
            guard let current = try tx.caseRecord(id: caseId) else { return }
            guard let policy = registry.policy(id: current.category) else {
                // Stays pending: it fires when the policy is enabled again (reload, restart).
                guard let pending = try tx.pendingDeadline(caseId: caseId), pending.dueAt == due else { return }
                log(.warning, "Deadline came due while policy \(current.category) is disabled; it stays pending", event: "deadline.held", caseMeta(current, seq: 0))
                return
            }
            // Marked fired only if still pending with this due time (else it was moved,
            // cancelled or fired already, and this firing is stale): one statement.
            guard try tx.markDeadlineFired(caseId: caseId, due: due, at: now) else { return }
            caseHint = current
            firedDeadline = caseId
            defer { (caseHint, firedDeadline) = (nil, nil) }
            effects.tally.lags.append((seconds: Double((now - due).milliseconds) / 1000, warning: false))
            let seq = try event(topic: "deadline.expired", at: now, body: caseBody(current, ["due_at": .string(TimeFormat.format(due, in: zone))]))
            log(.error, "Deadline expired", event: "deadline.expired", caseMeta(current, seq: seq))
            try decide(policy, .deadlineDue(caseId: caseId, due: due)) { r in try r.facts(order: r.tx.order(id: current.orderId), current: current) }
        case .warning(let caseId, let due, let offset, let skipped):
            guard let pending = try tx.pendingDeadline(caseId: caseId), pending.dueAt == due,
                !pending.warningsDone.contains(offset)
            else { return }
            try tx.markWarningsDone(caseId: caseId, [offset] + skipped, warnBefore: settings.warnBefore)
            effects.tally.lags.append((seconds: Double((now - (due - offset)).milliseconds) / 1000, warning: true))
            guard let current = try tx.caseSummary(id: caseId) else { return }
            let remaining = (due - now).seconds
            let seq = try event(
                topic: "deadline.warning", at: now,
                body: caseBody(current, ["due_at": .string(TimeFormat.format(due, in: zone)), "remaining_s": JSON(remaining), "warn_before": .string(offset.description)]))
            var meta = caseMeta(current, seq: seq)
            meta["warden.due_at"] = "\(TimeFormat.format(due, in: zone))"
            meta["warden.remaining_s"] = "\(remaining)"
            log(.warning, "Deadline in \(TimeSpan.seconds(max(remaining, 0)))", event: "deadline.warning", meta)
        }
    }

    /// Schedules a case's deadline (moving it if it had one), warning at the offsets
    /// of `warn_before` still ahead.
    mutating func scheduleDeadline(_ caseId: String, due: Timestamp) throws {
        let ahead = DeadlineSchedule.warningsAhead(due: due, warnBefore: settings.warnBefore, now: now)
        if firedDeadline == caseId { firedDeadline = nil }
        let entry = DeadlineSchedule.Entry(caseId: caseId, due: due, pendingWarnings: ahead)
        try tx.insertDeadline(caseId: caseId, due: due, warningsDone: settings.warnBefore.filter { !ahead.contains($0) }, nextAt: entry.nextTime)
        effects.deadlineChanges.append(.schedule(entry))
    }

    // MARK: - Decisions

    mutating func apply(_ decisions: [Decision], policy: String) throws {
        for decision in decisions {
            if let id = decision.caseId { effects.touchedCases.insert(id) }
            switch decision {
            case .openCase(let new):
                try tx.insertCase(new, now: now)
                try tx.addHistory(new.caseId, at: new.openedAt, state: new.state, note: new.note)
                if new.state.hasDeadline, let due = new.deadline {
                    try scheduleDeadline(new.caseId, due: due)
                }
                var body: JSONObject = ["case_id": .string(new.caseId), "order_id": .string(new.orderId), "category": .string(new.category), "state": .string(new.state.rawValue)]
                body["deadline"] = new.deadline.map { .string(TimeFormat.format($0, in: zone)) } ?? .null
                let seq = try event(topic: "case.opened", at: now, body: body)
                var meta: Logger.Metadata = ["warden.case_id": "\(new.caseId)", "warden.order_id": "\(new.orderId)", "warden.category": "\(new.category)", "warden.state": "\(new.state.rawValue)", "warden.seq": "\(seq)"]
                if let d = new.deadline, new.state.hasDeadline { meta["warden.deadline"] = "\(TimeFormat.format(d, in: zone))" }
                log(.info, "Case opened", event: "case.opened", meta)
            case .changeState(let caseId, let state, let at, let note):
                guard let current = try knownCase(caseId) else { continue }
                try tx.setCaseState(caseId, state, now: now)
                if caseHint?.caseId == caseId { caseHint?.state = state }
                try tx.addHistory(caseId, at: at, state: state, note: note)
                if current.state.hasDeadline && !state.hasDeadline, firedDeadline != caseId, try tx.cancelDeadline(caseId: caseId) {
                    effects.deadlineChanges.append(.cancel(caseId: caseId))
                }
                let seq = try event(topic: "case.changed", at: now, body: caseBody(current, ["state": .string(state.rawValue), "from": .string(current.state.rawValue), "note": .string(note)]))
                var meta = caseMeta(current, seq: seq)
                meta["warden.state"] = "\(state.rawValue)"
                log(.info, "Case \(state.rawValue)", event: "case.changed", meta)
            case .attachEvidence(let caseId, let items, let submittedAt, let inTime):
                try tx.addEvidence(caseId, items: items, submittedAt: submittedAt, inTime: inTime)
            case .note(let caseId, let at, let note):
                guard let current = try knownCase(caseId) else { continue }
                try tx.addHistory(caseId, at: at, state: current.state, note: note)
                _ = try event(topic: "case.changed", at: now, body: caseBody(current, ["state": .string(current.state.rawValue), "note": .string(note)]))
            case .bookLedger(let booking):
                guard let entry = try tx.book(booking) else { continue }  // already charged
                effects.tally.bookings.append((category: entry.category, rule: entry.rule, amountFen: entry.amount.fen, points: Int64(entry.points)))
                if let caseId = booking.caseId { try tx.addLiability(caseId, amount: booking.amount, points: booking.points) }
                let seq = try event(topic: "ledger.entry", at: now, body: entry.json(in: zone).object!)
                var meta: Logger.Metadata = ["warden.rule": "\(entry.rule)", "warden.category": "\(entry.category)", "warden.amount": "\(entry.amount)", "warden.points": "\(entry.points)", "warden.entry_id": "\(entry.entryId)", "warden.seq": "\(seq)"]
                if let c = entry.caseId { meta["warden.case_id"] = "\(c)" }
                if let o = entry.orderId { meta["warden.order_id"] = "\(o)" }
                log(.error, "Penalty booked: \(entry.amount) yuan, \(entry.points) points (\(entry.rule))", event: "ledger.entry", meta)
            case .setDeadline(let caseId, let due):
                guard let current = try knownCase(caseId), current.state.hasDeadline else { continue }
                try scheduleDeadline(caseId, due: due)
                try tx.setCaseDeadline(caseId, due)
            case .clearDeadline(let caseId):
                if try tx.cancelDeadline(caseId: caseId) { effects.deadlineChanges.append(.cancel(caseId: caseId)) }
                try tx.setCaseDeadline(caseId, nil)
            case .setShipTerms(let orderId, let shipDeadline, let negotiations):
                try tx.setShipTerms(orderId: orderId, shipDeadline: shipDeadline, negotiations: negotiations)
            case .recordFinding(let new):
                guard let finding = try tx.recordFinding(new) else { continue }
                effects.tally.findings.append(finding.rule)
                let seq = try event(topic: "finding.new", at: now, body: finding.json(in: zone).object!)
                log(new.severity == .violation ? .warning : .notice, "Finding: \(new.message)", event: "finding.new", ["warden.rule": "\(new.rule)", "warden.subject": "\(new.subject)", "warden.seq": "\(seq)"])
            }
        }
    }

    mutating func addNote(_ caseId: String, state: CaseState, _ note: String) throws {
        effects.touchedCases.insert(caseId)
        try tx.addHistory(caseId, at: now, state: state, note: note)
    }

    // MARK: - Helpers

    /// Appends an event in this transaction and remembers it for live delivery.
    mutating func event(topic: String, at: Timestamp, body: JSONObject) throws -> Int64 {
        let seq = try tx.appendEvent(topic: topic, at: at, body: body)
        effects.events.append(StoredEvent(seq: seq, topic: topic, at: at, body: body))
        return seq
    }

    /// A case's id, order, category and state: the firing's case when it is the one,
    /// else read (one query).
    func knownCase(_ caseId: String) throws -> CaseRecord? {
        if let hint = caseHint, hint.caseId == caseId { return hint }
        return try tx.caseSummary(id: caseId)
    }

    func caseBody(_ c: CaseRecord, _ extra: JSONObject) -> JSONObject {
        var body: JSONObject = ["case_id": .string(c.caseId), "order_id": .string(c.orderId), "category": .string(c.category)]
        for (k, v) in extra.pairs { body[k] = v }
        return body
    }

    func caseMeta(_ c: CaseRecord, seq: Int64) -> Logger.Metadata {
        ["warden.case_id": "\(c.caseId)", "warden.order_id": "\(c.orderId)", "warden.category": "\(c.category)", "warden.seq": "\(seq)"]
    }

    mutating func log(_ level: Logger.Level, _ message: String, event: String, _ metadata: Logger.Metadata) {
        var meta = metadata
        meta["warden.event"] = "\(event)"
        effects.logs.append(Effects.LogEntry(level: level, message: message, metadata: meta))
    }
}


extension Decision {
    /// The case a decision changes, if any.
    var caseId: String? {
        switch self {
        case .openCase(let c): c.caseId
        case .changeState(let id, _, _, _), .attachEvidence(let id, _, _, _), .note(let id, _, _): id
        case .setDeadline(let id, _), .clearDeadline(let id): id
        case .bookLedger(let b): b.caseId
        case .recordFinding, .setShipTerms: nil
        }
    }
}


/// Reads, inside a transaction, what a policy may need to know about an input.
struct FactReader {
    let tx: StoreTransaction
    let now: Timestamp
    let parser: RecordParser
    /// The module the facts are for (its declared record types are read).
    var module: String = ""

    /// The stored records of the module's declared types about an order (types with an
    /// `order_id` field) or, without an order, a shop (types keyed by `shop`).
    func ownRecords(orderId: String?, shop: String?) throws -> [Record] {
        var out: [Record] = []
        for d in parser.declarations.values.sorted(by: { $0.type < $1.type }) where d.module == module {
            var bodies: [String] = []
            if let orderId, d.field("order_id") != nil {
                bodies = try tx.recordBodies(type: d.type, orderId: orderId)
            } else if orderId == nil, let shop, d.key.first == "shop" {
                bodies = (try tx.recordBody(type: d.type, key: shop)).map { [$0] } ?? []
                bodies += try tx.recordBodies(type: d.type, keyPrefix: shop + "|")
            }
            out += bodies.compactMap(replayable)
        }
        return out
    }

    /// Everything a policy may need about an order and a case.
    func facts(order: Order?, current: CaseRecord?, record: Record? = nil) throws -> Facts {
        guard let order else { return Facts(currentCase: current, records: try ownRecords(orderId: nil, shop: record?.shop), now: now) }
        // `current` was read in this transaction just before: not read a second time.
        let cases = try tx.caseIds(orderId: order.orderId).compactMap { id in id == current?.caseId ? current : try tx.caseRecord(id: id) }
        let records = try ownRecords(orderId: order.orderId, shop: nil)
        let listing = try namedListing(record: record, orderListingId: { try tx.orderBody(id: order.orderId).flatMap(Self.listingId) }, current: current)
        return Facts(
            order: order, currentCase: current, orderCases: cases, records: records, listing: listing?.listing,
            bookedKeys: try tx.bookedKeys(orderId: order.orderId), now: now)
    }

    /// The stored listing that `record`, else its order (`orderListingId`, asked only
    /// then), else the current case's complaint names with `listing_id`: its JSON and
    /// the record read from it. Nil when none names one or it is not stored.
    func namedListing(record: Record?, orderListingId: () throws -> String?, current: CaseRecord?) throws -> (json: JSON, listing: Listing)? {
        var listingId = try record?.body["listing_id"]?.string ?? orderListingId()
        if listingId == nil, let current, let body = try tx.recordBody(type: .complaint, key: current.caseId) {
            listingId = Self.listingId(body)
        }
        guard let listingId, let body = try tx.recordBody(type: .listing, key: listingId), let json = try? JSONParser.parse(body),
            case .success(let stored) = parser.parse(json), case .listing(let listing) = stored.payload
        else { return nil }
        return (json, listing)
    }

    /// The `listing_id` string a stored record body has at its top level, if any. A
    /// body whose text has no `"listing_id"` and no escape (which could spell the key
    /// another way) cannot have one and is not parsed: most orders and complaints name
    /// no listing, and parsing both bodies was a tenth of a firing's time.
    static func listingId(_ body: String) -> String? {
        var body = body
        let mayName = body.withUTF8 { bytes -> Bool in
            let key = Self.listingKey
            var i = 0
            while i < bytes.count {
                if bytes[i] == UInt8(ascii: "\\") { return true }
                if bytes[i] == key[0], i + key.count <= bytes.count, (1..<key.count).allSatisfy({ bytes[i + $0] == key[$0] }) { return true }
                i += 1
            }
            return false
        }
        guard mayName else { return nil }
        return (try? JSONParser.parse(body))?["listing_id"]?.string
    }

    static let listingKey: [UInt8] = Array(#""listing_id""#.utf8)

    func replayable(_ body: String) -> Record? { Self.replayable(body, parser: parser) }

    static func replayable(_ body: String, parser: RecordParser) -> Record? {
        guard let json = try? JSONParser.parse(body), case .success(let record) = parser.parse(json) else { return nil }
        return record
    }

}
