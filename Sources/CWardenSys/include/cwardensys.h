#ifndef CWARDENSYS_H
#define CWARDENSYS_H
/* Linux calls glibc declares only under _GNU_SOURCE, which Swift's Glibc does not set. */

/* renameat(2), relative to directory descriptors (no path walk per file), that fails
   with EEXIST instead of replacing `to` (renameat2 with RENAME_NOREPLACE): one
   syscall, and no window between a check and the rename. */
int warden_renameat_noreplace(int fromdir, const char *from, int todir, const char *to);

#include <sys/socket.h>
#include <sys/un.h>

/* Fills a Unix socket address for `path` ("@name" is the abstract namespace) and its
   length. Returns 0, or -1 with errno ENAMETOOLONG if the path does not fit. */
int warden_unix_address(const char *path, struct sockaddr_un *address, socklen_t *length);

/* connect(2) to the Unix socket at `path`; returns 0 or -1 with errno set. */
int warden_unix_connect(int fd, const char *path);

#include <sys/types.h>

/* Names the calling thread (the first 15 bytes) for ps, top and core dumps. */
void warden_set_thread_name(const char *name);

/* Starts an external policy module: `path` with `argv` and `envp` (NULL-terminated),
   stdin, stdout and stderr on `in_fd`, `out_fd`, `err_fd`, in a process group of its
   own (pgid = pid), every other descriptor closed, signal dispositions and mask reset,
   and PR_SET_PDEATHSIG = SIGKILL. The fork runs on one long-lived thread of the
   daemon, so the death signal fires when the daemon dies, not when some worker thread
   ends. Returns the pid, or -1 with errno set (an exec failure included: the child
   reports its errno through a close-on-exec pipe). */
pid_t warden_spawn(const char *path, char *const argv[], char *const envp[], int in_fd, int out_fd, int err_fd);

/* pipe2(fds, O_CLOEXEC); 0 or -1 with errno. */
int warden_pipe_cloexec(int fds[2]);

#include <spawn.h>
/* Adds "close every descriptor from `from` up" to a posix_spawn's file actions (glibc's
   posix_spawn_file_actions_addclosefrom_np), so a child started with posix_spawn gets
   only the descriptors its actions give it. */
int warden_spawn_actions_closefrom(posix_spawn_file_actions_t *actions, int from);

/* kill(2) of a process group; 0 or -1 with errno. */
int warden_kill_group(pid_t pgid, int sig);

/* Gives the C heap's free pages back to the system (glibc malloc_trim(0)); returns 1
   if any memory was released. */
int warden_malloc_trim(void);

#endif
