// The JIT's flag liveness and its multiplies against the interpreter, in
// lockstep: shifts and rotates by CL (a count of 0 changes no flags) with their
// flags dead (a later add, sub, logic or shift by an immediate replaces them)
// or live (a condition, an inc/dec that keeps CF, a memory access, the end of
// the block, a #PF in a later instruction), and mul / imul on random operands
// with their CF/OF read or replaced.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Machine } from '../src/machine/machine.js';
import { jitStats } from '../src/machine/jit/translate.js';
import { have } from './helpers/tools.js';
import { assembleText } from './helpers/gnuAs.js';
import { machines, machineState, runChunk, TIERS } from './helpers/jitLockstep.js';
import { identityPaging } from './helpers/identityPaging.js';

const CODE = 0x10000;
const TIER_LIST = [TIERS.jit, TIERS.regions, TIERS.blocks, TIERS.interpreter];

/** A seeded generator of small random numbers (the same program every run): xorshift, whose successive draws are not correlated as a plain LCG's low bits are. */
function random(seed: number): (n: number) => number {
  return (n) => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) % n; };
}

/** Every tier runs `code` from CODE in slices of `chunk` (fresh machines for each): the same state (or fault) after each. */
function lockstep(code: Uint8Array, chunks: number[], max: number): Machine[] {
  let ms: Machine[] = [];
  for (const chunk of chunks) {
    ms = machines(TIER_LIST, (m) => { m.loadPhysical(CODE, code); m.cpu.rip = CODE; m.cpu.setReg64(4, 0x80000n); });
    for (let done = 0; done < max && !ms[3].cpu.halted; done += chunk) {
      const out = ms.map((m) => { m.run(chunk); return machineState(m); });
      for (let i = 0; i < 3; i++) assert.equal(out[i], out[3], `tier ${i} vs interpreter after ${done + chunk} instructions (slices of ${chunk})`);
    }
  }
  return ms;
}

const R64 = ['%rax', '%rbx', '%rdx', '%rsi', '%rdi', '%r8', '%r9', '%r10'];
const R32 = ['%eax', '%ebx', '%edx', '%esi', '%edi', '%r8d', '%r9d', '%r10d'];
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

test('jit: shifts and rotates by %cl (counts 0, 1, 31, 32, 63...) with their flags replaced, read, kept in part or seen at a block end match the interpreter', (t) => {
  if (!have('as') || !have('objcopy')) { t.skip('GNU as not installed'); return; }
  const rnd = random(9191);
  const pick = <T>(a: T[]): T => a[rnd(a.length)];
  const lines: string[] = ['mov $0x60000, %ebp'];
  for (let i = 0; i < R64.length; i++) lines.push(`movabs $${(BigInt(rnd(1 << 30)) * 0x9e3779b97f4an) & 0xffffffffffffffffn}, ${R64[i]}`);
  for (let i = 0; i < 32; i++) lines.push(`mov ${R64[i % 8]}, ${i * 8}(%rbp)`);
  for (let loop = 0; loop < 60; loop++) {
    lines.push(`mov $${3 + rnd(10)}, %r11d`, `h${loop}:`);
    for (let k = 0; k < 1 + rnd(4); k++) {
      const q = rnd(2), regs = q ? R64 : R32;
      // The flags before: a whole record, or one of an inc/dec (CF kept from the one before it).
      lines.push(rnd(3) ? `${pick(['add', 'sub', 'cmp', 'xor', 'and'])} ${pick(regs)}, ${pick(regs)}` : `${pick(['inc', 'dec'])} ${pick(regs)}`);
      lines.push(rnd(2) ? `mov $${pick([0, 1, 2, 31, 32, 33, 63, 64, rnd(256)])}, %ecx` : `mov ${pick(R32)}, %ecx`);
      lines.push(`${pick(['shl', 'shr', 'sar', 'sal', 'rol', 'ror'])} %cl, ${pick(regs)}`);
      // What comes after: a whole writer (the flags dead), or an observer (a reader, a partial writer, memory,
      // the interpreter's adc, another shift by %cl) and then, half the time, a whole writer.
      const whole = (): string => `${pick(['add', 'sub', 'and', 'or', 'xor', 'cmp', 'test'])} ${pick(regs)}, ${pick(regs)}`;
      const observer = [
        `set${pick(CC)} %al`, `cmov${pick(CC)} ${pick(regs)}, ${pick(regs)}`, `${pick(['inc', 'dec'])} ${pick(regs)}\n set${pick(CC)} %dl`,
        `mov ${rnd(32) * 8}(%rbp), ${pick(regs)}`, `adc ${pick(regs)}, ${pick(regs)}`, `${pick(['shl', 'shr', 'rol', 'ror'])} %cl, ${pick(regs)}`, '',
      ];
      switch (rnd(4)) {
        case 0: lines.push(whole()); break;
        case 1: lines.push(`${pick(['shl', 'shr', 'sar'])} $${1 + rnd(q ? 63 : 31)}, ${pick(regs)}`); break;
        default: lines.push(pick(observer)); if (rnd(2)) lines.push(whole());
      }
    }
    lines.push(`j${pick(CC)} s${loop}`, `add %rax, %rbx`, `s${loop}:`, `dec %r11d`, `jne h${loop}`);
  }
  lines.push('hlt');
  const before = jitStats.compiled;
  const ms = lockstep(assembleText(lines.join('\n')), [5, 61], 30_000);
  assert.ok(ms[3].cpu.halted, 'the program ran to its end');
  assert.ok(jitStats.compiled > before + 20, 'the loops were translated by the JIT');
});

