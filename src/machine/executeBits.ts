// Bit instructions: bt bts btr btc, bsf bsr, bswap.
//
// bt* with a register bit offset and a memory operand address a bit STRING:
// the offset is signed and may reach outside the operand, so the address moves
// by (offset >> log2(size)) * size/8 and the bit is offset mod size. With an
// immediate offset, or a register destination, the offset is taken mod size.

import type { Decoded } from '../isa/decode.js';
import type { Cpu } from './cpu.js';
import type { Exec } from './decodeCache.js';
import { CpuFault, GP } from './exceptions.js';
import { AF, CF, OF, PF, SF, ZF, parityOf, type Flags } from './flags.js';

const BT = 0, BTS = 1, BTR = 2, BTC = 3;
const TWO_32 = 0x100000000;

/** Only CF changes (the SDM leaves OF SF AF PF undefined; they are left unchanged here). */
function setCf(cpu: Cpu, cf: number): void {
  const f = cpu.flags;
  f.materialize();
  f.bits = (f.bits & ~CF) | (cf ? CF : 0);
}

function bitTest(kind: number): Exec {
  return (cpu: Cpu, d: Decoded) => {
    const dst = d.operands[0], src = d.operands[1];
    const size = d.opsize;
    let offset = cpu.readOp(src, d);
    const offsetHi = size === 64 ? cpu.hi : 0;
    let addr = 0;
    if (dst.type === 'mem' && src.type === 'reg') {
      // Bit string: signed offset (as a double; values beyond 2^53 leave the canonical range anyway).
      const soff = size === 64 ? (offsetHi | 0) * TWO_32 + offset : size === 32 ? offset | 0 : (offset << 16) >> 16;
      const unit = Math.floor(soff / size);
      const base = cpu.ea(dst, d);
      addr = base + unit * (size / 8);
      if (addr < -(2 ** 47) || addr >= 2 ** 47 || !Number.isSafeInteger(addr)) throw new CpuFault(GP, 0, 'bit string outside the canonical range');
      offset = soff - unit * size;
    } else {
      offset &= size - 1;
      if (dst.type === 'mem') addr = cpu.ea(dst, d);
    }
    let lo: number, hi = 0;
    if (dst.type === 'mem') {
      lo = cpu.readMem(addr, size);
      if (size === 64) hi = cpu.hi;
    } else {
      lo = cpu.getReg((dst as { reg: number }).reg, size, false);
      if (size === 64) hi = cpu.hi;
    }
    const inHi = offset >= 32;
    const m = 1 << (offset & 31);
    const word = inHi ? hi : lo;
    const old = (word >>> (offset & 31)) & 1;
    if (kind !== BT) {
      let w = kind === BTS ? word | m : kind === BTR ? word & ~m : word ^ m;
      w >>>= 0;
      if (size < 32) w &= (1 << size) - 1;
      if (inHi) hi = w; else lo = w;
      if (dst.type === 'mem') cpu.writeMem(addr, size, lo, hi);
      else cpu.setReg((dst as { reg: number }).reg, size, false, lo, hi);
    }
    setCf(cpu, old);
  };
}

/** The index of the lowest set bit of hi:lo (bsf, tzcnt), or -1 for 0. */
export function lowestSetBit(lo: number, hi: number): number {
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  return hi !== 0 ? 63 - Math.clz32(hi & -hi) : -1;
}

/** The index of the highest set bit of hi:lo (bsr), or -1 for 0. */
export function highestSetBit(lo: number, hi: number): number {
  if (hi !== 0) return 63 - Math.clz32(hi);
  return lo !== 0 ? 31 - Math.clz32(lo) : -1;
}

/**
 * bsf/bsr's flags for a result `index` (-1: a zero source). A zero source
 * sets ZF and leaves the destination unchanged (what Intel and AMD processors
 * do; the SDM says undefined). CF OF SF AF PF are undefined in the SDM; xk does
 * what the oracle's host CPU (AMD) does: CF OF SF AF cleared, PF the parity of
 * the result index (of 0 for a zero source).
 */
