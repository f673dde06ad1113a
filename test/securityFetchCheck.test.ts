// Issue 6: the double-fetch detector (src/kernel/mem/fetchChecker.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FetchChecker, describeDoubleFetch, type DoubleFetch } from '../src/kernel/mem/fetchChecker.js';
import { fetchRecorder } from '../src/kernel/mem/copyin.js';
import { buildCProgram, runProgram, C_PROTOTYPES } from './kernelHelpers.js';

const a = {} as never; // two processes (address-space owners)
const b = {} as never;

test('a byte read twice in one system call is reported with the call and the address', () => {
  const seen: DoubleFetch[] = [];
  const c = new FetchChecker((d) => seen.push(d));
  c.begin('open', a);
  c.record(0x1000, 16, a);
  c.record(0x2000, 8, a);
  c.record(0x100c, 8, a); // overlaps the first fetch at 0x100c
  assert.deepEqual(seen, [{ syscall: 'open', addr: 0x100c }]);
  assert.equal(describeDoubleFetch(seen[0]), 'double fetch: sys_open read user address 0x100c twice');
});

test('each call starts afresh; calls of different processes do not mix, even across a sleep', () => {
  const seen: DoubleFetch[] = [];
  const c = new FetchChecker((d) => seen.push(d));
  c.begin('write', a);
  c.record(0x5000, 100, a); // a's write copies in, then sleeps
  c.begin('read', b);
  c.record(0x5000, 100, b); // b reads the same user address in its own memory: fine
  c.record(0x5010, 4, a); // a, resumed, re-reads its buffer: a double fetch in write
  assert.deepEqual(seen, [{ syscall: 'write', addr: 0x5010 }]);
  c.begin('write', a);
  c.record(0x5000, 100, a);
  assert.equal(seen.length, 1);
});

test('a read after the kernel wrote the same bytes (read-then-write probe) is not a double fetch', () => {
  const seen: DoubleFetch[] = [];
  const c = new FetchChecker((d) => seen.push(d));
  c.begin('rt_sigaction', a);
  c.record(0x3000, 32, a);
  c.recordWrite(0x3000, 32, a);
  c.record(0x3000, 32, a);
  assert.deepEqual(seen, []);
  c.recordWrite(0x3000, 8, a); // only the first 8 bytes rewritten
  c.record(0x3008, 4, a);
  assert.deepEqual(seen, [{ syscall: 'rt_sigaction', addr: 0x3008 }]);
});

test('lenient mode tolerates aliased arguments (one fetch inside another), strict does not', () => {
  const strict: DoubleFetch[] = [];
  const lenient = new FetchChecker(() => assert.fail('lenient reported'), true);
  const s = new FetchChecker((d) => strict.push(d));
  for (const c of [lenient, s]) {
    c.begin('exec', a);
    c.record(0x401000, 6, a); // "/prog\0"
    c.record(0x401001, 5, a); // argv[0] = "prog\0", the tail of the same literal
  }
  assert.equal(lenient.aliased, 1);
  assert.deepEqual(strict, [{ syscall: 'exec', addr: 0x401001 }]);
});

test('lenient mode still reports a re-read in a call with a single user input', () => {
  const seen: DoubleFetch[] = [];
  const lenient = new FetchChecker((d) => seen.push(d), true);
  lenient.begin('write', a);
  lenient.record(0x402000, 64, a); // the buffer, copied in
  lenient.record(0x402010, 8, a); // read again: a real double fetch, nothing can alias
  assert.deepEqual(seen, [{ syscall: 'write', addr: 0x402010 }]);
  assert.equal(lenient.aliased, 0);
});

test('--check-fetch is on in the test suite', () => {
  assert.ok(fetchRecorder() instanceof FetchChecker);
});

test('an exec whose argv[0] is the tail of its path literal passes the suite-wide check', async () => {
  const prog = buildCProgram(C_PROTOTYPES + `
int main(int argc, char **argv) {
  if (argc == 2) return 5;
  char *args[] = { "prog", "x", 0 };
  exec("/prog", args);
  return 1;
}`);
  const run = await runProgram(prog, ['prog'], { programs: new Map([['prog', prog]]), trace: () => {} });
  assert.equal(run.status, 5, run.output);
});
