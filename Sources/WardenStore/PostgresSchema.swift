/// The PostgreSQL backend's schema (SPEC §7), as forward-only migrations applied once
/// whichever node starts first: the migrator takes a transaction-scoped advisory lock,
/// reads which migrations `warden_migrations` records, applies the missing ones and
/// records them in the same transaction. DDL is transactional in PostgreSQL, so a node
/// killed mid-migration leaves nothing half done (its transaction, and with it the
/// lock, go away) and the next node to start applies it whole.
///
/// The tables and columns are the SQLite schema's (`Schema`, up to v7-counts), with the
/// same names and the same encodings (times in INTEGER milliseconds, money in fen,
/// flags 0/1), so both backends' rows decode with one set of readers; text columns
/// compare bytewise (`COLLATE "C"`, as SQLite's BINARY) whatever the database's
/// locale, so keys order and range-scan alike on both. Differences:
/// `bigint` for INTEGER and identity columns for rowids; `events` records the
/// writing transaction (`xid`, for readers that must not skip an event whose
/// transaction commits after a later one's), and which node wrote it; `nodes` lists
/// the nodes with when each was last seen; and the counts are kept per node
/// (`store_counts (node, name, n)`, read as their sum) by triggers that add to the
/// writing session's node (`warden.node`, set when a node connects), so nodes never
/// wait on each other's counters; a writer calls `warden_flush_counts()` before each
/// commit (`flushCounts`).
///
/// Trusts: the database it is given to hold only Warden's tables, or none. Refuses:
/// nothing; a failed migration's error names it and rolls back all of them.
public enum PostgresSchema {
    /// The lock's key: any constant the nodes agree on.
    static let lockKey: Int64 = 0x5741_5244_454E_0001  // "WARDEN", 1

    /// Applies the migrations `connection`'s database lacks; returns their names (empty
    /// when another node, or an earlier start, applied them all).
    @discardableResult
    public static func migrate(_ connection: PGConnection, node: String) throws -> [String] {
        try connection.transaction {
            try connection.execute("SELECT pg_advisory_xact_lock(?)", [lockKey])
            try connection.execute(script: """
                CREATE TABLE IF NOT EXISTS warden_migrations (
                    name TEXT PRIMARY KEY,
                    applied_at BIGINT NOT NULL,
                    node TEXT NOT NULL
                )
                """)
            let applied = Set(try connection.fetchAll("SELECT name FROM warden_migrations").map { try $0["name"] as String })
            var done: [String] = []
            for (name, sql) in migrations where !applied.contains(name) {
                do throws(PGError) {
                    try connection.execute(script: sql)
                } catch {
                    throw PGError(error.kind, "migration \(name): \(error.message)", sql: nil)
                }
                try connection.execute(
                    "INSERT INTO warden_migrations (name, applied_at, node) VALUES (?, (extract(epoch FROM clock_timestamp()) * 1000)::bigint, ?)",
                    [name, node])
                done.append(name)
            }
            return done
        }
    }

    /// Folds the transaction's count changes into `store_counts`: run just before every
    /// commit of a transaction that changed orders, cases or deadlines.
    public static let flushCounts = "SELECT warden_flush_counts()"

    /// Sets the session's node, which the count triggers and `events.node` read.
    public static func setNode(_ connection: PGConnection, node: String) throws(PGError) {
        try connection.execute("SELECT set_config('warden.node', ?, false)", [node])
    }