export function bitScanFlags(f: Flags, index: number): void {
  f.materialize();
  const keep = f.bits & ~(CF | PF | AF | ZF | SF | OF);
  f.bits = index < 0 ? keep | ZF | PF : keep | parityOf(index);
}

function bitScan(reverse: boolean): Exec {
  return (cpu: Cpu, d: Decoded) => {
    const dst = d.operands[0];
    const size = d.opsize;
    const lo = cpu.readOp(d.operands[1], d);
    const hi = size === 64 ? cpu.hi : 0;
    const index = reverse ? highestSetBit(lo, hi) : lowestSetBit(lo, hi);
    if (index >= 0 && dst.type === 'reg') cpu.setReg(dst.reg, size, false, index, 0);
    bitScanFlags(cpu.flags, index);
  };
}

export type BitCount = 'tzcnt' | 'lzcnt' | 'popcnt';

/** tzcnt / lzcnt / popcnt of a `size`-bit source hi:lo (16 bits: lo masked by the caller). */
export function countBits(kind: BitCount, lo: number, hi: number, size: number): number {
  if (kind === 'popcnt') return bitCount(lo) + bitCount(hi);
  if (kind === 'tzcnt') return (lo | hi) === 0 ? size : lowestSetBit(lo, hi);
  if (size === 64) return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
  return Math.clz32(lo) - (32 - size);
}

/**
 * The flags of tzcnt / lzcnt: CF = (source = 0), ZF = (result = 0). OF SF AF
 * PF are undefined in the SDM; xk does what the oracle's host CPU (AMD) does:
 * SF AF PF cleared, OF unchanged. popcnt: ZF = (source = 0), CF OF SF AF PF
 * cleared. `n` is the count, of a `size`-bit source.
 */
export function countFlags(f: Flags, kind: BitCount, n: number, size: number): void {
  f.materialize();
  if (kind === 'popcnt') {
    f.bits = (f.bits & ~(CF | PF | AF | ZF | SF | OF)) | (n === 0 ? ZF : 0);
  } else {
    const srcZero = n === size; // only a zero source counts all `size` bits
    f.bits = (f.bits & ~(CF | ZF | SF | AF | PF)) | (srcZero ? CF : 0) | (n === 0 ? ZF : 0);
  }
}

function count(kind: BitCount): Exec {
  return (cpu: Cpu, d: Decoded) => {
    const dst = d.operands[0];
    const size = d.opsize;
    let lo = cpu.readOp(d.operands[1], d);
    const hi = size === 64 ? cpu.hi : 0;
    if (size === 16) lo &= 0xffff;
    const n = countBits(kind, lo, hi, size);
    cpu.setReg((dst as { reg: number }).reg, size, false, n, 0);
    countFlags(cpu.flags, kind, n, size);
  };
}

function bitCount(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

const bswap: Exec = (cpu, d) => {
  const r = d.operands[0];
  if (r.type !== 'reg') return;
  const swap = (v: number) => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
  if (d.opsize === 64) {
    const lo = cpu.regs[2 * r.reg], hi = cpu.regs[2 * r.reg + 1];
    cpu.setReg(r.reg, 64, false, swap(hi), swap(lo));
  } else {
    cpu.setReg(r.reg, 32, false, swap(cpu.regs[2 * r.reg]), 0);
  }
};

export const BIT_HANDLERS: [string, Exec][] = [
  ['bt', bitTest(BT)], ['bts', bitTest(BTS)], ['btr', bitTest(BTR)], ['btc', bitTest(BTC)],
  ['bsf', bitScan(false)], ['bsr', bitScan(true)],
  ['bswap', bswap],
  ['tzcnt', count('tzcnt')], ['lzcnt', count('lzcnt')], ['popcnt', count('popcnt')],
];
