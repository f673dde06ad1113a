// The host oracle on a host of ANOTHER CPU model, simulated: xk itself runs as
// the "host", with every flag (and result) the manuals leave undefined changed
// after each instruction, as a CPU of another generation may do. This shows
// that the defined-results check of test/hostOracle.test.ts passes on such a
// host (undefined values are masked, dependent sequences are cut), that the
// profile check tells the difference (so on a real host of another model it is
// skipped, and on the profile's own model a changed xk fails), and that a wrong
// DEFINED flag is still caught.

import { test } from 'node:test';
import { have } from './helpers/tools.js';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FLAG_CF, FLAG_ZF } from '../src/isa/table.js';
import { buildCases, oracleForms, probeCases, type OracleCase } from './hostOracleCases.js';
import { CODE_SLOT } from './hostOracleCases.js';
import { assembleBatch, oracleMachine, runEmulated, runOracle, simulatedHost, type Perturb } from './hostOracleRun.js';

const skip = !have('as') || !have('objcopy') ? 'GNU as/objcopy not installed' : false;

/** Another model: every undefined flag inverted, every undefined destination register cleared. */
const otherModel: Perturb = (cpu, effect, d) => {
  if (effect.undefined) cpu.setRflags(cpu.getRflags() ^ effect.undefined);
  const dst = d.operands[0];
  if (effect.resultUndefined && dst?.type === 'reg') cpu.setReg64(dst.reg, 0n);
};

function withDir<T>(f: (dir: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-profile-'));
  try { return f(dir); } finally { fs.rmSync(dir, { recursive: true, force: true }); }
}

const forms = oracleForms();
const SEED = 4242;

test('a host of another model: defined results all match, the profile check sees the difference', { skip }, () => {
  withDir((dir) => {
    const host = simulatedHost(otherModel);
    const main = runOracle(dir, host, [buildCases(SEED, 2500, forms)]);
    assert.deepEqual(main.definedMismatches.slice(0, 3), [], 'undefined results are masked');
    assert.equal(main.dependent.length, 0);
    assert.ok(main.compared > 2000);
    assert.ok(main.undefinedMismatches.length > 100, `the profile comparison sees the other model (${main.undefinedMismatches.length} cases)`);
    const probe = runOracle(dir, host, [probeCases(SEED, forms, 2)]);
    assert.ok(probe.undefinedMismatches.length > probe.cases / 3, 'the probe tells the host is not of xk\'s profile, so the profile check is skipped there');
  });
});

test('xk compared with itself: nothing differs, defined or undefined', { skip }, () => {
  withDir((dir) => {
    const report = runOracle(dir, simulatedHost(), [buildCases(SEED + 1, 1500, forms), probeCases(SEED, forms, 1)]);
    assert.deepEqual([...report.definedMismatches, ...report.undefinedMismatches].slice(0, 3), []);
    assert.ok(report.compared > 1500);
  });
});

test('an undefined flag read by a later instruction: the case is cut, not compared', { skip }, () => {
  withDir((dir) => {
    const base = buildCases(SEED + 2, 1, forms)[0];
    const texts = [
      'shl $3, %eax\n  seto %bl',           // OF undefined for a count > 1
      'mul %rbx\n  setz %cl',               // ZF undefined after mul
      'and %ebx, %eax\n  lahf',             // AF undefined after and
      'shr $5, %edx\n  jo 1f\n  inc %esi\n1:',
      'xor %edx, %edx\n  div %rbx\n  adc $0, %rcx', // every flag undefined after div
      'bsf %rax, %rdx\n  add %rdx, %rcx',   // bsf of 0: destination undefined (rax = 0 below)
    ];
    const cases: OracleCase[] = texts.map((text) => ({ ...base, text, regs: base.regs.map((v, k) => (k === 0 ? 0n : k === 3 ? 7n : v)) }));
    const report = runOracle(dir, simulatedHost(otherModel), [cases]);
    assert.equal(report.dependent.length, texts.length, report.dependent.join('\n'));
    assert.deepEqual(report.definedMismatches, []);
    // Had they been compared, the two models would differ: the cut is needed.
    const code = assembleBatch(dir, cases);
    const host = simulatedHost(otherModel)(code, cases);
    const machine = oracleMachine();
    const differ = cases.filter((c, i) => {
      const emu = runEmulated(machine, code.subarray(i * CODE_SLOT, (i + 1) * CODE_SLOT), c);
      return emu.regs.some((v, k) => v !== host[i].regs[k]) || ((emu.rflags ^ host[i].rflags) & 0xcd5) !== 0;
    });
    assert.ok(differ.length >= texts.length - 1, `${differ.length} of ${texts.length} would differ`);
    // The generator makes such sequences only when asked to.
    const free = runOracle(dir, simulatedHost(otherModel), [buildCases(SEED + 3, 1500, forms, { allowDependent: true })]);
    assert.ok(free.dependent.length > 0, 'random dependent sequences are detected');
    assert.deepEqual(free.definedMismatches.slice(0, 3), []);
  });
});

test('a wrong DEFINED flag is caught by the check that runs on every host', { skip }, () => {
  withDir((dir) => {
    const wrongZf: Perturb = (cpu, _e, d) => { if (d.form?.family === 'add') cpu.setRflags(cpu.getRflags() ^ FLAG_ZF); };
    const wrongCf: Perturb = (cpu, _e, d) => { if (d.form?.family === 'mul') cpu.setRflags(cpu.getRflags() ^ FLAG_CF); };
    for (const perturb of [wrongZf, wrongCf]) {
      const report = runOracle(dir, simulatedHost(perturb), [buildCases(SEED + 4, 1500, forms)]);
      assert.ok(report.definedMismatches.length > 0);
    }
  });
});
