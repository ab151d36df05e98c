// loadgen: closed-loop load on a line-delimited JSON-RPC (Warden) or RESP (Redis) Unix
// socket. N connections, one request in flight on each: send, wait for the whole
// answer, record the latency, send the next. Single-threaded epoll, so the client costs
// one core at most and the same client drives both servers.
//
//   loadgen warden PATH CONNECTIONS SECONDS KEYS PREFIX WIDTH   case.get {"case_id": "PREFIX%0WIDTHd"}
//   loadgen redis  PATH CONNECTIONS SECONDS KEYS PREFIX WIDTH   GET PREFIX%0WIDTHd
//
// Keys are drawn at random from 0..KEYS-1. One second of warm-up is not counted.
// With a last argument "once", every key is asked for exactly once, in order (a warm-up
// pass; SECONDS is then ignored and the figures cover the whole pass, from the first
// request to the last answer); with "once-random", every key exactly once in a random
// order (a fixed shuffle, the same every run).
// Prints one JSON line: {"server","connections","seconds","requests","rps","p50_us",
// "p99_us","p999_us","max_us","errors"}. Exits 1 if any answer was an error.
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum { WARDEN, REDIS };

typedef struct {
    int fd;
    char in[1 << 16];
    size_t have;
    uint64_t sent_ns;
    long id;
} conn_t;

static int mode;
static const char *prefix = "BC";
static int width = 6;
static long keys;
static uint64_t rng = 88172645463325252ULL;
static int once;
static long next_in_order, answered_in_order;
static long *order;  // once-random: the keys, shuffled
static uint32_t *lat;  // latencies in microseconds (capped)
static size_t nlat, caplat;
static long errors;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t xorshift(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static long next_key(void) {
    if (once) {
        long i = next_in_order++;
        return order ? order[i] : i;
    }
    return (long)(xorshift() % (uint64_t)keys);
}

static void send_request(conn_t *c) {
    char buf[256];
    if (once && next_in_order >= keys) return;
    int n;
    long k = next_key();
    if (mode == WARDEN) {
        n = snprintf(buf, sizeof buf, "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"case.get\",\"params\":{\"case_id\":\"%s%0*ld\"}}\n",
                     ++c->id, prefix, width, k);
    } else {
        char key[64];
        int kl = snprintf(key, sizeof key, "%s%0*ld", prefix, width, k);
        n = snprintf(buf, sizeof buf, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", kl, key);
    }
    c->sent_ns = now_ns();
    if (write(c->fd, buf, (size_t)n) != n) {
        perror("write");
        exit(2);
    }
}

// Length of one complete answer at the start of c->in, or 0 if incomplete.
static size_t complete(conn_t *c) {
    if (mode == WARDEN) {
        char *nl = memchr(c->in, '\n', c->have);
        if (!nl) return 0;
        if (!memmem(c->in, (size_t)(nl - c->in), "\"result\"", 8)) errors++;
        return (size_t)(nl - c->in) + 1;
    }
    char *crlf = memmem(c->in, c->have, "\r\n", 2);
    if (!crlf) return 0;
    if (c->in[0] == '$') {
        long len = strtol(c->in + 1, NULL, 10);
        if (len < 0) return (size_t)(crlf - c->in) + 2;  // nil
        size_t total = (size_t)(crlf - c->in) + 2 + (size_t)len + 2;
        return c->have >= total ? total : 0;
    }
    if (c->in[0] == '-') errors++;
    return (size_t)(crlf - c->in) + 2;
}

static int cmp32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s warden|redis PATH CONNECTIONS SECONDS KEYS [PREFIX [WIDTH]]\n", argv[0]);
        return 2;
    }
    mode = strcmp(argv[1], "redis") == 0 ? REDIS : WARDEN;
    const char *path = argv[2];
    int n = atoi(argv[3]);
    double seconds = atof(argv[4]);
    keys = atol(argv[5]);
    if (argc > 6) prefix = argv[6];
    if (argc > 7) width = atoi(argv[7]);
    if (argc > 8 && strcmp(argv[8], "once") == 0) once = 1;
    if (argc > 8 && strcmp(argv[8], "once-random") == 0) {
        once = 1;
        order = malloc(sizeof *order * (size_t)keys);
        if (!order) { perror("malloc"); return 1; }
        for (long i = 0; i < keys; i++) order[i] = i;
        for (long i = keys - 1; i > 0; i--) {  // Fisher-Yates
            long j = (long)(xorshift() % (uint64_t)(i + 1));
            long t = order[i]; order[i] = order[j]; order[j] = t;
        }
    }
    caplat = 1 << 24;
    lat = malloc(caplat * sizeof *lat);
    conn_t *conns = calloc((size_t)n, sizeof *conns);
    int ep = epoll_create1(0);
    for (int i = 0; i < n; i++) {
        conn_t *c = &conns[i];
        c->fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        strncpy(a.sun_path, path, sizeof a.sun_path - 1);
        if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
            perror("connect");
            return 2;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    }
    uint64_t start = now_ns();
    uint64_t measure_from = once ? start : start + 1000000000ULL;
    uint64_t end = once ? UINT64_MAX : measure_from + (uint64_t)(seconds * 1e9);
    for (int i = 0; i < n; i++) send_request(&conns[i]);
    long counted = 0;
    struct epoll_event evs[256];
    for (;;) {
        int k = epoll_wait(ep, evs, 256, 1000);
        if (k < 0 && errno == EINTR) continue;
        uint64_t t = now_ns();
        if (t >= end) break;
        for (int e = 0; e < k; e++) {
            conn_t *c = evs[e].data.ptr;
            ssize_t r = read(c->fd, c->in + c->have, sizeof c->in - c->have);
            if (r <= 0) {
                fprintf(stderr, "connection closed by the server\n");
                return 2;
            }
            c->have += (size_t)r;
            size_t used;
            while ((used = complete(c)) > 0) {
                memmove(c->in, c->in + used, c->have - used);
                c->have -= used;
                uint64_t done = now_ns();
                if (c->sent_ns >= measure_from) {
                    uint64_t us = (done - c->sent_ns) / 1000;
                    if (nlat < caplat) lat[nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
                    counted++;
                }
                answered_in_order++;
                send_request(c);
            }
            if (c->have == sizeof c->in) {
                fprintf(stderr, "answer longer than %zu bytes\n", sizeof c->in);
                return 2;
            }
        }
        // A pass ends at its last answer (not at the next epoll timeout, a second later).
        if (once && answered_in_order >= keys) break;
    }
    if (once) end = now_ns();
    double elapsed = (double)(end - measure_from) / 1e9;
    qsort(lat, nlat, sizeof *lat, cmp32);
#define PCT(p) (nlat ? lat[(size_t)((double)(nlat - 1) * (p))] : 0)
    printf("{\"server\":\"%s\",\"connections\":%d,\"seconds\":%.1f,\"requests\":%ld,\"rps\":%.0f,\"p50_us\":%u,\"p99_us\":%u,\"p999_us\":%u,\"max_us\":%u,\"errors\":%ld}\n",
           argv[1], n, elapsed, counted, (double)counted / elapsed, PCT(0.50), PCT(0.99), PCT(0.999), nlat ? lat[nlat - 1] : 0, errors);
    return errors ? 1 : 0;
}
