// The pieces of a translation: one guest instruction's JavaScript (a Piece)
// and Ops, which builds it over the translation's register locals (l<r>/h<r>:
// the halves of guest register r, as int32: see below) with the inline TLB probes of loads
// and stores. translate.ts assembles pieces into a block's function; the
// translators of instruction groups (translateMulDiv.ts, translateBitScan.ts,
// translateMemoryOps.ts) make pieces with Ops too.

import type { Decoded, DecodedOperand, MemOperand } from '../../isa/decode.js';
import { GP, SS } from '../exceptions.js';

export type Reg = Extract<DecodedOperand, { type: 'reg' }>;
export function isReg(o: DecodedOperand | undefined, size: number): o is Reg {
  return o !== undefined && o.type === 'reg' && !o.high8 && o.size === size;
}
export function anyReg(o: DecodedOperand | undefined): o is Reg {
  return o !== undefined && o.type === 'reg';
}

export const LIMIT = 2 ** 47;

/**
 * How an instruction writes the arithmetic flags, i.e. which Flags record the
 * interpreter's execute function makes: add/sub (Flags.set LAZY_ADD/SUB),
 * logic (setLogic), shift (setShift), inc/dec (keepCarry, then set), imul
 * (setImul64 / setMul); and through the interpreter's functions (H): div
 * (divideFlags), scan for bsf/bsr (bitScanFlags), tzcnt lzcnt popcnt
 * (countFlags), rol ror (rotateFlags). A shift or rotate by CL
 * (shiftCount, rolCount, rorCount) changes no flags when the count is 0.
 * All but add, sub, logic and shift keep part of the record before them
 * (that record is made first, for shiftCount only when the count is 0).
 */
export type FlagKind = 'add' | 'sub' | 'logic' | 'shift' | 'shiftCount' | 'inc' | 'dec' | 'imul' | 'mul' | 'div' | 'scan' | 'tzcnt' | 'lzcnt' | 'popcnt' |
  'rol' | 'ror' | 'rolCount' | 'rorCount';
export const KEEPS_PRIOR: ReadonlySet<FlagKind> = new Set<FlagKind>(['shiftCount', 'inc', 'dec', 'imul', 'mul', 'div', 'scan', 'tzcnt', 'lzcnt', 'popcnt',
  'rol', 'ror', 'rolCount', 'rorCount']);

/** One instruction's JS, and what it touches. */
export interface Piece {
  /** The JS; the marker F (in a comment) shows where the flag inputs (locals a aH b bH rL rH, or cf/of, ov, n) are in scope. */
  code: string;
  reads: number[];
  writes: number[];
  /** How it writes the flags (null: it does not). */
  flag: { kind: FlagKind; size: number } | null;
  /** Reads or writes memory: may fault (an exit before it) and, for a store, may hit code (an exit after it). */
  memory: 'load' | 'store' | null;
  /** Not translated: the interpreter's execute function runs it. */
  fallback?: boolean;
  /** Reads condition cc: the marker C (in a comment) stands for the condition, a JS boolean. */
  cc?: number;
}

export function lo(r: number): string { return `l${r}`; }
export function hi(r: number): string { return `h${r}`; }

/**
 * Every 32-bit value of a translation (register halves, operands, results, the
 * flag locals) is held as an int32, the same 32 bits read as signed (`| 0`, not
 * `>>> 0`): V8 keeps an int32 in an integer register in every tier, across loop
 * phis and in its baseline and OSR code, where a uint32 of 2^31 or more becomes a
 * double or a newly allocated heap number. cpu.regs and memory are Uint32Arrays
 * (a store wraps an int32 to the same bits); the Flags record, which compares its
 * values as uint32, gets them `>>> 0` (translate.ts's recordFlags).
 */
export function mask(size: number): string {
  return size === 8 ? ' & 255' : size === 16 ? ' & 65535' : ' | 0';
}

/**
 * JS for `a < b` on the unsigned 32-bit numbers with the bits of int32 a and b:
 * each with its top bit flipped compares as signed in the same order (integer
 * operations only, unlike `(a >>> 0) < (b >>> 0)`, which V8's lower tiers do on doubles).
 */
