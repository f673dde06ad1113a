// The C library's side of signals: sigaction() installs the trampoline that
// returns from a handler, and a few conveniences.
//
// When the kernel delivers a signal it enters the handler as if the handler had
// been called from sa_restorer: the return address on the stack is the
// trampoline below. The handler's `ret` pops it, leaving %rsp at the ucontext_t
// in the signal frame, and the trampoline hands that to sigreturn(), which checks
// it and restores the interrupted registers: the iretq of a signal.

#include "user.h"
#include "signal.h"
#include "syscall.h"

#define STR2(x) #x
#define STR(x) STR2(x)

__asm__(
    "  .text\n"
    "  .globl __sigreturn_trampoline\n"
    "  .type __sigreturn_trampoline, @function\n"
    "__sigreturn_trampoline:\n"
    "  movq %rsp, %rdi\n"                 // &ucontext, right above the popped return address
    "  movl $" STR(SYS_sigreturn) ", %eax\n"
    "  int $64\n"
    "  ud2\n");                           // sigreturn does not return here

int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
  struct sigaction a;
  if (act == 0)
    return rt_sigaction(sig, 0, old);
  a = *act;
  a.sa_flags |= SA_RESTORER;
  a.sa_restorer = __sigreturn_trampoline;
  return rt_sigaction(sig, &a, old);
}

void (*signal(int sig, void (*handler)(int)))(int) {
  struct sigaction a, old;
  memset(&a, 0, sizeof(a));
  a.sa_handler = handler;
  a.sa_flags = SA_RESTART;
  if (sigaction(sig, &a, &old) < 0)
    return (void (*)(int)) - 1;
  return old.sa_handler;
}

int raise(int sig) {
  return kill2(getpid(), sig);
}
