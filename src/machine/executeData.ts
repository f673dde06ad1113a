// Data movement and miscellany: mov (including moffs), movzx movsx movsxd,
// lea, xchg, cmovcc, push pop leave enter, lahf sahf, the flag instructions,
// nop forms, fences, cpuid, rdtsc, ud2.

import type { DecodedOperand, MoffsOperand } from '../isa/decode.js';
import { isCanonical, toSignedLinear } from './address.js';
import type { Cpu } from './cpu.js';
import type { Exec } from './decodeCache.js';
import { CpuFault, GP, UD } from './exceptions.js';
import { AF, CF, DF, PF, SF, ZF } from './flags.js';
import { signed } from './executeArithmetic.js';

const TWO_32 = 0x100000000;
const SEG_FS = 4, SEG_GS = 5;

/** Linear address of a moffs operand (64-bit absolute; fs/gs add their base). */
function moffsAddress(cpu: Cpu, m: MoffsOperand): number {
  let lo = m.lo, hi = m.hi;
  if (m.segment === SEG_FS || m.segment === SEG_GS) {
    const base = m.segment === SEG_FS ? cpu.fsBase : cpu.gsBase;
    const sum = lo + (base >>> 0);
    lo = sum >>> 0;
    hi = (hi + Math.floor(base / TWO_32) + Math.floor(sum / TWO_32)) >>> 0;
  }
  if (!isCanonical(lo, hi)) throw new CpuFault(GP, 0, 'non-canonical address');
  return toSignedLinear(lo, hi);
}

function regOf(op: DecodedOperand): number {
  return (op as { reg: number }).reg;
}

const mov: Exec = (cpu, d) => {
  const dst = d.operands[0], src = d.operands[1];
  let lo: number, hi = 0;
  if (src.type === 'moffs') {
    lo = cpu.readMem(moffsAddress(cpu, src), src.size);
    hi = cpu.hi;
  } else {
    lo = cpu.readOp(src, d);
    hi = cpu.hi;
  }
  if (dst.type === 'moffs') cpu.writeMem(moffsAddress(cpu, dst), dst.size, lo, hi);
  else cpu.writeOp(dst, d, lo, d.opsize === 64 ? hi : 0, false);
};

const movzx: Exec = (cpu, d) => {
  const v = cpu.readOp(d.operands[1], d);
  cpu.setReg(regOf(d.operands[0]), d.opsize, false, v, 0);
};

const movsx: Exec = (cpu, d) => {
  const src = d.operands[1];
  const v = signed(cpu.readOp(src, d), (src as { size: number }).size);
  const size = d.opsize;
  cpu.setReg(regOf(d.operands[0]), size, false, size === 16 ? v & 0xffff : v >>> 0, v < 0 ? 0xffffffff : 0);
};

const lea: Exec = (cpu, d) => {
  const m = d.operands[1];
  if (m.type !== 'mem') throw new CpuFault(UD, undefined, 'lea needs a memory operand');
  cpu.eaRaw(m, d.prefixes.addrsize32);
  const size = d.opsize;
  cpu.setReg(regOf(d.operands[0]), size, false, size === 16 ? cpu.eaLo & 0xffff : cpu.eaLo, cpu.eaHi);
};

/** xchg: with a memory operand the memory is written first (it may fault); LOCK is implied and harmless here. */
const xchg: Exec = (cpu, d) => {
  const x = d.operands[0], y = d.operands[1];
  const size = d.opsize;
  const a = cpu.readOp(x, d);
  const aHi = size === 64 ? cpu.hi : 0;
  const b = cpu.readOp(y, d);
  const bHi = size === 64 ? cpu.hi : 0;
  cpu.writeOp(x, d, b, bHi, true);
  cpu.writeOp(y, d, a, aHi, true);
};

/** cmovcc: the source is always read (it may fault); a 32-bit destination is zero-extended even when the condition is false. */
const cmovcc: Exec = (cpu, d) => {
  const size = d.opsize;
  const v = cpu.readOp(d.operands[1], d);
  const hi = cpu.hi;
  const r = regOf(d.operands[0]);
  if (cpu.flags.condition(d.form!.cc)) cpu.setReg(r, size, false, v, hi);
  else if (size === 32) cpu.regs[2 * r + 1] = 0;
};

// -------------------------------------------------------------------- stack

const push: Exec = (cpu, d) => {
  const size = d.opsize;
  const v = cpu.readOp(d.operands[0], d);
  cpu.push(size, v, size === 64 ? cpu.hi : 0);
};

/** pop: a memory destination's address is computed with RSP already incremented (SDM); a fault restores RSP. */
const pop: Exec = (cpu, d) => {
  const size = d.opsize;
  const dst = d.operands[0];
  const v = cpu.peek(size);
  const hi = size === 64 ? cpu.hi : 0;
  const oldLo = cpu.regs[8], oldHi = cpu.regs[9];
  cpu.adjustRsp(size >>> 3);
  try {
    cpu.writeOp(dst, d, v, hi, false);
  } catch (e) {
    cpu.regs[8] = oldLo; cpu.regs[9] = oldHi;
    throw e;
  }
};

