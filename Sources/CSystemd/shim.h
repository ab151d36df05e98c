#ifndef WARDEN_CSYSTEMD_SHIM_H
#define WARDEN_CSYSTEMD_SHIM_H
/* libsystemd, for the native journal protocol. sd_journal_send() is variadic and not
   callable from Swift; sd_journal_sendv() takes an iovec array and is. */
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#endif
