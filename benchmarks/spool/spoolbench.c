/* spoolbench: drives wardend's spool the way producers do and measures it.
 *
 *   spoolbench SPOOL_DIR DAY MODE COUNT [RATE] [RECORDS_PER_FILE]
 *
 * MODE json:   COUNT single-record .json files (one order each)
 * MODE ndjson: COUNT .ndjson files of RECORDS_PER_FILE orders each
 * MODE ceiling: as json, but a C consumer thread in this process moves each file to
 *              processed/DAY (inotify, rename; no read, no parsing, no database): the
 *              filesystem's ceiling for the json scenario, measured in the same run
 * RATE:        files per second (0 = as fast as possible)
 * DAY:         the processed/ subdirectory wardend files them under (YYYY-MM-DD)
 *
 * Each file is written into tmp/ and rename(2)d into incoming/ (drop time taken at the
 * rename). A second thread watches processed/DAY with inotify: a file appears there only
 * after its transaction is durable, so rename-to-appearance is drop-to-durable latency.
 * Prints throughput and latency percentiles as one line of JSON. With SPOOLBENCH_TRACE
 * set to a path, also writes one line per file there: milliseconds from the start to
 * the drop, and the drop-to-durable latency in milliseconds (to see when stalls happen). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static char spool[PATH_MAX], day[64];
static long count, rate, per_file;
static int ndjson;
static int64_t *dropped, *done;
static volatile long seen;
static char run_id[32];

/* The ceiling consumer: inotify on incoming/, rename each file into processed/DAY. */
static void *consumer(void *arg) {
    (void)arg;
    char in[PATH_MAX], out[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
    snprintf(in, sizeof in, "%s/incoming", spool);
    snprintf(out, sizeof out, "%s/processed/%s", spool, day);
    int fd = inotify_init1(IN_CLOEXEC);
    if (inotify_add_watch(fd, in, IN_MOVED_TO) < 0) { perror(in); exit(1); }
    char buf[1 << 16] __attribute__((aligned(8)));
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) { if (errno == EINTR) continue; perror("inotify"); exit(1); }
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *e = (struct inotify_event *)p;
            if (e->len) {
                snprintf(from, sizeof from, "%s/%s", in, e->name);
                snprintf(to, sizeof to, "%s/%s", out, e->name);
                if (rename(from, to) != 0) perror(from);
            }
            p += sizeof *e + e->len;
        }
    }
    return NULL;
}

static void *observer(void *arg) {
    (void)arg;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/processed/%s", spool, day);
    int fd = inotify_init1(IN_CLOEXEC);
    if (inotify_add_watch(fd, dir, IN_MOVED_TO) < 0) { perror(dir); exit(1); }
    char buf[1 << 16] __attribute__((aligned(8)));
    while (seen < count) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) { if (errno == EINTR) continue; perror("inotify"); exit(1); }
        int64_t t = now_ns();
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *e = (struct inotify_event *)p;
            long i;
            char rid[32];
            if (e->len && sscanf(e->name, "b-%31[^-]-%ld", rid, &i) == 2 && strcmp(rid, run_id) == 0 && i >= 0 && i < count && !done[i]) {
                done[i] = t;
                seen++;
            }
            p += sizeof *e + e->len;
        }
    }
    return NULL;
}

static int cmp(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: %s SPOOL DAY json|ndjson COUNT [RATE] [RECORDS_PER_FILE]\n", argv[0]); return 2; }
    snprintf(spool, sizeof spool, "%s", argv[1]);
    snprintf(day, sizeof day, "%s", argv[2]);
    ndjson = strcmp(argv[3], "ndjson") == 0;
    count = atol(argv[4]);
    rate = argc > 5 ? atol(argv[5]) : 0;
    per_file = argc > 6 ? atol(argv[6]) : 1000;
    snprintf(run_id, sizeof run_id, "%ld", (long)getpid());
    dropped = calloc(count, sizeof *dropped);
    done = calloc(count, sizeof *done);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/processed/%s", spool, day);
    mkdir(dir, 0750);
    pthread_t t;
    pthread_create(&t, NULL, observer, NULL);
    if (strcmp(argv[3], "ceiling") == 0) {
        pthread_t c;
        pthread_create(&c, NULL, consumer, NULL);
    }
    usleep(100000);

    size_t cap = ndjson ? (size_t)per_file * 200 + 64 : 512;
    char *body = malloc(cap);
    long records = 0;
    int64_t start = now_ns();
    for (long i = 0; i < count; i++) {
        size_t len = 0;
        long n = ndjson ? per_file : 1;
        for (long r = 0; r < n; r++) {
            len += snprintf(body + len, cap - len,
                "{\"type\":\"order\",\"order_id\":\"%s-%ld-%ld\",\"category\":\"stand-mixer\",\"shop\":\"bench\",\"paid_amount\":\"129.90\",\"paid_at\":\"2023-04-01 10:00:00\",\"delivery_service\":\"merchant\"}\n",
                run_id, i, r);
        }
        records += n;
        char tmp[PATH_MAX], dst[PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s/tmp/b-%s-%ld.%s", spool, run_id, i, ndjson ? "ndjson" : "json");
        snprintf(dst, sizeof dst, "%s/incoming/b-%s-%ld.%s", spool, run_id, i, ndjson ? "ndjson" : "json");
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        if (fd < 0 || write(fd, body, len) != (ssize_t)len) { perror(tmp); return 1; }
        close(fd);
        if (rate > 0) {
            int64_t due = start + (int64_t)(i * (1e9 / rate));
            while (now_ns() < due) usleep(50);
        }
        dropped[i] = now_ns();
        if (rename(tmp, dst) != 0) { perror(dst); return 1; }
    }
    int64_t produced = now_ns();
    int64_t deadline = produced + 300LL * 1000000000LL;
    while (seen < count && now_ns() < deadline) usleep(1000);
    if (seen < count) { fprintf(stderr, "only %ld of %ld files were processed in time\n", seen, count); return 1; }
    int64_t last = 0;
    int64_t *lat = malloc(count * sizeof *lat);
    for (long i = 0; i < count; i++) {
        lat[i] = done[i] - dropped[i];
        if (done[i] > last) last = done[i];
    }
    const char *trace = getenv("SPOOLBENCH_TRACE");
    if (trace) {
        FILE *f = fopen(trace, "w");
        if (!f) { perror(trace); return 1; }
        for (long i = 0; i < count; i++) fprintf(f, "%.3f %.3f\n", (dropped[i] - start) / 1e6, lat[i] / 1e6);
        fclose(f);
    }
    qsort(lat, count, sizeof *lat, cmp);
    double secs = (last - start) / 1e9;
    printf("{\"mode\":\"%s\",\"files\":%ld,\"records\":%ld,\"rate_target\":%ld,\"seconds\":%.3f,"
           "\"files_per_s\":%.0f,\"records_per_s\":%.0f,\"producer_files_per_s\":%.0f,"
           "\"latency_ms\":{\"p50\":%.2f,\"p99\":%.2f,\"max\":%.2f}}\n",
        argv[3], count, records, rate, secs, count / secs, records / secs, count / ((produced - start) / 1e9),
        lat[count / 2] / 1e6, lat[(long)(count * 0.99)] / 1e6, lat[count - 1] / 1e6);
    return 0;
}
