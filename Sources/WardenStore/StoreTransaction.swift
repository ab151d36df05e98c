import WardenCore

/// Typed access to the database inside one transaction (or one read snapshot). The
/// engine works through this and never sees SQL or GRDB.
public struct StoreTransaction {
    let connection: StoreConnection
    /// The node this runs on ('' with SQLite): whose queue of module inputs it sees.
    let node: String

    init(connection: StoreConnection, node: String = "") {
        self.connection = connection
        self.node = node
    }

    /// A statement of the store's SQL on this transaction's connection.
    func statement(sql: String) -> PortableStatement {
        PortableStatement(sql: sql, connection: connection)
    }

    /// Runs `body` in a savepoint: if it throws, only its changes are rolled back.
    public func savepoint<T>(_ body: () throws -> T) throws -> T {
        try connection.run(.savepoint, [])
        do {
            let result = try body()
            try connection.run(.release, [])
            return result
        } catch {
            _ = try? connection.run(.rollbackTo, [])
            _ = try? connection.run(.release, [])
            throw error
        }
    }

    // MARK: - Records

    public enum RecordChange: Sendable, Equatable {
        case new
        /// Same key, same content: a re-delivery; nothing to do.
        case unchanged
        /// Same key, new content; the top-level fields that differ.
        case updated(fields: [String])
    }

    /// Stores a record by identity and says whether it is new, a re-delivery or an update.
    ///
    /// The stored body is the record's own text when the spool has it (`Record.raw`),
    /// else its canonical JSON (sorted keys). Two bodies that differ only in spelling
    /// (key order, white space, escapes) are the same record: a byte-equal body is a
    /// re-delivery at once; otherwise both are compared in canonical form.
    public func storeRecord(_ record: WardenCore.Record, source: String, now: Timestamp) throws -> RecordChange {
        // Optimistic: most records are new, so try the insert first (one statement).
        if try !insertNewRecords([record][...], source: source, now: now).isEmpty { return .new }
        let body = Self.storedBody(record)
        let type = HotValue.text(record.type.rawValue)
        let key = HotValue.text(record.key)
        let existing = try connection.run(.recordBody, [type, key]).string ?? ""
        if existing == body { return .unchanged }
        let old = (try? JSONParser.parse(existing))?.object ?? JSONObject()
        let canonical = { (value: JSON?) in value.map { JSONWriter.string($0, sortedKeys: true) } }
        let keys = Set(old.keys).union(record.body.keys).filter { $0 != "type" }
        let changed = keys.filter { canonical(old[$0]) != canonical(record.body[$0]) }.sorted()
        if changed.isEmpty { return .unchanged }
        try connection.run(.updateRecord, [.text(body), .int(record.eventTime.milliseconds), .int(now.milliseconds), .text(source), type, key])
        return .updated(fields: changed)
    }

    /// The text a record is stored as: as received when known, else canonical JSON.
    static func storedBody(_ record: WardenCore.Record) -> String {
        record.raw ?? JSONWriter.string(.object(record.body), sortedKeys: true)
    }

    /// Rows per several-row statement.
    public static let rowsPerStatement = 64

    /// Inserts records that are not stored yet, several per statement, and returns the
    /// keys of those that were new (the others are left alone: `storeRecord` tells a
    /// re-delivery from an update). The records must be of one type, with distinct keys.
    public func insertNewRecords(_ records: ArraySlice<WardenCore.Record>, source: String, now: Timestamp) throws -> Set<String> {
        var inserted = Set<String>()
        var start = records.startIndex
        while start < records.endIndex {
            let end = min(start + Self.rowsPerStatement, records.endIndex)
            var values: [HotValue] = []
            values.reserveCapacity((end - start) * 9)
            for i in start..<end {  // by index: no copy of each record
                values.append(.text(records[i].type.rawValue))
                values.append(.text(records[i].key))
                values.append(.text(Self.storedBody(records[i])))
                values.append(HotValue(records[i].orderId))
                values.append(HotValue(records[i].complaintId))
                values.append(.int(records[i].eventTime.milliseconds))
                values.append(.int(now.milliseconds))
                values.append(.int(now.milliseconds))
                values.append(.text(source))
            }
            for key in try connection.run(.insertRecords(rows: end - start), values) {
                if let key = key.string { inserted.insert(key) }
            }
            start = end
        }
        return inserted
    }

    /// Inserts or updates several orders, several per statement (distinct order ids).
    public func upsertOrders(_ orders: [(order: Order, module: String?)]) throws {
        var start = 0
        while start < orders.count {
            let end = min(start + Self.rowsPerStatement, orders.count)
            var values: [HotValue] = []
            values.reserveCapacity((end - start) * 11)
            for (o, module) in orders[start..<end] { values += Self.orderValues(o, module: module) }
            _ = try connection.run(.upsertOrders(rows: end - start), values)
            start = end
        }
    }

    static func orderValues(_ o: Order, module: String?) -> [HotValue] {
        [
            .text(o.orderId), .text(o.category), HotValue(module), HotValue(o.shop), HotValue(o.item), .int(o.paidAmount.fen),
            .int(o.paidAt.milliseconds), HotValue(o.shipBy?.milliseconds), HotValue(o.shippedAt?.milliseconds),
            HotValue(o.deliveryService?.rawValue), HotValue(o.presale),
        ]
    }

    /// Which of these orders any record other than the order itself refers to (as
    /// `hasRelatedRecords`, several orders per statement).
    public func ordersWithRelatedRecords(_ orderIds: [String]) throws -> Set<String> {
        try found(orderIds, by: { .relatedOrders(rows: $0) })
    }

    /// Which of these keys of one record type are stored already (several per statement).
    public func storedKeys(type: RecordType, _ keys: [String]) throws -> Set<String> {
        try found(keys, by: { .storedKeys(rows: $0) }, after: [.text(type.rawValue)])
    }

