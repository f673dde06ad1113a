// The instruction decoder: bytes -> Decoded, driven only by FORMS in table.ts.
//
// An x86-64 instruction is, in order:
//   legacy prefixes (66 67 F0 F2 F3 and segment overrides, any order, any number)
//   REX (40..4F; only counts when it is the last byte before the opcode)
//   opcode (1 byte, or 0F xx, 0F 38 xx, 0F 3A xx)
//   ModRM, SIB, displacement (when the form has a ModRM byte)
//   immediates (in operand order)
// and is at most 15 bytes long.
//
// The lookup tables below are built once when the module loads; decode() itself
// only indexes arrays. It runs once per new instruction address (the CPU caches
// the result), so it avoids regexes, BigInt and needless allocation.

import { FORMS } from './table.js';
import type { Form, Size } from './table.js';

/** Longest legal instruction; a longer one raises #GP(0). */
export const MAX_INSTRUCTION_LENGTH = 15;

/** Operand number 16 in a memory operand's `base` means RIP-relative. */
export const BASE_RIP = 16;

/** Segment register numbers (the order of the sreg field): es cs ss ds fs gs. */
export const SEG_ES = 0, SEG_CS = 1, SEG_SS = 2, SEG_DS = 3, SEG_FS = 4, SEG_GS = 5;

export interface RegOperand {
  type: 'reg';
  /** Hardware register number 0..15. With high8, 0..3 mean ah, ch, dh, bh. */
  reg: number;
  size: Size;
  high8: boolean;
}

export interface MemOperand {
  type: 'mem';
  /** Base register 0..15, BASE_RIP (16) for RIP-relative, or -1 for none. */
  base: number;
  /** Index register 0..15 or -1 for none. */
  index: number;
  scale: 1 | 2 | 4 | 8;
  /** Displacement, sign-extended from 8 or 32 bits (0 when absent). */
  disp: number;
  /** Size of the access in bits; 0 when not applicable (lea, lgdt, invlpg). */
  size: 0 | Size;
  /** Effective segment: the override prefix if any, else SS for an rsp/rbp base, else DS. */
  segment: number;
  /** Encoded displacement width: 0, 8 or 32 bits (the disassembler prints an explicit 0x0 for 8/32). */
  dispSize: 0 | 8 | 32;
  /** The raw SIB byte, or -1 when there is none. */
  sib: number;
}

export interface ImmOperand {
  type: 'imm';
  /** Low and high 32 bits (uint32) of the value, already extended to `size`. */
  lo: number;
  hi: number;
  size: Size;
}

export interface RelOperand {
  type: 'rel';
  /** Signed displacement; the target is the next instruction's RIP + disp. */
  disp: number;
}

export interface MoffsOperand {
  type: 'moffs';
  /** The 64-bit absolute address as uint32 halves (hi = 0 with a 67 prefix). */
  lo: number;
  hi: number;
  /** Size of the access in bits. */
  size: Size;
  /** Effective segment (override or DS). */
  segment: number;
}

export interface CregOperand { type: 'creg'; reg: number }
export interface SregOperand { type: 'sreg'; reg: number }
export interface DregOperand { type: 'dreg'; reg: number }

export type DecodedOperand = RegOperand | MemOperand | ImmOperand | RelOperand | MoffsOperand | CregOperand | SregOperand | DregOperand;

export interface DecodedPrefixes {
  lock: boolean;
  /** Last F2/F3 prefix seen (0 if none, or if it was consumed as a mandatory prefix). */
  rep: 0 | 0xf2 | 0xf3;
  /** Segment override prefix: -1 or 0..5 (es cs ss ds fs gs). */
  segment: number;
  /** A 66 prefix was present (and not consumed as a mandatory prefix). */
  opsize16: boolean;
  /** A 67 prefix was present: addresses are 32 bits. */
  addrsize32: boolean;
  /** The REX byte that took effect (0x40..0x4f), or 0. */
  rex: number;
}

/** Why an instruction is invalid: 0 = valid, 6 = #UD, 13 = #GP(0) (longer than 15 bytes). */
export type DecodeFault = 0 | 6 | 13;

