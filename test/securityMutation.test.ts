// Issue 6, the mutation check: turn one check of the user-memory door (copyin.ts)
// off through its test-only switch, and show that the bad-pointer class tests and
// the fuzzer both notice. Each case restores the door before it ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyinMutation } from '../src/kernel/mem/copyin.js';
import { fuzz, minimize } from '../src/kernel/fuzz/fuzzer.js';
import { runClasses, wrongClasses } from './securityClassProgram.js';

type Mutation = Partial<typeof copyinMutation>;

async function withMutation<T>(m: Mutation, body: () => Promise<T>): Promise<T> {
  Object.assign(copyinMutation, m);
  try {
    return await body();
  } finally {
    Object.assign(copyinMutation, { skipUserLimit: false, skipUserBit: false, skipWriteBit: false });
  }
}

const CAUGHT: Array<[string, Mutation, RegExp]> = [
  ['no USER_LIMIT range check', { skipUserLimit: true }, /noncanonical-alias/],
  ['no R/W check on output', { skipWriteBit: true }, /rodata/],
  ['no range check and no U/S check', { skipUserLimit: true, skipUserBit: true }, /noncanonical-alias/],
];

for (const [name, mutation, classPattern] of CAUGHT) {
  test(`mutation "${name}": the class tests and the fuzzer catch it`, async () => {
    await withMutation(mutation, async () => {
      const classes = await runClasses();
      const wrong = wrongClasses(classes.values);
      assert.ok(wrong.some((w) => classPattern.test(w)), `class tests did not notice: ${wrong.join('; ')}`);

      const report = await fuzz({ seed: 3, calls: 20_000, maxViolations: 20 });
      assert.ok(report.violations.length > 0, 'the fuzzer did not notice');
      const small = await minimize(report.violations[0], 30);
      assert.equal(small.reproduced, true, 'the reproducer does not reproduce');
      assert.ok(small.calls.length <= report.violations[0].reproducer.length);
      if (mutation.skipUserBit) {
        // With both checks gone, kernel addresses get through: 2^47 aliases the kernel half.
        assert.ok(report.violations.some((v) => /kernel pointer|canary/.test(v.message)),
          report.violations.map((v) => v.message).join('\n'));
      }
    });
    // And with the door whole again, nothing is wrong.
    assert.deepEqual(wrongClasses((await runClasses()).values), []);
  });
}

test('mutation "no U/S check" alone is masked: the range check stops every kernel address first', async () => {
  // Defense in depth: user space is [0, USER_LIMIT) and the kernel half is above it, so
  // without the U bit check no class test and no fuzzer oracle can tell the difference.
  await withMutation({ skipUserBit: true }, async () => {
    assert.deepEqual(wrongClasses((await runClasses()).values), []);
    const report = await fuzz({ seed: 3, calls: 10_000 });
    assert.deepEqual(report.violations.map((v) => v.message), []);
  });
});
