import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAsmProgram, buildCProgram, runProgram, C_PROTOTYPES } from './kernelHelpers.js';
import { runToCompletion } from '../src/kernel/boot/session.js';

test('fork, exit and wait: the parent collects each child status', async () => {
  const run = await runProgram(buildCProgram(C_PROTOTYPES + `
int main(void) {
  int sum = 0;
  for (int i = 1; i <= 3; i++) {
    int pid = fork();
    if (pid < 0) return 90;
    if (pid == 0) exitstatus(i * 10);
  }
  for (int i = 0; i < 3; i++) {
    int status = -1;
    int pid = waitstatus(&status);
    if (pid <= 1) return 91;
    sum += status;
  }
  if (wait() != -1) return 92;  /* no children left */
  puts("sum "); putint(sum); puts("\\n");
  return 0;
}`));
  assert.equal(run.output, 'sum 60\n');
  assert.equal(run.status, 0);
});

test('pipe between parent and child; reading waits for the writer; EOF after close', async () => {
  const run = await runProgram(buildCProgram(C_PROTOTYPES + `
int main(void) {
  int fds[2];
  if (pipe(fds) != 0) return 80;
  int pid = fork();
  if (pid == 0) {
    close(fds[0]);
    for (int i = 0; i < 100; i++) write(fds[1], "0123456789", 10);
    exitstatus(0);
  }
  close(fds[1]);
  char buf[64]; int total = 0, n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) total += n;
  wait();
  puts("got "); putint(total); puts("\\n");
  return total == 1000 ? 0 : 81;
}`));
  assert.equal(run.output, 'got 1000\n');
  assert.equal(run.status, 0);
});

test('kill ends a sleeping child; wait reports status -1', async () => {
  const run = await runProgram(buildCProgram(C_PROTOTYPES + `
int main(void) {
  int pid = fork();
  if (pid == 0) { sleep(1000000); exitstatus(5); }
  sleep(2);
  if (kill(pid) != 0) return 70;
  int status = 0;
  if (waitstatus(&status) != pid) return 71;
  if (kill(12345) != -1) return 72;
  return status == -1 ? 0 : 73;
}`), ['prog'], { timerInterval: 2000 });
  assert.equal(run.status, 0, run.output);
});

test('sbrk grows and shrinks the heap; touching freed memory kills the process', async () => {
  const run = await runProgram(buildCProgram(C_PROTOTYPES + `
int main(void) {
  char *base = sbrk(0);
  char *p = sbrk(3 * 4096 + 100);
  if (p != base) return 60;
  for (int i = 0; i < 3 * 4096 + 100; i++) p[i] = (char)i;
  for (int i = 0; i < 3 * 4096 + 100; i++) if (p[i] != (char)i) return 61;
  if (sbrk(-(3 * 4096 + 100)) != base + 3 * 4096 + 100) return 62;
  if (sbrk(0) != base) return 63;
  if (sbrk(0x7fffffff) != (char*)-1) return 64;   /* would run into the stack */
  int pid = fork();
  if (pid == 0) { p[5000] = 1; exitstatus(0); }         /* unmapped now: a page fault */
  int status = 0;
  waitstatus(&status);
  return status == -1 ? 0 : 65;
}`));
  assert.equal(run.status, 0, run.output);
  assert.match(run.output, /pid 2 \(prog\): trap 14 err 6 on cpu 0 rip 0x40[0-9a-f]+ addr 0x[0-9a-f]+ -- kill proc/);
});

test('exec replaces the program and passes argv; argc in %rdi, argv in %rsi', async () => {
  const image = buildCProgram(C_PROTOTYPES + `
int main(int argc, char **argv) {
  if (argc == 3) { puts(argv[1]); puts(" "); puts(argv[2]); puts("\\n"); return 42; }
  if (argc != 1) return 50;
  char *args[] = { "prog", "hello", "world", 0 };
  exec("/prog", args);
  return 51;
}`);
  const run = await runProgram(image, ['prog'], { programs: new Map([['prog', image]]) });
  assert.equal(run.output, 'hello world\n');
  assert.equal(run.status, 42);
});

