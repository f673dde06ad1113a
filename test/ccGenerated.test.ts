// xk cc against gcc on seeded random programs at the statement level
// (test/helpers/ccStatementProgram.ts: arrays, structs, pointers, loops,
// switch, calls, updates in place), the companion of ccRandom.test.ts's
// expression programs. Each program is built by gcc and run natively, and
// built by xk cc at -O0 and -O1 and run on xk; stdout and exit status must be
// equal. A disagreement names its seed (rerun one with CC_GEN_SEED=N). The
// count is small for `npm test`; CC_GEN_PROGRAMS=N runs N programs, from
// CC_GEN_FIRST (default 1).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { REPO_ROOT } from './helpers/userBuild.js';
import { haveGcc, runNative, runXkcc } from './helpers/ccOracle.js';
import { xkccUserLibrary } from './helpers/xkccBuild.js';
import { StatementProgramGenerator } from './helpers/ccStatementProgram.js';

const CORPUS = path.join(REPO_ROOT, 'test', 'cc');
const first = Number(process.env.CC_GEN_FIRST ?? 1);
const count = Number(process.env.CC_GEN_PROGRAMS ?? 5);
const SEEDS = process.env.CC_GEN_SEED ? [Number(process.env.CC_GEN_SEED)] : Array.from({ length: count }, (_, i) => first + i);

test('random statement-level programs: xk cc -O0 and -O1 on xk print what gcc prints natively', { skip: !haveGcc() && 'no gcc' }, async () => {
  const library = xkccUserLibrary();
  const failures: string[] = [];
  let lines = 0;
  for (const seed of SEEDS) {
    const source = new StatementProgramGenerator(seed).program(6, 6);
    const expected = runNative(source, `gen${seed}`, [CORPUS]);
    if (expected.status !== 0) {
      failures.push(`seed ${seed}: the native build exits ${expected.status}`);
      continue;
    }
    const want = expected.output.split('\n');
    for (const optimize of [0, 1]) {
      let got;
      try {
        got = await runXkcc(source, path.join(CORPUS, `gen${seed}.c`), library, optimize);
      } catch (e) {
        failures.push(`seed ${seed} -O${optimize}: ${(e as Error).message.split('\n').slice(0, 3).join(' ')}`);
        continue;
      }
      const have = got.output.split('\n');
      const i = want.findIndex((l, k) => l !== have[k]);
      if (i >= 0) failures.push(`seed ${seed} -O${optimize}: line ${i + 1}: gcc '${want[i]}', xk cc '${have[i]}'`);
      else if (got.status !== 0) failures.push(`seed ${seed} -O${optimize}: exit status ${got.status}`);
      lines += want.length;
    }
  }
  assert.deepEqual(failures, [], failures.join('\n'));
  assert.ok(lines >= 2 * 30 * SEEDS.length, `${lines} lines compared`);
});