export interface Decoded {
  /** The matched form, or null when the bytes are not a valid instruction (see fault). */
  form: Form | null;
  fault: DecodeFault;
  /** Bytes consumed (1..15). For an invalid instruction: how far decoding got. */
  length: number;
  prefixes: DecodedPrefixes;
  /** Effective operand size in bits (form.opsize; 0 when the instruction has none). */
  opsize: 0 | Size;
  /** Operands in Intel order (destination first); implicit operands are not listed. */
  operands: DecodedOperand[];
  /** The raw ModRM byte, or -1 when the instruction has none (the disassembler uses it). */
  modrm: number;
}

/** The mode the decoder runs in. Only 64-bit long mode is supported. */
export type DecodeMode = 64;

// ---------------------------------------------------------------------------
// Lookup tables, built once.

/** All forms that share one (map, opcode byte). */
interface Slot {
  /** Forms of this opcode take a ModRM byte. */
  hasModrm: boolean;
  /** Candidates by ModRM.reg (0..7): /r forms plus the /digit forms for that digit. Without ModRM: index 0. */
  byDigit: Form[][];
  /** Forms with a fixed complete ModRM byte (swapgs, endbr64, mfence...), keyed by that byte. */
  fixed: Map<number, Form[]> | null;
}

const SLOTS: (Slot | undefined)[] = new Array(4 * 256);

/** Per-form facts the decoder checks, indexed by form id. */
const MEM_ONLY: boolean[] = [];
const LOCK_OK: boolean[] = [];

/** The ModRM.reg values that select a /digit form. */
function digitsOf(f: Form): number[] {
  // SETcc and the multi-byte NOP (0F 1F) ignore ModRM.reg
  if (f.family === 'setcc' || (f.map === 1 && f.opcode === 0x1f)) return [0, 1, 2, 3, 4, 5, 6, 7];
  // /6 of the shift group is an undocumented alias of SHL (/4)
  if (f.mnemonic === 'shl' && f.map === 0) return [4, 6];
  return [f.modrm as number];
}

function buildTables(): void {
  for (const f of FORMS) {
    MEM_ONLY[f.id] = f.operands.some((o) => o.kind === 'mem');
    LOCK_OK[f.id] = f.lock;
    const usesModrm = f.modrm !== 'none' || f.modrmByte >= 0;
    const count = f.opcodeLow === 'reg' ? 8 : 1;
    for (let k = 0; k < count; k++) {
      const key = f.map * 256 + f.opcode + k;
      let slot = SLOTS[key];
      if (!slot) {
        slot = { hasModrm: usesModrm, byDigit: [[], [], [], [], [], [], [], []], fixed: null };
        SLOTS[key] = slot;
      }
      if (slot.hasModrm !== usesModrm) {
        throw new Error(`isa table: opcode ${f.map}:${f.opcode.toString(16)} mixes forms with and without ModRM`);
      }
      if (f.modrmByte >= 0) {
        slot.fixed ??= new Map();
        // lfence and sfence ignore ModRM.rm: 0F AE E8..EF are all lfence, F8..FF sfence
        const variants = f.map === 1 && f.opcode === 0xae && (f.modrmByte === 0xe8 || f.modrmByte === 0xf8) ? 8 : 1;
        for (let r = 0; r < variants; r++) {
          const byte = f.modrmByte | r;
          const list = slot.fixed.get(byte) ?? [];
          list.push(f);
          slot.fixed.set(byte, list);
        }
      } else if (typeof f.modrm === 'number') {
        for (const d of digitsOf(f)) slot.byDigit[d].push(f);
      } else {
        for (let d = 0; d < 8; d++) slot.byDigit[d].push(f);
      }
    }
  }
}
buildTables();

// ---------------------------------------------------------------------------
// Decoding state. decode() is not re-entrant (the fetch callback never decodes),
// so the cursor lives in module variables instead of a per-call closure.

let fetchByte: (offset: number) => number = () => 0;
let pos = 0;

/** Thrown (and caught inside decode) when an instruction runs past 15 bytes. */
const TOO_LONG = { tooLong: true };

function next(): number {
  if (pos >= MAX_INSTRUCTION_LENGTH) throw TOO_LONG;
  return fetchByte(pos++) & 0xff;
}

function next16(): number {
  const b0 = next();
  return b0 | (next() << 8);
}