    /// Which of `values` a several-row lookup answers with (its first column), asked
    /// `rowsPerStatement` at a time, each statement's parameters `leading` then values.
    func found(_ values: [String], by lookup: (Int) -> HotStatements.Multi, after leading: [HotValue] = []) throws -> Set<String> {
        var found = Set<String>()
        var start = 0
        while start < values.count {
            let end = min(start + Self.rowsPerStatement, values.count)
            for value in try connection.run(lookup(end - start), leading + values[start..<end].map(HotValue.text)) {
                if let value = value.string { found.insert(value) }
            }
            start = end
        }
        return found
    }

    /// Whether any record other than the order itself refers to an order: when none
    /// does, there is nothing to gather or replay for it (the common case of a new order).
    public func hasRelatedRecords(orderId: String) throws -> Bool {
        try !ordersWithRelatedRecords([orderId]).isEmpty
    }

    /// Marks a stored record as waiting for its order or case (or no longer waiting).
    public func setPending(_ type: RecordType, key: String, _ pending: Bool) throws {
        try statement(sql: "UPDATE records SET pending = ? WHERE type = ? AND key = ?").execute(arguments: [pending, type.rawValue, key])
    }

    /// Records waiting for an order, oldest event first.
    public func pendingBodies(orderId: String) throws -> [String] {
        try String.fetchAll(statement(sql: "SELECT body FROM records WHERE pending = 1 AND order_id = ? ORDER BY event_at, type, key"), arguments: [orderId])
    }

    /// Complaints about an order that have no case, oldest first.
    public func complaintBodiesWithoutCase(orderId: String) throws -> [String] {
        try String.fetchAll(statement(sql: """
                SELECT body FROM records r INDEXED BY records_order_refs
                WHERE r.order_id = ? AND r.type = 'complaint' AND r.type != 'order'
                AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.case_id = r.key) ORDER BY event_at, key
                """), arguments: [orderId])
    }

    /// Records waiting for a case, oldest event first.
    public func pendingBodies(complaintId: String) throws -> [String] {
        try String.fetchAll(statement(sql: "SELECT body FROM records WHERE pending = 1 AND complaint_id = ? ORDER BY event_at, type, key"), arguments: [complaintId])
    }

    /// How many records wait, by type.
    public func pendingCounts() throws -> [(type: String, count: Int)] {
        try Row.fetchAll(statement(sql: "SELECT type, count(*) AS n FROM records WHERE pending = 1 GROUP BY type ORDER BY type")).map {
            (try $0["type"], try $0["n"])
        }
    }

    /// The raw body of one stored record.
    public func recordBody(type: RecordType, key: String) throws -> String? {
        try String.fetchOne(statement(sql: "SELECT body FROM records WHERE type = ? AND key = ?"), arguments: [type.rawValue, key])
    }

    /// The raw bodies of stored records of `type` (not `order`) about an order.
    public func recordBodies(type: RecordType, orderId: String) throws -> [String] {
        try String.fetchAll(statement(sql: """
                SELECT body FROM records INDEXED BY records_order_refs WHERE order_id = ? AND type = ? AND type != 'order'
                ORDER BY event_at, key
                """), arguments: [orderId, type.rawValue])
    }

    /// The raw bodies of a shop's records of `type` whose key starts with `shop|`.
    public func recordBodies(type: RecordType, keyPrefix prefix: String) throws -> [String] {
        // A range on the primary key (type, key), so the index finds the rows; a
        // `substr` test read every record of the type (4 ms a call at 10,000 records).
        try String.fetchAll(
            statement(sql: "SELECT body FROM records WHERE type = ? AND key >= ? AND key < ? ORDER BY key"),
            arguments: [type.rawValue, prefix, Self.prefixEnd(prefix)])
    }

    // MARK: - Orders

    public func upsertOrder(_ o: Order, module: String?) throws {
        try upsertOrders([(o, module)])
    }

    public func order(id: String) throws -> Order? {
        guard let row = try Row.fetchOne(statement(sql: "SELECT * FROM orders WHERE order_id = ?"), arguments: [id]) else {
            return nil
        }
        return Order(
            orderId: try row["order_id"], category: try row["category"], paidAmount: Money(fen: try row["paid_fen"]),
            paidAt: Timestamp(milliseconds: try row["paid_at"]), shop: try row["shop"], item: try row["item"],
            shipBy: (try row["ship_by"] as Int64?).map(Timestamp.init(milliseconds:)),
            shippedAt: (try row["shipped_at"] as Int64?).map(Timestamp.init(milliseconds:)),
            deliveryService: try (row["delivery_service"] as String?).map { try Self.decode(DeliveryService.self, $0, "orders", "delivery_service", id) },
            presale: try row["presale"], refundedAt: (try row["refunded_at"] as Int64?).map(Timestamp.init(milliseconds:)))
    }

    /// Records a shipment (from a `shipment` record).
    public func setShipped(orderId: String, at: Timestamp) throws {
        try statement(sql: "UPDATE orders SET shipped_at = ? WHERE order_id = ?").execute(arguments: [at.milliseconds, orderId])
    }

    /// Records a refund (from a `refund` record).
    public func setRefunded(orderId: String, at: Timestamp) throws {
        try statement(sql: "UPDATE orders SET refunded_at = ? WHERE order_id = ?").execute(arguments: [at.milliseconds, orderId])
    }

    /// Stores an order's effective ship deadline and its negotiations as judged.
    public func setShipTerms(orderId: String, shipDeadline: Timestamp?, negotiations: [NegotiationStatus]) throws {
        try statement(sql: "UPDATE orders SET ship_deadline = ? WHERE order_id = ?").execute(arguments: [shipDeadline?.milliseconds, orderId])
        try statement(sql: "DELETE FROM order_negotiations WHERE order_id = ?").execute(arguments: [orderId])
        for s in negotiations {
            try statement(sql: "INSERT INTO order_negotiations (order_id, proposed_at, new_ship_by, buyer_confirmed, in_force, note) VALUES (?, ?, ?, ?, ?, ?)").execute(arguments: [orderId, s.negotiation.proposedAt.milliseconds, s.negotiation.newShipBy.milliseconds, s.negotiation.buyerConfirmed, s.inForce, s.note])
        }
    }