export function below(a: string, b: string): string {
  return `(${flip(a)} < ${flip(b)})`;
}

/** Unsigned a <= b, as below. */
export function belowOrEqual(a: string, b: string): string {
  return `(${flip(a)} <= ${flip(b)})`;
}

/**
 * JS for the carry (0 or 1) out of the 32-bit sum r = a + b, and the borrow out of r = a - b, from
 * the top bits of a, b and r (Hacker's Delight 2-13). Bit operations, not a comparison: V8 makes
 * `c ? 1 : 0` a branch, which the host CPU mispredicts on random carries (on a hash loop, twice
 * the time of the whole add).
 */
export function carry(a: string, b: string, r: string): string {
  return `(((${a} & ${b}) | ((${a} | ${b}) & ~${r})) >>> 31)`;
}
export function borrow(a: string, b: string, r: string): string {
  return `(((~${a} & ${b}) | (~(${a} ^ ${b}) & ${r})) >>> 31)`;
}

function flip(v: string): string {
  return /^-?\d+$/.test(v) ? String(Number(v) ^ -0x80000000) : `(${v} ^ -0x80000000)`;
}

/**
 * JS that moves RSP (l4/h4) by `n` bytes (-8 for a push or call, 8 to 8 + 65535 for a pop or
 * ret) with integer operations only: the carry or borrow into the high half from an unsigned
 * comparison of the low half, as semantics.ts's 64-bit add/sub (a double sum and Math.floor
 * cost V8 conversions between integer and float registers).
 */
export function moveRsp(n: number): string {
  return n < 0 ? `{ const t = (l4 - ${-n}) | 0; if (${below('l4', String(-n))}) h4 = (h4 - 1) | 0; l4 = t; }`
    : `{ const t = (l4 + ${n}) | 0; if (${below('t', 'l4')}) h4 = (h4 + 1) | 0; l4 = t; }`;
}

/**
 * base + index * scale + disp (mod 2^64, as Cpu.eaRaw's double sum) with integer operations only:
 * `code` declares the partial sums of the low half (consts named `${p}0`, `${p}1`, ...), `lo` and
 * `hi` are the result's int32 halves. The high half adds the index's high half shifted, the bits
 * the scale shifts out of the index's low half (a carry of up to 7), the carry of each low-half
 * addition (from the top bits: `carry`), and -1 for a negative displacement. (base, index: -1
 * for none; scale 1, 2, 4 or 8; disp a signed 32-bit number.)
 */
export function addressSum(p: string, base: number, index: number, scale: number, disp: number): { code: string; lo: string; hi: string } {
  let code = '', low = '', n = 0;
  const high: string[] = [];
  const partial = (expr: string): string => { const v = `${p}${n++}`; code += `const ${v} = ${expr}; `; return v; };
  if (index >= 0) {
    const k = Math.log2(scale);
    if (k === 0) { low = lo(index); high.push(hi(index)); }
    else { low = partial(`${lo(index)} << ${k}`); high.push(`(${hi(index)} << ${k})`, `(${lo(index)} >>> ${32 - k})`); }
  }
  if (base >= 0) {
    if (low === '') low = lo(base);
    else { const v = partial(`(${lo(base)} + ${low}) | 0`); high.push(carry(lo(base), low, v)); low = v; }
    high.push(hi(base));
  }
  if (disp !== 0) {
    if (low === '') { low = String(disp | 0); if (disp < 0) high.push('-1'); }
    // A negative displacement: its 32 bits added (the carry), and -1 into the high half.
    else { const v = partial(`(${low} + ${disp}) | 0`); high.push(carry(low, String(disp), v)); if (disp < 0) high.push('-1'); low = v; }
  }
  if (low === '') low = '0';
  return { code, lo: low, hi: high.length === 0 ? '0' : high.length === 1 && /^h\d+$/.test(high[0]) ? high[0] : `(${high.join(' + ')}) | 0` };
}

