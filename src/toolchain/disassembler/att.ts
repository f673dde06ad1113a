// AT&T syntax for one decoded instruction, spelled the way GNU objdump -d prints it
// (binutils 2.40): operands source first, `%` before registers, `$` before
// immediates, and a size suffix on the mnemonic only when no register operand
// already tells the size (`movl $0x1,(%rax)` but `mov %eax,%ebx`).

import { BASE_RIP } from '../../isa/decode.js';
import type { Decoded, DecodedOperand, MemOperand } from '../../isa/decode.js';
import { REG16, REG32, REG64, REG8_LEGACY, REG8_REX, SEGMENT_REGS } from '../../isa/registers.js';
import type { Form, Size } from '../../isa/table.js';
import { formatTarget, hex64, signedHex } from './numbers.js';
import type { SymbolTable } from './symbols.js';

const SUFFIX: Record<number, string> = { 8: 'b', 16: 'w', 32: 'l', 64: 'q' };

/** Intel names whose AT&T spelling differs (sign-extension of the accumulator). */
const ATT_NAMES: Record<string, string> = {
  cbw: 'cbtw', cwde: 'cwtl', cdqe: 'cltq', cwd: 'cwtd', cdq: 'cltd', cqo: 'cqto',
};

/** Mnemonics objdump never gives a size suffix, even with only a memory operand. */
const NO_SUFFIX = new Set([
  'lea', 'lgdt', 'lidt', 'sgdt', 'sidt', 'invlpg', 'smsw', 'lmsw', 'str', 'ltr',
  'call', 'jmp',
]);

/** String instructions and the implicit operands objdump shows for them. */
const STRING_OPS = new Set(['movsb', 'movs', 'cmpsb', 'cmps', 'stosb', 'stos', 'lodsb', 'lods', 'scasb', 'scas']);

function gprName(num: number, size: Size, high8: boolean): string {
  switch (size) {
    case 8: return high8 ? REG8_LEGACY[num + 4] : REG8_REX[num];
    case 16: return REG16[num];
    case 32: return REG32[num];
    default: return REG64[num];
  }
}

/** fs and gs are the only segment overrides with an effect in 64-bit mode; objdump shows the others as bare prefixes. */
function segmentText(d: Decoded, hidden: boolean): string {
  if (hidden) return '';
  return d.prefixes.segment >= 4 ? `%${SEGMENT_REGS[d.prefixes.segment]}:` : '';
}

/** A memory operand's text, and for RIP-relative ones the address it refers to (objdump prints it as a comment). */
function memoryText(d: Decoded, m: MemOperand, nextAddress: number, hideSegment = false): { text: string; target: number | null } {
  const seg = segmentText(d, hideSegment);
  const a32 = d.prefixes.addrsize32;
  const reg = (n: number) => '%' + (a32 ? REG32[n] : REG64[n]);
  if (m.base === BASE_RIP) {
    const target = nextAddress + m.disp; // objdump does not truncate it to 32 bits under addr32
    return { text: `${seg}${signedHex(m.disp)}(%${a32 ? 'eip' : 'rip'})`, target };
  }
  const hasIndex = m.index >= 0;
  // With a SIB byte but no index register, objdump shows the "zero" index %riz when
  // the SIB was not needed to reach the base (rsp/r12 need it) or the scale is not 1.
  const sibScale = m.sib >= 0 ? m.sib >> 6 : 0;
  const showRiz = m.sib >= 0 && !hasIndex && (sibScale !== 0 || (m.base >= 0 && (m.base & 7) !== 4));
  if (m.base < 0 && !hasIndex && !showRiz) {
    // absolute address: printed unsigned
    return { text: seg + '0x' + (a32 ? (m.disp >>> 0).toString(16) : hex64(m.disp)), target: null };
  }
  let text = seg;
  if (m.dispSize !== 0) text += signedHex(m.disp);
  text += '(';
  if (m.base >= 0) text += reg(m.base);
  if (hasIndex) text += `,${reg(m.index)},${m.scale}`;
  else if (showRiz) text += `,%${a32 ? 'eiz' : 'riz'},${1 << sibScale}`;
  text += ')';
  return { text, target: null };
}

