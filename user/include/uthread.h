// uthread: user-level threads on the timer signal (user/lib/uthread.c).
// The kernel knows one process; the threads are contexts the SIGALRM handler
// swaps in the signal frame, as a kernel's timer interrupt swaps processes.
#ifndef XK_UTHREAD_H
#define XK_UTHREAD_H

#define UTHREAD_MAX 8
#define UTHREAD_STACK 16384

// Start preemptive scheduling: a SIGALRM every `ticks` timer ticks switches threads.
int uthread_init(int ticks);
// A new thread running fn(arg); its id (> 0), or -1.
int uthread_create(void *(*fn)(void *), void *arg);
// Wait for thread `id` to finish; fn's result.
void *uthread_join(int id);
// Give the processor to the next thread now.
void uthread_yield(void);
int uthread_self(void);
// Stop preemption (the threads still switch on yield and join).
void uthread_stop(void);
// How many times the handler switched threads.
int uthread_switches(void);

typedef struct {
  volatile int locked;
} uthread_mutex_t;
void uthread_mutex_init(uthread_mutex_t *m);
void uthread_mutex_lock(uthread_mutex_t *m);
void uthread_mutex_unlock(uthread_mutex_t *m);

#endif
