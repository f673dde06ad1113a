// User-level threads, switched by the timer signal.
//
// Each thread is a saved register set (struct sigcontext, the kernel's trap-frame
// layout) plus a stack. A SIGALRM interrupts whichever thread runs; the kernel
// saves its registers in the signal frame. The handler copies them into that
// thread's slot and copies the next thread's registers into the frame, so that
// sigreturn "returns" into the other thread: the context switch is two struct
// copies, as in a kernel whose timer interrupt handler switches trap frames.
// uthread_yield() raises SIGALRM itself to switch at once.

#include "user.h"
#include "signal.h"
#include "uthread.h"

enum { FREE, RUNNABLE, DONE };

struct uthread {
  int state;
  struct sigcontext ctx;  // saved registers while not running
  void *(*fn)(void *);
  void *arg;
  void *result;
  char *stack;
};

static struct uthread threads[UTHREAD_MAX];
static volatile int current;  // index of the running thread; 0 is the program's own
static volatile int switches;

static void switch_threads(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  int next = current;
  for (int i = 1; i <= UTHREAD_MAX; i++) {
    int t = (current + i) % UTHREAD_MAX;
    if (threads[t].state == RUNNABLE) {
      next = t;
      break;
    }
  }
  if (next == current)
    return;
  threads[current].ctx = uc->uc_mcontext;
  uc->uc_mcontext = threads[next].ctx;
  current = next;
  switches++;
}

static void thread_start(int id) {
  struct uthread *t = &threads[id];
  t->result = t->fn(t->arg);
  t->state = DONE;
  for (;;)
    uthread_yield();
}

int uthread_init(int ticks) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = switch_threads;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;  // a waiting system call restarts in its thread
  if (sigaction(SIGALRM, &sa, 0) < 0)
    return -1;
  threads[0].state = RUNNABLE;
  current = 0;
  return ticks > 0 ? setitimer(ITIMER_REAL, ticks, ticks) : 0;
}

void uthread_stop(void) {
  setitimer(ITIMER_REAL, 0, 0);
}

int uthread_create(void *(*fn)(void *), void *arg) {
  for (int id = 1; id < UTHREAD_MAX; id++) {
    struct uthread *t = &threads[id];
    if (t->state != FREE)
      continue;
    t->stack = malloc(UTHREAD_STACK);
    if (!t->stack)
      return -1;
    memset(&t->ctx, 0, sizeof(t->ctx));
    t->fn = fn;
    t->arg = arg;
    // Enter thread_start(id) as if called: %rsp + 8 16-byte aligned, a 0 return address.
    unsigned long top = ((unsigned long)t->stack + UTHREAD_STACK) & ~15UL;
    top -= 8;
    *(unsigned long *)top = 0;
    t->ctx.rsp = top;
    t->ctx.rip = (unsigned long)thread_start;
    t->ctx.rdi = id;
    t->ctx.cs = 0x23;       // user code selector
    t->ctx.ss = 0x1b;       // user data selector
    t->ctx.rflags = 0x202;  // IF
    t->state = RUNNABLE;
    return id;
  }
  return -1;
}

void uthread_yield(void) {
  raise(SIGALRM);
}

void *uthread_join(int id) {
  if (id <= 0 || id >= UTHREAD_MAX || threads[id].state == FREE)
    return 0;
  while (threads[id].state != DONE)
    uthread_yield();
  free(threads[id].stack);
  threads[id].state = FREE;
  return threads[id].result;
}

int uthread_self(void) {
  return current;
}

int uthread_switches(void) {
  return switches;
}

void uthread_mutex_init(uthread_mutex_t *m) {
  m->locked = 0;
}

void uthread_mutex_lock(uthread_mutex_t *m) {
  // xchg is atomic with respect to the signal: it is one instruction.
  while (__atomic_exchange_n(&m->locked, 1, __ATOMIC_ACQUIRE))
    uthread_yield();
}

void uthread_mutex_unlock(uthread_mutex_t *m) {
  __atomic_store_n(&m->locked, 0, __ATOMIC_RELEASE);
}
