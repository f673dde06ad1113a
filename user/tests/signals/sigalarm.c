// sigalarm: the alarm lab. A periodic SIGALRM handler runs many times; the
// interrupted code resumes at the interrupted instruction with every register
// intact; a slow handler is not re-entered; alarm() and the mask behave.

#include "user.h"
#include "signal.h"
#include "../check.h"

static volatile int hits;
static volatile unsigned long last_rip;
static volatile int in_handler, reentered, slow_runs;

static void tick(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  hits++;
  last_rip = uc->uc_mcontext.rip;
  // Clobber every caller-saved register the compiler lets us, to make restoration matter.
  __asm__ volatile("movq $-1, %%rax; movq $-1, %%rcx; movq $-1, %%rdx; movq $-1, %%rsi; movq $-1, %%rdi;"
                   "movq $-1, %%r8; movq $-1, %%r9; movq $-1, %%r10; movq $-1, %%r11"
                   ::: "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "cc");
}

// check_registers(n): loads a distinct 64-bit pattern into every general register
// (except rsp) and loops, comparing them all, until `hits` reaches n. Returns 0
// when every comparison held, 1 at the first difference.
extern int check_registers(int n);
extern char regloop_start[], regloop_end[];
__asm__(
    "  .text\n"
    "  .globl check_registers\n"
    "check_registers:\n"
    "  pushq %rbx; pushq %rbp; pushq %r12; pushq %r13; pushq %r14; pushq %r15\n"
    "  movl %edi, target(%rip)\n"
    "  movabsq $0x1111111111111111, %rax\n"
    "  movabsq $0x2222222222222222, %rbx\n"
    "  movabsq $0x3333333333333333, %rcx\n"
    "  movabsq $0x4444444444444444, %rdx\n"
    "  movabsq $0x5555555555555555, %rbp\n"
    "  movabsq $0x6666666666666666, %rsi\n"
    "  movabsq $0x7777777777777777, %rdi\n"
    "  movabsq $0x8888888888888888, %r8\n"
    "  movabsq $0x9999999999999999, %r9\n"
    "  movabsq $0xaaaaaaaaaaaaaaaa, %r10\n"
    "  movabsq $0xbbbbbbbbbbbbbbbb, %r11\n"
    "  movabsq $0xcccccccccccccccc, %r12\n"
    "  movabsq $0xdddddddddddddddd, %r13\n"
    "  movabsq $0xeeeeeeeeeeeeeeee, %r14\n"
    "  movabsq $0xfedcba9876543210, %r15\n"
    "  .globl regloop_start\n"
    "regloop_start:\n"
    "  cmpq pattern+0(%rip), %rax; jne 9f\n"
    "  cmpq pattern+8(%rip), %rbx; jne 9f\n"
    "  cmpq pattern+16(%rip), %rcx; jne 9f\n"
    "  cmpq pattern+24(%rip), %rdx; jne 9f\n"
    "  cmpq pattern+32(%rip), %rbp; jne 9f\n"
    "  cmpq pattern+40(%rip), %rsi; jne 9f\n"
    "  cmpq pattern+48(%rip), %rdi; jne 9f\n"
    "  cmpq pattern+56(%rip), %r8; jne 9f\n"
    "  cmpq pattern+64(%rip), %r9; jne 9f\n"
    "  cmpq pattern+72(%rip), %r10; jne 9f\n"
    "  cmpq pattern+80(%rip), %r11; jne 9f\n"
    "  cmpq pattern+88(%rip), %r12; jne 9f\n"
    "  cmpq pattern+96(%rip), %r13; jne 9f\n"
    "  cmpq pattern+104(%rip), %r14; jne 9f\n"
    "  cmpq pattern+112(%rip), %r15; jne 9f\n"
    "  movl hits(%rip), %r15d\n"           // hits < target? (r15 is reloaded below)
    "  cmpl target(%rip), %r15d\n"
    "  movabsq $0xfedcba9876543210, %r15\n"
    "  jl regloop_start\n"
    "  .globl regloop_end\n"
    "regloop_end:\n"
    "  xorl %eax, %eax\n"
    "  jmp 8f\n"
    "9:\n"
    "  movl $1, %eax\n"
    "8:\n"
    "  popq %r15; popq %r14; popq %r13; popq %r12; popq %rbp; popq %rbx\n"
    "  ret\n"
    "  .data\n"
    "  .align 8\n"
    "pattern:\n"
    "  .quad 0x1111111111111111, 0x2222222222222222, 0x3333333333333333, 0x4444444444444444\n"
    "  .quad 0x5555555555555555, 0x6666666666666666, 0x7777777777777777, 0x8888888888888888\n"
    "  .quad 0x9999999999999999, 0xaaaaaaaaaaaaaaaa, 0xbbbbbbbbbbbbbbbb, 0xcccccccccccccccc\n"
    "  .quad 0xdddddddddddddddd, 0xeeeeeeeeeeeeeeee, 0xfedcba9876543210\n"
    "target:\n"
    "  .long 0\n"
    "  .text\n");

static void slow(int sig) {
  if (in_handler)
    reentered = 1;
  in_handler = 1;
  for (volatile int i = 0; i < 40000; i++)  // several timer ticks long
    ;
  if (++slow_runs == 3)
    setitimer(ITIMER_REAL, 0, 0); // else the main program would never run again
  in_handler = 0;
}

static void test_registers(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = tick;
  sa.sa_flags = SA_SIGINFO;
  CHECK(sigaction(SIGALRM, &sa, 0) == 0, "sigaction");
  CHECK(setitimer(ITIMER_REAL, 1, 1) == 0, "setitimer every tick");
  CHECK(check_registers(12) == 0, "every register intact across deliveries");
  CHECK(setitimer(ITIMER_REAL, 0, 0) >= 0, "timer off");
  CHECK(hits >= 12, "handler ran at least 12 times");
  CHECK(last_rip >= (unsigned long)regloop_start && last_rip < (unsigned long)regloop_end + 16,
        "the frame's rip is inside the interrupted loop");
  printf("sigalarm: %d deliveries, registers intact\n", hits);
}

static void test_slow_handler(void) {
  CHECK(signal(SIGALRM, slow) != (void (*)(int)) - 1, "signal");
  CHECK(setitimer(ITIMER_REAL, 1, 1) == 0, "setitimer");
  while (slow_runs < 3)
    ;
  CHECK(!reentered, "a slow handler is not re-entered");
  printf("sigalarm: slow handler ran %d times, never re-entered\n", slow_runs);
}

static volatile int alarms;
static void on_alarm(int sig) { alarms++; }

static void test_alarm(void) {
  signal(SIGALRM, on_alarm);
  CHECK(alarm(100) == 0, "no alarm before");
  int left = alarm(3);
  CHECK(left > 90 && left <= 100, "alarm returns the ticks left");
  int start = uptime();
  while (alarms == 0)
    CHECK(uptime() - start < 50, "the alarm comes");
  CHECK(alarm(0) == 0, "a fired alarm has no ticks left");
  // ITIMER_VIRTUAL counts only user time: a sleeping process does not use it up.
  static volatile int vt;
  signal(SIGVTALRM, on_alarm);
  alarms = 0;
  CHECK(setitimer(ITIMER_VIRTUAL, 2, 0) == 0, "virtual timer");
  sleep(5);
  CHECK(alarms == 0, "no SIGVTALRM while sleeping");
  while (alarms == 0)
    vt++;
  CHECK(alarms == 1, "SIGVTALRM after user time");
}

int main(void) {
  test_registers();
  test_slow_handler();
  test_alarm();
  printf("sigalarm: PASS\n");
  return 0;
}
