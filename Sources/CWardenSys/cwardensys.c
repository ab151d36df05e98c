#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include "cwardensys.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

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