test('exec of a missing file or a bad argv pointer fails with -1 and the caller goes on', async () => {
  const run = await runProgram(buildCProgram(C_PROTOTYPES + `
int main(void) {
  char *args[] = { "x", 0 };
  if (exec("/nonexistent", args) != -1) return 1;
  if (exec("/small.txt", args) != -1) return 2;            /* not an ELF file */
  if (exec("/small.txt", (char**)0xffff800000000000) != -1) return 3;
  if (exec((char*)0x10, args) != -1) return 4;
  return 0;
}`));
  assert.equal(run.status, 0, run.output);
});

test('an unknown system call returns -1 and the process goes on', async () => {
  const run = await runProgram(buildAsmProgram(`
  .globl _start
_start:
  mov $999, %eax
  int $64
  mov %eax, %edi
  neg %edi
  call exitstatus
`));
  assert.equal(run.status, 1);
  assert.match(run.output, /unknown sys call 999/);
});

test('a user fault kills only that process: int $32 from user mode is a #GP (gate DPL 0)', async () => {
  const run = await runProgram(buildCProgram(C_PROTOTYPES + `
int main(void) {
  int pid = fork();
  if (pid == 0) { __asm__ volatile("int $32"); exitstatus(0); }
  int status = 0;
  waitstatus(&status);
  return status == -1 ? 3 : 4;
}`));
  assert.equal(run.status, 3);
  assert.match(run.output, /pid 2 \(prog\): trap 13 err 258 on cpu 0/);
});

test('two CPU-bound processes both make progress under timer preemption', async () => {
  const run = await runProgram(buildCProgram(C_PROTOTYPES + `
int main(void) {
  int pid = fork();
  if (pid == 0) { volatile long spins = 0; for (;;) spins++; }   /* never yields by itself */
  volatile long spins = 0;
  while (spins < 300000) spins++;
  kill(pid);
  int status = 0;
  if (waitstatus(&status) != pid) return 1;
  return status == -1 ? 0 : 2;
}`), ['prog'], { timerInterval: 20000 });
  assert.equal(run.status, 0, run.output);
  // The timer interrupted user code in both processes: each was preempted, each ran again.
  const preempted = (pid: number) =>
    run.events.filter((e) => e.step === 'trap' && e.args?.trapno === 32 && e.pid === pid).length;
  assert.ok(preempted(1) >= 2, `parent preempted ${preempted(1)} times`);
  assert.ok(preempted(2) >= 2, `child preempted ${preempted(2)} times`);
});

test('orphans are reparented to the first process, which reaps them', async () => {
  const run = await runProgram(buildCProgram(C_PROTOTYPES + `
int main(void) {
  int fds[2]; pipe(fds);
  int child = fork();
  if (child == 0) {
    int grandchild = fork();
    if (grandchild == 0) { char c; read(fds[0], &c, 1); exitstatus(9); }   /* waits until its parent is gone */
    exitstatus(grandchild);               /* tells the grandparent the grandchild's pid */
  }
  int status = 0;
  if (waitstatus(&status) != child) return 1;
  int grandchild = status;
  write(fds[1], "x", 1);            /* now let the orphan finish */
  if (waitstatus(&status) != grandchild) return 2;
  return status == 9 ? 0 : 3;
}`));
  assert.equal(run.status, 0, run.output);
});

test('while every process sleeps, the CPU halts in the idle loop instead of running instructions', async () => {
  const image = buildAsmProgram(`
  .globl _start
_start:
  mov $50, %edi
  call sleep
  mov $0, %edi
  call exitstatus
`);
  const { status, session } = await runToCompletion({
    program: { path: 'sleeper', image, argv: ['sleeper'] }, memoryBytes: 16 * 1024 * 1024, timerInterval: 10000,
    output: () => {},
  });
  assert.equal(status, 0);
  assert.ok(session.kernel.ticks >= 50, `${session.kernel.ticks} ticks passed`);
  // 50 ticks of 10000 instructions each went by, but the CPU executed only the
  // idle loop (sti; hlt; jmp) and the trap path once per tick.
  assert.ok(session.machine.cpu.instructionCount < 50 * 100, `${session.machine.cpu.instructionCount} instructions`);
});