function next32(): number {
  const b0 = next(), b1 = next(), b2 = next(), b3 = next();
  return (b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)) >>> 0;
}

function invalid(fault: DecodeFault, prefixes: DecodedPrefixes, modrm: number): Decoded {
  return { form: null, fault, length: Math.max(1, pos), prefixes, opsize: 0, operands: [], modrm };
}

/**
 * Chooses among the candidate forms of an opcode the one the prefixes select.
 * Returns null when none applies.
 */
function pick(cands: Form[], rexW: boolean, opsize16: boolean, rep: number, rexB: boolean, isMem: boolean): Form | null {
  let best: Form | null = null;
  let bestScore = -1;
  for (let i = 0; i < cands.length; i++) {
    const f = cands[i];
    let score = 0;
    if (f.mandatory !== 0) {
      if (f.mandatory === 0x66 ? !opsize16 : rep !== f.mandatory) continue;
      score += 4;
    }
    switch (f.sizeRule) {
      case 'w': if (!rexW) continue; score += 2; break;
      case 'o16': if (!opsize16 || rexW) continue; score += 2; break;
      case 'o32': if (opsize16 || rexW) continue; score += 2; break;
      default: break;
    }
    if (isMem ? false : MEM_ONLY[f.id]) continue;
    // 90 is NOP (F3 90 PAUSE) unless REX.B makes it xchg %r8,%rax; 91..97 are always xchg.
    if (f.map === 0 && f.opcode === 0x90 && f.opcodeLow === 'none') {
      if (rexB) continue;
      score += 8;
    }
    if (score > bestScore) { best = f; bestScore = score; }
  }
  return best;
}

/**
 * Decodes one instruction. `fetch(offset)` returns the byte at `offset` from the
 * instruction's start (it may throw, e.g. a page fault; that propagates).
 * Never reads more than 15 bytes.
 */
export function decode(fetch: (offset: number) => number, mode: DecodeMode = 64): Decoded {
  void mode;
  fetchByte = fetch;
  pos = 0;
  const prefixes: DecodedPrefixes = { lock: false, rep: 0, segment: -1, opsize16: false, addrsize32: false, rex: 0 };
  try {
    return decodeBody(prefixes);
  } catch (e) {
    if (e === TOO_LONG) { pos = MAX_INSTRUCTION_LENGTH; return invalid(13, prefixes, -1); }
    throw e;
  }
}

/** Thrown by decodeBytes' fetch when the bytes end inside an instruction. */
const PAST_END = { pastEnd: true };

/**
 * Convenience for tools: decodes the instruction at `offset` in `bytes`. An
 * instruction cut off by the end of the array decodes as invalid (#UD) and
 * covers the remaining bytes.
 */
export function decodeBytes(bytes: Uint8Array, offset: number): Decoded {
  const end = bytes.length;
  try {
    return decode((i) => {
      const at = offset + i;
      if (at >= end) throw PAST_END;
      return bytes[at];
    });
  } catch (e) {
    if (e !== PAST_END) throw e;
    pos = Math.min(end - offset, MAX_INSTRUCTION_LENGTH);
    return invalid(6, { lock: false, rep: 0, segment: -1, opsize16: false, addrsize32: false, rex: 0 }, -1);
  }
}

