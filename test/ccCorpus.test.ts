// xk cc against gcc on the corpus test/cc/*.c: each small program (one or two
// features each: conversions, pointers, structs and their passing, bit-fields,
// switch/goto, function pointers, varargs, globals, strings) is built by the
// host's gcc and run natively, and built by xk cc at -O0 and -O1 and run on xk;
// stdout and the exit status must be the same.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './helpers/userBuild.js';
import { haveGcc, runNative, runXkcc } from './helpers/ccOracle.js';
import { xkccUserLibrary } from './helpers/xkccBuild.js';

const CORPUS = path.join(REPO_ROOT, 'test', 'cc');
const programs = fs.readdirSync(CORPUS).filter((f) => f.endsWith('.c')).sort();

test('the corpus has programs for every feature group', () => {
  assert.ok(programs.length >= 12, programs.join(' '));
});

test('each corpus program: xk cc -O0 and -O1 on xk print and exit as gcc natively', { skip: !haveGcc() && 'no gcc' }, async () => {
  const library = xkccUserLibrary();
  for (const f of programs) {
    const file = path.join(CORPUS, f);
    const source = fs.readFileSync(file, 'utf8');
    const expected = runNative(source, f.replace(/\.c$/, ''), [CORPUS]);
    assert.ok(expected.output.length > 0, `${f} prints something natively`);
    for (const optimize of [0, 1]) {
      const got = await runXkcc(source, file, library, optimize);
      assert.deepEqual(got, expected, `${f} at -O${optimize}`);
    }
  }
});
