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

#endif
