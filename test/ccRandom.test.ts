// xk cc against gcc on seeded random programs (test/helpers/ccRandomProgram.ts):
// integer expressions over every integer type with every operator, conversions,
// globals and parameters, free of undefined behaviour. Each program is built by
// gcc and run natively, and built by xk cc at -O0 and -O1 and run on xk; the
// outputs must be equal line by line. A failure prints the seed and the first
// differing line (rerun one seed with CC_SEED=N; CC_RANDOM_PROGRAMS=N for more).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { REPO_ROOT } from './helpers/userBuild.js';
import { haveGcc, runNative, runXkcc } from './helpers/ccOracle.js';
import { xkccUserLibrary } from './helpers/xkccBuild.js';
import { ProgramGenerator } from './helpers/ccRandomProgram.js';

const CORPUS = path.join(REPO_ROOT, 'test', 'cc');
// CC_RANDOM_PROGRAMS=N (from CC_RANDOM_FIRST) for a longer run than npm test's 12
const first = Number(process.env.CC_RANDOM_FIRST ?? 1);
const SEEDS = process.env.CC_SEED ? [Number(process.env.CC_SEED)] : Array.from({ length: Number(process.env.CC_RANDOM_PROGRAMS ?? 12) }, (_, i) => first + i);

test('random integer programs: xk cc on xk prints what gcc prints natively', { skip: !haveGcc() && 'no gcc' }, async () => {
  const library = xkccUserLibrary();
  let lines = 0;
  for (const seed of SEEDS) {
    const source = new ProgramGenerator(seed).program(20, 8);
    const expected = runNative(source, `random${seed}`, [CORPUS]);
    assert.equal(expected.status, 0, `seed ${seed}: the native build runs`);
    for (const optimize of [0, 1]) {
      const got = await runXkcc(source, path.join(CORPUS, `random${seed}.c`), library, optimize);
      const want = expected.output.split('\n');
      const have = got.output.split('\n');
      const i = want.findIndex((l, k) => l !== have[k]);
      assert.equal(i, -1, `seed ${seed} -O${optimize}: line ${i + 1}: gcc '${want[i]}', xk cc '${have[i]}'`);
      assert.equal(got.status, 0, `seed ${seed} -O${optimize}: exit status`);
      lines += want.length;
    }
  }
  assert.ok(lines >= 2 * 36 * SEEDS.length);
});