    /// Each migration by name, in order.
    public static let migrations: [(String, String)] = [
        (
            "v1",
            """
            CREATE TABLE records (
                type TEXT COLLATE "C" NOT NULL,
                key TEXT COLLATE "C" NOT NULL,
                body TEXT COLLATE "C" NOT NULL,
                order_id TEXT COLLATE "C",
                complaint_id TEXT COLLATE "C",
                event_at BIGINT NOT NULL,
                received_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                revision BIGINT NOT NULL DEFAULT 1,
                source TEXT COLLATE "C" NOT NULL,
                pending BIGINT NOT NULL DEFAULT 0,
                PRIMARY KEY (type, key)
            );
            CREATE INDEX records_complaint ON records(complaint_id) WHERE complaint_id IS NOT NULL;
            CREATE INDEX records_order_refs ON records(order_id, type) WHERE order_id IS NOT NULL AND type <> 'order';
            CREATE INDEX records_pending ON records(pending) WHERE pending = 1;

            CREATE TABLE orders (
                order_id TEXT COLLATE "C" PRIMARY KEY,
                category TEXT COLLATE "C" NOT NULL,
                module TEXT COLLATE "C",
                shop TEXT COLLATE "C",
                item TEXT COLLATE "C",
                paid_fen BIGINT NOT NULL,
                paid_at BIGINT NOT NULL,
                ship_by BIGINT,
                shipped_at BIGINT,
                delivery_service TEXT COLLATE "C",
                presale BIGINT,
                refunded_at BIGINT,
                ship_deadline BIGINT
            );

            CREATE TABLE order_negotiations (
                order_id TEXT COLLATE "C" NOT NULL,
                proposed_at BIGINT NOT NULL,
                new_ship_by BIGINT NOT NULL,
                buyer_confirmed BIGINT NOT NULL,
                in_force BIGINT NOT NULL,
                note TEXT COLLATE "C" NOT NULL,
                PRIMARY KEY (order_id, proposed_at)
            );

            CREATE TABLE cases (
                case_id TEXT COLLATE "C" PRIMARY KEY,
                order_id TEXT COLLATE "C" NOT NULL,
                category TEXT COLLATE "C" NOT NULL,
                shop TEXT COLLATE "C",
                reason TEXT COLLATE "C" NOT NULL,
                state TEXT COLLATE "C" NOT NULL,
                open BIGINT NOT NULL,
                opened_at BIGINT NOT NULL,
                deadline BIGINT,
                liability_fen BIGINT,
                liability_points BIGINT,
                updated_at BIGINT NOT NULL
            );
            CREATE INDEX cases_state ON cases(state, case_id);
            CREATE INDEX cases_order ON cases(order_id);

            CREATE TABLE case_history (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                case_id TEXT COLLATE "C" NOT NULL REFERENCES cases(case_id),
                at BIGINT NOT NULL,
                state TEXT COLLATE "C" NOT NULL,
                note TEXT COLLATE "C" NOT NULL
            );
            CREATE INDEX case_history_case ON case_history(case_id, id);

            CREATE TABLE case_evidence (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                case_id TEXT COLLATE "C" NOT NULL REFERENCES cases(case_id),
                kind TEXT COLLATE "C" NOT NULL,
                ref TEXT COLLATE "C" NOT NULL,
                sha256 TEXT COLLATE "C",
                registered_at BIGINT,
                submitted_at BIGINT NOT NULL,
                in_time BIGINT NOT NULL
            );
            CREATE INDEX case_evidence_case ON case_evidence(case_id, id);

            -- One row per case deadline. A node fires due ones by claiming them
            -- (FOR UPDATE SKIP LOCKED) in the transaction that books their effects.
            CREATE TABLE deadlines (
                case_id TEXT COLLATE "C" PRIMARY KEY REFERENCES cases(case_id),
                due_at BIGINT NOT NULL,
                status TEXT COLLATE "C" NOT NULL,
                warnings_done TEXT COLLATE "C" NOT NULL DEFAULT '',
                fired_at BIGINT,
                next_at BIGINT
            );
            -- Partial, on (due_at, case_id): the firing guard (case_id, status, due_at) is
            -- an exact lookup on it too; an index led by (status, due_at) made the planner
            -- scan every deadline of a burst due in the same second for each firing.
            CREATE INDEX deadlines_due ON deadlines(due_at, case_id) WHERE status = 'pending';
            CREATE INDEX deadlines_next ON deadlines(next_at, case_id) WHERE status = 'pending';

            CREATE TABLE ledger (
                entry_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                case_id TEXT COLLATE "C",
                order_id TEXT COLLATE "C",
                shop TEXT COLLATE "C",
                category TEXT COLLATE "C" NOT NULL,
                rule TEXT COLLATE "C" NOT NULL,
                amount_fen BIGINT NOT NULL,
                points BIGINT NOT NULL,
                at BIGINT NOT NULL,
                note TEXT COLLATE "C" NOT NULL,
                dedupe_key TEXT COLLATE "C" NOT NULL UNIQUE
            );
            CREATE INDEX ledger_at ON ledger(at);
            CREATE INDEX ledger_case ON ledger(case_id);
            CREATE INDEX ledger_order ON ledger(order_id);
            CREATE INDEX ledger_shop ON ledger(shop);

            CREATE TABLE findings (
                finding_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                rule TEXT COLLATE "C" NOT NULL,
                subject TEXT COLLATE "C" NOT NULL,
                severity TEXT COLLATE "C" NOT NULL,
                message TEXT COLLATE "C" NOT NULL,
                at BIGINT NOT NULL,
                dedupe_key TEXT COLLATE "C" NOT NULL UNIQUE
            );
            CREATE INDEX findings_rule ON findings(rule, finding_id);
            CREATE INDEX findings_subject ON findings(subject, finding_id);

            -- One sequence for the whole database; xid: the writing transaction.
            CREATE TABLE events (
                seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                topic TEXT COLLATE "C" NOT NULL,
                at BIGINT NOT NULL,
                body TEXT COLLATE "C" NOT NULL,
                node TEXT COLLATE "C" NOT NULL DEFAULT current_setting('warden.node', true),
                xid xid8 NOT NULL DEFAULT pg_current_xact_id()
            );
            CREATE INDEX events_xid ON events(xid);

            CREATE TABLE rejections (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                file TEXT COLLATE "C" NOT NULL,
                at BIGINT NOT NULL,
                errors TEXT COLLATE "C" NOT NULL
            );

            -- Per node: each node's external modules evaluate what that node took in.
            CREATE TABLE plugin_inbox (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                node TEXT COLLATE "C" NOT NULL,
                module TEXT COLLATE "C" NOT NULL,
                kind TEXT COLLATE "C" NOT NULL,
                record_type TEXT COLLATE "C",
                record_key TEXT COLLATE "C",
                case_id TEXT COLLATE "C",
                due_at BIGINT,
                queued_at BIGINT NOT NULL,
                attempts BIGINT NOT NULL DEFAULT 0,
                held BIGINT NOT NULL DEFAULT 0,
                reason TEXT COLLATE "C"
            );
            CREATE INDEX plugin_inbox_module ON plugin_inbox(node, module, held, id);

            CREATE TABLE module_declarations (
                module TEXT COLLATE "C" PRIMARY KEY,
                declaration TEXT COLLATE "C" NOT NULL,
                updated_at BIGINT NOT NULL
            );

            CREATE TABLE store_settings (
                name TEXT COLLATE "C" PRIMARY KEY,
                value TEXT COLLATE "C" NOT NULL
            );

            CREATE TABLE nodes (
                node TEXT COLLATE "C" PRIMARY KEY,
                started_at BIGINT NOT NULL,
                last_seen BIGINT NOT NULL
            );

            -- Counts per node, read as their sum: a node adds only to its own rows.
            -- The row triggers add to transaction-local settings (rolled back with a
            -- savepoint, gone at the end of the transaction), and the writer folds them
            -- into store_counts once, just before it commits (warden_flush_counts):
            -- updating one counter row per changed row would make a transaction of
            -- 1,000 firings walk a chain of 1,000 versions of that row at each update.
            CREATE TABLE store_counts (
                node TEXT COLLATE "C" NOT NULL,
                name TEXT COLLATE "C" NOT NULL,
                n BIGINT NOT NULL,
                PRIMARY KEY (node, name)
            );
            CREATE FUNCTION warden_count(counter TEXT, delta BIGINT) RETURNS void LANGUAGE sql AS $$
                SELECT set_config('warden.count.' || counter,
                    CAST(CAST(coalesce(nullif(current_setting('warden.count.' || counter, true), ''), '0') AS BIGINT) + delta AS TEXT), true)
            $$;
            CREATE FUNCTION warden_flush_counts() RETURNS void LANGUAGE plpgsql AS $$
            DECLARE
                counter TEXT;
                delta BIGINT;
            BEGIN
                FOREACH counter IN ARRAY ARRAY['orders', 'orders_unmanaged', 'cases', 'cases_open', 'deadlines_pending'] LOOP
                    delta := CAST(coalesce(nullif(current_setting('warden.count.' || counter, true), ''), '0') AS BIGINT);
                    IF delta <> 0 THEN
                        INSERT INTO store_counts (node, name, n) VALUES (coalesce(current_setting('warden.node', true), ''), counter, delta)
                        ON CONFLICT (node, name) DO UPDATE SET n = store_counts.n + excluded.n;
                        PERFORM set_config('warden.count.' || counter, '0', true);
                    END IF;
                END LOOP;
            END $$;
            CREATE FUNCTION warden_count_orders() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    PERFORM warden_count('orders', 1);
                    IF NEW.module IS NULL THEN PERFORM warden_count('orders_unmanaged', 1); END IF;
                ELSIF TG_OP = 'DELETE' THEN
                    PERFORM warden_count('orders', -1);
                    IF OLD.module IS NULL THEN PERFORM warden_count('orders_unmanaged', -1); END IF;
                ELSIF (OLD.module IS NULL) <> (NEW.module IS NULL) THEN
                    PERFORM warden_count('orders_unmanaged', CASE WHEN NEW.module IS NULL THEN 1 ELSE -1 END);
                END IF;
                RETURN NULL;
            END $$;
            CREATE TRIGGER count_orders AFTER INSERT OR DELETE OR UPDATE OF module ON orders
                FOR EACH ROW EXECUTE FUNCTION warden_count_orders();
            CREATE FUNCTION warden_count_cases() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    PERFORM warden_count('cases', 1);
                    IF NEW.open <> 0 THEN PERFORM warden_count('cases_open', 1); END IF;
                ELSIF TG_OP = 'DELETE' THEN
                    PERFORM warden_count('cases', -1);
                    IF OLD.open <> 0 THEN PERFORM warden_count('cases_open', -1); END IF;
                ELSIF (OLD.open <> 0) <> (NEW.open <> 0) THEN
                    PERFORM warden_count('cases_open', CASE WHEN NEW.open <> 0 THEN 1 ELSE -1 END);
                END IF;
                RETURN NULL;
            END $$;
            CREATE TRIGGER count_cases AFTER INSERT OR DELETE OR UPDATE OF open ON cases
                FOR EACH ROW EXECUTE FUNCTION warden_count_cases();
            CREATE FUNCTION warden_count_deadlines() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    IF NEW.status = 'pending' THEN PERFORM warden_count('deadlines_pending', 1); END IF;
                ELSIF TG_OP = 'DELETE' THEN
                    IF OLD.status = 'pending' THEN PERFORM warden_count('deadlines_pending', -1); END IF;
                ELSIF (OLD.status = 'pending') <> (NEW.status = 'pending') THEN
                    PERFORM warden_count('deadlines_pending', CASE WHEN NEW.status = 'pending' THEN 1 ELSE -1 END);
                END IF;
                RETURN NULL;
            END $$;
            CREATE TRIGGER count_deadlines AFTER INSERT OR DELETE OR UPDATE OF status ON deadlines
                FOR EACH ROW EXECUTE FUNCTION warden_count_deadlines();
            """
        )
    ]
}
