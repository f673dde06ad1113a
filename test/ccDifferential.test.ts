// The differential suite: xk cc against gcc as the oracle. Every program is
// built by the host's gcc and run natively, and built by xk cc at -O0 and at
// -O1 and run on xk (test/helpers/ccDifferential.ts: many programs per boot);
// stdout and exit status must be the same.
//   - feature programs: test/cc/*.c, the small programs of test/cc/features/,
//     and the families of test/helpers/ccFeatureFamilies.ts (every integer
//     conversion pair, every operator on every type, struct shapes passed
//     between xk cc and gcc objects);
//   - generated programs (the Csmith-style generators ccRandomProgram.ts and
//     ccStatementProgram.ts, seeded): each generated function is a case.
// A disagreement is printed with its program's name or seed, and reduced
// (test/helpers/ccReduce.ts) to a small program that still shows it.
// Longer runs: CC_RANDOM_PROGRAMS=N (from CC_RANDOM_FIRST) expression programs,
// CC_GEN_PROGRAMS=N (from CC_GEN_FIRST) statement programs; CC_SEED=N or
// CC_GEN_SEED=N for one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { haveGcc } from './helpers/ccOracle.js';
import { xkccUserLibrary } from './helpers/xkccBuild.js';
import { CORPUS, disagreements, stillDisagrees, xkOutcomes, type CProgram, type Disagreement } from './helpers/ccDifferential.js';
import { conversionPrograms, featurePrograms, operatorPrograms, structPassingPrograms } from './helpers/ccFeatureFamilies.js';
import { ProgramGenerator } from './helpers/ccRandomProgram.js';
import { StatementProgramGenerator } from './helpers/ccStatementProgram.js';
import { reduce } from './helpers/ccReduce.js';
import type { UserLibrary } from '../src/build/userBuild.js';

const skip = !haveGcc() && 'no gcc';
/** Disagreements reduced per test (each reduction runs many candidates). */
const REDUCED = 2;

function seeds(one: string | undefined, count: string | undefined, first: string | undefined, defaultCount: number): number[] {
  if (one !== undefined) return [Number(one)];
  return Array.from({ length: Number(count ?? defaultCount) }, (_, i) => Number(first ?? 1) + i);
}

/** Each disagreement in words, the first REDUCED of them with a reduced program. */
async function report(found: Disagreement[], library: UserLibrary): Promise<string[]> {
  const out: string[] = [];
  for (const [i, d] of found.entries()) {
    let text = `${d.program.name} at -O${d.optimize}: ${d.difference}`;
    if (i < REDUCED) {
      const r = await reduce(d.program.source, stillDisagrees(d, library), 40, 240);
      text += `\nreduced (${r.source.split('\n').length} lines, from ${d.program.source.split('\n').length}):\n${r.source}`;
    }
    out.push(text);
  }
  return out;
}

test('feature programs: xk cc -O0 and -O1 on xk print and exit as gcc natively', { skip }, async () => {
  const corpus: CProgram[] = fs.readdirSync(CORPUS).filter((f) => f.endsWith('.c')).sort()
    .map((f) => ({ name: f, source: fs.readFileSync(path.join(CORPUS, f), 'utf8') }));
  const groups = { corpus, features: featurePrograms(), conversions: conversionPrograms(), operators: operatorPrograms(), structs: structPassingPrograms() };
  assert.ok(groups.features.length >= 150, `${groups.features.length} feature programs`);
  const programs = Object.values(groups).flat();
  assert.ok(programs.length >= 200, `${programs.length} programs`);
  const library = xkccUserLibrary(1);
  const found = await disagreements(programs, library);
  const failures = await report(found, library);
  assert.deepEqual(failures, [], failures.join('\n\n'));
});

test('generated programs: thousands of cases, xk cc -O0 and -O1 on xk print what gcc prints natively', { skip }, async () => {
  const expressionSeeds = seeds(process.env.CC_SEED, process.env.CC_RANDOM_PROGRAMS, process.env.CC_RANDOM_FIRST, 25);
  const statementSeeds = seeds(process.env.CC_GEN_SEED, process.env.CC_GEN_PROGRAMS, process.env.CC_GEN_FIRST, 20);
  const FUNCTIONS = { expression: 60, statement: 30 };
  const programs: CProgram[] = [
    ...expressionSeeds.map((seed) => ({ name: `expression program, seed ${seed} (CC_SEED=${seed})`, source: new ProgramGenerator(seed).program(FUNCTIONS.expression, 2) })),
    ...statementSeeds.map((seed) => ({ name: `statement program, seed ${seed} (CC_GEN_SEED=${seed})`, source: new StatementProgramGenerator(seed).program(FUNCTIONS.statement, 2) })),
  ];
  const cases = expressionSeeds.length * FUNCTIONS.expression + statementSeeds.length * FUNCTIONS.statement;
  const library = xkccUserLibrary(1);
  const found = await disagreements(programs, library);
  const failures = await report(found, library);
  assert.deepEqual(failures, [], failures.join('\n\n'));
  if (process.env.CC_SEED === undefined && process.env.CC_GEN_SEED === undefined) assert.ok(cases >= 2000, `${cases} cases`);
});

test('a disagreement is reduced: with a codegen bug injected (^ done as |), a generated program shrinks to a few lines that still disagree', { skip }, async () => {
  const library = xkccUserLibrary(1);
  const bug = (assembly: string): string => assembly.replace(/\txor([lq]) %([er])di, %([er])ax/g, '\tor$1 %$2di, %$3ax');
  const program = { name: 'expression program, seed 3', source: new ProgramGenerator(3).program(8, 2) };
  const found = await disagreements([program], library, [0], bug);
  assert.equal(found.length, 1, 'the injected bug shows');
  assert.deepEqual(await disagreements([program], library, [0]), [], 'and only with the bug');
  const interesting = stillDisagrees(found[0], library, bug);
  const r = await reduce(program.source, interesting, 40, 120);
  const before = program.source.split('\n').length;
  const after = r.source.split('\n').length;
  assert.ok(after * 4 <= before, `reduced from ${before} to ${after} lines:\n${r.source}`);
  assert.deepEqual(await interesting([r.source]), [true], 'the reduced program still disagrees');
  assert.match(r.source, /\^/, 'and keeps an exclusive or');
});

test('one boot runs a batch: each program\'s output and status; one that never ends is cut off and the rest still run', async () => {
  const library = xkccUserLibrary(1);
  const ok = (n: number): CProgram => ({ name: `ok ${n}`, source: `#include "cctest.h"\nint main(void) { printf("program ${n}\\n"); return ${n}; }\n` });
  const spin = { name: 'spin', source: '#include "cctest.h"\nint main(void) { printf("spinning\\n"); for (;;) ; }\n' };
  const broken = { name: 'broken', source: 'int main(void) { return undeclared; }\n' };
  const got = await xkOutcomes([ok(1), spin, ok(2), broken, ok(3)], library, 0);
  assert.deepEqual(got.map((o) => o.status), [1, null, 2, -1, 3]);
  assert.deepEqual([got[0].output, got[1].output, got[2].output, got[4].output], ['program 1\n', 'spinning\n', 'program 2\n', 'program 3\n']);
  assert.match(got[3].output, /'undeclared' undeclared/);
});