    /// The effective ship deadline (negotiated, else `ship_by`) and the negotiations.
    public func shipTerms(orderId: String) throws -> (shipDeadline: Timestamp?, negotiations: [NegotiationStatus]) {
        let row = try Row.fetchOne(statement(sql: "SELECT ship_deadline, ship_by FROM orders WHERE order_id = ?"), arguments: [orderId])
        let deadline = try ((row?["ship_deadline"] as Int64?) ?? (row?["ship_by"] as Int64?)).map(Timestamp.init(milliseconds:))
        let statuses = try Row.fetchAll(statement(sql: "SELECT * FROM order_negotiations WHERE order_id = ? ORDER BY proposed_at"), arguments: [orderId]).map { r in
            NegotiationStatus(
                negotiation: ShipNegotiation(
                    orderId: orderId, newShipBy: Timestamp(milliseconds: try r["new_ship_by"]), proposedAt: Timestamp(milliseconds: try r["proposed_at"]),
                    buyerConfirmed: try r["buyer_confirmed"]),
                inForce: try r["in_force"], note: try r["note"])
        }
        return (deadline, statuses)
    }

    /// Dedupe keys of the ledger entries booked for an order.
    public func bookedKeys(orderId: String) throws -> Set<String> {
        Set(try String.fetchAll(statement(sql: "SELECT dedupe_key FROM ledger WHERE order_id = ?"), arguments: [orderId]))
    }

    /// Whether Warden knows anything about a shop.
    /// The least string after every string that starts with `prefix` (its last byte
    /// one higher; keys are UTF-8 and a prefix here ends in an ASCII `|`), for a range
    /// scan of a prefix on an index.
    static func prefixEnd(_ prefix: String) -> String {
        var bytes = Array(prefix.utf8)
        if let last = bytes.last, last < 0x7F {
            bytes[bytes.count - 1] = last + 1
            return String(decoding: bytes, as: UTF8.self)
        }
        return prefix + "\u{10FFFF}"  // after every continuation of it
    }

    /// Whether anything names the shop: an order, a ledger entry, or a record of a type
    /// keyed by shop (`keyedTypes`: key `shop` or `shop|…`).
    public func shopIsKnown(_ shop: String, keyedTypes: [RecordType]) throws -> Bool {
        if try Bool.fetchOne(
            statement(sql: "SELECT EXISTS (SELECT 1 FROM orders WHERE shop = ?) OR EXISTS (SELECT 1 FROM ledger WHERE shop = ?)"), arguments: [shop, shop]) == true
        {
            return true
        }
        for type in keyedTypes {
            if try recordBody(type: type, key: shop) != nil { return true }
            if try Bool.fetchOne(
                statement(sql: "SELECT EXISTS (SELECT 1 FROM records WHERE type = ? AND key > ? AND key < ?)"),
                arguments: [type.rawValue, shop + "|", Self.prefixEnd(shop + "|")]) == true
            {
                return true
            }
        }
        return false
    }

    /// The raw body of the stored order record (with unknown fields), for `order.get`.
    public func orderBody(id: String) throws -> String? {
        try String.fetchOne(statement(sql: "SELECT body FROM records WHERE type = 'order' AND key = ?"), arguments: [id])
    }

    public func orderCounts() throws -> (total: Int, unmanaged: Int) {
        (try count("orders"), try count("orders_unmanaged"))
    }

    /// One of the counts kept by triggers (`store_counts`, Schema v7).
    func count(_ name: String) throws -> Int {
        try Int.fetchOne(statement(sql: "SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM store_counts WHERE name = ?"), arguments: [name]) ?? 0
    }

    /// A value this version does not know, read back from the database (the file was
    /// changed by another program or a newer Warden): an error that names where it is,
    /// never a silent substitute.
    public struct UnknownValue: Error, CustomStringConvertible {
        public var table: String
        public var column: String
        public var row: String
        public var value: String
        public var description: String {
            "the database holds \(table).\(column) = \"\(value)\" for \(row), which this version of Warden does not know"
        }
    }

    static func decode<E: RawRepresentable>(_ type: E.Type, _ raw: String, _ table: String, _ column: String, _ row: String) throws -> E
    where E.RawValue == String {
        guard let value = E(rawValue: raw) else { throw UnknownValue(table: table, column: column, row: row, value: raw) }
        return value
    }

    // MARK: - Cases

