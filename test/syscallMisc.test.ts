import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCProgram, runProgram, C_PROTOTYPES } from './kernelHelpers.js';

test('getpid, uptime/sleep, dup, fstat and sysinfo', async () => {
  const run = await runProgram(buildCProgram(C_PROTOTYPES + `
struct stat { short type; int dev; unsigned ino; unsigned size; };
struct sys_info { int pages_in_use, pages_in_swap, free_pages, num_page_faults, num_disk_reads; };
int sysinfo(struct sys_info *);
int main(void) {
  if (getpid() != 1) return 1;
  int t0 = uptime();
  if (sleep(3) != 0) return 2;
  if (uptime() - t0 < 3) return 3;
  int fd = open("/small.txt", 0);
  int fd2 = dup(fd);
  if (fd2 != fd + 1) return 4;
  struct stat st;
  if (fstat(fd2, &st) != 0 || st.type != 2 || st.size != 33) return 5;
  if (fstat(0, &st) != 0 || st.type != 3) return 6;          /* the console is a device */
  char c, line[11];
  if (read(fd, line, 11) != 11) return 7;                     /* "aaaaaaaaaa\n" */
  if (read(fd2, &c, 1) != 1 || c != 'b') return 7;           /* dup shares the offset: fd2 goes on after fd's 11 bytes */
  struct sys_info info;
  if (sysinfo(&info) != 0) return 8;
  if (info.pages_in_use <= 0 || info.free_pages <= 0 || info.pages_in_swap != 0 || info.num_disk_reads < 0) return 9;
  char *p = sbrk(8 * 4096);
  for (int i = 0; i < 8 * 4096; i += 4096) p[i] = 1;
  struct sys_info after;
  sysinfo(&after);
  if (after.free_pages > info.free_pages - 8) return 10;
  return 0;
}`), ['prog'], { timerInterval: 5000 });
  assert.equal(run.status, 0, run.output);
});

test('crashn(0): the disk loses power at the next block write and the machine stops', async () => {
  const run = await runProgram(buildCProgram(C_PROTOTYPES + `
int crashn(int);
int main(void) {
  if (crashn(0) != 0) return 1;
  int fd = open("/new", 0x200 | 1);
  write(fd, "data", 4);
  return 2;
}`));
  assert.equal(run.status, null);
  assert.match(run.message, /the disk crashed/);
});

// docs/DESIGN.md's limits: NOFILE 16 descriptors per process, NPROC 64 processes, MAXARG 32 arguments.
test('limits: NOFILE 16, NPROC 64, MAXARG 32', async () => {
  const image = buildCProgram(C_PROTOTYPES + `
int main(int argc, char **argv) {
  if (argc > 1) return argc;                                 /* the exec'ed copy */
  int last = -1, fd;
  while ((fd = open("/small.txt", 0)) >= 0) last = fd;       /* 0..2 are the console */
  if (last != 15) return 1;
  for (int i = 3; i <= 15; i++) close(i);
  int p[2];
  pipe(p);
  int n = 0;
  for (;;) {
    int pid = fork();
    if (pid < 0) break;
    if (pid == 0) { char c; close(p[1]); read(p[0], &c, 1); exit(); }
    if (++n > 100) break;
  }
  close(p[1]);
  close(p[0]);
  while (wait() > 0) ;
  if (n != 63) return 2;                                     /* 63 children + this process */
  char *args[34];
  for (int i = 0; i < 33; i++) args[i] = "x";
  args[33] = 0;
  if (exec("prog", args) != -1) return 3;                    /* 33 arguments: one too many */
  args[32] = 0;
  exec("prog", args);                                        /* 32: runs, exits with argc */
  return 4;
}`);
  // The program is also the file /prog, so that it can exec itself.
  const run = await runProgram(image, ['prog'], { timerInterval: 5000, programs: new Map([['prog', image]]) });
  assert.equal(run.status, 32, run.output + run.message);
});
