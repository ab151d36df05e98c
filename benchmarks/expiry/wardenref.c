/* wardenref: SQLite alone running the statements wardend runs for each expiry, on a
 * copy of wardend's own database, measured in the same run as wardend.
 *
 *   wardenref DATABASE [PER_TRANSACTION] [savepoints|none]
 *
 * DATABASE is a copy of a stopped wardend's warden.sqlite holding the pending
 * deadlines of the expiry scenario (stand-mixer cases awaiting evidence): so the
 * schema, indexes, triggers and row counts are Warden's. Every pending deadline is
 * fired in due order, PER_TRANSACTION (default 1,000) per transaction, each in a
 * savepoint of its own unless `none` is given, with the connection set up as wardend
 * sets up its writer (WAL, synchronous=FULL, foreign keys, a 64 MiB cache, temporary
 * storage in memory) and prepared statements. Per expiry, what wardend's SQLite store
 * reads and writes (`Engine.fire`, `Applier.fire`, the kitchen module's K4 decisions):
 * read the case, its evidence and its history; mark the deadline fired; read the
 * order, its cases, the order's and the complaint's stored records (the listing) and
 * the order's ledger keys; set the case defaulted, add a history row, book the ledger
 * entry, add the liability; three events (deadline.expired, case.changed,
 * ledger.entry). No parsing, policy, JSON or logging: the floor wardend could reach on
 * this schema. Prints one line of JSON. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static sqlite3 *db;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fail(const char *what) {
    fprintf(stderr, "wardenref: %s: %s\n", what, sqlite3_errmsg(db));
    exit(1);
}

static void exec(const char *sql) {
    if (sqlite3_exec(db, sql, 0, 0, 0) != SQLITE_OK) fail(sql);
}

static sqlite3_stmt *prepare(const char *sql) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, 0) != SQLITE_OK) fail(sql);
    return s;
}

/* Binds text parameters 1..n (NULL-terminated list), steps through every row (reading
 * each column as wardend does), then resets. */
