// hostile: the clients a daemon must survive without hurting the others, all on one
// Warden (line-delimited JSON-RPC) Unix socket, kept in place until SIGTERM.
//
//   hostile PATH IDLE
//
//   - a live subscriber: event.subscribe to every topic, then never reads;
//   - a replaying subscriber: the same with "since": 0 (every stored event first), never reads;
//   - IDLE connections that connect and never send a byte;
//   - a slow client (slowloris): one byte per second of a valid request line
//     (daemon.status), again and again; it reads its answers (it is the requester).
//
// Prints one JSON line when everything is connected ({"ready":…}), one status line per
// SIGUSR1, and a last one on SIGTERM, then exits. On SIGUSR2 it reads what the two
// subscribers were sent, until 2 s pass without a byte, and prints one line each
// ({"subscriber":…}: events, and the "lagged" notice if any); the other clients carry on.
// Status fields:
//   idle_open / idle_closed: idle connections still open, and closed or answered by the
//     daemon (a refusal is 1006 and a close);
//   slow_line_bytes, slow_bytes_sent, slow_answers, slow_last_answer_s (seconds from the
//     first byte of a line to its answer), slow_closed;
//   sub_live_unread / sub_replay_unread: bytes waiting in the subscriber's receive buffer.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t want_status, want_stop, want_drain;
static void on_usr1(int s) { (void)s; want_status = 1; }
static void on_usr2(int s) { (void)s; want_drain = 1; }
static void on_term(int s) { (void)s; want_stop = 1; }

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_to(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) { perror("socket"); exit(2); }
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); exit(2); }
    return fd;
}

static void send_all(int fd, const char *s) {
    size_t n = strlen(s);
    if (write(fd, s, n) != (ssize_t)n) { perror("write"); exit(2); }
}

static int unread(int fd) {
    int n = 0;
    return ioctl(fd, FIONREAD, &n) == 0 ? n : -1;
}

