// The JIT's values are int32 halves (src/machine/jit/pieces.ts): every
// translated instruction on operands with bit 31 set in both halves (and the
// edges around them), against the interpreter in lockstep. The unsigned
// comparisons (carries, borrows, CF and the unsigned conditions), the
// addresses made from the halves, the loads' and the Flags record's
// conversions are where an int32 read as a uint32 (or the reverse) goes wrong.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jitStats } from '../src/machine/jit/translate.js';
import { have } from './helpers/tools.js';
import { assembleText } from './helpers/gnuAs.js';
import { TIERS, identityPaging, machines, runChunk } from './helpers/jitLockstep.js';
import type { Machine } from '../src/machine/machine.js';

const CODE = 0x10000;
/** Linear 0x80000000-0x801fffff: the first 2 MiB again (identity paging, and a second PDPT entry). */
function highPaging(m: Machine): void {
  identityPaging(m, []);
  m.memory.write32(0xf1000 + 8 * 2, 0xf2000 | 7);
  m.mmu.flush();
}
const EDGES = [0x8000000080000000n, 0xffffffffffffffffn, 0x80000000ffffffffn, 0xffffffff80000000n, 0xfedcba9887654321n,
  0x8000000000000000n, 0x0000000080000000n, 0x7fffffff7fffffffn, 0x8000000180000001n, 0xc0000000c0000000n, 0x80000000n - 1n,
  0xffffffff00000000n, 0x00000000ffffffffn, 0x7fffffff80000000n, 0x800000007fffffffn, 1n];