/** JS for the linear address (a double) of the canonical 64-bit value with int32 halves l, h: the low half read as unsigned. */
export function linear(l: string, h: string): string {
  return `${h} * 4294967296 + (${l} >>> 0)`;
}

/** Whether this host keeps a 32-bit word's low byte first, as x86 memory does (then MW, the words of memory, can be used). */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * A 32/64-bit access at physical p: a 4-byte aligned one through the memory's
 * Uint32Array (MW), faster in V8 than the DataView (measured on the bench), the
 * others through the DataView (MV).
 */
function aligned(words: string, view: string): string {
  return LITTLE_ENDIAN ? `if ((p & 3) === 0) { ${words} } else { ${view} }` : view;
}

/** Operand reads and register writes of one instruction, as JS over the locals. */
export class Ops {
  reads: number[] = [];
  writes: number[] = [];
  memory: 'load' | 'store' | null = null;
  /** The probe cache of the next access (its address's base register; see probe). */
  private cache = 17;
  /** The canonical check of the next access's address, when address() left it to the probe. */
  private check = '';
  constructor(readonly d: Decoded, readonly next: number) {}

  /** A register's value at its size: [lo, hi] expressions. */
  reg(o: Reg): [string, string] {
    this.reads.push(o.reg);
    const L = lo(o.reg);
    switch (o.size) {
      case 8: return [o.high8 ? `((${L} >>> 8) & 255)` : `(${L} & 255)`, '0'];
      case 16: return [`(${L} & 65535)`, '0'];
      case 32: return [L, '0'];
      default: return [L, hi(o.reg)];
    }
  }

  /** Write a register as the interpreter's setReg does (8/16 merge, 32 zero-extends). */
  setReg(o: Reg, vl: string, vh: string): string {
    const L = lo(o.reg), H = hi(o.reg);
    this.writes.push(o.reg);
    switch (o.size) {
      case 8:
        this.reads.push(o.reg);
        return o.high8 ? `${L} = (${L} & 0xffff00ff) | ((${vl} & 255) << 8);` : `${L} = (${L} & 0xffffff00) | (${vl} & 255);`;
      case 16:
        this.reads.push(o.reg);
        return `${L} = (${L} & 0xffff0000) | (${vl} & 65535);`;
      case 32: return `${L} = ${vl}; ${H} = 0;`;
      default: return `${L} = ${vl}; ${H} = ${vh};`;
    }
  }

  /**
   * The linear address of a memory operand into const A, as Cpu.ea computes it
   * (base + displacement: its fast path's one double sum; with an index:
   * Cpu.eaRaw's halves, by integer operations (addressSum), then the canonical check). Null for fs/gs and 32-bit addressing.
   * For base + displacement the canonical check (#GP, or #SS for an SS reference) is
   * left to the next load or store's probe, before its TLB lookup: an address inside
   * a page that a probe cache holds is canonical (that page's probe checked it).
   */
  address(mem: MemOperand): string | null {
    const d = this.d;
    if (mem.segment === 4 || mem.segment === 5 || d.prefixes.addrsize32) return null;
    this.cache = mem.base >= 0 ? mem.base : 17;
    const fault = `throw new Fault(${mem.segment === 2 ? SS : GP}, 0, 'non-canonical address');`;
    if (mem.index >= 0) {
      if (mem.base === 16) return null;
      this.reads.push(mem.index);
      if (mem.base >= 0) this.reads.push(mem.base);
      this.check = '';
      const e = addressSum('e', mem.base, mem.index, mem.scale, mem.disp);
      return `${e.code}const eL = ${e.lo}, eH = ${e.hi}; if (!canonical(eL, eH)) ${fault} const A = signedLinear(eL, eH);`;
    }
    let a: string;
    if (mem.base === 16) a = `s + ${this.next + mem.disp}`;
    else if (mem.base >= 0) { a = `${linear(lo(mem.base), hi(mem.base))} + ${mem.disp}`; this.reads.push(mem.base); }
    else a = String(mem.disp);
    this.check = `if (A < -${LIMIT} || A >= ${LIMIT}) ${fault}`;
    return `const A = ${a};`;
  }

