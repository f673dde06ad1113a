// The host CPU as the oracle for a whole program: test/oracle/program.c (a
// freestanding integer program: arithmetic, 128-bit products, division,
// string operations, bit operations, a sort, hashes, a jump table, recursion)
// is compiled once per optimization level with gcc, linked twice — with a
// native _start that prints the result through a Linux system call, and with
// an xk _start that leaves it in %rax and halts — and both must agree.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildProgram, have, runOnXk } from './cpuProgramSupport.js';

for (const opt of ['O0', 'O2']) {
  test(`gcc -${opt} freestanding program: same result natively and on xk`, (t) => {
    if (!have('gcc')) { t.skip('gcc not installed'); return; }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-program-'));
    try {
      const { native, xk } = buildProgram(dir, opt);
      const out = execFileSync(native);
      assert.equal(out.length, 8, 'native program writes 8 bytes');
      const want = out.readBigUInt64LE(0);
      const got = runOnXk(xk);
      t.diagnostic(`result 0x${want.toString(16)} after ${got.instructions} instructions on xk`);
      assert.equal('0x' + got.result.toString(16), '0x' + want.toString(16));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
