/* sqliteref: the SQLite reference for the NDJSON scenario, measured in the same run.
 *
 *   sqliteref DIR [ROWS] [PER_TRANSACTION]
 *
 * Inserts ROWS rows (default 200,000) of about 200 bytes into a fresh database in DIR,
 * WAL mode, synchronous=FULL, PER_TRANSACTION rows per transaction (default 1,000),
 * one prepared statement: what SQLite itself commits here, with no parsing and no
 * application logic. Prints one line of JSON. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s DIR [ROWS] [PER_TRANSACTION]\n", argv[0]); return 2; }
    long rows = argc > 2 ? atol(argv[2]) : 200000, per = argc > 3 ? atol(argv[3]) : 1000;
    char path[4096];
    snprintf(path, sizeof path, "%s/sqliteref.sqlite", argv[1]);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK) { fprintf(stderr, "%s\n", sqlite3_errmsg(db)); return 1; }
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
        "CREATE TABLE t (key TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID;", 0, 0, 0);
    sqlite3_stmt *ins;
    sqlite3_prepare_v2(db, "INSERT INTO t (key, body) VALUES (?, ?)", -1, &ins, 0);
    char key[64], body[256];
    double start = now();
    for (long i = 0; i < rows; i++) {
        if (i % per == 0) sqlite3_exec(db, "BEGIN", 0, 0, 0);
        int kn = snprintf(key, sizeof key, "ref-%ld", i);
        int bn = snprintf(body, sizeof body,
            "{\"type\":\"order\",\"order_id\":\"ref-%ld\",\"category\":\"stand-mixer\",\"shop\":\"bench\",\"paid_amount\":\"129.90\",\"paid_at\":\"2023-04-01 10:00:00\",\"delivery_service\":\"merchant\"}", i);
        sqlite3_bind_text(ins, 1, key, kn, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, body, bn, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE) { fprintf(stderr, "%s\n", sqlite3_errmsg(db)); return 1; }
        sqlite3_reset(ins);
        if (i % per == per - 1 || i == rows - 1) sqlite3_exec(db, "COMMIT", 0, 0, 0);
    }
    double secs = now() - start;
    printf("{\"rows\":%ld,\"per_transaction\":%ld,\"seconds\":%.3f,\"rows_per_s\":%.0f}\n", rows, per, secs, rows / secs);
    sqlite3_finalize(ins);
    sqlite3_close(db);
    return 0;
}