  /**
   * A stack access at A (push, pop, call, ret): the next load or store uses RSP's
   * probe cache, and its probe checks A is canonical (#SS) before the TLB lookup.
   */
  stack(): void {
    this.cache = 4;
    this.check = `if (A < -${LIMIT} || A >= ${LIMIT}) throw new Fault(${SS}, 0, 'non-canonical stack address');`;
  }

  /**
   * The data TLB probe of an access of `bytes` bytes at A, for a read (Cpu.translateRead's
   * table) or a write (translateWrite's; a store also needs a page without decoded code):
   * `fast` runs with the physical address in p, `slow` (Cpu.readMem / writeMem) otherwise.
   *
   * Probe caches: each base register (16: RIP, 17: none) has a read and a write cache
   * in locals, the linear page its last probe hit (rp<k>/wp<k>, NaN: none) and that
   * page's frame minus it (ro<k>/wo<k>), so an access inside that page again (stack
   * spills, pushes and pops, [reg+disp] runs, loop rounds) costs two compares. A cache
   * only holds a page the CPU's data TLB holds: it is filled from a TLB hit, and
   * every slow-path access and every interpreter call inside the translation (the
   * only things that can fill, evict or drop TLB entries there: paging, CPL, data
   * breakpoints and code pages only change at instructions after which the translation
   * leaves) resets all caches (the marker MC, see probeCaches). So every access does what
   * the interpreter's would: the same TLB hits, the same walks (accessed/dirty bits,
   * #PF), the same code-page and breakpoint checks (with a watching readMem/writeMem the
   * tag table never hits, so no cache is ever filled).
   */
  private probe(bytes: number, write: boolean, fast: string, slow: string): string {
    const k = this.cache, c = write ? 'w' : 'r', lim = 4096 - bytes;
    const page = `${c}p${k}`, off = `${c}o${k}`;
    const [T, Fr] = write ? ['WT', 'WFr'] : ['RT', 'RFr'];
    const code = write ? ' && CODE[f >>> 12] === 0' : '';
    return `if (A >= ${page} && A <= ${page} + ${lim}) { const p = A + ${off}; ${fast} } else { ${this.check} ` +
      `const o = A & 4095, pg = (A - o) / 4096, sl = pg & 63, f = ${Fr}[sl]; ` +
      `if (${T}[sl] === pg * 4 + cpl && o <= ${lim} && f < MS${code}) { ${page} = A - o; ${off} = f - ${page}; const p = f + o; ${fast} } ` +
      `else { ${slow} /*MC*/ } }`;
  }

  /**
   * A load of `size` bits at A into `let v, vh`: the data TLB probed inline
   * (Cpu.translateRead's table), the rest (a miss, a page crossing, data
   * breakpoints, unbacked memory) through Cpu.readMem.
   */
  load(size: number, v: string, vh: string): string {
    this.memory = 'load';
    let fast: string;
    switch (size) {
      case 8: fast = `${v} = MB[p];`; break;
      case 16: fast = `${v} = MV.getUint16(p, true);`; break;
      case 32: fast = aligned(`${v} = MW[p >>> 2] | 0;`, `${v} = MV.getInt32(p, true);`); break;
      default: fast = aligned(`const q = p >>> 2; ${v} = MW[q] | 0; ${vh} = MW[q + 1] | 0;`, `${v} = MV.getInt32(p, true); ${vh} = MV.getInt32(p + 4, true);`);
    }
    const slow = `${v} = cpu.readMem(A, ${size})${size >= 32 ? ' | 0' : ''};${size === 64 ? ` ${vh} = cpu.hi | 0;` : ''}`;
    return `let ${v} = 0, ${vh} = 0; ${this.probe(size >>> 3, false, fast, slow)}`;
  }

