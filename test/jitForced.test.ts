// The CPU's own exactness tests (instruction semantics, faults, the block tier,
// the gcc-built program checked against the host CPU's result) run again in a
// child process with every block translated by the JIT at its first run
// (XK_BLOCK_HOT=1, XK_JIT_HOT=1), once with single-block translations and once
// with multi-block regions (XK_JIT_REGION=8).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const FILES = ['cpuCore', 'blockTier', 'cpuProgram'].map((n) => fileURLToPath(new URL(`./${n}.test.js`, import.meta.url)));

for (const region of ['1', '8']) {
  test(`jit: cpuCore, blockTier and cpuProgram pass with every block JIT-translated at once (XK_JIT_REGION=${region})`, () => {
    // Without NODE_TEST_CONTEXT the child reports in plain TAP, as from a shell.
    const env: Record<string, string | undefined> = { ...process.env, XK_BLOCK_HOT: '1', XK_JIT_HOT: '1', XK_JIT: '1', XK_JIT_REGION: region };
    delete env.NODE_TEST_CONTEXT;
    const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', ...FILES], {
      env,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stdout.split('\n').filter((l) => /not ok|Error|expected|actual/.test(l)).slice(0, 20).join('\n'));
    assert.match(r.stdout, /# fail 0/);
    assert.match(r.stdout, /# pass [1-9]/);
  });
}
