#ifndef CWARDENSYS_H
#define CWARDENSYS_H
/* Linux calls glibc declares only under _GNU_SOURCE, which Swift's Glibc does not set. */

/* rename(2) that fails with EEXIST instead of replacing `to` (renameat2 with
   RENAME_NOREPLACE): one syscall, and no window between a check and the rename. */
int warden_rename_noreplace(const char *from, const char *to);

#endif