    public func insertCase(_ c: NewCase, now: Timestamp) throws {
        try statement(sql: """
                INSERT INTO cases (case_id, order_id, category, shop, reason, state, open, opened_at, deadline, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [
                c.caseId, c.orderId, c.category, c.shop, c.reason.rawValue, c.state.rawValue, c.state.isOpen,
                c.openedAt.milliseconds, c.deadline?.milliseconds, now.milliseconds,
            ])
    }

    public func setCaseState(_ caseId: String, _ state: CaseState, now: Timestamp) throws {
        try statement(sql: "UPDATE cases SET state = ?, open = ?, updated_at = ? WHERE case_id = ?").execute(arguments: [state.rawValue, state.isOpen, now.milliseconds, caseId])
    }

    /// The deadline a case shows (`case.get`), set or cleared by a module.
    public func setCaseDeadline(_ caseId: String, _ due: Timestamp?) throws {
        try statement(sql: "UPDATE cases SET deadline = ? WHERE case_id = ?").execute(arguments: [due?.milliseconds, caseId])
    }

    public func addLiability(_ caseId: String, amount: Money, points: Int) throws {
        try statement(sql: """
                UPDATE cases SET liability_fen = coalesce(liability_fen, 0) + ?,
                    liability_points = coalesce(liability_points, 0) + ? WHERE case_id = ?
                """).execute(arguments: [amount.fen, points, caseId])
    }

    public func addHistory(_ caseId: String, at: Timestamp, state: CaseState, note: String) throws {
        try statement(sql: "INSERT INTO case_history (case_id, at, state, note) VALUES (?, ?, ?, ?)").execute(arguments: [caseId, at.milliseconds, state.rawValue, note])
    }

    public func addEvidence(_ caseId: String, items: [EvidenceItem], submittedAt: Timestamp, inTime: Bool) throws {
        for item in items {
            try statement(sql: """
                    INSERT INTO case_evidence (case_id, kind, ref, sha256, registered_at, submitted_at, in_time)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [
                    caseId, item.kind.rawValue, item.ref, item.sha256, item.registeredAt?.milliseconds,
                    submittedAt.milliseconds, inTime,
                ])
        }
    }

    public func caseIds(orderId: String) throws -> [String] {
        try String.fetchAll(statement(sql: "SELECT case_id FROM cases WHERE order_id = ? ORDER BY case_id"), arguments: [orderId])
    }

    /// A case without its evidence and history (one query): for what needs its state,
    /// order and category only.
    public func caseSummary(id: String) throws -> CaseRecord? {
        try Row.fetchOne(statement(sql: "SELECT * FROM cases WHERE case_id = ?"), arguments: [id]).map(Self.caseSummary)
    }

    public func caseExists(id: String) throws -> Bool {
        try Int.fetchOne(statement(sql: "SELECT 1 FROM cases WHERE case_id = ?"), arguments: [id]) != nil
    }

    /// A case with its evidence and history. On SQLite one statement, a snapshot by
    /// itself (`Store.readStatement` runs it outside a transaction: the socket's cold
    /// `case.get`); on PostgreSQL three queries in the caller's transaction.
    public func caseRecord(id: String) throws -> CaseRecord? {
        if case .sqlite(let db, _) = connection { return try Self.caseRecord(db, id: id) }
        guard let row = try Row.fetchOne(statement(sql: "SELECT * FROM cases WHERE case_id = ?"), arguments: [id]) else {
            return nil
        }
        var c = try Self.caseSummary(row)
        c.evidence = try Row.fetchAll(statement(sql: "SELECT * FROM case_evidence WHERE case_id = ? ORDER BY id"), arguments: [id]
        ).map { try Self.evidenceEntry($0, caseId: id) }
        c.history = try Row.fetchAll(statement(sql: "SELECT * FROM case_history WHERE case_id = ? ORDER BY id"), arguments: [id]
        ).map { try Self.historyEntry($0, caseId: id) }
        return c
    }

    /// The case, its evidence and its history as one result: a part number (0, 1, 2),
    /// then the row's id within the part (its order), then the part's columns. Not
    /// sorted here (an ORDER BY over the union costs a sorter per read): the reader
    /// orders each part by id.
    static let caseRecordSQL = """
        SELECT 0, 0, case_id, order_id, category, shop, reason, state, opened_at, deadline, liability_fen, liability_points
          FROM cases WHERE case_id = ?1
        UNION ALL
        SELECT 1, id, kind, ref, sha256, registered_at, submitted_at, in_time, NULL, NULL, NULL, NULL
          FROM case_evidence WHERE case_id = ?1
        UNION ALL
        SELECT 2, id, state, note, at, NULL, NULL, NULL, NULL, NULL, NULL, NULL
          FROM case_history WHERE case_id = ?1
        """

    /// A NOT NULL column read by position: a NULL (a damaged or hand-rebuilt table) or a
    /// value of another type (SQLite keeps text in an integer column) is an error
    /// naming the table, column and case, never an empty string or 0.
    static func text(_ h: OpaquePointer, _ i: Int32, _ table: String, _ column: String, _ row: String) throws -> String {
        guard Column.isText(h, i) else { throw UnreadableValue(column: "\(table).\(column) for \(row)", value: Statement.value(h, i), type: "String") }
        return Column.text(h, i)
    }

    static func int64(_ h: OpaquePointer, _ i: Int32, _ table: String, _ column: String, _ row: String) throws -> Int64 {
        guard Column.isInteger(h, i) else { throw UnreadableValue(column: "\(table).\(column) for \(row)", value: Statement.value(h, i), type: "Int64") }
        return Column.int64(h, i)
    }

    static func optionalText(_ h: OpaquePointer, _ i: Int32, _ table: String, _ column: String, _ row: String) throws -> String? {
        Column.isNull(h, i) ? nil : try text(h, i, table, column, row)
    }

    static func optionalInt64(_ h: OpaquePointer, _ i: Int32, _ table: String, _ column: String, _ row: String) throws -> Int64? {
        Column.isNull(h, i) ? nil : try int64(h, i, table, column, row)
    }

    /// `caseRecordSQL` read by column position (no row objects, no names looked up).
    static func caseRecord(_ db: Database, id: String) throws -> CaseRecord? {
        var found: CaseRecord?
        var evidence: [(Int64, CaseRecord.EvidenceEntry)] = []
        var history: [(Int64, CaseRecord.HistoryEntry)] = []
        var failure: (any Error)?
        _ = try db.cachedStatement(sql: caseRecordSQL).rows([id]) { h -> Void in
            guard failure == nil else { return }
            do {
                switch Column.int64(h, 0) {
                case 0:
                    let fen = try optionalInt64(h, 10, "cases", "liability_fen", id)
                    found = CaseRecord(
                        caseId: try text(h, 2, "cases", "case_id", id), orderId: try text(h, 3, "cases", "order_id", id),
                        category: try text(h, 4, "cases", "category", id), shop: try optionalText(h, 5, "cases", "shop", id),
                        reason: try decode(ComplaintReason.self, try text(h, 6, "cases", "reason", id), "cases", "reason", id),
                        state: try decode(CaseState.self, try text(h, 7, "cases", "state", id), "cases", "state", id),
                        openedAt: Timestamp(milliseconds: try int64(h, 8, "cases", "opened_at", id)), deadline: try optionalInt64(h, 9, "cases", "deadline", id).map(Timestamp.init(milliseconds:)),
                        liability: try fen.map { Liability(amount: Money(fen: $0), points: Int(try optionalInt64(h, 11, "cases", "liability_points", id) ?? 0)) })
                case 1:
                    evidence.append((
                        try int64(h, 1, "case_evidence", "id", id),
                        CaseRecord.EvidenceEntry(
                            item: EvidenceItem(
                                kind: try decode(EvidenceKind.self, try text(h, 2, "case_evidence", "kind", id), "case_evidence", "kind", id),
                                ref: try text(h, 3, "case_evidence", "ref", id),
                                sha256: try optionalText(h, 4, "case_evidence", "sha256", id),
                                registeredAt: try optionalInt64(h, 5, "case_evidence", "registered_at", id).map(Timestamp.init(milliseconds:))),
                            submittedAt: Timestamp(milliseconds: try int64(h, 6, "case_evidence", "submitted_at", id)),
                            inTime: try int64(h, 7, "case_evidence", "in_time", id) != 0)
                    ))
                default:
                    history.append((
                        try int64(h, 1, "case_history", "id", id),
                        CaseRecord.HistoryEntry(
                            at: Timestamp(milliseconds: try int64(h, 4, "case_history", "at", id)),
                            state: try decode(CaseState.self, try text(h, 2, "case_history", "state", id), "case_history", "state", id),
                            note: try text(h, 3, "case_history", "note", id))
                    ))
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        // Evidence or history without the case row cannot be: the case is read in the
        // same snapshot, and neither outlives it.
        guard var c = found else { return nil }
        c.evidence = evidence.sorted { $0.0 < $1.0 }.map(\.1)
        c.history = history.sorted { $0.0 < $1.0 }.map(\.1)
        return c
    }

    static func evidenceEntry(_ r: Row, caseId: String) throws -> CaseRecord.EvidenceEntry {
        CaseRecord.EvidenceEntry(
            item: EvidenceItem(
                kind: try decode(EvidenceKind.self, try r["kind"], "case_evidence", "kind", caseId), ref: try r["ref"], sha256: try r["sha256"],
                registeredAt: (try r["registered_at"] as Int64?).map(Timestamp.init(milliseconds:))),
            submittedAt: Timestamp(milliseconds: try r["submitted_at"]), inTime: try r["in_time"])
    }

    static func historyEntry(_ r: Row, caseId: String) throws -> CaseRecord.HistoryEntry {
        CaseRecord.HistoryEntry(
            at: Timestamp(milliseconds: try r["at"]), state: try decode(CaseState.self, try r["state"], "case_history", "state", caseId), note: try r["note"])
    }

    static func caseSummary(_ row: Row) throws -> CaseRecord {
        let liabilityFen: Int64? = try row["liability_fen"]
        return CaseRecord(
            caseId: try row["case_id"], orderId: try row["order_id"], category: try row["category"], shop: try row["shop"],
            reason: try decode(ComplaintReason.self, row["reason"], "cases", "reason", row["case_id"]),
            state: try decode(CaseState.self, try row["state"], "cases", "state", try row["case_id"]), openedAt: Timestamp(milliseconds: try row["opened_at"]),
            deadline: (try row["deadline"] as Int64?).map(Timestamp.init(milliseconds:)),
            liability: try liabilityFen.map { Liability(amount: Money(fen: $0), points: try row["liability_points"] ?? 0) })
    }

    public struct CaseFilter: Sendable {
        public var state: CaseState?
        public var category: String?
        public var shop: String?
        public init(state: CaseState? = nil, category: String? = nil, shop: String? = nil) {
            self.state = state
            self.category = category
            self.shop = shop
        }
    }

    /// Cases in `case_id` order after `cursor`, with their evidence and history.
    /// A page of cases in `case_id` order, each whole, in three queries for a page of up
    /// to 2,000 (the cases, then the evidence and the history of all of them), not three
    /// per case.
    public func cases(_ filter: CaseFilter, limit: Int, after cursor: String?) throws -> [CaseRecord] {
        var sql = "SELECT * FROM cases WHERE 1 = 1"
        var args: [any DatabaseValueConvertible] = []
        if let s = filter.state { sql += " AND state = ?"; args.append(s.rawValue) }
        if let c = filter.category { sql += " AND category = ?"; args.append(c) }
        if let s = filter.shop { sql += " AND shop = ?"; args.append(s) }
        if let cursor { sql += " AND case_id > ?"; args.append(cursor) }
        sql += " ORDER BY case_id LIMIT ?"
        args.append(limit)
        var cases = try connection.fetchAllOnce(sql, StatementArguments(args)).map(Self.caseSummary)
        guard !cases.isEmpty else { return [] }
        // In chunks well under SQLite's parameter limit (a page is at most 1,001 cases).
        let ids = cases.map(\.caseId)
        var evidence: [String: [CaseRecord.EvidenceEntry]] = [:]
        var history: [String: [CaseRecord.HistoryEntry]] = [:]
        for start in stride(from: 0, to: ids.count, by: 2_000) {
            let chunk = Array(ids[start..<min(start + 2_000, ids.count)])
            let list = "(" + Array(repeating: "?", count: chunk.count).joined(separator: ", ") + ")"
            for r in try connection.fetchAllOnce("SELECT * FROM case_evidence WHERE case_id IN \(list) ORDER BY case_id, id", StatementArguments(chunk)) {
                let id: String = try r["case_id"]
                evidence[id, default: []].append(try Self.evidenceEntry(r, caseId: id))
            }
            for r in try connection.fetchAllOnce("SELECT * FROM case_history WHERE case_id IN \(list) ORDER BY case_id, id", StatementArguments(chunk)) {
                let id: String = try r["case_id"]
                history[id, default: []].append(try Self.historyEntry(r, caseId: id))
            }
        }
        for i in cases.indices {
            cases[i].evidence = evidence[cases[i].caseId] ?? []
            cases[i].history = history[cases[i].caseId] ?? []
        }
        return cases
    }

    public func caseCounts() throws -> (open: Int, closed: Int) {
        let (total, open) = (try count("cases"), try count("cases_open"))
        return (open, total - open)
    }

    // MARK: - Deadlines

    public struct PendingDeadline: Sendable, Equatable {
        public var caseId: String
        public var dueAt: Timestamp
        public var warningsDone: [TimeSpan]
        /// When it next needs attention, as the store orders it (`next_at`).
        public var nextAt: Timestamp
    }

    /// Schedules (or moves) a case's deadline; `nextAt` is when it next needs attention
    /// (its earliest warning still to send, else `due`).
    public func insertDeadline(caseId: String, due: Timestamp, warningsDone: [TimeSpan], nextAt: Timestamp) throws {
        try statement(sql: """
                INSERT INTO deadlines (case_id, due_at, status, warnings_done, next_at) VALUES (?, ?, 'pending', ?, ?)
                ON CONFLICT(case_id) DO UPDATE SET due_at = excluded.due_at, status = 'pending',
                    warnings_done = excluded.warnings_done, fired_at = NULL, next_at = excluded.next_at
                """).execute(arguments: [caseId, due.milliseconds, Self.encode(warningsDone), nextAt.milliseconds])
    }

    /// Cancels a pending deadline; true if there was one.
    @discardableResult
    public func cancelDeadline(caseId: String) throws -> Bool {
        try statement(sql: "UPDATE deadlines SET status = 'cancelled' WHERE case_id = ? AND status = 'pending'").execute(arguments: [caseId]) > 0
    }

    public func pendingDeadline(caseId: String) throws -> PendingDeadline? {
        try Row.fetchOne(statement(sql: "SELECT * FROM deadlines WHERE case_id = ? AND status = 'pending'"), arguments: [caseId]
        ).map(Self.pending)
    }

    /// How many deadlines are pending.
    public func pendingDeadlineCount() throws -> Int {
        try count("deadlines_pending")
    }

    public func pendingDeadlines() throws -> [PendingDeadline] {
        try Row.fetchAll(statement(sql: "SELECT * FROM deadlines WHERE status = 'pending' ORDER BY due_at")).map(Self.pending)
    }

    /// Up to `limit` pending deadlines in order of attention (`next_at`, then case id),
    /// after the key (`afterTime`, `afterCase`): one window of the deadline schedule.
    public func pendingDeadlines(afterTime: Timestamp, afterCase: String, limit: Int) throws -> [PendingDeadline] {
        try Row.fetchAll(
            statement(sql: """
                SELECT case_id, due_at, warnings_done, next_at FROM deadlines INDEXED BY deadlines_next
                WHERE status = 'pending' AND (next_at, case_id) > (?, ?) ORDER BY next_at, case_id LIMIT ?
                """), arguments: [afterTime.milliseconds, afterCase, limit]
        ).map(Self.pending)
    }

    /// Recomputes every pending deadline's `next_at` for warnings at `warnBefore` (a
    /// reload or a start with a changed `warn_before`), and records the setting.
    public func recomputeDeadlineAttention(warnBefore: [TimeSpan]) throws {
        // The earliest offset not yet done decides; `warnings_done` is a comma list of
        // milliseconds, so each test is a whole-item match within commas.
        let offsets = warnBefore.sorted(by: >)
        var sql = "UPDATE deadlines SET next_at = CASE"
        for _ in offsets { sql += " WHEN instr(',' || warnings_done || ',', ',' || ? || ',') = 0 THEN due_at - ?" }
        sql += " ELSE due_at END WHERE status = 'pending'"
        _ = try connection.fetchAllOnce(sql, StatementArguments(offsets.flatMap { [$0.milliseconds, $0.milliseconds] }))
        try setStoreSetting("deadline_warn_before", Self.encode(warnBefore))
    }

    /// The `warn_before` that pending deadlines' `next_at` was computed with, if any.
    public func deadlineAttentionWarnBefore() throws -> [TimeSpan]? {
        try storeSetting("deadline_warn_before").map(Self.decode)
    }

    func storeSetting(_ name: String) throws -> String? {
        try String.fetchOne(statement(sql: "SELECT value FROM store_settings WHERE name = ?"), arguments: [name])
    }

    func setStoreSetting(_ name: String, _ value: String) throws {
        try statement(sql: "INSERT INTO store_settings (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value")
            .execute(arguments: [name, value])
    }

    /// Marks a deadline fired; false if it was not pending (already fired or cancelled),
    /// which is what makes a firing happen exactly once.
    public func markDeadlineFired(caseId: String, due: Timestamp, at: Timestamp) throws -> Bool {
        try statement(sql: "UPDATE deadlines SET status = 'fired', fired_at = ? WHERE case_id = ? AND status = 'pending' AND due_at = ?").execute(arguments: [at.milliseconds, caseId, due.milliseconds]) > 0
    }

    /// Records warnings sent, and moves `next_at` to the earliest of `warnBefore` still
    /// to send (else the due time).
    public func markWarningsDone(caseId: String, _ offsets: [TimeSpan], warnBefore: [TimeSpan]) throws {
        guard let current = try pendingDeadline(caseId: caseId) else { return }
        let all = Array(Set(current.warningsDone + offsets))
        let next = DeadlineSchedule.Entry.nextTime(due: current.dueAt, pendingWarnings: warnBefore.filter { !all.contains($0) })
        try statement(sql: "UPDATE deadlines SET warnings_done = ?, next_at = ? WHERE case_id = ?").execute(arguments: [Self.encode(all), next.milliseconds, caseId])
    }

    /// Pending deadlines due within `window` of `now`, soonest first, with case details.
    public func upcomingDeadlines(now: Timestamp, within window: TimeSpan, limit: Int) throws -> [(caseId: String, category: String, state: CaseState, due: Timestamp)] {
        try Row.fetchAll(statement(sql: """
                SELECT d.case_id, d.due_at, c.category, c.state FROM deadlines d JOIN cases c ON c.case_id = d.case_id
                WHERE d.status = 'pending' AND d.due_at <= ? ORDER BY d.due_at, d.case_id LIMIT ?
                """), arguments: [(now + window).milliseconds, limit]
        ).map { r in
            (try r["case_id"], try r["category"], try Self.decode(CaseState.self, try r["state"], "cases", "state", try r["case_id"]), Timestamp(milliseconds: try r["due_at"]))
        }
    }

    public func nextDeadline() throws -> (caseId: String, due: Timestamp)? {
        try Row.fetchOne(statement(sql: "SELECT case_id, due_at FROM deadlines WHERE status = 'pending' ORDER BY due_at, case_id LIMIT 1")
        ).map { (try $0["case_id"], try Self.storedTime($0, "due_at")) }
    }

    static func pending(_ row: Row) throws -> PendingDeadline {
        PendingDeadline(
            caseId: try row["case_id"], dueAt: try storedTime(row, "due_at"),
            warningsDone: decode(try row["warnings_done"]), nextAt: try storedTime(row, "next_at"))
    }

    /// Times Warden writes: years 1 to 9999 in milliseconds. A stored time outside them
    /// (a hand edit) is an error here, before arithmetic on it could overflow.
    static let storedTimes: ClosedRange<Int64> = -62_135_596_800_000...253_402_300_799_999

    static func storedTime(_ row: Row, _ column: String) throws -> Timestamp {
        let ms: Int64 = try row[column]
        guard storedTimes.contains(ms) else { throw UnreadableValue(column: column, value: .integer(ms), type: "time within years 1 to 9999") }
        return Timestamp(milliseconds: ms)
    }

    static func encode(_ offsets: [TimeSpan]) -> String {
        offsets.map(\.milliseconds).sorted().map(String.init).joined(separator: ",")
    }

    static func decode(_ text: String) -> [TimeSpan] {
        text.split(separator: ",").compactMap { Int64($0) }.map(TimeSpan.init(milliseconds:))
    }

    // MARK: - Ledger

    /// Books an entry; nil if an entry with the same dedupe key exists (charged once).
    public func book(_ b: LedgerBooking) throws -> LedgerEntry? {
        let inserted = try connection.insert(
            Self.insertLedger,
            [
                b.caseId, b.orderId, b.shop, b.category, b.rule, b.amount.fen, b.points, b.at.milliseconds, b.note,
                b.dedupeKey,
            ])
        guard let inserted else { return nil }
        return LedgerEntry(
            entryId: Self.entryId(inserted), caseId: b.caseId, orderId: b.orderId, shop: b.shop,
            category: b.category, rule: b.rule, amount: b.amount, points: b.points, at: b.at, note: b.note)
    }

    static let insertLedger = KeyedInsert(
        """
        INSERT INTO ledger (case_id, order_id, shop, category, rule, amount_fen, points, at, note, dedupe_key)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(dedupe_key) DO NOTHING
        """, key: "entry_id")

    public struct LedgerFilter: Sendable {
        public var from: Timestamp?
        public var to: Timestamp?
        public var shop: String?
        public var category: String?
        public var caseId: String?
        public init(from: Timestamp? = nil, to: Timestamp? = nil, shop: String? = nil, category: String? = nil, caseId: String? = nil) {
            self.from = from
            self.to = to
            self.shop = shop
            self.category = category
            self.caseId = caseId
        }

        /// `from` inclusive, `to` exclusive.
        func sql() -> (String, [any DatabaseValueConvertible]) {
            var sql = "WHERE 1 = 1"
            var args: [any DatabaseValueConvertible] = []
            if let from { sql += " AND at >= ?"; args.append(from.milliseconds) }
            if let to { sql += " AND at < ?"; args.append(to.milliseconds) }
            if let shop { sql += " AND shop = ?"; args.append(shop) }
            if let category { sql += " AND category = ?"; args.append(category) }
            if let caseId { sql += " AND case_id = ?"; args.append(caseId) }
            return (sql, args)
        }
    }

    public func ledgerEntries(_ filter: LedgerFilter, limit: Int, afterEntry cursor: Int64?) throws -> [LedgerEntry] {
        var (sql, args) = filter.sql()
        if let cursor { sql += " AND entry_id > ?"; args.append(cursor) }
        return try Row.fetchAll(statement(sql: "SELECT * FROM ledger \(sql) ORDER BY entry_id LIMIT ?"), arguments: StatementArguments(args + [limit])
        ).map(Self.ledgerEntry)
    }

    public struct Totals: Sendable, Equatable {
        public var amount: Money
        public var points: Int
        public var count: Int
        public init(amount: Money = .zero, points: Int = 0, count: Int = 0) {
            self.amount = amount
            self.points = points
            self.count = count
        }
    }

    /// Totals overall, by category and by rule.
    public func ledgerTotals(_ filter: LedgerFilter) throws -> (total: Totals, byCategory: [(String, Totals)], byRule: [(String, Totals)]) {
        let (sql, args) = filter.sql()
        func grouped(_ column: String) throws -> [(String, Totals)] {
            try Row.fetchAll(statement(sql: "SELECT \(column) AS k, CAST(sum(amount_fen) AS BIGINT) AS a, CAST(sum(points) AS BIGINT) AS p, count(*) AS n FROM ledger \(sql) GROUP BY \(column) ORDER BY \(column)"), arguments: StatementArguments(args)
            ).map { (try $0["k"], Totals(amount: Money(fen: try $0["a"]), points: try $0["p"], count: try $0["n"])) }
        }
        let row = try Row.fetchOne(statement(sql: "SELECT CAST(coalesce(sum(amount_fen), 0) AS BIGINT) AS a, CAST(coalesce(sum(points), 0) AS BIGINT) AS p, count(*) AS n FROM ledger \(sql)"), arguments: StatementArguments(args))!
        return (Totals(amount: Money(fen: try row["a"]), points: try row["p"], count: try row["n"]), try grouped("category"), try grouped("rule"))
    }

    static func ledgerEntry(_ r: Row) throws -> LedgerEntry {
        LedgerEntry(
            entryId: entryId(try r["entry_id"]), caseId: try r["case_id"], orderId: try r["order_id"], shop: try r["shop"],
            category: try r["category"], rule: try r["rule"], amount: Money(fen: try r["amount_fen"]), points: try r["points"],
            at: Timestamp(milliseconds: try r["at"]), note: try r["note"])
    }

    /// Entry ids are `L` and the row number: stable, ordered, and a usable cursor.
    public static func entryId(_ rowid: Int64) -> String { "L\(rowid)" }
    public static func entryRow(_ id: String) -> Int64? { id.first == "L" ? Int64(id.dropFirst()) : nil }

    // MARK: - Findings

    public func recordFinding(_ f: NewFinding) throws -> Finding? {
        let inserted = try connection.insert(
            Self.insertFinding, [f.rule, f.subject, f.severity.rawValue, f.message, f.at.milliseconds, f.dedupeKey])
        guard let inserted else { return nil }
        return Finding(
            findingId: "F\(inserted)", rule: f.rule, subject: f.subject, severity: f.severity, message: f.message,
            at: f.at)
    }

    static let insertFinding = KeyedInsert(
        """
        INSERT INTO findings (rule, subject, severity, message, at, dedupe_key) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT(dedupe_key) DO NOTHING
        """, key: "finding_id")

    public struct FindingFilter: Sendable {
        public var rule: String?
        public var subject: String?
        public init(rule: String? = nil, subject: String? = nil) {
            self.rule = rule
            self.subject = subject
        }
    }

    /// Findings in id order after `cursor` (a finding row id).
    public func findings(_ filter: FindingFilter, limit: Int, after cursor: Int64?) throws -> [Finding] {
        var sql = "SELECT * FROM findings WHERE 1 = 1"
        var args: [any DatabaseValueConvertible] = []
        if let r = filter.rule { sql += " AND rule = ?"; args.append(r) }
        if let s = filter.subject { sql += " AND subject = ?"; args.append(s) }
        if let cursor { sql += " AND finding_id > ?"; args.append(cursor) }
        sql += " ORDER BY finding_id LIMIT ?"
        args.append(limit)
        return try connection.fetchAllOnce(sql, StatementArguments(args)).map { r in
            Finding(
                findingId: "F\(try r["finding_id"] as Int64)", rule: try r["rule"], subject: try r["subject"],
                severity: try Self.decode(Severity.self, try r["severity"], "findings", "severity", "F\(try r["finding_id"] as Int64)"), message: try r["message"], at: Timestamp(milliseconds: try r["at"]))
        }
    }

    /// Rejected spool files, newest first.
    public func rejections(limit: Int) throws -> [(file: String, at: Timestamp, errors: String)] {
        try Row.fetchAll(statement(sql: "SELECT * FROM rejections ORDER BY id DESC LIMIT ?"), arguments: [limit]).map {
            (try $0["file"], Timestamp(milliseconds: try $0["at"]), try $0["errors"])
        }
    }

    // MARK: - Events and rejections

    /// Appends an event; returns its `seq`.
    public func appendEvent(topic: String, at: Timestamp, body: JSONObject) throws -> Int64 {
        let seq = try connection.insert(Self.insertEvent, [topic, at.milliseconds, JSONWriter.string(.object(body))]) ?? 0
        // Other nodes' listeners wake when this commits (`PostgresPool.write` sends one
        // notification per transaction that wrote events).
        if case .postgres(let pg, _) = connection { pg.notifyOnCommit = Self.eventsChannel }
        return seq
    }

    static let insertEvent = KeyedInsert("INSERT INTO events (topic, at, body) VALUES (?, ?, ?)", key: "seq")

    /// The channel PostgreSQL nodes are notified on when events commit.
    public static let eventsChannel = "warden_events"

    /// Stored events after `seq`, oldest first, optionally only some topics.
    public func events(after seq: Int64, topics: Set<String>?, limit: Int) throws -> [(seq: Int64, topic: String, at: Timestamp, body: String)] {
        var sql = "SELECT * FROM events WHERE seq > ?"
        var args: [any DatabaseValueConvertible] = [seq]
        if let topics, !topics.isEmpty {
            sql += " AND topic IN (\(Array(repeating: "?", count: topics.count).joined(separator: ",")))"
            args += topics.sorted() as [any DatabaseValueConvertible]
        }
        sql += " ORDER BY seq LIMIT ?"
        args.append(limit)
        return try connection.fetchAllOnce(sql, StatementArguments(args)).map {
            (try $0["seq"], try $0["topic"], Timestamp(milliseconds: try $0["at"]), try $0["body"])
        }
    }

    /// The newest event's `seq` (0 when there is none).
    public func lastEventSeq() throws -> Int64 {
        try Int64.fetchOne(statement(sql: "SELECT coalesce(max(seq), 0) FROM events")) ?? 0
    }

    public func eventCount(topic: String) throws -> Int {
        try Int.fetchOne(statement(sql: "SELECT count(*) FROM events WHERE topic = ?"), arguments: [topic]) ?? 0
    }

    public func recordRejection(file: String, at: Timestamp, errors: [WardenCore.RecordError]) throws {
        try statement(sql: "INSERT INTO rejections (file, at, errors) VALUES (?, ?, ?)").execute(arguments: [file, at.milliseconds, JSONWriter.string(.array(errors.map(\.json)))])
    }
}