function decodeBody(prefixes: DecodedPrefixes): Decoded {
  // Legacy prefixes and REX.
  let rex = 0;
  let b = next();
  for (;;) {
    if (b >= 0x40 && b <= 0x4f) { rex = b; b = next(); continue; }
    let isPrefix = true;
    switch (b) {
      case 0x66: prefixes.opsize16 = true; break;
      case 0x67: prefixes.addrsize32 = true; break;
      case 0xf0: prefixes.lock = true; break;
      case 0xf2: case 0xf3: prefixes.rep = b; break;
      // In 64-bit mode es/cs/ss/ds overrides have no effect and do not cancel an fs/gs one.
      case 0x26: if (prefixes.segment < SEG_FS) prefixes.segment = SEG_ES; break;
      case 0x2e: if (prefixes.segment < SEG_FS) prefixes.segment = SEG_CS; break;
      case 0x36: if (prefixes.segment < SEG_FS) prefixes.segment = SEG_SS; break;
      case 0x3e: if (prefixes.segment < SEG_FS) prefixes.segment = SEG_DS; break;
      case 0x64: prefixes.segment = SEG_FS; break;
      case 0x65: prefixes.segment = SEG_GS; break;
      default: isPrefix = false;
    }
    if (!isPrefix) break;
    rex = 0; // a REX followed by a legacy prefix is ignored
    b = next();
  }
  prefixes.rex = rex;
  const rexW = (rex & 8) !== 0, rexR = (rex & 4) !== 0, rexX = (rex & 2) !== 0, rexB = (rex & 1) !== 0;

  // Opcode.
  let map = 0;
  if (b === 0x0f) {
    b = next();
    map = 1;
    if (b === 0x38) { map = 2; b = next(); } else if (b === 0x3a) { map = 3; b = next(); }
  }
  const opcode = b;
  const slot = SLOTS[map * 256 + opcode];
  if (!slot) return invalid(6, prefixes, -1);

  // ModRM and the candidate forms.
  let modrm = -1;
  let form: Form | null = null;
  let isMem = false;
  if (slot.hasModrm) {
    modrm = next();
    isMem = modrm < 0xc0;
    if (slot.fixed) {
      const fixed = slot.fixed.get(modrm);
      if (fixed) form = pick(fixed, rexW, prefixes.opsize16, prefixes.rep, rexB, true);
    }
    if (!form) form = pick(slot.byDigit[(modrm >> 3) & 7], rexW, prefixes.opsize16, prefixes.rep, rexB, isMem);
  } else {
    form = pick(slot.byDigit[0], rexW, prefixes.opsize16, prefixes.rep, rexB, false);
  }
  if (!form) return invalid(6, prefixes, modrm);

  // A mandatory prefix is part of the opcode, not a modifier.
  if (form.mandatory === 0x66) prefixes.opsize16 = false;
  else if (form.mandatory !== 0) prefixes.rep = 0;

  // Operands.
  const operands: DecodedOperand[] = [];
  const ops = form.operands;
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i];
    switch (o.kind) {
      case 'reg':
        operands.push(gpr(((modrm >> 3) & 7) | (rexR ? 8 : 0), o.size as Size, rex));
        break;
      case 'rm':
      case 'mem':
      case 'rreg':
        if (o.kind === 'rreg' || modrm >= 0xc0) {
          // mov to/from CRn ignores the mod bits: the r/m field is always a register.
          let size = o.size as Size;
          if (form.map === 0 && form.opcode === 0x8c) size = rexW ? 64 : prefixes.opsize16 ? 16 : 32;
          operands.push(gpr((modrm & 7) | (rexB ? 8 : 0), size, rex));
        } else {
          // smsw and str store 16 bits to memory whatever the operand size
          const size = form.map === 1 && (form.opcode === 0x01 || form.opcode === 0x00) && o.kind === 'rm' ? 16 : o.size;
          operands.push(memoryOperand(modrm, rexX, rexB, prefixes, size));
        }
        break;
      case 'opreg':
        operands.push(gpr((opcode & 7) | (rexB ? 8 : 0), o.size as Size, rex));
        break;
      case 'acc':
        operands.push({ type: 'reg', reg: 0, size: o.size as Size, high8: false });
        break;
      case 'cl':
        operands.push({ type: 'reg', reg: 1, size: 8, high8: false });
        break;
      case 'dx':
        operands.push({ type: 'reg', reg: 2, size: 16, high8: false });
        break;
      case 'one':
        operands.push({ type: 'imm', lo: 1, hi: 0, size: 8 });
        break;
      case 'imm':
        operands.push(immediate(o.size as Size, false, o.size as Size));
        break;
      case 'simm':
        operands.push(immediate(o.size as Size, true, (form.opsize || 64) as Size));
        break;
      case 'rel': {
        const disp = o.size === 8 ? (next() << 24) >> 24 : next32() | 0;
        operands.push({ type: 'rel', disp });
        break;
      }
      case 'moffs': {
        const lo = next32();
        const hi = prefixes.addrsize32 ? 0 : next32();
        operands.push({ type: 'moffs', lo, hi, size: o.size as Size, segment: prefixes.segment >= 0 ? prefixes.segment : SEG_DS });
        break;
      }
      case 'creg': {
        const reg = ((modrm >> 3) & 7) | (rexR ? 8 : 0);
        if (!(reg === 0 || reg === 2 || reg === 3 || reg === 4 || reg === 8)) return invalid(6, prefixes, modrm);
        operands.push({ type: 'creg', reg });
        break;
      }
      case 'dreg': {
        // DR0-DR7; there is no DR8 (REX.R is #UD). DR4/DR5 depend on CR4.DE: the CPU decides.
        if (rexR) return invalid(6, prefixes, modrm);
        operands.push({ type: 'dreg', reg: (modrm >> 3) & 7 });
        break;
      }
      case 'sreg': {
        const reg = (modrm >> 3) & 7;
        // Only es..gs exist; loading CS with mov is not allowed.
        if (reg > 5 || (reg === SEG_CS && i === 0)) return invalid(6, prefixes, modrm);
        operands.push({ type: 'sreg', reg });
        break;
      }
    }
  }

  // LOCK is only allowed on the forms that permit it, and only with a memory destination.
  if (prefixes.lock && (!LOCK_OK[form.id] || operands.length === 0 || operands[0].type !== 'mem')) {
    return invalid(6, prefixes, modrm);
  }
  return { form, fault: 0, length: pos, prefixes, opsize: form.opsize, operands, modrm };
}