static void run(sqlite3_stmt *s, ...) {
    __builtin_va_list ap;
    __builtin_va_start(ap, s);
    for (int i = 1;; i++) {
        const char *v = __builtin_va_arg(ap, const char *);
        if (!v) break;
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    }
    __builtin_va_end(ap);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(s); c++) (void)sqlite3_column_text(s, c);
    }
    if (rc != SQLITE_DONE) fail(sqlite3_sql(s));
    sqlite3_reset(s);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s DATABASE [PER_TRANSACTION] [savepoints|none]\n", argv[0]); return 2; }
    long per = argc > 2 ? atol(argv[2]) : 1000;
    int savepoints = !(argc > 3 && strcmp(argv[3], "none") == 0);
    if (sqlite3_open(argv[1], &db) != SQLITE_OK) fail("open");
    exec("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;"
         "PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY");

    /* The deadlines to fire, in due order, with their orders. */
    sqlite3_stmt *list = prepare(
        "SELECT d.case_id, c.order_id, d.due_at FROM deadlines d JOIN cases c USING (case_id)"
        " WHERE d.status = 'pending' ORDER BY d.due_at, d.case_id");
    long n = 0, cap = 1024;
    char **cases = malloc(cap * sizeof *cases), **orders = malloc(cap * sizeof *orders);
    char **dues = malloc(cap * sizeof *dues);
    while (sqlite3_step(list) == SQLITE_ROW) {
        if (n == cap) {
            cap *= 2;
            cases = realloc(cases, cap * sizeof *cases);
            orders = realloc(orders, cap * sizeof *orders);
            dues = realloc(dues, cap * sizeof *dues);
        }
        cases[n] = strdup((const char *)sqlite3_column_text(list, 0));
        orders[n] = strdup((const char *)sqlite3_column_text(list, 1));
        dues[n] = strdup((const char *)sqlite3_column_text(list, 2));
        n++;
    }
    sqlite3_finalize(list);

    sqlite3_stmt *readCase = prepare("SELECT * FROM cases WHERE case_id = ?");
    sqlite3_stmt *readEvidence = prepare("SELECT * FROM case_evidence WHERE case_id = ? ORDER BY id");
    sqlite3_stmt *readHistory = prepare("SELECT * FROM case_history WHERE case_id = ? ORDER BY id");
    sqlite3_stmt *mark = prepare(
        "UPDATE deadlines SET status = 'fired', fired_at = strftime('%s') * 1000 WHERE case_id = ? AND status = 'pending' AND due_at = ?");
    sqlite3_stmt *readOrder = prepare("SELECT * FROM orders WHERE order_id = ?");
    sqlite3_stmt *orderCases = prepare("SELECT case_id FROM cases WHERE order_id = ? ORDER BY case_id");
    sqlite3_stmt *orderBody = prepare("SELECT body FROM records WHERE type = 'order' AND key = ?");
    sqlite3_stmt *complaintBody = prepare("SELECT body FROM records WHERE type = 'complaint' AND key = ?");
    sqlite3_stmt *bookedKeys = prepare("SELECT dedupe_key FROM ledger WHERE order_id = ?");
    sqlite3_stmt *setState = prepare("UPDATE cases SET state = 'defaulted', open = 0, updated_at = strftime('%s') * 1000 WHERE case_id = ?");
    sqlite3_stmt *history = prepare(
        "INSERT INTO case_history (case_id, at, state, note) VALUES (?, strftime('%s') * 1000, 'defaulted',"
        " 'K4: no evidence within 24h of the not-delivered-to-door complaint; 10.00 yuan red envelope from the deposit')");
    sqlite3_stmt *book = prepare(
        "INSERT INTO ledger (case_id, order_id, shop, category, rule, amount_fen, points, at, note, dedupe_key)"
        " VALUES (?, ?, 'shop-1', 'kitchen-appliances', 'K4', 1000, 0, strftime('%s') * 1000,"
        " 'no evidence within 24h of the not-delivered-to-door complaint', 'K4|' || ?2) ON CONFLICT(dedupe_key) DO NOTHING");
    sqlite3_stmt *liability = prepare(
        "UPDATE cases SET liability_fen = coalesce(liability_fen, 0) + 1000, liability_points = coalesce(liability_points, 0) + 0 WHERE case_id = ?");
    sqlite3_stmt *event = prepare("INSERT INTO events (topic, at, body) VALUES (?, strftime('%s') * 1000, ?)");
    sqlite3_stmt *savepoint = prepare("SAVEPOINT firing"), *release = prepare("RELEASE firing");

    char body[512];
    double start = now();
    for (long i = 0; i < n; i++) {
        if (i % per == 0) exec("BEGIN IMMEDIATE");
        if (savepoints) run(savepoint, NULL);
        snprintf(body, sizeof body,
                 "{\"case_id\":\"%s\",\"category\":\"kitchen-appliances\",\"due_at\":\"2026-12-03T21:30:00+08:00\",\"order_id\":\"%s\"}",
                 cases[i], orders[i]);
        run(readCase, cases[i], NULL);
        run(readEvidence, cases[i], NULL);
        run(readHistory, cases[i], NULL);
        run(mark, cases[i], dues[i], NULL);
        run(event, "deadline.expired", body, NULL);
        run(readOrder, orders[i], NULL);
        run(orderCases, orders[i], NULL);
        run(orderBody, orders[i], NULL);
        run(complaintBody, cases[i], NULL);
        run(bookedKeys, orders[i], NULL);
        run(setState, cases[i], NULL);
        run(history, cases[i], NULL);
        run(event, "case.changed", body, NULL);
        run(book, cases[i], orders[i], NULL);
        run(liability, cases[i], NULL);
        run(event, "ledger.entry", body, NULL);
        if (savepoints) run(release, NULL);
        if ((i + 1) % per == 0 || i + 1 == n) exec("COMMIT");
    }
    double s = now() - start;
    printf("{\"scenario\": \"sqlite-warden-statements%s\", \"deadlines\": %ld, \"per_transaction\": %ld, \"seconds\": %.3f, \"expiries_per_s\": %.0f}\n",
           savepoints ? "" : "-no-savepoints", n, per, s, n > 0 ? n / s : 0);
    sqlite3_close(db);
    return 0;
}
