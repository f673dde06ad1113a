// sigfault: faults become signals. #PF -> SIGSEGV with si_addr = the faulting
// address (a handler maps the page with sbrk and the load runs again); #DE ->
// SIGFPE (the handler repairs the divisor); #UD -> SIGILL; int3 -> SIGTRAP;
// RFLAGS.TF set by popf -> a SIGTRAP (TRAP_TRACE) after each instruction;
// without a handler the process is killed as before.

#include "user.h"
#include "signal.h"
#include "../check.h"

static volatile unsigned long fault_addr;
static volatile int segv_code, segvs;
static char *heap_end;

static void on_segv(int sig, siginfo_t *si, void *uc) {
  segvs++;
  fault_addr = (unsigned long)si->si_addr;
  segv_code = si->si_code;
  // Repair: grow the heap over the faulting address; returning re-runs the load.
  unsigned long want = ((unsigned long)si->si_addr | 4095) + 1;
  if (sbrk((int)(want - (unsigned long)heap_end)) == (char *)-1)
    exitstatus(2);
  heap_end = (char *)want;
}

static volatile int fpes;
static void on_fpe(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  fpes++;
  CHECK((unsigned long)si->si_addr == uc->uc_mcontext.rip, "si_addr is the divide");
  uc->uc_mcontext.rcx = 2;  // repair the divisor; idiv runs again
}

static volatile int ills, traps;
static volatile unsigned long trap_rip, ill_addr;
static void on_ill(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  ills++;
  ill_addr = (unsigned long)si->si_addr;
  uc->uc_mcontext.rip += 2;  // skip ud2
}
static void on_trap(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  traps++;
  trap_rip = uc->uc_mcontext.rip;
}

static volatile int steps, step_code;
static volatile unsigned long step_rip[3];
static void on_step(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  step_code = si->si_code;
  if (steps < 3) step_rip[steps] = uc->uc_mcontext.rip;
  if (++steps == 3) uc->uc_mcontext.rflags &= ~0x100UL;  // clear TF: stepping ends
}

static void install(int sig, void (*h)(int, siginfo_t *, void *)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = h;
  sa.sa_flags = SA_SIGINFO;
  CHECK(sigaction(sig, &sa, 0) == 0, "sigaction");
}

extern char after_int3[], ud2_at[], step2[], step3[], step4[];

int main(void) {
  install(SIGSEGV, on_segv);
  heap_end = sbrk(0);
  char *p = heap_end + 3 * 4096 + 123;   // beyond the break: not mapped
  *p = 'x';                               // page fault -> handler maps it -> store runs again
  CHECK(segvs == 1, "one SIGSEGV");
  CHECK(fault_addr == (unsigned long)p, "si_addr is the faulting address (CR2)");
  CHECK(segv_code == 1, "SEGV_MAPERR");
  CHECK(*p == 'x', "the store completed after the repair");
  printf("sigfault: SIGSEGV at %p repaired\n", (void *)fault_addr);

  install(SIGFPE, on_fpe);
  int q;
  __asm__ volatile("movl $10, %%eax; cltd; movl $0, %%ecx; idivl %%ecx" : "=a"(q) : : "rcx", "rdx", "cc");
  CHECK(fpes == 1 && q == 5, "SIGFPE: divisor repaired, 10 / 2 = 5");

  install(SIGILL, on_ill);
  __asm__ volatile(".globl ud2_at\nud2_at: ud2");
  CHECK(ills == 1 && ill_addr == (unsigned long)ud2_at, "SIGILL at the ud2");

  install(SIGTRAP, on_trap);
  __asm__ volatile("int3\n.globl after_int3\nafter_int3:");
  CHECK(traps == 1 && trap_rip == (unsigned long)after_int3, "SIGTRAP, resuming after int3");

  // Single-step: the popf that sets TF does not trap; each nop after it does (sigreturn keeps TF).
  install(SIGTRAP, on_step);
  __asm__ volatile("pushfq; orq $0x100, (%%rsp); popfq\n nop\n.globl step2\nstep2: nop\n.globl step3\nstep3: nop\n.globl step4\nstep4:" ::: "memory", "cc");
  CHECK(steps == 3 && step_code == 2, "three single-step SIGTRAPs (TRAP_TRACE)");
  CHECK(step_rip[0] == (unsigned long)step2 && step_rip[1] == (unsigned long)step3 && step_rip[2] == (unsigned long)step4,
        "each after its instruction");

  // No handler: the fault kills the process as before.
  int pid = fork();
  if (pid == 0) {
    signal(SIGSEGV, SIG_DFL);
    *(volatile int *)0x10 = 1;
    exitstatus(0);
  }
  int status;
  CHECK(waitstatus(&status) == pid && status == -1, "an unhandled fault kills the process");
  // A fault inside its own handler (the signal is blocked) kills too.
  pid = fork();
  if (pid == 0) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = (void (*)(int))0x10;   // "handler" at an unmapped address
    sigaction(SIGSEGV, &sa, 0);
    *(volatile int *)0x10 = 1;
    exitstatus(0);
  }
  CHECK(waitstatus(&status) == pid && status == -1, "a fault in the handler kills the process");
  printf("sigfault: PASS\n");
  return 0;
}
