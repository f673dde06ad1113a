// Bugs the system-call fuzzer found, kept as reproducers after their fixes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCProgram, runProgram, C_PROTOTYPES } from './kernelHelpers.js';

test('fcntl(F_SETFL / F_SETOWN) on a regular file returns, not a host exception (signalAsyncIo.ts)', async () => {
  // Found by `xk fuzz --seed 2`: fcntl(3, 4, 511) -> "fileWaitChannel: this file never blocks".
  const run = await runProgram(buildCProgram(C_PROTOTYPES + `
int fcntl(int, int, int);
int main(void) {
  int fd = open("/small.txt", 0);
  fcntl(fd, 4, 0x2000);   /* F_SETFL O_ASYNC */
  fcntl(fd, 8, getpid()); /* F_SETOWN */
  return 0;
}`), ['prog'], { trace: () => {} });
  assert.equal(run.status, 0, run.output);
});

test('a new open gets fresh fcntl state, even in a reused file-table slot', async () => {
  const run = await runProgram(buildCProgram(C_PROTOTYPES + `
int fcntl(int, int, int);
int main(void) {
  int fds[2];
  if (pipe(fds) < 0) return 1;
  if (fcntl(fds[0], 4, 0x2000) != 0 || fcntl(fds[0], 8, getpid()) != 0) return 2;
  if (fcntl(fds[0], 3, 0) != 0x2000 || fcntl(fds[0], 9, 0) != getpid()) return 3;
  close(fds[0]);
  close(fds[1]);
  int fd = open("/small.txt", 0);           /* takes a freed slot of the open-file table */
  if (fcntl(fd, 3, 0) != 0) return 4;       /* F_GETFL: no O_ASYNC inherited */
  if (fcntl(fd, 9, 0) != 0) return 5;       /* F_GETOWN: no owner inherited */
  return 0;
}`), ['prog'], { trace: () => {} });
  assert.equal(run.status, 0, run.output);
});
