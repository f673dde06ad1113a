// The JIT tier against the interpreter on whole workloads: user tests on the
// xk kernel (timer interrupts, system calls, fork/exec, paging) run with the
// JIT off, on (every hot block translated after one run) and with multi-block
// regions; output, exit status and the whole kernel trace (each event stamped
// with the retired-instruction count) must be identical.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildUserProgramsWithGcc } from './helpers/userBuild.js';
import { runProgram } from './kernelHelpers.js';
import { jitSettings } from '../src/machine/jit/settings.js';
import { jitStats } from '../src/machine/jit/translate.js';
import { have } from './helpers/tools.js';

let dir = '';
const files = new Map<string, Uint8Array>();
let testNames: string[] = [];

before(() => {
  if (!have('gcc')) return;
  dir = mkdtempSync(join(tmpdir(), 'xk-jitw-'));
  const build = buildUserProgramsWithGcc(dir);
  for (const [name, path] of [...build.programs, ...build.tests]) files.set(name, new Uint8Array(readFileSync(path)));
  testNames = [...build.tests.keys()];
});
after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

test('jit: user tests on the kernel give the same output, status and instruction-stamped trace with and without the JIT', async (t) => {
  if (!have('gcc')) { t.skip('gcc not installed'); return; }
  const saved = { ...jitSettings };
  try {
    for (const name of testNames.slice(0, 4)) {
      const runs = [];
      for (const [enabled, hot, regionBlocks] of [[false, 64, 1], [true, 1, 1], [true, 3, 8]] as const) {
        Object.assign(jitSettings, { enabled, hot, regionBlocks });
        const before = jitStats.compiled;
        const run = await runProgram(files.get(name)!, [name], { programs: files, timerInterval: 20000 });
        runs.push({ run, compiled: jitStats.compiled - before });
      }
      const [off, on, regions] = runs.map(({ run }) => JSON.stringify({ status: run.status, output: run.output, events: run.events }));
      assert.equal(runs[0].run.status, 0, `${name}: ${runs[0].run.output}`);
      assert.ok(runs[0].run.events.length > 0, 'the trace has events');
      assert.ok(runs[1].compiled > 0, `${name}: the JIT translated blocks`);
      assert.equal(on, off, `${name}: JIT vs interpreter`);
      assert.equal(regions, off, `${name}: JIT regions vs interpreter`);
    }
  } finally {
    Object.assign(jitSettings, saved);
  }
});
