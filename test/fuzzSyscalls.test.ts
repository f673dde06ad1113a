// Issue 6: the system-call fuzzer. A bounded CI run (200,000 calls by default; set
// XK_FUZZ_CALLS to change it) must find zero violations; the fuzzer is
// deterministic for a seed; and every row of the system-call table is declared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzz } from '../src/kernel/fuzz/fuzzer.js';
import { FUZZ_DECLARATIONS } from '../src/kernel/fuzz/fuzzDeclarations.js';
import { SYSCALLS } from '../src/kernel/syscall/syscallTable.js';

const CI_CALLS = Number(process.env.XK_FUZZ_CALLS ?? 200_000);

test('every system call in the table has a fuzzer declaration, and only those', () => {
  assert.deepEqual(Object.keys(FUZZ_DECLARATIONS).sort(), SYSCALLS.map((s) => s.name).sort());
  for (const [name, d] of Object.entries(FUZZ_DECLARATIONS)) {
    if (d.weight === 0) assert.ok(d.excluded, `${name} has weight 0 but no reason`);
  }
});

test('the same seed makes the same calls with the same outcomes', async () => {
  const a = await fuzz({ seed: 11, calls: 3000 });
  const b = await fuzz({ seed: 11, calls: 3000 });
  assert.equal(a.calls, b.calls);
  assert.equal(a.outcomes, b.outcomes);
  assert.deepEqual([...a.perSyscall], [...b.perSyscall]);
});

test(`CI fuzz run: ${CI_CALLS} random system calls, zero violations`, async (t) => {
  const report = await fuzz({ seed: 2024, calls: CI_CALLS, maxViolations: 10 });
  t.diagnostic(`${report.calls} calls in ${report.seconds.toFixed(1)} s: ${report.callsPerSecond} calls/s, ` +
    `${report.outcomes} distinct outcomes, ${report.lives} fuzzing processes, ${report.rescues} rescued`);
  const shown = report.violations.map((v) => `${v.kind}: ${v.message} (seed ${v.seed}, during ${v.call})`);
  assert.deepEqual(shown, []);
  assert.ok(report.calls >= CI_CALLS);
  // Every callable system call was made, through many distinct outcomes.
  for (const s of SYSCALLS) if (FUZZ_DECLARATIONS[s.name].weight > 0) assert.ok(report.perSyscall.get(s.name), s.name);
  assert.ok(report.outcomes > 300, `only ${report.outcomes} outcomes`);
});