function immText(lo: number, hi: number): string {
  return '$0x' + (hi !== 0 ? hi.toString(16) + lo.toString(16).padStart(8, '0') : lo.toString(16));
}

/** The mnemonic objdump prints, with its size suffix if it needs one. */
function mnemonicText(d: Decoded, form: Form): string {
  const ops = d.operands;
  const name = form.mnemonic;
  if (name in ATT_NAMES) return ATT_NAMES[name];
  if (name === 'movsxd' && form.opsize !== 64) return 'movsxd';
  if (name === 'movzx' || name === 'movsx' || name === 'movsxd') {
    const dst = ops[0] as { size: Size };
    const src = form.operands[1].size as Size;
    return (name === 'movzx' ? 'movz' : 'movs') + SUFFIX[src] + SUFFIX[dst.size];
  }
  if (name === 'mov' && ((ops.some((o) => o.type === 'moffs') && !d.prefixes.addrsize32) || (form.opcode >= 0xb8 && form.opcode <= 0xbf && form.opsize === 64 && form.map === 0))) return 'movabs';
  if (name === 'iret') return d.prefixes.opsize16 ? 'iretw' : 'iret';
  // with a 67 prefix these count in ECX
  if (name === 'jrcxz' && d.prefixes.addrsize32) return 'jecxz';
  if (name === 'loop' && d.prefixes.addrsize32) return 'loopl';
  if ((name === 'pushf' || name === 'popf' || name === 'leave') && form.opsize === 16) return name + 'w';
  if (STRING_OPS.has(name)) {
    if (name === 'movs' || name === 'cmps') return name + SUFFIX[form.opsize];
    return name.endsWith('b') && name !== 'movsb' && name !== 'cmpsb' ? name.slice(0, -1) : name;
  }
  // A register operand (not CL, not DX) tells the size; so does having no memory operand.
  let sized = false;
  let mem = false;
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i];
    const kind = form.operands[i].kind;
    if (o.type === 'reg' && kind !== 'cl' && kind !== 'dx') sized = true;
    else if (o.type === 'mem' && o.size !== 0) mem = true;
  }
  const sregMove = form.map === 0 && (form.opcode === 0x8c || form.opcode === 0x8e);
  if (form.family === 'setcc' || NO_SUFFIX.has(name) || sized || sregMove) return name;
  if (form.default64) {
    // push/pop are 64-bit by default; only the 16-bit forms are marked
    return form.opsize === 16 && (mem || ops.some((o) => o.type === 'imm')) ? name + 'w' : name;
  }
  if (!mem) return name;
  return name + SUFFIX[form.opsize];
}

/** Names objdump gives prefix bytes it prints on their own. */
const PREFIX_NAMES: Record<number, string> = {
  0x66: 'data16', 0x67: 'addr32', 0xf0: 'lock', 0xf2: 'repnz', 0xf3: 'repz',
  0x26: 'es', 0x2e: 'cs', 0x36: 'ss', 0x3e: 'ds', 0x64: 'fs', 0x65: 'gs',
};

const SEGMENT_PREFIX = [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65];

export function isPrefixByte(b: number): boolean {
  return (b >= 0x40 && b <= 0x4f) || b in PREFIX_NAMES;
}

/** `rex.WRXB` (only the bits that are set), or `rex` for a bare 40. */
export function rexName(rex: number): string {
  const bits = (rex & 8 ? 'W' : '') + (rex & 4 ? 'R' : '') + (rex & 2 ? 'X' : '') + (rex & 1 ? 'B' : '');
  return bits ? 'rex.' + bits : 'rex';
}

/** The name of one prefix byte printed on its own. */
export function prefixName(b: number): string {
  return b >= 0x40 && b <= 0x4f ? rexName(b) : PREFIX_NAMES[b] ?? '(bad)';
}

/**
 * True when some bit of the REX prefix had no effect (objdump then prints it),
 * e.g. REX.R on an instruction whose ModRM.reg is an opcode extension.
 */
