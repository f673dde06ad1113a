// Unix signals on xk: the user side (kernel: src/kernel/signal*.ts; docs/signals.md).
// A signal is an interrupt for a user program: the kernel saves the interrupted
// registers in a frame on the user stack, runs the handler, and the handler's
// return goes through a trampoline to sigreturn(), the handler's iretq.
#ifndef XK_SIGNAL_H
#define XK_SIGNAL_H

#include "types.h"

#define SIGHUP 1
#define SIGINT 2
#define SIGQUIT 3
#define SIGILL 4
#define SIGTRAP 5
#define SIGABRT 6
#define SIGBUS 7
#define SIGFPE 8
#define SIGKILL 9
#define SIGUSR1 10
#define SIGSEGV 11
#define SIGUSR2 12
#define SIGPIPE 13
#define SIGALRM 14
#define SIGTERM 15
#define SIGCHLD 17
#define SIGCONT 18
#define SIGSTOP 19
#define SIGTSTP 20
#define SIGURG 23
#define SIGVTALRM 26
#define SIGWINCH 28
#define SIGIO 29
#define NSIG 32

// Blocking calls a signal interrupts return -EINTR (other errors are -1, as in XK).
#define EINTR 4

// A process a signal terminated exits with status 128 + the signal
// (SIGKILL, and a fault without a handler, give -1 as XK's kill does).
#define SIGNAL_EXIT_STATUS(sig) (128 + (sig))

typedef unsigned long sigset_t; // bit (sig - 1)

#define SIG_DFL ((void (*)(int))0)
#define SIG_IGN ((void (*)(int))1)

// sa_flags (Linux's values)
#define SA_SIGINFO 0x4
#define SA_RESTORER 0x04000000
#define SA_ONSTACK 0x08000000
#define SA_RESTART 0x10000000
#define SA_NODEFER 0x40000000
#define SA_RESETHAND 0x80000000UL

// sigprocmask how
#define SIG_BLOCK 0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2

// sigaltstack
#define SS_ONSTACK 1
#define SS_DISABLE 2
#define MINSIGSTKSZ 1024
#define SIGSTKSZ 8192

// setitimer: times are in timer ticks (uptime() units)
#define ITIMER_REAL 0    // every tick; raises SIGALRM
#define ITIMER_VIRTUAL 1 // ticks spent running in user mode; raises SIGVTALRM

// fcntl: asynchronous I/O by SIGIO
#define F_GETFL 3
#define F_SETFL 4
#define F_SETOWN 8
#define F_GETOWN 9
#define O_ASYNC 0x2000

typedef struct {
  int si_signo;
  int si_errno;
  int si_code;  // SEGV_MAPERR 1 / SEGV_ACCERR 2, FPE_INTDIV 1, ILL_ILLOPN 2, TRAP_BRKPT 1, TRAP_TRACE 2 (RFLAGS.TF), TRAP_HWBKPT 4 (DR0-DR3), SI_USER 0
  int si_pid;   // sender of kill2()
  void *si_addr; // SIGSEGV: the faulting address (CR2); SIGFPE/SIGILL/SIGTRAP: the instruction
} siginfo_t;

typedef struct {
  void *ss_sp;
  int ss_flags;
  unsigned long ss_size;
} stack_t;

// The interrupted registers: the kernel's struct trap_frame, in its order.
struct sigcontext {
  unsigned long rax, rbx, rcx, rdx, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15;
  unsigned long trapno, err, rip, cs, rflags, rsp, ss;
};

typedef struct ucontext {
  unsigned long uc_flags;
  struct ucontext *uc_link;
  stack_t uc_stack;
  sigset_t uc_sigmask;  // the mask sigreturn restores
  struct sigcontext uc_mcontext;
} ucontext_t;

struct sigaction {
  union {
    void (*sa_handler)(int);
    void (*sa_sigaction)(int, siginfo_t *, void *);
  };
  unsigned long sa_flags;
  void (*sa_restorer)(void); // filled in by sigaction(): the trampoline that calls sigreturn
  sigset_t sa_mask;
};

_Static_assert(sizeof(siginfo_t) == 24, "siginfo_t");
_Static_assert(sizeof(stack_t) == 24, "stack_t");
_Static_assert(sizeof(ucontext_t) == 224, "ucontext_t");
_Static_assert(sizeof(struct sigaction) == 32, "struct sigaction");

// ---- system calls (usys.S)
int rt_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
int sigprocmask(int how, const sigset_t *set, sigset_t *old);
int sigpending(sigset_t *set);
int sigsuspend(const sigset_t *mask);
int sigaltstack(const stack_t *ss, stack_t *old);
int sigreturn(const ucontext_t *uc); // only the trampoline calls it; never returns
int kill2(int pid, int sig);          // kill(pid) is kill2(pid, SIGKILL)
int alarm(int ticks);                 // SIGALRM after ticks; returns ticks left of the old alarm
int setitimer(int which, int ticks, int interval);
int pause(void);
int fcntl(int fd, int cmd, int arg);

// ---- signal.c
int sigaction(int sig, const struct sigaction *act, struct sigaction *old); // sets sa_restorer
void (*signal(int sig, void (*handler)(int)))(int);
int raise(int sig);
void __sigreturn_trampoline(void);
static inline int sigemptyset(sigset_t *s) { *s = 0; return 0; }
static inline int sigfillset(sigset_t *s) { *s = ~0UL; return 0; }
static inline int sigaddset(sigset_t *s, int sig) { *s |= 1UL << (sig - 1); return 0; }
static inline int sigdelset(sigset_t *s, int sig) { *s &= ~(1UL << (sig - 1)); return 0; }
static inline int sigismember(const sigset_t *s, int sig) { return (*s >> (sig - 1)) & 1; }

#endif
