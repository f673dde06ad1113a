// Bugs the system-call fuzzer found in code outside its owner's files, kept as
// reproducers. A `todo` test runs and reports but does not fail the suite; when the
// owner fixes the bug it passes, and the todo flag (and the fuzzer's exclusion in
// fuzzDeclarations.ts) should go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCProgram, runProgram, C_PROTOTYPES } from './kernelHelpers.js';

test('fcntl(F_SETFL / F_SETOWN) on a regular file returns, not a host exception (signalAsyncIo.ts)', { todo: true }, async () => {
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
