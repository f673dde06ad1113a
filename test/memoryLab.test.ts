// XK's memory lab on xk: sbrk that shrinks, a user stack that grows on demand
// (10 pages at most, a guard gap below), copy-on-write fork, and the kernel's
// copies seeing memory as the program does. The programs print what they see
// through sysinfo() and their own memory; the tests check it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCProgram, runProgram, C_PROTOTYPES, type ProgramRun } from './kernelHelpers.js';
import type { SessionOptions } from '../src/kernel/boot/session.js';
import {
  PAGE_SIZE, USER_HEAP_LIMIT, USER_STACK_BOTTOM, USER_STACK_GUARD_BYTES, USER_STACK_MAX_PAGES, USER_STACK_TOP,
} from '../src/kernel/mem/kernelLayout.js';
import { renderText } from '../src/trace/textRenderer.js';

const PROTOS = C_PROTOTYPES + `
struct sys_info { int pages_in_use, pages_in_swap, free_pages, num_page_faults, num_disk_reads; };
int sysinfo(struct sys_info*);
static int free_pages(void) { struct sys_info i; sysinfo(&i); return i.free_pages; }
static int faults(void) { struct sys_info i; sysinfo(&i); return i.num_page_faults; }
static void say(const char *what, long v) { puts(what); puts(" "); putint(v); puts("\\n"); }
`;

