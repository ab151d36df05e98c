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

    init(tx: StoreTransaction, settings: Engine.Settings, now: Timestamp, source: String) {
        self.tx = tx
        self.settings = settings
        self.now = now
        self.source = source
    }

    var registry: PolicyRegistry { settings.registry }
    var zone: Zone { settings.zone }
    var parser: RecordParser { RecordParser(zone: settings.zone) }

    // MARK: - Records

    /// A record from outside: store it, then act on it if it is new.
    mutating func receive(_ record: Record) throws {
        switch try tx.storeRecord(record, source: source, now: now) {
        case .unchanged:
            report.unchanged += 1
        case .updated(let fields):
            report.updated += 1
            try noteUpdate(record, fields: fields)
        case .new:
            report.new += 1
            try act(on: record)
        }
    }

    /// Acts on a new (or replayed) record.
    mutating func act(on record: Record) throws {
        switch record.payload {
        case .order(let order):
            let policy = registry.policy(forCategory: order.category)
            try tx.upsertOrder(order, module: policy?.id)
            if let policy { try apply(policy.evaluate(.record(record), facts: Facts(order: order, now: now)), policy: policy.id) }
            // Complaints that were waiting for this order.
            for body in try tx.heldComplaintBodies(orderId: order.orderId) {
                if let held = replayable(body) { try act(on: held) }
            }
        case .complaint(let complaint):
            guard try tx.caseRecord(id: complaint.complaintId) == nil else { return }
            guard let order = try tx.order(id: complaint.orderId) else {
                report.waiting += 1
                log(.info, "Complaint waits for its order", event: "complaint.waiting", ["warden.case_id": "\(complaint.complaintId)", "warden.order_id": "\(complaint.orderId)"])
                return
            }
            guard let policy = registry.policy(forCategory: order.category) else { return }  // unmanaged order
            try apply(policy.evaluate(.record(record), facts: Facts(order: order, now: now)), policy: policy.id)
            if try tx.caseRecord(id: complaint.complaintId) != nil {
                try replayWaitingRecords(for: complaint.complaintId)
            }
        case .evidence, .verdict:
            let caseId = record.complaintId!
            guard let current = try tx.caseRecord(id: caseId) else {
                report.waiting += 1
                return  // stored; replayed when the case opens
            }
            guard let policy = registry.policy(id: current.category) else {
                try addNote(caseId, state: current.state, "\(record.type.rawValue) recorded while policy \(current.category) is disabled; not judged")
                return
            }
            let order = try tx.order(id: current.orderId)
            try apply(policy.evaluate(.record(record), facts: Facts(order: order, currentCase: current, now: now)), policy: policy.id)
        }
    }

    /// Evidence and verdicts that arrived before their case opened, in time order.
    mutating func replayWaitingRecords(for caseId: String) throws {
        var waiting: [Record] = []
        for type in [RecordType.evidence, .verdict] {
            for body in try tx.recordBodies(type: type, complaintId: caseId) {
                if let r = replayable(body) { waiting.append(r) }
            }
        }
        for record in waiting.sorted(by: { ($0.eventTime, $0.type.rawValue) < ($1.eventTime, $1.type.rawValue) }) {
            try act(on: record)
        }
    }

    func replayable(_ body: String) -> Record? {
        guard let json = try? JSONParser.parse(body), case .success(let record) = parser.parse(json) else { return nil }
        return record
    }

    mutating func noteUpdate(_ record: Record, fields: [String]) throws {
        let what = "\(record.type.rawValue) record updated (\(fields.joined(separator: ", "))) by \(source)"
        var caseIds: [String] = []
        switch record.payload {
        case .order(let order):
            try tx.upsertOrder(order, module: registry.policy(forCategory: order.category)?.id)
            caseIds = try tx.caseIds(orderId: order.orderId)
        case .complaint, .evidence, .verdict:
            caseIds = [record.complaintId!]
        }
        for id in caseIds {
            guard let current = try tx.caseRecord(id: id) else { continue }
            try addNote(id, state: current.state, what + "; earlier judgements stand")
        }
    }

    // MARK: - Deadlines

    mutating func fire(_ firing: DeadlineSchedule.Firing) throws {
        switch firing {
        case .expiry(let caseId, let due):
            guard try tx.markDeadlineFired(caseId: caseId, due: due, at: now) else { return }
            guard let current = try tx.caseRecord(id: caseId) else { return }
            let seq = try tx.appendEvent(topic: "deadline.expired", at: now, body: caseBody(current, ["due_at": .string(TimeFormat.format(due, in: zone))]))
            log(.error, "Deadline expired", event: "deadline.expired", caseMeta(current, seq: seq))
            guard let policy = registry.policy(id: current.category) else {
                try addNote(caseId, state: current.state, "deadline passed while policy \(current.category) is disabled; no rule applied")
                return
            }
            let order = try tx.order(id: current.orderId)
            try apply(policy.evaluate(.deadlineDue(caseId: caseId, due: due), facts: Facts(order: order, currentCase: current, now: now)), policy: policy.id)
        case .warning(let caseId, let due, let offset, let skipped):
            guard let pending = try tx.pendingDeadline(caseId: caseId), pending.dueAt == due,
                !pending.warningsDone.contains(offset)
            else { return }
            try tx.markWarningsDone(caseId: caseId, [offset] + skipped)
            guard let current = try tx.caseRecord(id: caseId) else { return }
            let remaining = (due - now).seconds
            let seq = try tx.appendEvent(
                topic: "deadline.warning", at: now,
                body: caseBody(current, ["due_at": .string(TimeFormat.format(due, in: zone)), "remaining_s": JSON(remaining), "warn_before": .string(offset.description)]))
            var meta = caseMeta(current, seq: seq)
            meta["warden.due_at"] = "\(TimeFormat.format(due, in: zone))"
            meta["warden.remaining_s"] = "\(remaining)"
            log(.warning, "Deadline in \(TimeSpan.seconds(max(remaining, 0)))", event: "deadline.warning", meta)
        }
    }

    // MARK: - Decisions

    mutating func apply(_ decisions: [Decision], policy: String) throws {
        for decision in decisions {
            switch decision {
            case .openCase(let new):
                try tx.insertCase(new, now: now)
                try tx.addHistory(new.caseId, at: new.openedAt, state: new.state, note: new.note)
                if new.state.hasDeadline, let due = new.deadline {
                    let ahead = DeadlineSchedule.warningsAhead(due: due, warnBefore: settings.warnBefore, now: now)
                    try tx.insertDeadline(caseId: new.caseId, due: due, warningsDone: settings.warnBefore.filter { !ahead.contains($0) })
                    effects.deadlineChanges.append(.schedule(DeadlineSchedule.Entry(caseId: new.caseId, due: due, pendingWarnings: ahead)))
                }
                var body: JSONObject = ["case_id": .string(new.caseId), "order_id": .string(new.orderId), "category": .string(new.category), "state": .string(new.state.rawValue)]
                body["deadline"] = new.deadline.map { .string(TimeFormat.format($0, in: zone)) } ?? .null
                let seq = try tx.appendEvent(topic: "case.opened", at: now, body: body)
                var meta: Logger.Metadata = ["warden.case_id": "\(new.caseId)", "warden.order_id": "\(new.orderId)", "warden.category": "\(new.category)", "warden.state": "\(new.state.rawValue)", "warden.seq": "\(seq)"]
                if let d = new.deadline, new.state.hasDeadline { meta["warden.deadline"] = "\(TimeFormat.format(d, in: zone))" }
                log(.info, "Case opened", event: "case.opened", meta)
            case .changeState(let caseId, let state, let at, let note):
                guard let current = try tx.caseRecord(id: caseId) else { continue }
                try tx.setCaseState(caseId, state, now: now)
                try tx.addHistory(caseId, at: at, state: state, note: note)
                if current.state.hasDeadline && !state.hasDeadline, try tx.cancelDeadline(caseId: caseId) {
                    effects.deadlineChanges.append(.cancel(caseId: caseId))
                }
                let seq = try tx.appendEvent(topic: "case.changed", at: now, body: caseBody(current, ["state": .string(state.rawValue), "from": .string(current.state.rawValue), "note": .string(note)]))
                var meta = caseMeta(current, seq: seq)
                meta["warden.state"] = "\(state.rawValue)"
                log(.info, "Case \(state.rawValue)", event: "case.changed", meta)
            case .attachEvidence(let caseId, let items, let submittedAt, let inTime):
                try tx.addEvidence(caseId, items: items, submittedAt: submittedAt, inTime: inTime)
            case .note(let caseId, let at, let note):
                guard let current = try tx.caseRecord(id: caseId) else { continue }
                try tx.addHistory(caseId, at: at, state: current.state, note: note)
                _ = try tx.appendEvent(topic: "case.changed", at: now, body: caseBody(current, ["state": .string(current.state.rawValue), "note": .string(note)]))
            case .bookLedger(let booking):
                guard let entry = try tx.book(booking) else { continue }  // already charged
                if let caseId = booking.caseId { try tx.addLiability(caseId, amount: booking.amount, points: booking.points) }
                let seq = try tx.appendEvent(topic: "ledger.entry", at: now, body: entry.json(in: zone).object!)
                var meta: Logger.Metadata = ["warden.rule": "\(entry.rule)", "warden.category": "\(entry.category)", "warden.amount": "\(entry.amount)", "warden.points": "\(entry.points)", "warden.entry_id": "\(entry.entryId)", "warden.seq": "\(seq)"]
                if let c = entry.caseId { meta["warden.case_id"] = "\(c)" }
                if let o = entry.orderId { meta["warden.order_id"] = "\(o)" }
                log(.error, "Penalty booked: \(entry.amount) yuan, \(entry.points) points (\(entry.rule))", event: "ledger.entry", meta)
            case .recordFinding(let new):
                guard let finding = try tx.recordFinding(new) else { continue }
                let seq = try tx.appendEvent(topic: "finding.new", at: now, body: finding.json(in: zone).object!)
                log(new.severity == .violation ? .warning : .notice, "Finding: \(new.message)", event: "finding.new", ["warden.rule": "\(new.rule)", "warden.subject": "\(new.subject)", "warden.seq": "\(seq)"])
            }
        }
    }

    mutating func addNote(_ caseId: String, state: CaseState, _ note: String) throws {
        try tx.addHistory(caseId, at: now, state: state, note: note)
    }

    // MARK: - Helpers

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

