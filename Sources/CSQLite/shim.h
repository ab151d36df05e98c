#include <sqlite3.h>

/* Process-wide settings, made before SQLite is first used (sqlite3_config is variadic,
 * which Swift cannot call). Memory statistics off: every allocation SQLite makes
 * otherwise takes a process-wide mutex to count it, and Warden reads no statistics
 * (sqlite3_memory_used, soft heap limits). Returns SQLITE_MISUSE, harmlessly, if
 * SQLite was initialized already. */
static inline int warden_sqlite3_configure(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
