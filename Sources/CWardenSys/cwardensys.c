#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include "cwardensys.h"
#include <malloc.h>

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <pthread.h>

void warden_set_thread_name(const char *name) {
    char short_name[16];
    strncpy(short_name, name, sizeof short_name - 1);
    short_name[sizeof short_name - 1] = '\0';
    pthread_setname_np(pthread_self(), short_name);
}

int warden_unix_address(const char *path, struct sockaddr_un *address, socklen_t *length) {
    size_t n = strlen(path);
    memset(address, 0, sizeof *address);
    address->sun_family = AF_UNIX;
    if (n >= sizeof address->sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(address->sun_path, path, n);
    if (path[0] == '@') address->sun_path[0] = '\0';
    *length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '@' ? 0 : 1));
    return 0;
}

int warden_unix_connect(int fd, const char *path) {
    struct sockaddr_un address;
    socklen_t length;
    if (warden_unix_address(path, &address, &length) != 0) return -1;
    return connect(fd, (struct sockaddr *)&address, length);
}


int warden_renameat_noreplace(int fromdir, const char *from, int todir, const char *to) {
    return renameat2(fromdir, from, todir, to, RENAME_NOREPLACE);
}

/* ---- Spawning external modules ------------------------------------------------- */

#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

struct spawn_request {
    const char *path;
    char *const *argv;
    char *const *envp;
    int fds[3];
    pid_t pid;
    int error;
    int done;
};

static pthread_mutex_t spawn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t spawn_wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t spawn_done = PTHREAD_COND_INITIALIZER;
static struct spawn_request *spawn_pending = NULL;
static int spawn_thread_started = 0;

static void spawn_child(struct spawn_request *r, pid_t parent, int report) {
    /* Only async-signal-safe calls from here on. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++) {
        if (s == SIGKILL || s == SIGSTOP) continue;
        sigaction(s, &dfl, NULL);
    }
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127); /* the daemon died before prctl took effect */
    int fds[3];
    for (int i = 0; i < 3; i++) {
        /* Move each out of 0..2 first, so the dup2s below cannot clobber one another. */
        fds[i] = fcntl(r->fds[i], F_DUPFD, 3);
        if (fds[i] < 0) goto fail;
    }
    for (int i = 0; i < 3; i++) {
        if (dup2(fds[i], i) < 0) goto fail;
    }
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
        long max = sysconf(_SC_OPEN_MAX);
        if (max < 0 || max > 1 << 20) max = 1 << 20;
        for (int fd = 3; fd < max; fd++) {
            if (fd != report) fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(r->path, r->argv, r->envp);
fail:;
    int e = errno;
    ssize_t ignored = write(report, &e, sizeof e);
    (void)ignored;
    _exit(127);
}

static void spawn_one(struct spawn_request *r) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        r->pid = -1;
        r->error = errno;
        return;
    }
    pid_t parent = getpid();
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = fork();
    if (pid == 0) spawn_child(r, parent, report[1]);
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(report[1]);
    if (pid < 0) {
        close(report[0]);
        r->pid = -1;
        r->error = saved;
        return;
    }
    setpgid(pid, pid); /* also from here: no window in which a kill of the group misses it */
    int e = 0;
    ssize_t n;
    do {
        n = read(report[0], &e, sizeof e);
    } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == (ssize_t)sizeof e) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
        r->pid = -1;
        r->error = e;
        return;
    }
    r->pid = pid;
    r->error = 0;
}

static void *spawn_thread(void *unused) {
    (void)unused;
    pthread_mutex_lock(&spawn_lock);
    for (;;) {
        while (spawn_pending == NULL) pthread_cond_wait(&spawn_wake, &spawn_lock);
        struct spawn_request *r = spawn_pending;
        spawn_pending = NULL;
        pthread_mutex_unlock(&spawn_lock);
        spawn_one(r);
        pthread_mutex_lock(&spawn_lock);
        r->done = 1;
        pthread_cond_broadcast(&spawn_done);
    }
    return NULL;
}

pid_t warden_spawn(const char *path, char *const argv[], char *const envp[], int in_fd, int out_fd, int err_fd) {
    struct spawn_request r = {path, argv, envp, {in_fd, out_fd, err_fd}, -1, 0, 0};
    pthread_mutex_lock(&spawn_lock);
    if (!spawn_thread_started) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        /* The spawner never exits, so PR_SET_PDEATHSIG ties children to the process. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        int rc = pthread_create(&t, &attr, spawn_thread, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (rc != 0) {
            pthread_mutex_unlock(&spawn_lock);
            errno = rc;
            return -1;
        }
        spawn_thread_started = 1;
    }
    while (spawn_pending != NULL) pthread_cond_wait(&spawn_done, &spawn_lock);
    spawn_pending = &r;
    pthread_cond_signal(&spawn_wake);
    while (!r.done) pthread_cond_wait(&spawn_done, &spawn_lock);
    pthread_mutex_unlock(&spawn_lock);
    if (r.pid < 0) errno = r.error;
    return r.pid;
}

int warden_kill_group(pid_t pgid, int sig) {
    if (pgid <= 1) {
        errno = EINVAL;
        return -1;
    }
    return kill(-pgid, sig);
}

int warden_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int warden_spawn_actions_closefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int warden_malloc_trim(void) { return malloc_trim(0); }