// Open (nothing to read, no end of stream) or not.
static int still_silent(int fd) {
    char c;
    ssize_t r = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static const char *topics =
    "[\"case.opened\",\"case.changed\",\"deadline.warning\",\"deadline.expired\",\"ledger.entry\",\"finding.new\",\"spool.rejected\"]";
static const char *slow_line = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.status\"}\n";

static int *idle;
static int nidle, live_fd, replay_fd, slow_fd;
static size_t slow_pos;
static long slow_sent, slow_answers;
static double slow_line_start, slow_last_answer = -1, started;
static int slow_closed;
static char slow_in[1 << 16];
static size_t slow_have;

static void slow_tick(void) {
    if (slow_closed) return;
    if (slow_pos == 0) slow_line_start = now_s();
    if (write(slow_fd, slow_line + slow_pos, 1) != 1) { slow_closed = 1; return; }
    slow_sent++;
    if (++slow_pos == strlen(slow_line)) slow_pos = 0;
}

static void slow_read(void) {
    for (;;) {
        ssize_t r = recv(slow_fd, slow_in + slow_have, sizeof slow_in - slow_have, MSG_DONTWAIT);
        if (r == 0) { slow_closed = 1; return; }
        if (r < 0) return;
        slow_have += (size_t)r;
        char *nl;
        while ((nl = memchr(slow_in, '\n', slow_have))) {
            if (memmem(slow_in, (size_t)(nl - slow_in), "\"result\"", 8)) {
                slow_answers++;
                slow_last_answer = now_s() - slow_line_start;
            }
            size_t used = (size_t)(nl - slow_in) + 1;
            memmove(slow_in, slow_in + used, slow_have - used);
            slow_have -= used;
        }
        if (slow_have == sizeof slow_in) slow_have = 0;
    }
}

static void status(const char *kind) {
    int open_ = 0;
    for (int i = 0; i < nidle; i++) open_ += still_silent(idle[i]);
    printf("{\"%s\":true,\"elapsed_s\":%.1f,\"idle_open\":%d,\"idle_closed\":%d,\"slow_line_bytes\":%zu,\"slow_bytes_sent\":%ld,"
           "\"slow_answers\":%ld,\"slow_last_answer_s\":%.1f,\"slow_closed\":%d,\"sub_live_unread\":%d,\"sub_replay_unread\":%d}\n",
           kind, now_s() - started, open_, nidle - open_, strlen(slow_line), slow_sent, slow_answers, slow_last_answer, slow_closed,
           unread(live_fd), unread(replay_fd));
    fflush(stdout);
}

// Reads everything a subscriber was sent until 2 s pass without a byte; prints a summary.
static void drain_subscriber(const char *name, int fd) {
    static char buf[1 << 20];
    size_t have = 0;
    long lines = 0, events = 0, answered = 0, lagged = 0, errors = 0;
    long long dropped = -1, resume_since = -1, first_seq = -1, last_seq = -1;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (poll(&p, 1, 2000) > 0) {
        ssize_t r = read(fd, buf + have, sizeof buf - have);
        if (r <= 0) break;
        have += (size_t)r;
        char *nl;
        size_t off = 0;
        while ((nl = memchr(buf + off, '\n', have - off))) {
            char *line = buf + off;
            size_t len = (size_t)(nl - line);
            *nl = 0;
            lines++;
            if (memmem(line, len, "\"result\"", 8)) answered++;
            else if (memmem(line, len, "\"error\"", 7)) errors++;
            char *t = memmem(line, len, "\"topic\":\"lagged\"", 16);
            if (t) {
                lagged++;
                char *d = strstr(line, "\"dropped\":");
                char *s = strstr(line, "\"resume_since\":");
                if (d) dropped = atoll(d + 10);
                if (s) resume_since = atoll(s + 15);
            } else if (memmem(line, len, "\"method\":\"event\"", 16)) {
                events++;
                char *s = strstr(line, "\"seq\":");
                if (s) {
                    long long q = atoll(s + 6);
                    if (first_seq < 0) first_seq = q;
                    last_seq = q;
                }
            }
            off += len + 1;
        }
        memmove(buf, buf + off, have - off);
        have -= off;
        if (have == sizeof buf) have = 0;
    }
    printf("{\"subscriber\":\"%s\",\"lines\":%ld,\"answered\":%ld,\"errors\":%ld,\"events\":%ld,\"first_seq\":%lld,\"last_seq\":%lld,"
           "\"lagged\":%ld,\"dropped\":%lld,\"resume_since\":%lld}\n",
           name, lines, answered, errors, events, first_seq, last_seq, lagged, dropped, resume_since);
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s PATH IDLE\n", argv[0]);
        return 2;
    }
    const char *path = argv[1];
    nidle = atoi(argv[2]);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    started = now_s();

    char req[512];
    live_fd = connect_to(path);
    snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"event.subscribe\",\"params\":{\"topics\":%s}}\n", topics);
    send_all(live_fd, req);
    replay_fd = connect_to(path);
    snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"event.subscribe\",\"params\":{\"topics\":%s,\"since\":0}}\n", topics);
    send_all(replay_fd, req);
    idle = calloc((size_t)nidle, sizeof *idle);
    for (int i = 0; i < nidle; i++) idle[i] = connect_to(path);
    slow_fd = connect_to(path);
    slow_tick();
    usleep(200000);  // a refusal (1006 and close) would have arrived by now
    status("ready");

    double next_tick = now_s() + 1;
    while (!want_stop) {
        struct pollfd p = {.fd = slow_fd, .events = POLLIN};
        double wait = next_tick - now_s();
        poll(&p, slow_closed ? 0 : 1, wait > 0 ? (int)(wait * 1000) + 1 : 0);
        slow_read();
        if (now_s() >= next_tick) {
            slow_tick();
            next_tick += 1;
        }
        if (want_status) {
            want_status = 0;
            status("status");
        }
        if (want_drain) {
            want_drain = 0;
            drain_subscriber("live", live_fd);
            drain_subscriber("replay", replay_fd);
        }
    }
    status("final");
    return 0;
}