function rexUnused(d: Decoded, form: Form): boolean {
  const rex = d.prefixes.rex;
  let used = 0;
  let byteRegs = false;
  const memory16 = isMemory16(form) && d.operands.some((o) => o.type === 'mem');
  if ((form.sizeRule === 'w' && !memory16) || (isSregMove(form) && d.operands.some((o) => o.type === 'reg'))) used |= 8;
  for (let i = 0; i < d.operands.length; i++) {
    const kind = form.operands[i].kind;
    const o = d.operands[i];
    if (kind === 'reg' || kind === 'creg' || kind === 'dreg') used |= 4;
    if (kind === 'opreg' || kind === 'rreg' || (kind === 'rm' && o.type === 'reg')) used |= 1;
    if (o.type === 'mem') {
      used |= 1; // objdump counts REX.B as used by any memory operand, even RIP-relative
      if (o.sib >= 0) used |= 2;
    }
    if (o.type === 'reg' && o.size === 8 && o.reg >= 4 && (kind === 'reg' || kind === 'rm' || kind === 'opreg')) byteRegs = true;
  }
  return (rex & 0xf & ~used) !== 0 || (rex === 0x40 && !byteRegs);
}

/** smsw and str: the memory form always stores 16 bits, so 66 and REX.W have no effect on it. */
function isMemory16(form: Form): boolean {
  return form.mnemonic === 'smsw' || form.mnemonic === 'str';
}

function isSregMove(form: Form): boolean {
  return form.map === 0 && (form.opcode === 0x8c || form.opcode === 0x8e);
}

/**
 * CET's notrack: a 3e prefix on an indirect call or jmp (ff /2, ff /4) without a
 * 66 prefix. objdump then names the last segment prefix byte `notrack`, whichever
 * segment it was, and shows no segment override in the operand.
 */
function isNotrack(d: Decoded, form: Form, bytes: Uint8Array | undefined): boolean {
  if (!(form.map === 0 && form.opcode === 0xff && (form.mnemonic === 'call' || form.mnemonic === 'jmp'))) return false;
  const list = prefixBytes(d, bytes);
  return list.includes(0x3e) && !list.includes(0x66);
}

/** bsf and bsr (0f bc, 0f bd) share their opcode with tzcnt/lzcnt: objdump's prefix lookup consumes a 66 on them even when REX.W overrides it. */
function isBitScan(form: Form): boolean {
  return form.map === 1 && (form.opcode === 0xbc || form.opcode === 0xbd);
}

function isBranch(form: Form): boolean {
  return form.family === 'jcc' || form.mnemonic === 'jmp' || form.mnemonic === 'call' || form.mnemonic === 'ret';
}

/** The legacy prefix and REX bytes in front of the opcode, in encoding order. */
function prefixBytes(d: Decoded, bytes: Uint8Array | undefined): number[] {
  const list: number[] = [];
  if (bytes) {
    for (let i = 0; i < bytes.length && i < d.length && isPrefixByte(bytes[i]); i++) list.push(bytes[i]);
    return list;
  }
  const p = d.prefixes;
  if (p.segment >= 0) list.push(SEGMENT_PREFIX[p.segment]);
  if (p.opsize16) list.push(0x66);
  if (p.addrsize32) list.push(0x67);
  if (p.lock) list.push(0xf0);
  if (p.rep) list.push(p.rep);
  if (p.rex) list.push(p.rex);
  return list;
}

interface PrefixParts {
  /** Prefix names printed before the mnemonic. */
  names: string[];
  /** Branch hint appended to a jcc mnemonic (',pt' / ',pn'). */
  hint: string;
}

/**
 * Which prefixes objdump prints before the mnemonic: every prefix byte in order,
 * except the ones the instruction consumed (66 that selected a 16-bit form, 67
 * that made addresses 32-bit, fs/gs shown in a memory operand, a mandatory F3,
 * a REX whose bits all mattered). rep/repz/repnz, lock, bnd and xacquire/xrelease
 * are printed by name.
 */
