// XK's ABI for system calls 1-23, checked with programs written and linked the
// way XK's own are (docs/xk-compat.md): `int wait(void)`, `void exit(void)`,
// `ld -N -Ttext 0 -e main` (one RWX segment at address 0, main is the entry).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildCProgram, buildXkLinkedProgram, runProgram, C_PROTOTYPES, XK_PROTOTYPES,
} from './kernelHelpers.js';
import { readElf } from '../src/toolchain/elf/reader.js';

test('an XK-linked program (ld -N -Ttext 0 -e main) loads at address 0 and runs; fork/wait/exit as XK declares them', async () => {
  const image = buildXkLinkedProgram(XK_PROTOTYPES + `
int counter = 1;
int main(int argc, char **argv) {
  puts("argc "); putint(argc); puts(" "); puts(argv[0]); puts("\\n");
  int pid = fork();
  if (pid == 0) { counter = 2; exit(); }
  int reaped = wait();
  puts(reaped == pid ? "reaped child\\n" : "wrong pid\\n");
  puts(counter == 1 ? "parent memory intact\\n" : "parent memory changed\\n");
  puts(wait() == -1 ? "no more children\\n" : "extra child\\n");
  exit();
}`);
  const elf = readElf(image, 'prog');
  const load = elf.segments.filter((h) => h.type === 1);
  assert.equal(load.length, 1, 'one PT_LOAD segment');
  assert.equal(Number(load[0].vaddr), 0, 'at address 0');
  assert.notEqual(Number(load[0].offset) % 4096, 0, 'its file offset is not page-aligned (ld -N)');
  const run = await runProgram(image, ['xkprog', 'a']);
  assert.equal(run.output, 'argc 2 xkprog\nreaped child\nparent memory intact\nno more children\n');
  assert.equal(run.status, 0);
});

test('wait (3) writes nothing through %rdi; exit (2) ignores %rdi: the status is 0', async () => {
  const image = buildXkLinkedProgram(XK_PROTOTYPES + `
volatile int marker = 0x11223344;
int main(void) {
  int pid = fork();
  if (pid == 0) {
    /* exit() with junk in %rdi, as any XK program leaves it */
    __asm__ volatile("mov $5, %edi; call exit");
  }
  int r;
  /* wait() with %rdi pointing at writable memory: XK's wait has no argument */
  __asm__ volatile("mov %1, %%rdi; call wait" : "=a"(r) : "r"(&marker) : "rdi", "rsi", "rdx", "rcx", "r8", "r9", "r10", "r11", "memory");
  puts(r == pid ? "reaped\\n" : "no\\n");
  puts(marker == 0x11223344 ? "marker intact\\n" : "marker overwritten\\n");
  __asm__ volatile("mov $9, %edi; call exit");
  return 0;
}`);
  const run = await runProgram(image);
  assert.equal(run.output, 'reaped\nmarker intact\n');
  assert.equal(run.status, 0, 'exit ignored %rdi = 9');
  const traced = run.events.filter((e) => e.step === 'sys' && /sys_wait\(/.test(e.text)).map((e) => e.text);
  assert.deepEqual(traced, ['sys_wait()'], 'the trace shows wait with no argument');
});

test('in an XK-linked program address 0 is its code: *NULL reads the first code byte (no fault)', async () => {
  const image = buildXkLinkedProgram(XK_PROTOTYPES + `
int main(void) {
  unsigned char *zero;
  __asm__("xor %0, %0" : "=r"(zero)); /* a null pointer the compiler cannot see */
  putint(zero[0]); puts("\\n");
  exit();
}`);
  const elf = readElf(image, 'prog');
  const seg = elf.segments.find((h) => h.type === 1)!;
  const run = await runProgram(image);
  assert.equal(run.output, `${image[Number(seg.offset)]}\n`);
});

test('main returning to the fake return address faults and the process is killed', async () => {
  const image = buildXkLinkedProgram(XK_PROTOTYPES + `
int main(void) { puts("returning\\n"); return 3; }`);
  const run = await runProgram(image);
  assert.match(run.output, /^returning\npid 1 \(prog\): trap 14 err \d+ .* addr 0xffffffffffffffff -- kill proc\n$/);
  assert.equal(run.status, -1);
});

test('read at end of file into a read-only buffer copies nothing and returns 0; with data left it is -1', async () => {
  const image = buildCProgram(C_PROTOTYPES + `
int main(void) {
  char buf[8];
  unsigned char *text = (unsigned char *)main; /* read-only program text */
  unsigned char before = text[0];
  int fd = open("/data", 0);
  if (fd < 0) return 1;
  if (read(fd, text, 3) != -1) return 2;      /* data left: the buffer must be writable */
  if (read(fd, buf, 8) != 3) return 3;
  if (read(fd, text, 3) != 0) return 4;       /* at the end: 0, nothing copied */
  if (read(fd, (char *)0x10, 3) != -1) return 5; /* an unmapped buffer is still refused */
  if (text[0] != before) return 6;
  return 0;
}`);
  const run = await runProgram(image, ['prog'], { programs: new Map([['data', new TextEncoder().encode('abc')]]) });
  assert.equal(run.status, 0, run.output);
});

test('a pipe read into a read-only buffer: -1 while data waits (the data stays), 0 once no writer is left', async () => {
  const image = buildCProgram(C_PROTOTYPES + `
int main(void) {
  char buf[8];
  unsigned char *text = (unsigned char *)main; /* read-only program text */
  unsigned char before = text[0];
  int fds[2];
  if (pipe(fds) != 0) return 1;
  int pid = fork();
  if (pid == 0) {                 /* the child writes later, so the parent's read waits first */
    sleep(2);
    write(fds[1], "xy", 2);
    exitstatus(0);
  }
  close(fds[1]);
  if (read(fds[0], text, 2) != -1) return 2;   /* waits for the child; data: refused */
  if (read(fds[0], buf, 8) != 2 || buf[0] != 'x' || buf[1] != 'y') return 3; /* nothing was taken */
  if (read(fds[0], text, 2) != 0) return 4;    /* the child exited: end of file, 0 */
  if (text[0] != before) return 5;
  return 0;
}`);
  const run = await runProgram(image);
  assert.equal(run.status, 0, run.output);
});

test('waitstatus (36) and exitstatus (37): xk\'s status-returning forms', async () => {
  const image = buildCProgram(C_PROTOTYPES + `
int main(void) {
  int pid = fork();
  if (pid == 0) exitstatus(42);
  int status = -1;
  if (waitstatus(&status) != pid || status != 42) return 1;
  if (waitstatus(0) != -1) return 2;
  if (fork() == 0) exitstatus(7);
  if (waitstatus(0) <= 0) return 3;            /* a null status pointer: reap, store nothing */
  if (fork() == 0) exitstatus(7);
  if (waitstatus((int *)main) != -1) return 4;  /* read-only: refused before reaping */
  if (waitstatus(&status) <= 0 || status != 7) return 5;
  return 0;
}`);
  const run = await runProgram(image);
  assert.equal(run.status, 0, run.output);
});
