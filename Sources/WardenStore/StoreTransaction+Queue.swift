import WardenCore

/// The queue of inputs for modules that run out of process (`plugin_inbox`), this
/// node's: on a shared PostgreSQL database each node's modules evaluate what that node
/// took in (a node's queue waits for that node, under the same name, if it stops).
extension StoreTransaction {
    public func enqueue(module: String, _ input: QueuedInput, at: Timestamp) throws {
        switch input {
        case .record(let type, let key):
            try statement(sql: "INSERT INTO plugin_inbox (node, module, kind, record_type, record_key, queued_at) VALUES (?, ?, 'record', ?, ?, ?)")
                .execute(arguments: [node, module, type.rawValue, key, at.milliseconds])
        case .deadline(let caseId, let due):
            try statement(sql: "INSERT INTO plugin_inbox (node, module, kind, case_id, due_at, queued_at) VALUES (?, ?, 'deadline', ?, ?, ?)")
                .execute(arguments: [node, module, caseId, due.milliseconds, at.milliseconds])
        }
    }

    /// The oldest items of a module's queue that are not held, in arrival order; with
    /// `after`, only those queued after that item.
    public func queued(module: String, after: Int64? = nil, limit: Int) throws -> [QueuedItem] {
        try Row.fetchAll(
            statement(sql: "SELECT * FROM plugin_inbox WHERE node = ? AND module = ? AND held = 0 AND id > ? ORDER BY id LIMIT ?"),
            arguments: [node, module, after ?? Int64.min, limit]
        ).compactMap(Self.queuedItem)
    }

    /// Held items, oldest first (all modules, or one).
    public func heldItems(module: String? = nil, limit: Int = 1000) throws -> [(item: QueuedItem, reason: String)] {
        let rows =
            if let module {
                try Row.fetchAll(statement(sql: "SELECT * FROM plugin_inbox WHERE node = ? AND module = ? AND held = 1 ORDER BY id LIMIT ?"), arguments: [node, module, limit])
            } else {
                try Row.fetchAll(statement(sql: "SELECT * FROM plugin_inbox WHERE node = ? AND held = 1 ORDER BY id LIMIT ?"), arguments: [node, limit])
            }
        return try rows.compactMap { row in try Self.queuedItem(row).map { ($0, try row["reason"] as String? ?? "") } }
    }

    static func queuedItem(_ row: Row) throws -> QueuedItem? {
        let input: QueuedInput
        switch try row["kind"] as String? {
        case "record":
            guard let type: String = try row["record_type"], let key: String = try row["record_key"] else { return nil }
            input = .record(type: RecordType(type), key: key)
        case "deadline":
            guard let caseId: String = try row["case_id"], let due: Int64 = try row["due_at"] else { return nil }
            input = .deadline(caseId: caseId, due: Timestamp(milliseconds: due))
        default:
            return nil
        }
        return QueuedItem(id: try row["id"], module: try row["module"], input: input, queuedAt: Timestamp(milliseconds: try row["queued_at"]), attempts: try row["attempts"])
    }

    /// Removes items whose decisions were applied (or that need none), in one statement.
    public func dequeue(_ ids: [Int64]) throws {
        guard !ids.isEmpty else { return }
        // A literal list of integers (no text from outside): one statement however many.
        let list = ids.map(String.init).joined(separator: ",")
        _ = try connection.fetchAllOnce("DELETE FROM plugin_inbox WHERE id IN (\(list))", [])
    }

    /// Counts a failed evaluation; `hold` sets the item aside until a reload or restart.
    public func failQueued(_ id: Int64, reason: String, hold: Bool) throws {
        try statement(sql: "UPDATE plugin_inbox SET attempts = attempts + 1, held = ?, reason = ? WHERE id = ?")
            .execute(arguments: [hold, reason, id])
    }

    /// Puts held items back in their queue (in their original order), for a reload or a
    /// start; returns how many.
    @discardableResult
    public func releaseHeld(module: String? = nil) throws -> Int {
        if let module {
            return try statement(sql: "UPDATE plugin_inbox SET held = 0, attempts = 0 WHERE node = ? AND held = 1 AND module = ?").execute(arguments: [node, module])
        } else {
            return try statement(sql: "UPDATE plugin_inbox SET held = 0, attempts = 0 WHERE node = ? AND held = 1").execute(arguments: [node])
        }
    }

    /// Items per module: waiting to be evaluated, and held.
    public func queueCounts() throws -> [(module: String, waiting: Int, held: Int)] {
        try Row.fetchAll(
            statement(sql: "SELECT module, CAST(sum(CASE WHEN held = 0 THEN 1 ELSE 0 END) AS BIGINT) AS waiting, CAST(sum(held) AS BIGINT) AS held FROM plugin_inbox WHERE node = ? GROUP BY module ORDER BY module"), arguments: [node]
        ).map { (try $0["module"], try $0["waiting"], try $0["held"]) }
    }

    /// Modules with items not held.
    public func modulesWithQueuedItems() throws -> [String] {
        try String.fetchAll(statement(sql: "SELECT DISTINCT module FROM plugin_inbox WHERE node = ? AND held = 0"), arguments: [node])
    }

    /// Remembers an external module's `initialize` answer (as JSON text).
    public func saveDeclaration(module: String, _ text: String, at: Timestamp) throws {
        try statement(sql: """
                INSERT INTO module_declarations (module, declaration, updated_at) VALUES (?, ?, ?)
                ON CONFLICT(module) DO UPDATE SET declaration = excluded.declaration, updated_at = excluded.updated_at
                """).execute(arguments: [module, text, at.milliseconds])
    }

    /// The last `initialize` answer an external module gave, if any.
    public func declaration(module: String) throws -> String? {
        try String.fetchOne(statement(sql: "SELECT declaration FROM module_declarations WHERE module = ?"), arguments: [module])
    }
}
