// Issue 6: every class of bad user pointer, with the exact return value, and the
// process and the kernel going on afterwards. Programs are built with gcc + GNU ld.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runClasses, wrongClasses } from './securityClassProgram.js';

test('every bad-pointer class gets exactly -1 and the process and the kernel go on', async () => {
  const { values, status, output } = await runClasses();
  assert.deepEqual(wrongClasses(values), [], output);
  assert.equal(status, 0, output);
});