/** A program of `loops` counted loops, each of random instructions of every translated kind on sign-heavy values. */
function program(seed: number, loops: number): string {
  // xorshift32 (an LCG's low bits repeat too soon for the many small choices here); seed nonzero.
  const rnd = (n: number): number => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) % n; };
  const pick = <T>(a: T[]): T => a[rnd(a.length)];
  const R64 = ['%rax', '%rbx', '%rdx', '%rsi', '%rdi', '%r8', '%r9', '%r10'];
  const R32 = ['%eax', '%ebx', '%edx', '%esi', '%edi', '%r8d', '%r9d', '%r10d'];
  const R16 = ['%ax', '%bx', '%dx', '%si', '%di', '%r8w', '%r9w', '%r10w'];
  const R8 = ['%al', '%bl', '%dl', '%sil', '%dil', '%r8b', '%r9b', '%r10b'];
  const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
  const IMMS = ['$-1', '$0x7fffffff', '$-0x80000000', '$-2', '$0x80', '$1', '$0'];
  const edge = (): bigint => pick(EDGES) ^ (rnd(4) === 0 ? BigInt(rnd(1 << 16)) : 0n);
  // Memory: 32 quadwords at (%rbp), also through an index (%r14: 0 to 7).
  const mem = (): string => (rnd(2) ? `${rnd(32) * 8}(%rbp)` : `${rnd(24) * 8}(%rbp,%r14,8)`);
  // Data and stack at linear addresses with bit 31 set (mapped to physical 0x60000 and 0x80000: see HIGH).
  const lines = ['mov $0x80060000, %ebp', 'mov $0x80080000, %esp', 'xor %r12d, %r12d'];
  for (let i = 0; i < 32; i++) lines.push(`movabs $${edge()}, %rax`, `mov %rax, ${i * 8}(%rbp)`);
  // Register i compared with its own copy in memory (equal: be and le hold): a half held in the wrong
  // form (a uint32 where the translation expects an int32) makes the inline condition false.
  const selfCompare = (i: number): void => {
    lines.push(`mov ${R64[i]}, 256(%rbp)`, `cmpq 256(%rbp), ${R64[i]}`, 'setbe %r11b', 'add %r11, %r12',
      `cmpl 256(%rbp), ${R32[i]}`, 'setle %r11b', 'add %r11, %r12', 'rol $3, %r12');
  };
  const ALU = ['add', 'sub', 'and', 'or', 'xor', 'cmp', 'test'];
  for (let loop = 0; loop < loops; loop++) {
    for (const r of R64) lines.push(`movabs $${edge()}, ${r}`);
    lines.push(`mov $${rnd(8)}, %r14d`, `mov $${3 + rnd(5)}, %r15d`, `h${loop}:`);
    for (let k = 0; k < 6 + rnd(12); k++) {
      const w = rnd(2) ? 3 : 2, regs = w === 3 ? R64 : R32, s = w === 3 ? 'q' : 'l';
      const a = pick(regs), b = pick(regs);
      switch (rnd(22)) {
        case 0: case 1: case 2: lines.push(`${pick(ALU)}${s} ${b}, ${a}`); break;
        case 3: lines.push(`${pick(ALU)}${s} ${pick(IMMS)}, ${a}`); break;
        case 4: lines.push(`${pick(ALU)}${s} ${mem()}, ${a}`); break;
        case 5: lines.push(`${pick(ALU)}${s} ${a}, ${mem()}`); break;
        case 6: lines.push(`${pick(['inc', 'dec', 'neg', 'not'])}${s} ${rnd(3) ? a : mem()}`); break;
        case 7: lines.push(`${pick(['shl', 'shr', 'sar', 'rol', 'ror'])}${s} $${pick([1, 2, 31, 32, 33, 63, rnd(64)]) & (w === 3 ? 63 : 31) || 1}, ${a}`); break;
        case 8: lines.push(`mov $${pick([0, 1, 2, 31, 32, 33, 63])}, %ecx`, `${pick(['shl', 'shr', 'sar', 'rol', 'ror'])}${s} %cl, ${a}`); break;
        case 9: lines.push(`lea ${pick([0, 8, -8, 0x7fffffff, -0x80000000, rnd(200) - 100])}(${pick(R64)},${pick(R64)},${1 << rnd(4)}), ${a}`); break;
        case 10: lines.push(`lea ${pick([0, -1, 0x7fffffff, -0x80000000])}(${pick(R64)}), ${a}`); break;
        case 11: lines.push(`push ${pick(R64)}`, `pop ${pick(R64)}`); break;
        case 12: lines.push(`push $${pick([-1, -0x80000000, 0x7fffffff])}`, `pop ${pick(R64)}`); break;
        case 13: lines.push(pick([`movslq ${pick(R32)}, ${pick(R64)}`, `movslq ${mem()}, ${pick(R64)}`, `movsbq ${pick(R8)}, ${pick(R64)}`, `movswl ${mem()}, ${pick(R32)}`,
          `movzbl ${pick(R8)}, ${pick(R32)}`, `movzwq ${mem()}, ${pick(R64)}`, 'cltq', 'cltd', 'cqto'])); break;
        case 14: lines.push(pick([`imul${s} ${b}, ${a}`, `imul${s} ${mem()}, ${a}`, `imul${s} $${pick([-1, -0x80000000, 0x7fffffff, 3])}, ${b}, ${a}`])); break;
        case 15: lines.push(`${pick(['mul', 'imul'])}${s} ${rnd(2) ? b : mem()}`); break;
        case 16: {
          // A divisor that is neither 0 nor -1: no #DE (unsigned: rDX 0; signed: rDX the sign of rAX).
          const d = w === 3 ? '%r13' : '%r13d';
          lines.push(`mov ${pick(R64)}, %r13`, `and $-3, %r13`, `or $0x100, %r13`);
          lines.push(...(rnd(2) ? ['xor %edx, %edx', `div${s} ${d}`] : [w === 3 ? 'cqto' : 'cltd', `idiv${s} ${d}`]));
          selfCompare(0); selfCompare(2);
          break;
        }
        case 17: lines.push(pick([`bswap ${a}`, `${pick(['bsf', 'bsr', 'tzcnt', 'lzcnt', 'popcnt'])}${s} ${rnd(2) ? b : mem()}, ${a}`])); break;
        case 18: lines.push(pick([`mov${s} ${a}, ${mem()}`, `mov${s} ${mem()}, ${a}`, `mov${s} $${pick([-1, -0x80000000, 0x7fffffff])}, ${mem()}`, `movb ${pick(R8)}, ${mem()}`, `movw ${mem()}, ${pick(R16)}`])); break;
        case 19: lines.push(`cmov${pick(CC)}${s} ${rnd(2) ? b : mem()}, ${a}`); break;
        case 20: {
          const byte = rnd(2) === 0;
          lines.push(`${pick(['add', 'sub', 'cmp', 'and', 'xor'])}${byte ? 'b' : 'w'} ${pick(IMMS).replace('0x7fffffff', '0x7f').replace('-0x80000000', '-0x80')}, ${rnd(2) ? pick(byte ? R8 : R16) : mem()}`);
          break;
        }
        default: lines.push(`movabs $${edge()}, ${pick(R64)}`);
      }
      // The conditions from the writer's locals (setcc, a jcc inside the loop), read as the interpreter would.
      if (rnd(2) === 0) lines.push(`set${pick(CC)} %r11b`, 'add %r11, %r12', 'rol $5, %r12');
      if (rnd(4) === 0) lines.push(`j${pick(CC)} s${loop}_${k}`, 'add $7, %r12', `s${loop}_${k}:`);
      if (rnd(3) === 0) selfCompare(rnd(8));
    }
    lines.push(rnd(2) ? `cmpq ${pick(R64)}, ${pick(R64)}` : `cmpl ${pick(R32)}, ${pick(R32)}`, `j${pick(CC)} e${loop}`, 'inc %r12', `e${loop}:`, 'sub $1, %r15d', `jne h${loop}`);
  }
  lines.push('hlt');
  return lines.join('\n');
}

test('jit: every translated instruction on values with bit 31 set in both halves matches the interpreter (int32 halves)', (t) => {
  if (!have('as') || !have('objcopy')) { t.skip('GNU as not installed'); return; }
  for (const [seed, chunk] of [[1, 7], [2, 300], [3, 7], [4, 300]]) {
    const code = assembleText(program(seed, 60));
    const before = jitStats.compiled;
    const ms = machines([TIERS.jit, TIERS.regions, TIERS.interpreter], (m) => { m.loadPhysical(CODE, code); highPaging(m); m.cpu.rip = CODE; m.cpu.interruptCheck = false; });
    {
      for (let done = 0; done < 100_000 && !ms.every((m) => m.cpu.halted); done += chunk) {
        const s = ms.map((m) => runChunk(m, chunk));
        assert.equal(s[0], s[2], `seed ${seed}: jit vs interpreter after ${done + chunk} instructions`);
        assert.equal(s[1], s[2], `seed ${seed}: regions vs interpreter after ${done + chunk} instructions`);
        assert.doesNotMatch(s[2], /^fault/, `seed ${seed}: the program does not fault`);
      }
    }
    assert.equal(ms[2].cpu.halted, true, `seed ${seed}: the program ran to its end`);
    assert.ok(jitStats.compiled > before + 20, 'the loops were translated by the JIT');
  }
});
