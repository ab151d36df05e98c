
/// The database schema, as forward-only migrations. Times are INTEGER milliseconds since
/// the epoch (UTC); money is INTEGER fen.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            // Every record received, by identity; body is the canonical JSON (sorted keys).
            try db.execute(
                sql: """
                    CREATE TABLE records (
                        type TEXT NOT NULL,
                        key TEXT NOT NULL,
                        body TEXT NOT NULL,
                        order_id TEXT,
                        complaint_id TEXT,
                        event_at INTEGER NOT NULL,
                        received_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        revision INTEGER NOT NULL DEFAULT 1,
                        source TEXT NOT NULL,
                        PRIMARY KEY (type, key)
                    ) WITHOUT ROWID;
                    CREATE INDEX records_complaint ON records(complaint_id) WHERE complaint_id IS NOT NULL;
                    CREATE INDEX records_order ON records(order_id, type) WHERE order_id IS NOT NULL;

                    CREATE TABLE orders (
                        order_id TEXT PRIMARY KEY NOT NULL,
                        category TEXT NOT NULL,
                        module TEXT,              -- owning policy module; NULL = unmanaged
                        shop TEXT,
                        item TEXT,
                        paid_fen INTEGER NOT NULL,
                        paid_at INTEGER NOT NULL,
                        ship_by INTEGER,
                        shipped_at INTEGER,
                        delivery_service TEXT,
                        presale INTEGER
                    ) WITHOUT ROWID;

                    CREATE TABLE cases (
                        case_id TEXT PRIMARY KEY NOT NULL,
                        order_id TEXT NOT NULL,
                        category TEXT NOT NULL,
                        shop TEXT,
                        reason TEXT NOT NULL,
                        state TEXT NOT NULL,
                        open INTEGER NOT NULL,
                        opened_at INTEGER NOT NULL,
                        deadline INTEGER,
                        liability_fen INTEGER,
                        liability_points INTEGER,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE INDEX cases_state ON cases(state, case_id);
                    CREATE INDEX cases_order ON cases(order_id);

                    CREATE TABLE case_history (
                        id INTEGER PRIMARY KEY,
                        case_id TEXT NOT NULL REFERENCES cases(case_id),
                        at INTEGER NOT NULL,
                        state TEXT NOT NULL,
                        note TEXT NOT NULL
                    );
                    CREATE INDEX case_history_case ON case_history(case_id, id);

                    CREATE TABLE case_evidence (
                        id INTEGER PRIMARY KEY,
                        case_id TEXT NOT NULL REFERENCES cases(case_id),
                        kind TEXT NOT NULL,
                        ref TEXT NOT NULL,
                        sha256 TEXT,
                        registered_at INTEGER,
                        submitted_at INTEGER NOT NULL,
                        in_time INTEGER NOT NULL
                    );
                    CREATE INDEX case_evidence_case ON case_evidence(case_id, id);

                    -- Timer state: one row per case deadline; fires exactly once.
                    CREATE TABLE deadlines (
                        case_id TEXT PRIMARY KEY NOT NULL REFERENCES cases(case_id),
                        due_at INTEGER NOT NULL,
                        status TEXT NOT NULL,     -- pending | fired | cancelled
                        warnings_done TEXT NOT NULL DEFAULT '',
                        fired_at INTEGER
                    ) WITHOUT ROWID;
                    CREATE INDEX deadlines_pending ON deadlines(status, due_at);

                    CREATE TABLE ledger (
                        entry_id INTEGER PRIMARY KEY,
                        case_id TEXT,
                        order_id TEXT,
                        shop TEXT,
                        category TEXT NOT NULL,
                        rule TEXT NOT NULL,
                        amount_fen INTEGER NOT NULL,
                        points INTEGER NOT NULL,
                        at INTEGER NOT NULL,
                        note TEXT NOT NULL,
                        dedupe_key TEXT NOT NULL UNIQUE
                    );
                    CREATE INDEX ledger_at ON ledger(at);
                    CREATE INDEX ledger_case ON ledger(case_id);

                    CREATE TABLE findings (
                        finding_id INTEGER PRIMARY KEY,
                        rule TEXT NOT NULL,
                        subject TEXT NOT NULL,
                        severity TEXT NOT NULL,
                        message TEXT NOT NULL,
                        at INTEGER NOT NULL,
                        dedupe_key TEXT NOT NULL UNIQUE
                    );

                    -- Every event, for replay (event.subscribe since).
                    CREATE TABLE events (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        topic TEXT NOT NULL,
                        at INTEGER NOT NULL,
                        body TEXT NOT NULL
                    );

                    CREATE TABLE rejections (
                        id INTEGER PRIMARY KEY,
                        file TEXT NOT NULL,
                        at INTEGER NOT NULL,
                        errors TEXT NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v2-all-rules") { db in
            try db.execute(
                sql: """
                    -- Records stored but waiting for the order or case they refer to.
                    ALTER TABLE records ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
                    CREATE INDEX records_pending ON records(pending) WHERE pending = 1;
                    UPDATE records SET pending = 1 WHERE type = 'complaint'
                        AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.case_id = records.key)
                        AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.order_id = records.order_id);
                    UPDATE records SET pending = 1 WHERE type IN ('evidence', 'verdict')
                        AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.case_id = records.complaint_id);

                    ALTER TABLE orders ADD COLUMN refunded_at INTEGER;
                    -- The effective ship-by (a negotiation in force, else ship_by).
                    ALTER TABLE orders ADD COLUMN ship_deadline INTEGER;

                    CREATE TABLE order_negotiations (
                        order_id TEXT NOT NULL,
                        proposed_at INTEGER NOT NULL,
                        new_ship_by INTEGER NOT NULL,
                        buyer_confirmed INTEGER NOT NULL,
                        in_force INTEGER NOT NULL,
                        note TEXT NOT NULL,
                        PRIMARY KEY (order_id, proposed_at)
                    ) WITHOUT ROWID;

                    CREATE INDEX findings_rule ON findings(rule, finding_id);
                    CREATE INDEX findings_subject ON findings(subject, finding_id);
                    CREATE INDEX ledger_order ON ledger(order_id);
                    CREATE INDEX ledger_shop ON ledger(shop);
                    """)
        }
        migrator.registerMigration("v3-order-refs") { db in
            // Order records need no entry in the index of records that refer to an order
            // (nothing looks orders up through it): one index insert less per order.
            try db.execute(
                sql: """
                    DROP INDEX records_order;
                    CREATE INDEX records_order_refs ON records(order_id, type) WHERE order_id IS NOT NULL AND type != 'order';
                    """)
        }
        migrator.registerMigration("v4-plugin-inbox") { db in
            // Inputs for modules that run out of process (SPEC.md §6): written in the
            // transaction that stores the record or fires the deadline, removed in the one
            // that applies the module's decisions, so an input is evaluated after a crash
            // and applied once. `held`: failed twice; waits for a reload or a restart.
            try db.execute(
                sql: """
                    CREATE TABLE plugin_inbox (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        module TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        record_type TEXT,
                        record_key TEXT,
                        case_id TEXT,
                        due_at INTEGER,
                        queued_at INTEGER NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        held INTEGER NOT NULL DEFAULT 0,
                        reason TEXT
                    );
                    CREATE INDEX plugin_inbox_module ON plugin_inbox(module, held, id);
                    """)
        }
        migrator.registerMigration("v5-module-declarations") { db in
            // The last `initialize` answer of each external module: a module that cannot
            // start is still known (its categories and record types), so its records
            // are validated and queued for it until it is back.
            try db.execute(
                sql: """
                    CREATE TABLE module_declarations (
                        module TEXT PRIMARY KEY NOT NULL,
                        declaration TEXT NOT NULL,
                        updated_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v6-deadline-windows") { db in
            // The deadline schedule keeps in memory only what needs attention soonest and
            // loads the rest from this index, in order of `next_at`: when the deadline
            // next needs attention (its earliest warning still to send, else its due
            // time). `next_at` depends on `warn_before`; the value it was computed with
            // is kept in `store_settings` and `next_at` is recomputed when it changes
            // (here it starts as the due time, with no setting recorded).
            try db.execute(
                sql: """
                    ALTER TABLE deadlines ADD COLUMN next_at INTEGER;
                    UPDATE deadlines SET next_at = due_at;
                    CREATE INDEX deadlines_next ON deadlines(next_at, case_id) WHERE status = 'pending';
                    CREATE TABLE store_settings (
                        name TEXT PRIMARY KEY NOT NULL,
                        value TEXT NOT NULL
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v7-counts") { db in
            // Counts that status lines, `daemon.status` and the metrics show, kept exact
            // by triggers in the transaction that changes the rows, so they are read in
            // one lookup instead of a scan of every order and case (seconds at a million
            // rows on a cold cache, which start-up used to pay before READY=1).
            try db.execute(
                sql: """
                    CREATE TABLE store_counts (
                        name TEXT PRIMARY KEY NOT NULL,
                        n INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    INSERT INTO store_counts SELECT 'orders', count(*) FROM orders;
                    INSERT INTO store_counts SELECT 'orders_unmanaged', count(*) - count(module) FROM orders;
                    INSERT INTO store_counts SELECT 'cases', count(*) FROM cases;
                    INSERT INTO store_counts SELECT 'cases_open', coalesce(sum(open != 0), 0) FROM cases;
                    INSERT INTO store_counts SELECT 'deadlines_pending', count(*) FROM deadlines WHERE status = 'pending';

                    CREATE TRIGGER count_orders_insert AFTER INSERT ON orders BEGIN
                        UPDATE store_counts SET n = n + 1 WHERE name = 'orders' OR (name = 'orders_unmanaged' AND NEW.module IS NULL);
                    END;
                    CREATE TRIGGER count_orders_delete AFTER DELETE ON orders BEGIN
                        UPDATE store_counts SET n = n - 1 WHERE name = 'orders' OR (name = 'orders_unmanaged' AND OLD.module IS NULL);
                    END;
                    CREATE TRIGGER count_orders_module AFTER UPDATE OF module ON orders
                    WHEN (OLD.module IS NULL) != (NEW.module IS NULL) BEGIN
                        UPDATE store_counts SET n = n + (CASE WHEN NEW.module IS NULL THEN 1 ELSE -1 END) WHERE name = 'orders_unmanaged';
                    END;

                    CREATE TRIGGER count_cases_insert AFTER INSERT ON cases BEGIN
                        UPDATE store_counts SET n = n + 1 WHERE name = 'cases' OR (name = 'cases_open' AND NEW.open != 0);
                    END;
                    CREATE TRIGGER count_cases_delete AFTER DELETE ON cases BEGIN
                        UPDATE store_counts SET n = n - 1 WHERE name = 'cases' OR (name = 'cases_open' AND OLD.open != 0);
                    END;
                    CREATE TRIGGER count_cases_open AFTER UPDATE OF open ON cases
                    WHEN (OLD.open != 0) != (NEW.open != 0) BEGIN
                        UPDATE store_counts SET n = n + (CASE WHEN NEW.open != 0 THEN 1 ELSE -1 END) WHERE name = 'cases_open';
                    END;

                    CREATE TRIGGER count_deadlines_insert AFTER INSERT ON deadlines WHEN NEW.status = 'pending' BEGIN
                        UPDATE store_counts SET n = n + 1 WHERE name = 'deadlines_pending';
                    END;
                    CREATE TRIGGER count_deadlines_delete AFTER DELETE ON deadlines WHEN OLD.status = 'pending' BEGIN
                        UPDATE store_counts SET n = n - 1 WHERE name = 'deadlines_pending';
                    END;
                    CREATE TRIGGER count_deadlines_status AFTER UPDATE OF status ON deadlines
                    WHEN (OLD.status = 'pending') != (NEW.status = 'pending') BEGIN
                        UPDATE store_counts SET n = n + (CASE WHEN NEW.status = 'pending' THEN 1 ELSE -1 END) WHERE name = 'deadlines_pending';
                    END;
                    """)
        }
        migrator.registerMigration("v8-inbox-node") { db in
            // The queue of inputs for external modules is per node on a shared
            // PostgreSQL database (each node's modules evaluate what that node took in);
            // with SQLite there is one node, ''.
            try db.execute(sql: "ALTER TABLE plugin_inbox ADD COLUMN node TEXT NOT NULL DEFAULT ''")
        }
        migrator.registerMigration("v9-deadlines-due-and-counts") { db in
            // Pending deadlines by due time, for the deadlines listing and the next one
            // due, in a partial index: a deadline that fires or is cancelled leaves it
            // with one deletion, where `deadlines_pending` (status, due_at) moved it to
            // another key and kept every fired deadline forever.
            //
            // The count triggers of v7 that add to two counters did it in one UPDATE with
            // `name = … OR (…)`, which SQLite runs by collecting the rows of each side in
            // a temporary table, opened and freed for every order and case inserted (a
            // fifth of a complaint's cost in a profile): now one UPDATE per counter.
            try db.execute(
                sql: """
                    DROP INDEX deadlines_pending;
                    CREATE INDEX deadlines_due ON deadlines(due_at, case_id) WHERE status = 'pending';

                    DROP TRIGGER count_orders_insert;
                    DROP TRIGGER count_orders_delete;
                    DROP TRIGGER count_cases_insert;
                    DROP TRIGGER count_cases_delete;
                    CREATE TRIGGER count_orders_insert AFTER INSERT ON orders BEGIN
                        UPDATE store_counts SET n = n + 1 WHERE name = 'orders';
                        UPDATE store_counts SET n = n + 1 WHERE name = 'orders_unmanaged' AND NEW.module IS NULL;
                    END;
                    CREATE TRIGGER count_orders_delete AFTER DELETE ON orders BEGIN
                        UPDATE store_counts SET n = n - 1 WHERE name = 'orders';
                        UPDATE store_counts SET n = n - 1 WHERE name = 'orders_unmanaged' AND OLD.module IS NULL;
                    END;
                    CREATE TRIGGER count_cases_insert AFTER INSERT ON cases BEGIN
                        UPDATE store_counts SET n = n + 1 WHERE name = 'cases';
                        UPDATE store_counts SET n = n + 1 WHERE name = 'cases_open' AND NEW.open != 0;
                    END;
                    CREATE TRIGGER count_cases_delete AFTER DELETE ON cases BEGIN
                        UPDATE store_counts SET n = n - 1 WHERE name = 'cases';
                        UPDATE store_counts SET n = n - 1 WHERE name = 'cases_open' AND OLD.open != 0;
                    END;
                    """)
        }
        return migrator
    }
}
