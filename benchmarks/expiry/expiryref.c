/* expiryref: the SQLite reference for the expiry scenario, measured in the same run.
 *
 *   expiryref DIR [DEADLINES] [PER_TRANSACTION]
 *
 * Builds a fresh database in DIR (WAL, synchronous=FULL) with DEADLINES pending
 * deadlines and their cases, in tables shaped like Warden's, then times what firing
 * them takes SQLite alone: per deadline, mark it fired (guarded by status and due
 * time), set its case defaulted, add a history row, book a ledger entry and append an
 * event, PER_TRANSACTION deadlines per transaction (default 1,000), prepared
 * statements, no application logic. Prints one line of JSON. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void check(sqlite3 *db, int rc, int want) {
    if (rc != want) { fprintf(stderr, "expiryref: %s\n", sqlite3_errmsg(db)); exit(1); }
}

/* Runs a statement whose values are bound, then resets it for the next row. */
static void step(sqlite3 *db, sqlite3_stmt *s) {
    check(db, sqlite3_step(s), SQLITE_DONE);
    sqlite3_reset(s);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s DIR [DEADLINES] [PER_TRANSACTION]\n", argv[0]); return 2; }
    long n = argc > 2 ? atol(argv[2]) : 10000, per = argc > 3 ? atol(argv[3]) : 1000;
    char path[4096];
    snprintf(path, sizeof path, "%s/expiryref.sqlite", argv[1]);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK) { fprintf(stderr, "%s\n", sqlite3_errmsg(db)); return 1; }
    check(db, sqlite3_exec(db,
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
        "CREATE TABLE cases (case_id TEXT PRIMARY KEY NOT NULL, order_id TEXT NOT NULL, state TEXT NOT NULL, open INTEGER NOT NULL,"
        " liability_fen INTEGER, updated_at INTEGER NOT NULL);"
        "CREATE TABLE case_history (id INTEGER PRIMARY KEY, case_id TEXT NOT NULL, at INTEGER NOT NULL, state TEXT NOT NULL, note TEXT NOT NULL);"
        "CREATE INDEX case_history_case ON case_history(case_id, id);"
        "CREATE TABLE deadlines (case_id TEXT PRIMARY KEY NOT NULL, due_at INTEGER NOT NULL, status TEXT NOT NULL, fired_at INTEGER) WITHOUT ROWID;"
        "CREATE INDEX deadlines_pending ON deadlines(status, due_at);"
        "CREATE TABLE ledger (entry_id INTEGER PRIMARY KEY, case_id TEXT, order_id TEXT, category TEXT NOT NULL, rule TEXT NOT NULL,"
        " amount_fen INTEGER NOT NULL, points INTEGER NOT NULL, at INTEGER NOT NULL, note TEXT NOT NULL, dedupe_key TEXT NOT NULL UNIQUE);"
        "CREATE INDEX ledger_at ON ledger(at); CREATE INDEX ledger_case ON ledger(case_id);"
        "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, at INTEGER NOT NULL, body TEXT NOT NULL);",
        0, 0, 0), SQLITE_OK);
    sqlite3_stmt *c, *d;
    sqlite3_prepare_v2(db, "INSERT INTO cases VALUES (?, ?, 'awaiting-evidence', 1, NULL, 0)", -1, &c, 0);
    sqlite3_prepare_v2(db, "INSERT INTO deadlines VALUES (?, 1000, 'pending', NULL)", -1, &d, 0);
    char id[64], order[64], body[512];
    sqlite3_exec(db, "BEGIN", 0, 0, 0);
    for (long i = 0; i < n; i++) {
        int k = snprintf(id, sizeof id, "C-%ld", i), o = snprintf(order, sizeof order, "O-%ld", i);
        sqlite3_bind_text(c, 1, id, k, SQLITE_STATIC);
        sqlite3_bind_text(c, 2, order, o, SQLITE_STATIC);
        step(db, c);
        sqlite3_bind_text(d, 1, id, k, SQLITE_STATIC);
        step(db, d);
    }
    sqlite3_exec(db, "COMMIT", 0, 0, 0);
    sqlite3_stmt *mark, *kase, *hist, *book, *event;
    sqlite3_prepare_v2(db, "UPDATE deadlines SET status = 'fired', fired_at = 2000 WHERE case_id = ? AND status = 'pending' AND due_at = 1000", -1, &mark, 0);
    sqlite3_prepare_v2(db, "UPDATE cases SET state = 'defaulted', open = 0, liability_fen = 1000, updated_at = 2000 WHERE case_id = ?", -1, &kase, 0);
    sqlite3_prepare_v2(db, "INSERT INTO case_history (case_id, at, state, note) VALUES (?, 1000, 'defaulted', 'K4: no evidence within 24h; 10.00 yuan red envelope from the deposit')", -1, &hist, 0);
    sqlite3_prepare_v2(db, "INSERT INTO ledger (case_id, order_id, category, rule, amount_fen, points, at, note, dedupe_key) VALUES (?, ?, 'kitchen-appliances', 'K4', 1000, 0, 1000, 'evidence window missed', ?)", -1, &book, 0);
    sqlite3_prepare_v2(db, "INSERT INTO events (topic, at, body) VALUES ('deadline.expired', 2000, ?)", -1, &event, 0);
    char key[128];
    double start = now();
    for (long i = 0; i < n; i++) {
        if (i % per == 0) sqlite3_exec(db, "BEGIN", 0, 0, 0);
        int k = snprintf(id, sizeof id, "C-%ld", i), o = snprintf(order, sizeof order, "O-%ld", i);
        int kk = snprintf(key, sizeof key, "K4|O-%ld", i);
        int b = snprintf(body, sizeof body, "{\"case_id\":\"C-%ld\",\"order_id\":\"O-%ld\",\"state\":\"awaiting-evidence\",\"due_at\":\"2023-04-06T09:30:00+08:00\"}", i, i);
        sqlite3_bind_text(mark, 1, id, k, SQLITE_STATIC);
        step(db, mark);
        sqlite3_bind_text(kase, 1, id, k, SQLITE_STATIC);
        step(db, kase);
        sqlite3_bind_text(hist, 1, id, k, SQLITE_STATIC);
        step(db, hist);
        sqlite3_bind_text(book, 1, id, k, SQLITE_STATIC);
        sqlite3_bind_text(book, 2, order, o, SQLITE_STATIC);
        sqlite3_bind_text(book, 3, key, kk, SQLITE_STATIC);
        step(db, book);
        for (int e = 0; e < 2; e++) {  /* deadline.expired, then ledger.entry */
            sqlite3_bind_text(event, 1, body, b, SQLITE_STATIC);
            step(db, event);
        }
        if ((i + 1) % per == 0 || i + 1 == n) check(db, sqlite3_exec(db, "COMMIT", 0, 0, 0), SQLITE_OK);
    }
    double s = now() - start;
    printf("{\"scenario\": \"sqlite-expiries\", \"deadlines\": %ld, \"per_transaction\": %ld, \"seconds\": %.3f, \"expiries_per_s\": %.0f}\n", n, per, s, n / s);
    sqlite3_close(db);
    return 0;
}