function prefixParts(d: Decoded, form: Form, bytes: Uint8Array | undefined): PrefixParts {
  const list = prefixBytes(d, bytes);
  const lastOf = (pred: (b: number) => boolean) => { for (let i = list.length - 1; i >= 0; i--) if (pred(list[i])) return i; return -1; };
  const last66 = lastOf((b) => b === 0x66);
  const last67 = lastOf((b) => b === 0x67);
  const lastRep = lastOf((b) => b === 0xf2 || b === 0xf3);
  const lastF2 = lastOf((b) => b === 0xf2);
  const lastF3 = lastOf((b) => b === 0xf3);
  const lastSeg = lastOf((b) => SEGMENT_PREFIX.includes(b));
  const hasMem = d.operands.some((o) => o.type === 'mem');
  const str = STRING_OPS.has(form.mnemonic);
  const regOperand = d.operands.some((o) => o.type === 'reg');
  const used66 = (form.sizeRule === 'o16' && !(isMemory16(form) && hasMem)) || (isSregMove(form) && regOperand) || (form.mnemonic === 'nop' && form.opcode === 0x90 && form.map === 0) || form.mnemonic === 'iret' || isBitScan(form);
  const used67 = hasMem || str || form.mnemonic === 'jrcxz' || form.mnemonic === 'loop';
  const lock = list.includes(0xf0);
  const memDest = d.operands.length > 0 && d.operands[0].type === 'mem';
  // Hardware lock elision: on a lockable instruction with a memory destination
  // that is locked (or xchg, which always is), the last F2 reads xacquire and the
  // last F3 xrelease; on a plain store (mov to memory) only the last F3, xrelease.
  const hle = form.lock && (form.mnemonic === 'xchg' ? hasMem : lock && memDest);
  const hleStore = form.mnemonic === 'mov' && memDest && form.map === 0 && [0x88, 0x89, 0xc6, 0xc7].includes(form.opcode);
  const notrack = isNotrack(d, form, bytes);
  const names: string[] = [];
  let hint = '';
  // Conditional branches show a cs (not taken) or ds (taken) prefix as a hint,
  // consuming the last segment prefix byte.
  let hintText = '';
  if (form.family === 'jcc' || form.mnemonic === 'loop' || form.mnemonic === 'jrcxz') {
    const cs = list.includes(0x2e), ds = list.includes(0x3e);
    if (cs !== ds) hintText = cs ? ',pn' : ',pt';
  }
  list.forEach((b, i) => {
    if (b >= 0x40 && b <= 0x4f) {
      if (i !== list.length - 1 || rexUnused(d, form)) names.push(rexName(b));
    } else if (b === 0x66) {
      if (!(i === last66 && used66)) names.push('data16');
    } else if (b === 0x67) {
      if (!(i === last67 && used67)) names.push('addr32');
    } else if (b === 0xf2 || b === 0xf3) {
      if (b === 0xf2 && i === lastF2 && isBranch(form)) names.push('bnd');
      else if (hle && i === (b === 0xf2 ? lastF2 : lastF3)) names.push(b === 0xf2 ? 'xacquire' : 'xrelease');
      else if (hleStore && b === 0xf3 && i === lastF3) names.push('xrelease');
      else if (i !== lastRep) names.push(b === 0xf3 && str && form.rep === 'rep' ? 'rep' : PREFIX_NAMES[b]);
      else if (d.prefixes.rep === 0) { /* consumed as a mandatory prefix (pause, endbr64) */ }
      else if (str) names.push(b === 0xf2 ? 'repnz' : form.rep === 'rep' ? 'rep' : 'repz');
      else if (b === 0xf2 && isBranch(form)) names.push('bnd');
      else names.push(PREFIX_NAMES[b]);
    } else if (SEGMENT_PREFIX.includes(b)) {
      // objdump consumes the last segment prefix when a memory operand shows the
      // active fs/gs override (es/cs/ss/ds never become active in 64-bit mode)
      const shown = i === lastSeg && (
        (d.prefixes.segment >= 4 && (hasMem || d.operands.some((o) => o.type === 'moffs'))) ||
        (str && (form.mnemonic.startsWith('movs') || form.mnemonic.startsWith('cmps') || form.mnemonic.startsWith('lods'))));
      if (i === lastSeg && notrack) names.push('notrack');
      else if (i === lastSeg && hintText) hint = hintText;
      else if (!shown) names.push(PREFIX_NAMES[b]);
    } else {
      names.push(PREFIX_NAMES[b]);
    }
  });
  return { names, hint };
}

