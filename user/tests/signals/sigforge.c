// sigforge: sigreturn is a security boundary. Frames with a kernel code segment,
// IOPL 3, IF clear, a non-canonical or kernel rip, or a pointer outside user
// memory are refused: the process is killed with SIGSEGV, and the kernel goes on
// running other processes. A legitimately edited frame is accepted.

#include "user.h"
#include "signal.h"
#include "../check.h"

static ucontext_t saved;
static volatile int captured;

static void capture(int sig, siginfo_t *si, void *ucv) {
  saved = *(ucontext_t *)ucv;
  captured = 1;
}

static void landed(void) {
  printf("sigforge: landed via an edited frame\n");
  exitstatus(7);
}

// Fork a child that calls sigreturn on `uc` (a copy of the captured frame, edited by `edit`).
static int forge(const char *what, void (*edit)(ucontext_t *), const void *ptr) {
  int pid = fork();
  if (pid == 0) {
    ucontext_t uc = saved;
    if (edit)
      edit(&uc);
    sigreturn(ptr ? (const ucontext_t *)ptr : &uc);
    printf("sigforge: sigreturn returned for %s\n", what);
    exitstatus(0);
  }
  int status;
  CHECK(waitstatus(&status) == pid, "wait");
  printf("sigforge: %s -> status %d\n", what, status);
  return status;
}

static void kernel_cs(ucontext_t *uc) { uc->uc_mcontext.cs = 0x08; }
static void kernel_ss(ucontext_t *uc) { uc->uc_mcontext.ss = 0x10; }
static void iopl3(ucontext_t *uc) { uc->uc_mcontext.rflags |= 0x3000; }
static void if_clear(ucontext_t *uc) { uc->uc_mcontext.rflags &= ~0x200UL; }
static void noncanonical(ucontext_t *uc) { uc->uc_mcontext.rip = 0x0000800000000000UL; }
static void kernel_rip(ucontext_t *uc) { uc->uc_mcontext.rip = 0xffff800000010000UL; }
static void bad_rsp(ucontext_t *uc) { uc->uc_mcontext.rsp = 0x8000000000000000UL; }
static void to_landed(ucontext_t *uc) {
  uc->uc_mcontext.rip = (unsigned long)landed;
  uc->uc_mcontext.rsp = (uc->uc_mcontext.rsp & ~15UL) - 8;
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = capture;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &sa, 0);
  raise(SIGUSR1);
  CHECK(captured, "captured a real frame");
  CHECK(saved.uc_mcontext.cs == 0x23 && saved.uc_mcontext.ss == 0x1b, "user selectors in the real frame");

  const int segv = SIGNAL_EXIT_STATUS(SIGSEGV);
  CHECK(forge("kernel cs", kernel_cs, 0) == segv, "kernel CS refused");
  CHECK(forge("kernel ss", kernel_ss, 0) == segv, "kernel SS refused");
  CHECK(forge("IOPL 3", iopl3, 0) == segv, "IOPL 3 refused");
  CHECK(forge("IF clear", if_clear, 0) == segv, "IF=0 refused");
  CHECK(forge("non-canonical rip", noncanonical, 0) == segv, "non-canonical rip refused");
  CHECK(forge("kernel rip", kernel_rip, 0) == segv, "kernel rip refused");
  CHECK(forge("non-canonical rsp", bad_rsp, 0) == segv, "bad rsp refused");
  CHECK(forge("kernel pointer", 0, (const void *)0xffff800000100000UL) == segv, "frame in kernel memory refused");
  CHECK(forge("unmapped pointer", 0, (const void *)0x10000000UL) == segv, "unmapped frame refused");
  CHECK(forge("null pointer", 0, (const void *)8) == segv, "frame at 8 refused");
  CHECK(forge("edited rip", to_landed, 0) == 7, "a valid edited frame is accepted");

  // The kernel is unharmed: another process runs normally.
  int pid = fork();
  if (pid == 0) {
    int s = 0;
    for (int i = 1; i <= 100; i++)
      s += i;
    exitstatus(s == 5050 ? 0 : 1);
  }
  int status;
  CHECK(waitstatus(&status) == pid && status == 0, "another process runs fine afterwards");
  printf("sigforge: PASS\n");
  return 0;
}