test('jit: a #PF after a shift or rotate by %cl (a count of 0 or not, after a whole record or an inc) shows the flags the interpreter has', (t) => {
  if (!have('as') || !have('objcopy')) { t.skip('GNU as not installed'); return; }
  // %rbx walks up by 0x300 from 0x30000: the access after the shift faults in round 22 (page 0x34000 is
  // absent), with the count %edi + 22 there; the count of the faulting round is 0, 1, 5, 32 or 63.
  for (const op of ['shl', 'shr', 'sar', 'rol', 'ror']) {
    for (const [reg, mask] of [['%rsi', 63], ['%esi', 31]] as [string, number][]) {
      for (const count of [0, 1, 5, 32, 63]) {
        for (const before of ['cmp %edx, %edi', 'inc %edx']) {
          for (const access of ['mov (%rbx), %rdx', 'mov %rsi, (%rbx)']) {
            const start = ((count - 22) & mask) + 2 * (mask + 1);
            const code = assembleText(`
              mov $0x30000, %ebx
              mov $${start}, %edi
              movabs $0x8000000180000001, %rsi
              mov $-7, %edx
            1: mov %edi, %ecx
              ${before}
              ${op} %cl, ${reg}
              ${access}
              add $1, %edi
              lea 0x300(%rbx), %rbx
              xor %rbx, %rsi
              jmp 1b`);
            const ms = machines(TIER_LIST, (m) => { m.loadPhysical(CODE, code); m.cpu.rip = CODE; m.cpu.setReg64(4, 0x80000n); identityPaging(m, 0x34000); });
            const what = `${op} %cl, ${reg}, count ${count} at the fault, after ${before}, then ${access}`;
            const out = ms.map((m) => { for (;;) { const s = runChunk(m, 1000); if (s.startsWith('fault')) return s; } });
            assert.match(out[3], /^fault 14\//, what);
            for (let i = 0; i < 3; i++) assert.equal(out[i], out[3], `tier ${i}: ${what}`);
          }
        }
      }
    }
  }
});

/** Operands for the multiplies: the edges (0, 1, -1, 2^31, 2^32 - 1, 2^63...) and random ones. */
function operands(rnd: (n: number) => number): bigint[] {
  const edges = [0n, 1n, 2n, 0xffffffffffffffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0x8000000000000000n,
    0xffffffff00000000n, 0xfffffffffffffffen, 0x00000000ffff0001n, 0xffff0000ffff0000n];
  const r = (): bigint => BigInt(rnd(1 << 30)) << 34n | BigInt(rnd(1 << 30)) << 4n | BigInt(rnd(16));
  return [...edges, ...Array.from({ length: 18 }, r)].map((v) => v & 0xffffffffffffffffn);
}

test('jit: mul and imul (one, two and three operands, 32 and 64 bits) on edge and random operands, CF/OF read or replaced, match the interpreter', (t) => {
  if (!have('as') || !have('objcopy')) { t.skip('GNU as not installed'); return; }
  const rnd = random(5151);
  const pick = <T>(a: T[]): T => a[rnd(a.length)];
  const values = operands(rnd);
  const lines: string[] = ['mov $0x60000, %ebp'];
  values.forEach((v, i) => lines.push(`movabs $${v}, %rax`, `mov %rax, ${i * 8}(%rbp)`));
  const regs64 = ['%rax', '%rbx', '%rdx', '%rsi', '%rdi', '%r8', '%r9'], regs32 = ['%eax', '%ebx', '%edx', '%esi', '%edi', '%r8d', '%r9d'];
  const imms = ['0', '1', '-1', '3', '-3', '0x7fffffff', '-0x80000000', '0x55555556', '-1000', '127', '-128'];
  for (let loop = 0; loop < 48; loop++) {
    // Fresh operands each round from the table (index %r12 moves by 3 a round).
    lines.push(`mov $${3 + rnd(6)}, %r11d`, `xor %r12d, %r12d`, `h${loop}:`);
    for (const r of regs64) lines.push(`mov ${8 * rnd(values.length)}(%rbp,%r12,8), ${r}`);
    for (let k = 0; k < 1 + rnd(3); k++) {
      const q = rnd(2), regs = q ? regs64 : regs32;
      switch (rnd(4)) {
        case 0: lines.push(`imul ${rnd(3) ? pick(regs) : `${8 * rnd(values.length)}(%rbp)`}, ${pick(regs)}`); break;
        case 1: lines.push(`imul $${pick(imms)}, ${rnd(3) ? pick(regs) : `${8 * rnd(values.length)}(%rbp)`}, ${pick(regs)}`); break;
        case 2: lines.push(`${pick(['mul', 'imul'])}${q ? 'q' : 'l'} ${rnd(3) ? pick(regs) : `${8 * rnd(values.length)}(%rbp)`}`); break;
        default: lines.push(`imul ${pick(regs)}, ${pick(regs)}`, `imul $${pick(imms)}, ${pick(regs)}, ${pick(regs)}`); break;
      }
      // CF/OF read (jo/jc, seto/setc, cmov), kept with an inc's record, or replaced (flags dead).
      switch (rnd(5)) {
        case 0: lines.push(`set${pick(['o', 'no', 'b', 'ae'])} %cl`, `add %rcx, %r10`); break;
        case 1: lines.push(`cmov${pick(['o', 'b', 'e', 's'])} ${pick(regs)}, ${pick(regs)}`); break;
        case 2: lines.push(`inc ${pick(regs)}`); break;
        case 3: lines.push(`${pick(['add', 'xor', 'test'])} ${pick(regs)}, ${pick(regs)}`); break;
        default: break;
      }
    }
    lines.push(`add %rax, %r10`, `add %rdx, %r10`, `add %rsi, %r10`, `add %rdi, %r10`, `add %r8, %r10`, `add %r9, %r10`, `add %rbx, %r10`);
    lines.push(`j${pick(['o', 'no', 'b', 'ae', 'e', 's'])} s${loop}`, `add %rax, %r13`, `s${loop}:`, 'add $3, %r12d', 'and $15, %r12d', `dec %r11d`, `jne h${loop}`);
  }
  lines.push('hlt');
  const before = jitStats.compiled;
  const ms = lockstep(assembleText(lines.join('\n')), [7, 61], 60_000);
  assert.ok(ms[3].cpu.halted, 'the program ran to its end');
  assert.ok(jitStats.compiled > before + 20, 'the loops were translated by the JIT');
});
