// Asynchronous I/O on xk: "a system call to enqueue the operation, a signal to
// notify its completion" (kernel: src/kernel/syscall/sysaio.ts; docs/disk.md).
//
//   int id = aio_read(fd, offset, buf, n, SIGUSR1);   // returns at once
//   ... compute; the disk works; the buffer must stay put ...
//   handler(sig, info, uc): info->si_code == SI_ASYNCIO, aio_info_id(info), aio_info_result(info)
//   aio_wait(id) (or aio_waitany + aio_return) gives the result: bytes moved, or
//   -EFAULT (the buffer was not yours at completion), -EIO, -ECANCELED.
//
// The bytes move at completion: a read's data is copied into buf then, a write
// takes buf's bytes as they are then (not as they were at aio_write). A signal
// number of 0 raises no signal. Signals do not queue: when several completions
// raise the same signal before the handler runs, its siginfo names the last;
// ask aio_status for the others.
#ifndef XK_AIO_H
#define XK_AIO_H

#include "signal.h"

#define SI_ASYNCIO (-4)   // si_code of a completion signal
#define EIO 5
#define EFAULT 14
#define EINPROGRESS 115   // aio_status / aio_return: still in flight (as -EINPROGRESS)
#define ECANCELED 125
#define AIO_CANCELED 0    // aio_cancel's answers
#define AIO_NOTCANCELED 1
#define AIO_ALLDONE 2
#define AIO_MAX 16        // requests a process may hold (in flight or not yet returned)

// ---- system calls (usys.S); each returns -1 for bad arguments or an id that is not yours
int aio_read(int fd, int offset, void *buf, int n, int sig);        // a request id (> 0)
int aio_write(int fd, int offset, const void *buf, int n, int sig); // a request id (> 0)
int aio_status(int id);                     // -EINPROGRESS, or the result
int aio_return(int id);                     // the result, once; then the id is forgotten
int aio_waitany(const int *ids, int count); // sleeps until one is complete: its id (-EINTR: a signal)
int aio_cancel(int id);                     // AIO_CANCELED (result -ECANCELED), AIO_NOTCANCELED, AIO_ALLDONE

// ---- aio.c
int aio_wait(int id); // wait for one request (through signals), then aio_return it

// The completion signal's siginfo: the request id in si_pid's place, the result in si_addr's.
static inline int aio_info_id(const siginfo_t *info) { return info->si_pid; }
static inline long aio_info_result(const siginfo_t *info) { return (long)info->si_addr; }

#endif
