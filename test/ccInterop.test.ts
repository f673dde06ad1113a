// xk cc keeps the System V calling convention exactly: an object from xk cc and
// one from gcc -c (test/cc/interop/) link together with xk ld and call each other
// both ways: mixed-width integer arguments, small/odd/large structs passed and
// returned, arguments on the stack, varargs, a callback, bit-field structs,
// _Bool and char returns, data symbols. The oracle is the same pair built by
// gcc alone and run natively.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './helpers/userBuild.js';
import { GEN_CFLAGS } from '../src/build/gcc.js';
import { haveGcc, runNative, runOnXk } from './helpers/ccOracle.js';
import { xkccObject, xkccUserLibrary } from './helpers/xkccBuild.js';

const DIR = path.join(REPO_ROOT, 'test', 'cc', 'interop');

test('xk cc objects and gcc -c objects call each other (structs, varargs, callbacks) and agree with gcc alone', { skip: !haveGcc() && 'no gcc' }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-interop-'));
  try {
    const gccObject = path.join(tmp, 'gcc.o');
    const expected = runNative(fs.readFileSync(path.join(DIR, 'xkcc.c'), 'utf8'), 'interop', [DIR], [path.join(DIR, 'gcc.c')]);
    assert.equal(expected.status, 0, expected.output);
    assert.match(expected.output, /^xk->gcc -?\d+ gcc->xk -?\d+/);
    const library = xkccUserLibrary();
    for (const level of ['-O0', '-O2']) {
      const flags = GEN_CFLAGS.filter((f) => !/^-O|^-W/.test(f));
      execFileSync('gcc', [...flags, level, '-c', '-o', gccObject, path.join(DIR, 'gcc.c')]);
      const gcc = { name: 'gcc.o', bytes: new Uint8Array(fs.readFileSync(gccObject)) };
      for (const optimize of [0, 1]) {
        const xk = xkccObject(fs.readFileSync(path.join(DIR, 'xkcc.c'), 'utf8'), path.join(DIR, 'xkcc.c'), optimize);
        const got = await runOnXk([xk, gcc], library, 'interop');
        assert.deepEqual(got, expected, `gcc ${level}, xk cc -O${optimize}`);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