/** leave: RSP = RBP, then pop RBP (with a 66 prefix: pop 16 bits into BP). */
const leave: Exec = (cpu, d) => {
  const regs = cpu.regs;
  const bpLo = regs[10], bpHi = regs[11];
  if (!isCanonical(bpLo, bpHi)) throw new CpuFault(12, 0, 'non-canonical stack address');
  const size = d.opsize === 16 ? 16 : 64;
  const v = cpu.readMem(toSignedLinear(bpLo, bpHi), size);
  const hi = cpu.hi;
  regs[8] = bpLo; regs[9] = bpHi;
  cpu.adjustRsp(size >>> 3);
  cpu.setReg(5, size, false, v, hi);
};

/** enter size, level: push RBP, copy `level - 1` outer frame pointers, push the new frame pointer, reserve `size` bytes. */
const enter: Exec = (cpu, d) => {
  const regs = cpu.regs;
  const alloc = (d.operands[0] as { lo: number }).lo & 0xffff;
  const level = (d.operands[1] as { lo: number }).lo & 31;
  const saved = regs.slice(8, 12);
  try {
    cpu.push(64, regs[10], regs[11]);
    const frameLo = regs[8], frameHi = regs[9];
    if (level > 0) {
      let bpLo = regs[10], bpHi = regs[11];
      for (let i = 1; i < level; i++) {
        const s = bpLo - 8;
        bpLo = s >>> 0; bpHi = (bpHi + Math.floor(s / TWO_32)) >>> 0;
        if (!isCanonical(bpLo, bpHi)) throw new CpuFault(12, 0, 'non-canonical stack address');
        const v = cpu.readMem(toSignedLinear(bpLo, bpHi), 64);
        cpu.push(64, v, cpu.hi);
      }
      cpu.push(64, frameLo, frameHi);
    }
    regs[10] = frameLo; regs[11] = frameHi;
    cpu.adjustRsp(-alloc);
  } catch (e) {
    regs.set(saved, 8);
    throw e;
  }
};

// -------------------------------------------------------------------- flags

const LAHF_BITS = SF | ZF | AF | PF | CF;

const lahf: Exec = (cpu) => cpu.setReg(0, 8, true, (cpu.flags.get() & LAHF_BITS) | 2, 0);
const sahf: Exec = (cpu) => {
  const f = cpu.flags;
  f.materialize();
  f.bits = (f.bits & ~LAHF_BITS) | ((cpu.regs[0] >>> 8) & LAHF_BITS);
};

function flagOp(fn: (bits: number) => number): Exec {
  return (cpu) => {
    const f = cpu.flags;
    f.materialize();
    f.bits = fn(f.bits);
  };
}

// ------------------------------------------------------------ miscellaneous

const nothing: Exec = () => {};

/**
 * cpuid: a fixed, documented processor. Vendor "xkMachineCPU"; leaf 1 reports
 * family 6, in EDX only TSC (bit 4), CX8 (bit 8) and CMOV (bit 15) — no FPU,
 * MMX, SSE or anything else — and in ECX POPCNT (bit 23). Leaf 7 reports BMI1
 * (EBX bit 3: tzcnt). Extended leaf 0x80000001 reports LZCNT (ECX bit 5), NX
 * (EDX bit 20) and long mode (EDX bit 29). Unknown leaves return zeros.
 */
const cpuid: Exec = (cpu) => {
  const leaf = cpu.regs[0];
  let a = 0, b = 0, c = 0, dx = 0;
  const text = (s: string) => s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24);
  switch (leaf) {
    case 0: a = 7; b = text('xkMa'); dx = text('chin'); c = text('eCPU'); break;
    case 1: a = 0x00000600; dx = (1 << 4) | (1 << 8) | (1 << 15); c = 1 << 23; break;
    case 7: if (cpu.regs[2] === 0) b = 1 << 3; break;
    case 0x80000000: a = 0x80000001; break;
    case 0x80000001: c = 1 << 5; dx = (1 << 20) | (1 << 29); break;
  }
  cpu.setReg(0, 32, false, a >>> 0, 0);
  cpu.setReg(3, 32, false, b >>> 0, 0);
  cpu.setReg(1, 32, false, c >>> 0, 0);
  cpu.setReg(2, 32, false, dx >>> 0, 0);
};

/** rdtsc: the retired-instruction count, so runs are deterministic. */
const rdtsc: Exec = (cpu) => {
  const n = cpu.instructionCount;
  cpu.setReg(0, 32, false, n >>> 0, 0);
  cpu.setReg(2, 32, false, Math.floor(n / TWO_32) >>> 0, 0);
};

const ud2: Exec = () => {
  throw new CpuFault(UD, undefined, 'ud2');
};

export const DATA_HANDLERS: [string, Exec][] = [
  ['mov', mov],
  ['movzx', movzx], ['movsx', movsx], ['movsxd', movsx],
  ['lea', lea],
  ['xchg', xchg],
  ['cmovcc', cmovcc],
  ['push', push], ['pop', pop], ['leave', leave], ['enter', enter],
  ['lahf', lahf], ['sahf', sahf],
  ['clc', flagOp((b) => b & ~CF)], ['stc', flagOp((b) => b | CF)], ['cmc', flagOp((b) => b ^ CF)],
  ['cld', flagOp((b) => b & ~DF)], ['std', flagOp((b) => b | DF)],
  ['nop', nothing], ['pause', nothing], ['endbr64', nothing],
  ['mfence', nothing], ['lfence', nothing], ['sfence', nothing],
  ['cpuid', cpuid], ['rdtsc', rdtsc], ['ud2', ud2],
];
