/* pairref: what SQLite alone costs for the rows of order + complaint pairs on Warden's
 * own schema, measured in the same run as wardend (benchmarks/pairs/run).
 *
 *   pairref DATABASE PAIRS [PAIRS_PER_TRANSACTION]
 *
 * DATABASE is an empty store made by wardend itself (so the schema, its indexes and
 * the count triggers are Warden's, whatever the version). Per pair, with prepared
 * statements and no parsing or logic: insert the order's record and its order row;
 * insert the complaint's record, look its order up, check that no case has its id,
 * insert the case, its history row, its pending deadline and the case.opened event.
 * PAIRS_PER_TRANSACTION (default 10,000: one NDJSON file of 20,000 records) per
 * transaction, WAL, synchronous=FULL, a 64 MiB page cache, as wardend's writer runs. Prints one line of JSON with
 * records (two per pair) per second. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static sqlite3 *db;

static void check(int rc, int want) {
    if (rc != want) { fprintf(stderr, "pairref: %s\n", sqlite3_errmsg(db)); exit(1); }
}

static sqlite3_stmt *prepare(const char *sql) {
    sqlite3_stmt *s;
    check(sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL), SQLITE_OK);
    return s;
}

static void step(sqlite3_stmt *s, int want) {
    check(sqlite3_step(s), want);
    sqlite3_reset(s);
}

static void text(sqlite3_stmt *s, int i, const char *v) { sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT); }

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: pairref DATABASE PAIRS [PER_TRANSACTION]\n"); return 2; }
    long pairs = atol(argv[2]);
    long per = argc > 3 ? atol(argv[3]) : 10000;
    check(sqlite3_open(argv[1], &db), SQLITE_OK);
    check(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_stmt *rec = prepare(
        "INSERT INTO records (type, key, body, order_id, complaint_id, event_at, received_at, updated_at, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pairs.ndjson')");
    sqlite3_stmt *ord = prepare(
        "INSERT INTO orders (order_id, category, module, shop, item, paid_fen, paid_at, ship_by, shipped_at, delivery_service, presale) "
        "VALUES (?, 'kitchen-appliances', 'kitchen-appliances', 'shop-1', 'stand-mixer', 129900, ?, NULL, NULL, NULL, 0) "
        "ON CONFLICT (order_id) DO UPDATE SET paid_fen = excluded.paid_fen");
    sqlite3_stmt *lookup = prepare("SELECT * FROM orders WHERE order_id = ?");
    sqlite3_stmt *exists = prepare("SELECT 1 FROM cases WHERE case_id = ?");
    sqlite3_stmt *cas = prepare(
        "INSERT INTO cases (case_id, order_id, category, shop, reason, state, open, opened_at, deadline, updated_at) "
        "VALUES (?, ?, 'kitchen-appliances', 'shop-1', 'not-delivered-to-door', 'awaiting-evidence', 1, ?, ?, ?)");
    sqlite3_stmt *hist = prepare("INSERT INTO case_history (case_id, at, state, note) VALUES (?, ?, 'awaiting-evidence', 'opened: not-delivered-to-door')");
    sqlite3_stmt *dl = prepare("INSERT INTO deadlines (case_id, due_at, status, warnings_done, next_at) VALUES (?, ?, 'pending', '', ?)");
    sqlite3_stmt *ev = prepare("INSERT INTO events (topic, at, body) VALUES ('case.opened', ?, ?)");
    char order[32], complaint[32], body[512];
    long long t = 1796000000000LL;
    double start = now();
    for (long i = 0; i < pairs; i++) {
        if (i % per == 0) check(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
        snprintf(order, sizeof order, "O%08ld", i);
        snprintf(complaint, sizeof complaint, "C%08ld", i);
        snprintf(body, sizeof body,
            "{\"type\":\"order\",\"order_id\":\"%s\",\"category\":\"kitchen-appliances\",\"shop\":\"shop-1\",\"item\":\"stand-mixer\","
            "\"paid\":\"1299.00\",\"paid_at\":\"2026-11-30T10:00:00+08:00\",\"listing_id\":\"L-1\"}", order);
        sqlite3_bind_text(rec, 1, "order", -1, SQLITE_STATIC);
        text(rec, 2, order); text(rec, 3, body); text(rec, 4, order); sqlite3_bind_null(rec, 5);
        sqlite3_bind_int64(rec, 6, t); sqlite3_bind_int64(rec, 7, t); sqlite3_bind_int64(rec, 8, t);
        step(rec, SQLITE_DONE);
        text(ord, 1, order); sqlite3_bind_int64(ord, 2, t);
        step(ord, SQLITE_DONE);
        snprintf(body, sizeof body,
            "{\"type\":\"complaint\",\"complaint_id\":\"%s\",\"order_id\":\"%s\",\"reason\":\"not-delivered-to-door\","
            "\"opened_at\":\"2026-12-01T10:00:00+08:00\"}", complaint, order);
        sqlite3_bind_text(rec, 1, "complaint", -1, SQLITE_STATIC);
        text(rec, 2, complaint); text(rec, 3, body); text(rec, 4, order); text(rec, 5, complaint);
        step(rec, SQLITE_DONE);
        text(lookup, 1, order);
        step(lookup, SQLITE_ROW);
        text(exists, 1, complaint);
        step(exists, SQLITE_DONE);
        text(cas, 1, complaint); text(cas, 2, order);
        sqlite3_bind_int64(cas, 3, t); sqlite3_bind_int64(cas, 4, t + 86400000); sqlite3_bind_int64(cas, 5, t);
        step(cas, SQLITE_DONE);
        text(hist, 1, complaint); sqlite3_bind_int64(hist, 2, t);
        step(hist, SQLITE_DONE);
        text(dl, 1, complaint); sqlite3_bind_int64(dl, 2, t + 86400000); sqlite3_bind_int64(dl, 3, t + 86400000 - 7200000);
        step(dl, SQLITE_DONE);
        snprintf(body, sizeof body,
            "{\"case_id\":\"%s\",\"order_id\":\"%s\",\"category\":\"kitchen-appliances\",\"state\":\"awaiting-evidence\","
            "\"deadline\":\"2026-12-02T10:00:00+08:00\"}", complaint, order);
        sqlite3_bind_int64(ev, 1, t); text(ev, 2, body);
        step(ev, SQLITE_DONE);
        if (i % per == per - 1 || i == pairs - 1) check(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    }
    double seconds = now() - start;
    printf("{\"scenario\": \"sqlite-alone-pairs\", \"pairs\": %ld, \"seconds\": %.3f, \"records_per_s\": %.0f}\n", pairs, seconds, 2 * pairs / seconds);
    sqlite3_close(db);
    return 0;
}