/** Implicit operands of string instructions, AT&T order. */
function stringOperands(d: Decoded, form: Form): string {
  const a32 = d.prefixes.addrsize32;
  const si = a32 ? '(%esi)' : '(%rsi)';
  const di = a32 ? '(%edi)' : '(%rdi)';
  // in 64-bit mode only fs and gs overrides matter; objdump shows the others as %ds
  const src = `%${d.prefixes.segment >= 4 ? SEGMENT_REGS[d.prefixes.segment] : 'ds'}:${si}`;
  const dst = `%es:${di}`;
  const acc = '%' + gprName(0, (form.opsize || 8) as Size, false);
  switch (form.mnemonic) {
    case 'movsb': case 'movs': return `${src},${dst}`;
    case 'cmpsb': case 'cmps': return `${dst},${src}`;
    case 'stosb': case 'stos': return `${acc},${dst}`;
    case 'lodsb': case 'lods': return `${src},${acc}`;
    default: return `${dst},${acc}`; // scas
  }
}

/**
 * Formats one decoded instruction at `address` (a signed canonical number, or any
 * non-negative number) as objdump prints it, without the address and byte columns.
 */
export function formatInstruction(d: Decoded, address: number, symbols?: SymbolTable, bytes?: Uint8Array): string {
  const form = d.form;
  if (!form) return '(bad)';
  const nextAddress = address + d.length;
  const prefixes = prefixParts(d, form, bytes);
  // 66 90 is the 16-bit xchg of ax with itself; objdump names it so
  const xchgAx = form.mnemonic === 'nop' && form.opcode === 0x90 && form.map === 0 && d.prefixes.opsize16;
  const mnemonic = [...prefixes.names, (xchgAx ? 'xchg' : mnemonicText(d, form)) + prefixes.hint].join(' ');
  const parts: string[] = [];
  let comment = '';
  if (xchgAx) {
    parts.push('%ax', '%ax');
  } else if (STRING_OPS.has(form.mnemonic)) {
    parts.push(stringOperands(d, form));
  } else {
    const indirect = (form.mnemonic === 'jmp' || form.mnemonic === 'call') && form.modrm !== 'none';
    for (let i = 0; i < d.operands.length; i++) {
      const o: DecodedOperand = d.operands[i];
      const kind = form.operands[i].kind;
      if (kind === 'one') continue; // shift by one: objdump omits the $1
      let text: string;
      switch (o.type) {
        case 'reg': {
          let size = o.size;
          // mov %eax,%ss: objdump names the source by the operand size, not 16 bits
          if (form.opcode === 0x8e && form.map === 0) size = d.prefixes.rex & 8 ? 64 : d.prefixes.opsize16 ? 16 : 32;
          text = kind === 'dx' ? '(%dx)' : '%' + gprName(o.reg, size, o.high8);
          break;
        }
        case 'mem': {
          const m = memoryText(d, o, nextAddress, isNotrack(d, form, bytes));
          text = m.text;
          if (m.target !== null) comment = formatTarget(m.target, symbols);
          break;
        }
        case 'imm': text = immText(o.lo, o.hi); break;
        case 'rel': text = formatTarget(nextAddress + o.disp, symbols); break;
        case 'moffs': {
          const seg = segmentText(d, false);
          text = seg + '0x' + (o.hi !== 0 ? o.hi.toString(16) + o.lo.toString(16).padStart(8, '0') : o.lo.toString(16));
          break;
        }
        case 'creg': text = `%cr${o.reg}`; break;
        case 'dreg': text = `%db${o.reg}`; break;
        case 'sreg': text = '%' + SEGMENT_REGS[o.reg]; break;
      }
      parts.push(indirect ? '*' + text : text);
    }
    // objdump keeps enter's Intel order, and writes xchg with the +r register second
    if (form.mnemonic !== 'enter' && !(form.mnemonic === 'xchg' && form.opcodeLow === 'reg')) parts.reverse();
  }
  if (parts.length === 0) return mnemonic;
  let text = mnemonic.padEnd(6) + ' ' + parts.join(',');
  if (comment) text += '        # ' + comment;
  return text;
}