function gpr(num: number, size: Size, rex: number): RegOperand {
  // Without any REX prefix, byte registers 4..7 are the legacy high bytes ah, ch, dh, bh.
  if (size === 8 && rex === 0 && num >= 4 && num < 8) return { type: 'reg', reg: num - 4, size, high8: true };
  return { type: 'reg', reg: num, size, high8: false };
}

function immediate(fieldSize: Size, signed: boolean, size: Size): ImmOperand {
  let lo: number;
  let hi = 0;
  switch (fieldSize) {
    case 8: lo = next(); if (signed) lo = (lo << 24) >> 24; break;
    case 16: lo = next16(); if (signed) lo = (lo << 16) >> 16; break;
    case 32: lo = next32() | 0; break;
    default: lo = next32(); hi = next32(); return { type: 'imm', lo, hi, size };
  }
  // lo holds the field's value, sign-extended to 32 bits when `signed`.
  if (size === 64) hi = signed && lo < 0 ? 0xffffffff : 0;
  if (size === 8) lo &= 0xff;
  else if (size === 16) lo &= 0xffff;
  else if (!signed && fieldSize === 32) lo = lo >>> 0;
  return { type: 'imm', lo: lo >>> 0, hi, size };
}

function memoryOperand(modrm: number, rexX: boolean, rexB: boolean, prefixes: DecodedPrefixes, size: number): MemOperand {
  const mod = modrm >> 6;
  const rm = modrm & 7;
  let base: number;
  let index = -1;
  let scale: 1 | 2 | 4 | 8 = 1;
  let disp = 0;
  let dispSize: 0 | 8 | 32 = mod === 1 ? 8 : mod === 2 ? 32 : 0;
  let sib = -1;
  if (rm === 4) {
    sib = next();
    scale = (1 << (sib >> 6)) as 1 | 2 | 4 | 8;
    const idx = ((sib >> 3) & 7) | (rexX ? 8 : 0);
    if (idx !== 4) index = idx; // index 100 without REX.X means "no index"; r12 is a valid index
    if ((sib & 7) === 5 && mod === 0) {
      base = -1; // no base: disp32 only
      dispSize = 32;
    } else {
      base = (sib & 7) | (rexB ? 8 : 0);
    }
  } else if (rm === 5 && mod === 0) {
    base = BASE_RIP;
    dispSize = 32;
  } else {
    base = rm | (rexB ? 8 : 0);
  }
  if (dispSize === 8) disp = (next() << 24) >> 24;
  else if (dispSize === 32) disp = next32() | 0;
  const segment = prefixes.segment >= 0 ? prefixes.segment : base === 4 || base === 5 ? SEG_SS : SEG_DS;
  return { type: 'mem', base, index, scale, disp, size: size as 0 | Size, segment, dispSize, sib };
}