/** name -> number, from the program's "name value" lines. */
function values(run: ProgramRun): Map<string, number> {
  return new Map([...run.output.matchAll(/^(\w[\w-]*) (-?\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
}

async function run(source: string, extra: Partial<SessionOptions> = {}): Promise<ProgramRun> {
  return runProgram(buildCProgram(PROTOS + source), ['prog'], extra);
}

// ---------------------------------------------------------------- 1. sbrk(n < 0)

test('sbrk(n<0) returns the old break and gives the pages back (sysinfo free_pages goes up); below the heap start it fails and changes nothing', async () => {
  const r = await run(`
int main(void) {
  char *start = sbrk(0);
  int before = free_pages();
  char *a = sbrk(64 * 4096);
  for (int i = 0; i < 64; i++) a[i * 4096] = 1;
  int grown = free_pages();
  char *old = sbrk(-64 * 4096);
  int shrunk = free_pages();
  say("old-is-end", old == start + 64 * 4096);
  say("used", before - grown);
  say("returned", shrunk - grown);
  say("below-start", (long)sbrk(-4096 - (int)(long)start));
  say("break-unchanged", sbrk(0) == start);
  char *b = sbrk(4096); b[0] = 'x';
  say("too-far", (long)sbrk(-8192));
  say("still-there", b[0] == 'x' && sbrk(0) == start + 4096);
  int pid = fork();
  if (pid == 0) { sbrk(-4096); b[0] = 'y'; exitstatus(0); }  /* touches a released page: killed */
  int status = 0; waitstatus(&status);
  say("child-status", status);
  return 0;
}`);
  const v = values(r);
  assert.equal(v.get('old-is-end'), 1);
  assert.ok(v.get('used')! >= 64, r.output);
  assert.equal(v.get('returned'), 64, 'every heap page came back to the allocator');
  assert.equal(v.get('below-start'), -1);
  assert.equal(v.get('break-unchanged'), 1);
  assert.equal(v.get('too-far'), -1);
  assert.equal(v.get('still-there'), 1);
  assert.equal(v.get('child-status'), -1, 'a page above the new break is gone');
  assert.match(r.output, /pid 2 \(prog\): trap 14 err 6 .* -- kill proc/);
});

// ---------------------------------------------------------------- 2. the growing stack

test('layout: the stack region is 10 pages under the top of user space, a guard gap below it, the heap below that', () => {
  assert.equal(USER_STACK_MAX_PAGES, 10, "XK's limit");
  assert.equal(USER_STACK_TOP - USER_STACK_BOTTOM, 10 * PAGE_SIZE);
  assert.ok(USER_STACK_GUARD_BYTES >= PAGE_SIZE);
  assert.equal(USER_HEAP_LIMIT, USER_STACK_BOTTOM - USER_STACK_GUARD_BYTES, 'heap and stack can never meet');
});

const STACK_PROGRAM = `
static int depth(int n) { volatile char frame[1000]; frame[0] = (char)n; return n == 0 ? frame[0] : depth(n - 1) + frame[0] - n + 1; }
int main(int argc, char **argv) {
  int f0 = faults(), p0 = free_pages();
  int kb = atoi_(argv[1]);
  int r = depth(kb);
  say("depth", r);
  say("faults", faults() - f0);
  say("pages", p0 - free_pages());
  return 0;
}`;
const ATOI = 'static int atoi_(const char *s) { int n = 0; while (*s >= \'0\' && *s <= \'9\') n = n * 10 + (*s++ - \'0\'); return n; }\n';

test('the stack starts as one page and grows on demand by page faults, up to 10 pages', async () => {
  const r = await runProgram(buildCProgram(PROTOS + ATOI + STACK_PROGRAM), ['prog', '30']); // ~30 KB of frames
  const v = values(r);
  assert.equal(r.status, 0, r.output);
  assert.equal(v.get('depth'), 30);
  assert.ok(v.get('faults')! >= 6, `the stack grew by faults (${v.get('faults')})`);
  assert.ok(v.get('pages')! >= 6 && v.get('pages')! <= 9, `pages mapped for the stack (${v.get('pages')})`);
});

test('a stack beyond 10 pages faults in the guard gap and the process is killed', async () => {
  const r = await runProgram(buildCProgram(PROTOS + ATOI + STACK_PROGRAM), ['prog', '60']); // ~60 KB
  assert.equal(r.status, -1);
  const m = /pid 1 \(prog\): trap 14 err \d+ on cpu 0 rip 0x[0-9a-f]+ addr (0x[0-9a-f]+) -- kill proc/.exec(r.output);
  assert.ok(m, r.output);
  const addr = Number(m[1]);
  assert.ok(addr < USER_STACK_BOTTOM && addr >= USER_HEAP_LIMIT, `fault at ${m[1]} is in the guard gap`);
});

test('a touch in the guard gap is not stack growth: killed, nothing mapped', async () => {
  const r = await run(`
int main(void) {
  volatile char *gap = (char *)(0x80000000L - 10 * 4096 - 16);
  *gap = 1;
  return 0;
}`);
  assert.equal(r.status, -1);
  assert.match(r.output, /trap 14 err 6 .* addr 0x7fff5ff0 -- kill proc/);
});

test('xk trace --all shows a stack-growth fault and a copy-on-write fault', async () => {
  const r = await run(`
char heap_page[4096] __attribute__((aligned(4096)));
int main(void) {
  heap_page[0] = 1;
  volatile char big[3 * 4096]; big[0] = 1;          /* below the first stack page */
  int pid = fork();
  if (pid == 0) { sleep(2); exitstatus(heap_page[0]); }
  heap_page[0] = 2;                                   /* shared with the child: copied */
  int status; waitstatus(&status);
  return status == 1 ? 0 : 1;
}`);
  assert.equal(r.status, 0, r.output);
  const text = renderText(r.events, { all: true });
  assert.match(text, /#PF err=6 at 0x7fff[0-9a-f]+ -> stack: grew by \d+ pages? to 0x7fff[0-9a-f]+ \(\d+ of 10 pages\)/);
  assert.match(text, /#PF err=7 at 0x[0-9a-f]+ -> cow: page shared by 2, copied to 0x[0-9a-f]+/);
});

// ---------------------------------------------------------------- 3. copy-on-write fork

const SAVING = `
int main(void) {
  char *heap = sbrk(256 * 4096);                /* 1 MiB, every page touched */
  for (int i = 0; i < 256; i++) heap[i * 4096] = (char)i;
  int fds[2]; pipe(fds);
  int before = free_pages();
  int pid = fork();
  if (pid == 0) {
    int after_fork = free_pages();
    for (int i = 0; i < 256; i++) heap[i * 4096] = (char)(i + 1);   /* first writes: copies */
    int after_writes = free_pages();
    int msg[2] = { before - after_fork, after_fork - after_writes };
    write(fds[1], msg, sizeof msg);
    exitstatus(0);
  }
  int msg[2]; read(fds[0], msg, sizeof msg);
  int bad = 0;
  for (int i = 0; i < 256; i++) if (heap[i * 4096] != (char)i) bad++;
  waitstatus(0);
  say("fork-cost", msg[0]);
  say("write-cost", msg[1]);
  say("parent-intact", bad == 0);
  say("leaked", before - free_pages());
  return 0;
}`;

test('copy-on-write fork: sysinfo shows a child with a 1 MiB heap costs only page tables until it writes; no page leaks', async () => {
  const v = values(await run(SAVING));
  assert.ok(v.get('fork-cost')! < 16, `fork took ${v.get('fork-cost')} pages (kernel stack + page tables)`);
  assert.ok(v.get('write-cost')! >= 256, `the child's first writes copied ${v.get('write-cost')} pages`);
  assert.equal(v.get('parent-intact'), 1, "the child's writes are not visible in the parent");
  assert.equal(v.get('leaked'), 0, 'after the child is reaped every page is back');
});

test('the eager fork (k.forkCopies = eager, kept for the bench) pays for every page at fork time', async () => {
  const image = buildCProgram(PROTOS + SAVING);
  const { startSession } = await import('../src/kernel/boot/session.js');
  let output = '';
  const session = await startSession({ program: { path: 'prog', image, argv: ['prog'] }, memoryBytes: 16 << 20, output: (b) => { output += Buffer.from(b).toString('latin1'); } });
  try {
    session.kernel.forkCopies = 'eager';
    while (!session.run(1_000_000));
  } finally {
    session.close();
  }
  const v = new Map([...output.matchAll(/^(\w[\w-]*) (-?\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
  assert.ok(v.get('fork-cost')! >= 256, output);
  assert.ok(v.get('write-cost')! < 8, output);
  assert.equal(v.get('leaked'), 0);
});

test("a parent's write after fork is never visible in the child; text stays read-only in both", async () => {
  const r = await run(`
int shared_value = 7;
int main(void) {
  int fds[2]; pipe(fds);
  int pid = fork();
  if (pid == 0) {
    char c; read(fds[0], &c, 1);                 /* wait until the parent has written */
    if (shared_value != 7) exitstatus(1);
    *(volatile char *)main = 0;                  /* text is read-only: never made writable */
    exitstatus(2);
  }
  shared_value = 99;
  write(fds[1], "x", 1);
  int status = 0; waitstatus(&status);
  say("child-status", status);
  say("parent-value", shared_value);
  say("text-intact", *(unsigned char *)main != 0);
  return 0;
}`);
  const v = values(r);
  assert.equal(v.get('child-status'), -1, 'the child saw 7, then died writing its text');
  assert.match(r.output, /pid 2 \(prog\): trap 14 err 7 .* -- kill proc/);
  assert.equal(v.get('parent-value'), 99);
  assert.equal(v.get('text-intact'), 1);
});

test('exec and exit drop their references: fork + exec + exit leaves free_pages where it was', async () => {
  const image = buildCProgram(PROTOS + `
int main(int argc, char **argv) {
  if (argc > 1) { char *h = sbrk(8 * 4096); h[0] = 1; return 0; }  /* the exec'd copy */
  char *heap = sbrk(32 * 4096);
  for (int i = 0; i < 32; i++) heap[i * 4096] = 1;
  int before = free_pages();
  for (int round = 0; round < 3; round++) {
    int pid = fork();
    if (pid == 0) {
      heap[0] = 2;                                /* one copy, then exec drops it all */
      char *args[] = { "prog", "again", 0 };
      exec("prog", args);
      exitstatus(9);
    }
    int status = -1; waitstatus(&status);
    if (status != 0) return 10 + status;
    heap[4096 * round] = 3;                       /* the last holder: made writable, no copy */
  }
  say("leaked", before - free_pages());
  return 0;
}`);
  const r = await runProgram(image, ['prog'], { programs: new Map([['prog', image]]) });
  assert.equal(r.status, 0, r.output);
  assert.equal(values(r).get('leaked'), 0);
});

// ---------------------------------------------------------------- 5. the kernel's copies and sharing

test('copyout into a copy-on-write page copies it first: a read() in the parent is not visible in the child', async () => {
  const r = await run(`
char buf[64] = "original";
int main(void) {
  int fds[2], sync[2]; pipe(fds); pipe(sync);
  int pid = fork();
  if (pid == 0) {
    char c; read(sync[0], &c, 1);
    exitstatus(buf[0] == 'o' && buf[1] == 'r' ? 0 : 1);
  }
  write(fds[1], "KERNEL", 6);
  int n = read(fds[0], buf, 6);                 /* the kernel's copyout lands in a shared page */
  write(sync[1], "x", 1);
  int status = -1; waitstatus(&status);
  say("read", n);
  say("parent-sees", buf[0] == 'K');
  say("child-status", status);
  return 0;
}`);
  const v = values(r);
  assert.equal(v.get('read'), 6);
  assert.equal(v.get('parent-sees'), 1);
  assert.equal(v.get('child-status'), 0, "the child still sees its own 'original'");
});

test("a child's system call writing into shared memory (waitstatus, pipe, sysinfo) never reaches the parent", async () => {
  const r = await run(`
int status_slot = 1234;
int fds_slot[2] = { 77, 78 };
struct sys_info info_slot = { 5, 5, 5, 5, 5 };
int main(void) {
  int sync[2]; pipe(sync);
  int pid = fork();
  if (pid == 0) {
    if (fork() == 0) exitstatus(42);
    waitstatus(&status_slot);                    /* copyout of 4 bytes */
    pipe(fds_slot);                              /* copyout of 8 bytes */
    sysinfo(&info_slot);                         /* copyout of 20 bytes */
    write(sync[1], "x", 1);
    exitstatus(status_slot == 42 && fds_slot[0] != 77 ? 0 : 1);
  }
  char c; read(sync[0], &c, 1);
  int status = -1; waitstatus(&status);
  say("child-status", status);
  say("parent-intact", status_slot == 1234 && fds_slot[0] == 77 && fds_slot[1] == 78 && info_slot.free_pages == 5);
  return 0;
}`);
  const v = values(r);
  assert.equal(v.get('child-status'), 0, r.output);
  assert.equal(v.get('parent-intact'), 1);
});
