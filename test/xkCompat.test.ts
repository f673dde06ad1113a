// docs/xk-compat.md, row by row: each of XK's system calls 1-23, called by a
// program built the way XK builds its user programs (XK's prototypes, linked with
// `ld -N -Ttext 0 -e main`), checked against XK's documented results. The program
// prints "row N ok" or "row N FAIL why"; the test reads the rows back, and checks
// that the table in the doc lists exactly the kernel's numbers and names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildXkLinkedProgram, runProgram, XK_PROTOTYPES } from './kernelHelpers.js';
import { SYSCALLS } from '../src/kernel/syscall/syscallTable.js';
import { REPO_ROOT } from './helpers/userBuild.js';

const ROWS = XK_PROTOTYPES + `
int kill(int); int exec(char*, char**); int chdir(const char*); int dup(int);
int sleep(int); int uptime(void); int mknod(const char*, short, short); int unlink(const char*);
int link(const char*, const char*); int mkdir(const char*);
struct stat { short type; int dev; unsigned int ino; unsigned int size; };
int fstat(int, struct stat*);
#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREATE 0x200
#define KERNEL ((void *)0xffff800000100000L)
static void row(int n, int ok, const char *why) {
  puts("row "); putint(n); puts(ok ? " ok\\n" : " FAIL "); if (!ok) { puts(why); puts("\\n"); }
}
int main(int argc, char **argv) {
  if (argc > 1) { puts("exec'd\\n"); exit(); }      /* row 7's new program */
  char buf[64];
  int fds[2];
  struct stat st;
  struct sys_info info;

  int pid = fork();                                  /* 1: child gets 0, parent the pid */
  if (pid == 0) exit();                              /* 2: exit never returns */
  row(1, pid > 1, "fork");
  row(3, wait() == pid && wait() == -1, "wait: the child's pid, then -1 without children");
  row(2, 1, "");

  row(4, pipe(fds) == 0 && fds[0] >= 0 && fds[1] > fds[0] && pipe(KERNEL) == -1, "pipe");
  write(fds[1], "abc", 3);
  row(5, read(fds[0], buf, 2) == 2 && buf[0] == 'a' && read(fds[0], buf, -1) == -1 && read(99, buf, 1) == -1
      && read(fds[0], KERNEL, 1) == -1, "read: count, -1 for a negative count, bad fd or kernel buffer");
  int victim = fork();
  if (victim == 0) { for (;;) sleep(1); }
  row(6, kill(victim) == 0 && wait() == victim && kill(9999) == -1, "kill");
  char *args[] = { "prog", "again", 0 };
  int e = fork();
  if (e == 0) { exec("/prog", args); exit(); }
  wait();
  row(7, exec("/no-such-program", args) == -1 && exec(KERNEL, args) == -1, "exec fails with -1");
  int fd = open("/small.txt", O_RDONLY);
  row(8, fstat(fd, &st) == 0 && st.type == 2 && st.size > 0 && fstat(99, &st) == -1 && fstat(fd, KERNEL) == -1, "fstat");
  row(20, mkdir("/d") == 0 && mkdir("/d") == -1, "mkdir");
  row(9, chdir("/d") == 0 && chdir("/no-such-dir") == -1 && chdir("/") == 0, "chdir");
  int d = dup(fd);
  row(10, d > fd && dup(99) == -1, "dup: the lowest free descriptor");
  row(11, getpid() == 1, "getpid of the first process");
  char *brk = sbrk(0);
  row(12, sbrk(4096) == brk && sbrk(-4096) == brk + 4096 && sbrk(0) == brk && sbrk(-(int)(long)brk - 4096) == (char *)-1, "sbrk returns the old break");
  int t0 = uptime();
  row(13, sleep(2) == 0, "sleep");
  row(14, uptime() >= t0 + 2, "uptime counts ticks");
  int w = open("/new", O_CREATE | O_RDWR);
  row(15, w >= 0 && open("/no-such-file", O_RDONLY) == -1 && open(KERNEL, O_RDONLY) == -1, "open");
  row(16, write(w, "hello", 5) == 5 && write(fd, "x", 1) == -1 && write(w, KERNEL, 1) == -1 && write(99, "x", 1) == -1, "write");
  row(17, mknod("/dev-node", 1, 1) == 0 && mknod("/dev-node", 1, 1) == -1, "mknod");
  row(19, link("/new", "/new2") == 0 && link("/no-such-file", "/x") == -1, "link");
  row(18, unlink("/new2") == 0 && unlink("/new2") == -1, "unlink");
  row(21, close(d) == 0 && close(d) == -1, "close");
  row(22, sysinfo(&info) == 0 && info.free_pages > 0 && info.pages_in_use > 0 && info.pages_in_swap == 0
      && sysinfo(KERNEL) == -1, "sysinfo");
  exit();
}`;

test('an XK-built program gets XK\'s documented result from each system call 1-22 (crashn: syscallMisc.test.ts)', async () => {
  const image = buildXkLinkedProgram(ROWS);
  const run = await runProgram(image, ['/prog'], { programs: new Map([['prog', image]]) });
  const rows = new Map([...run.output.matchAll(/^row (\d+) (ok|FAIL.*)$/gm)].map((m) => [Number(m[1]), m[2]]));
  for (let n = 1; n <= 22; n++) assert.equal(rows.get(n), 'ok', `row ${n}: ${rows.get(n) ?? 'missing'}\n${run.output}`);
  assert.match(run.output, /^exec'd$/m, 'row 7: exec ran the new program');
  assert.equal(run.status, 0);
});

test('docs/xk-compat.md lists every system call with the kernel\'s own number and name', () => {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'xk-compat.md'), 'utf8');
  // `int fork(void)` or `rt_sigaction`: the name is the identifier before the parenthesis, or all of it.
  const nameOf = (decl: string): string => /(\w+)\(/.exec(decl)?.[1] ?? decl;
  const rows = [...doc.matchAll(/^\| (\d+) \| `([^`]+)`/gm)].map((m) => [Number(m[1]), nameOf(m[2])] as const);
  assert.deepEqual(rows, SYSCALLS.map((s) => [s.num, s.name] as const));
});
