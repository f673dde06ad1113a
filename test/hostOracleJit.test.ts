// The host-CPU oracle (test/hostOracle.test.ts) through the JIT tier, for the
// instruction groups the JIT translates itself: random snippets of those forms
// run natively and on xk with every block translated at its first run (no
// stepping: src/machine/jit/), and
//  1. the JIT's result equals the interpreter's bit for bit (registers, all of
//     RFLAGS, scratch memory, the fault), undefined flags included: both tiers
//     make the same choices where the manuals leave them free;
//  2. the JIT's result matches the host's in everything the manuals define
//     (undefined flags and registers masked as the stepped run tracks them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { have } from './helpers/tools.js';
import { jitStats } from '../src/machine/jit/translate.js';
import { CODE_SLOT, buildCases, oracleForms } from './hostOracleCases.js';
import { assembleBatch, compare, describeCase, nativeHost, oracleMachine, runEmulated, runJitted } from './hostOracleRun.js';

const SEED = Number(process.env.XK_ORACLE_SEED ?? 20261207);
const CASES = 3000;

/** The mnemonics translated by the JIT (src/machine/jit/translate.ts and the translate*.ts of instruction groups). */
const TRANSLATED = new Set([
  'mul', 'imul', 'div', 'idiv', 'bsf', 'bsr', 'tzcnt', 'lzcnt', 'popcnt', 'rol', 'ror', 'bswap',
  'add', 'sub', 'and', 'or', 'xor', 'cmp', 'test', 'inc', 'dec', 'neg', 'not', 'shl', 'sal', 'shr', 'sar',
  'mov', 'movzx', 'movsx', 'movsxd', 'lea', 'push', 'pop', 'cdq', 'cqo', 'cdqe',
]);

const missingTools = process.arch !== 'x64' ? `host is ${process.arch}, not x86-64`
  : !have('gcc') || !have('as') || !have('objcopy') ? 'gcc/as/objcopy not installed' : null;

test('host CPU oracle through the JIT: translated forms equal the interpreter bit for bit and the host in every defined result', { timeout: 600_000 }, (t) => {
  if (missingTools) { t.skip(missingTools); return; }
  const forms = oracleForms().filter((f) => TRANSLATED.has(f.mnemonic));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-oracle-jit-'));
  try {
    const host = nativeHost(dir);
    const stepped = oracleMachine(), jitted = oracleMachine();
    const before = jitStats.compiled;
    const differences: string[] = [], mismatches: string[] = [];
    let compared = 0;
    for (let start = 0; start < CASES; start += 1500) {
      const cases = buildCases(SEED + start, 1500, forms);
      const code = assembleBatch(dir, cases);
      const results = host(code, cases);
      cases.forEach((c, i) => {
        const slot = code.subarray(i * CODE_SLOT, (i + 1) * CODE_SLOT);
        const emu = runEmulated(stepped, slot, c);
        const jit = runJitted(jitted, slot, c);
        const label = describeCase(c, `case ${start + i}`);
        const same = jit.status === emu.status && jit.rflags === emu.rflags && jit.regs.every((r, k) => r === emu.regs[k]) &&
          Buffer.from(jit.scratch).equals(Buffer.from(emu.scratch));
        if (!same) differences.push(`${label}\n  interpreter: status ${emu.status} rflags ${emu.rflags.toString(16)} regs ${emu.regs.map((r) => r.toString(16))}\n  jit: status ${jit.status} rflags ${jit.rflags.toString(16)} regs ${jit.regs.map((r) => r.toString(16))}`);
        const cmp = compare(results[i], { ...emu, ...jit });
        if (!cmp.faulted && !cmp.dependent) compared++;
        if (cmp.defined.length) mismatches.push(`${label}\n  ${cmp.defined.join('\n  ')}`);
      });
    }
    t.diagnostic(`${forms.length} forms, ${CASES} cases, ${compared} compared with the host, ${jitStats.compiled - before} translations`);
    assert.deepEqual(differences.slice(0, 5), [], `${differences.length} cases where the JIT and the interpreter differ`);
    assert.deepEqual(mismatches.slice(0, 5), [], `${mismatches.length} cases where the JIT differs from the host in defined results`);
    assert.ok(compared >= 0.8 * CASES, `only ${compared} of ${CASES} cases compared`);
    assert.ok(jitStats.compiled - before >= CASES, 'every case ran translated');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