  /** A store of `size` bits at A: inline TLB probe, a page with decoded code or anything unusual through Cpu.writeMem. */
  store(size: number, vl: string, vh: string): string {
    this.memory = 'store';
    let fast: string;
    switch (size) {
      case 8: fast = `MB[p] = ${vl};`; break;
      case 16: fast = `MV.setUint16(p, ${vl}, true);`; break;
      case 32: fast = aligned(`MW[p >>> 2] = ${vl};`, `MV.setUint32(p, ${vl}, true);`); break;
      default: fast = aligned(`const q = p >>> 2; MW[q] = ${vl}; MW[q + 1] = ${vh};`, `MV.setUint32(p, ${vl}, true); MV.setUint32(p + 4, ${vh}, true);`);
    }
    // The slow path's values as uint32, as the interpreter passes them (a device's write may see them).
    const slow = size >= 32 ? `cpu.writeMem(A, ${size}, ${vl} >>> 0, ${vh} >>> 0);` : `cpu.writeMem(A, ${size}, ${vl}, ${vh});`;
    return `{ ${this.probe(size >>> 3, true, fast, slow)} }`;
  }

  /** Any source operand (register, immediate, memory) at `size`: code before, and [lo, hi]. */
  source(o: DecodedOperand, size: number): { pre: string; v: [string, string] } | null {
    if (o.type === 'reg') return { pre: '', v: this.reg(o) };
    if (o.type === 'imm') {
      const m = size === 8 ? 0xff : size === 16 ? 0xffff : 0xffffffff;
      return { pre: '', v: [String(o.lo & m), size === 64 ? String(o.hi | 0) : '0'] };
    }
    if (o.type === 'mem') {
      const ea = this.address(o);
      if (ea === null) return null;
      return { pre: `${ea} ${this.load(size, 'm', 'mH')}`, v: ['m', size === 64 ? 'mH' : '0'] };
    }
    return null;
  }

  piece(code: string, flag: Piece['flag'] = null): Piece {
    return { code, reads: this.reads, writes: this.writes, flag, memory: this.memory };
  }

  /** An instruction that reads condition cc (setcc, cmovcc). */
  conditional(code: string, cc: number): Piece {
    return { ...this.piece(code), cc };
  }

}

/**
 * A translation's text with its probe caches (Ops.probe) made real: the
 * declarations of the cache locals it uses (for the function's head), and every
 * marker MC (after a slow-path access or an interpreter call) resetting them all.
 *
 * The caches also live on from one call to the next, in the translation's own
 * Float64Array PC (declared by `outer`, once per translation): PC[0] the key
 * they were saved under (Cpu.probeEpoch * 4 + CPL), then each local. At the
 * marker SC (the epilogue of the normal exits) they are saved with the key of
 * that moment, which is right because every cache the call holds then is one
 * of the data TLB's entries then (the invariant above). The head loads them
 * only if the key is still the same: nothing since has replaced or dropped a
 * TLB entry, switched a data breakpoint or given a page code (each bumps the
 * epoch) and the CPL (the tags' low bits) is the same. Exits that don't save
 * (a fault's catch: a slow path or interpreter call may have changed the TLB
 * before it threw, with no reset after) leave the older saved pair, still
 * consistent: its caches were entries of the TLB at its key.
 */
export function probeCaches(text: string): { text: string; declare: string; outer: string } {
  const names = [...new Set([...text.matchAll(/\b([rw][po]\d+) = /g)].map((m) => m[1]))].sort();
  const pages = names.filter((n) => n[1] === 'p');
  const reset = pages.length ? `${pages.join(' = ')} = NaN;` : '';
  if (names.length === 0) return { text: text.replaceAll('/*MC*/', '').replaceAll('/*SC*/ ', ''), declare: '', outer: '' };
  const save = `PC[0] = cpu.probeEpoch * 4 + cpl; ${names.map((n, i) => `PC[${i + 1}] = ${n};`).join(' ')}`;
  return {
    text: text.replaceAll('/*MC*/', reset).replaceAll('/*SC*/ ', `${save} `),
    declare: `let ${names.map((n) => `${n} = ${n[1] === 'p' ? 'NaN' : '0'}`).join(', ')};\n` +
      `if (PC[0] === cpu.probeEpoch * 4 + cpl) { ${names.map((n, i) => `${n} = PC[${i + 1}];`).join(' ')} }`,
    outer: `const PC = new Float64Array(${names.length + 1}).fill(NaN);`,
  };
}
