import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCProgram, runProgram, C_PROTOTYPES } from './kernelHelpers.js';
import { unimplementedSyscalls } from '../src/kernel/syscall/syscall.js';
import { fetchRecorder, setFetchRecorder } from '../src/kernel/mem/copyin.js';
import { FetchChecker } from '../src/kernel/mem/fetchChecker.js';

test('every row of the system-call table has an implementation', () => {
  assert.deepEqual(unimplementedSyscalls(), []);
});

const BAD_POINTERS = C_PROTOTYPES + `
#define KERNEL ((char*)0xffff800000100000)
#define CHECK(n, e) if ((e) != -1) return n;
static const char rodata[8] = "ro";
#define ro ((char*)rodata)
int main(void) {
  char buf[16];
  int fd = open("/small.txt", 0);
  if (fd < 0) return 1;
  CHECK(2, read(fd, KERNEL, 10));                 /* kernel pointer as output buffer */
  CHECK(3, read(fd, (char*)0x10, 10));            /* unmapped */
  CHECK(4, read(fd, ro, 4));                      /* read-only page is not a valid output */
  CHECK(5, read(fd, buf, -1));                    /* negative length */
  CHECK(6, write(1, KERNEL, 10));                 /* kernel pointer as input buffer */
  CHECK(7, write(1, (char*)0x7ffffffc, 8));       /* straddles USER_LIMIT */
  CHECK(8, open(KERNEL, 0));
  CHECK(9, open((char*)0x10, 0));
  CHECK(10, fstat(fd, KERNEL));
  CHECK(11, fstat(fd, ro));
  CHECK(12, pipe((int*)KERNEL));
  CHECK(13, waitstatus((int*)KERNEL));
  CHECK(14, read(99, buf, 1));                     /* bad descriptors */
  CHECK(15, write(-1, buf, 1));
  CHECK(16, close(16));
  CHECK(17, unlink(KERNEL));
  CHECK(18, mkdir((char*)-1));
  /* an unterminated path: fill the last page of the heap with 'a' */
  char *heap = sbrk(4096);
  char *end = sbrk(0);
  for (char *p = heap; p < end; p++) *p = 'a';
  CHECK(19, open(end - 100, 0));
  /* the reads that failed left the file offset alone: we still read the start */
  if (read(fd, buf, 4) != 4 || buf[0] != 'a') return 20;
  puts("ok\\n");
  return 0;
}`;

test('bad user pointers give -1, never a kernel fault, and the process goes on', async () => {
  const run = await runProgram(buildCProgram(BAD_POINTERS));
  assert.equal(run.status, 0, run.output);
  assert.equal(run.output, 'ok\n');
});

test('--check-fetch: no system call reads the same user byte twice', async () => {
  const previous = fetchRecorder();
  const recorder = new FetchChecker(); // strict: every re-read counts, even aliased ones
  setFetchRecorder(recorder);
  try {
    const run = await runProgram(buildCProgram(C_PROTOTYPES + `
int main(void) {
  int fds[2]; pipe(fds);
  char *argv[] = { "x", 0 };
  for (int i = 0; i < 20; i++) write(fds[1], "hello world\\n", 12);
  char buf[300]; read(fds[0], buf, sizeof buf);
  int fd = open("/README", 0);
  read(fd, buf, sizeof buf);
  link("/README", "/R2"); unlink("/R2"); mkdir("/d"); chdir("/d"); chdir("/");
  exec("/nonexistent", argv);
  return 0;
}`));
    assert.equal(run.status, 0);
  } finally {
    setFetchRecorder(previous);
  }
  assert.deepEqual(recorder.doubleFetches, []);
});
