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
function segmentText(d: Decoded): string {
  return d.prefixes.segment >= 4 ? `%${SEGMENT_REGS[d.prefixes.segment]}:` : '';
}

function memoryText(d: Decoded, m: MemOperand, nextAddress: number): { text: string; comment: string } {
  const seg = segmentText(d);
  const a32 = d.prefixes.addrsize32;
  const reg = (n: number) => '%' + (a32 ? REG32[n] : REG64[n]);
  if (m.base === BASE_RIP) {
    // objdump adds the computed target as a comment
    return { text: `${seg}${signedHex(m.disp)}(%${a32 ? 'eip' : 'rip'})`, comment: '' + (nextAddress + m.disp) };
  }
  const hasIndex = m.index >= 0;
  // With a SIB byte but no index register, objdump shows the "zero" index %riz when
  // the SIB was not needed to reach the base (rsp/r12 need it) or the scale is not 1.
  const sibScale = m.sib >= 0 ? m.sib >> 6 : 0;
  const showRiz = m.sib >= 0 && !hasIndex && (sibScale !== 0 || (m.base >= 0 && (m.base & 7) !== 4));
  if (m.base < 0 && !hasIndex && !showRiz) {
    // absolute address: printed unsigned
    return { text: seg + '0x' + (a32 ? (m.disp >>> 0).toString(16) : hex64(m.disp)), comment: '' };
  }
  let text = seg;
  if (m.dispSize !== 0) text += signedHex(m.disp);
  text += '(';
  if (m.base >= 0) text += reg(m.base);
  if (hasIndex) text += `,${reg(m.index)},${m.scale}`;
  else if (showRiz) text += `,%${a32 ? 'eiz' : 'riz'},${1 << sibScale}`;
  text += ')';
  return { text, comment: '' };
}

function immText(lo: number, hi: number): string {
  return '$0x' + (hi !== 0 ? hi.toString(16) + lo.toString(16).padStart(8, '0') : lo.toString(16));
}

/** The mnemonic objdump prints, with its size suffix if it needs one. */
function mnemonicText(d: Decoded, form: Form): string {
  const ops = d.operands;
  const name = form.mnemonic;
  if (name in ATT_NAMES) return ATT_NAMES[name];
  if (name === 'movzx' || name === 'movsx' || name === 'movsxd') {
    const dst = ops[0] as { size: Size };
    const src = form.operands[1].size as Size;
    return (name === 'movzx' ? 'movz' : 'movs') + SUFFIX[src] + SUFFIX[dst.size];
  }
  if (name === 'mov' && (ops.some((o) => o.type === 'moffs') || (form.opcode >= 0xb8 && form.opcode <= 0xbf && form.opsize === 64 && form.map === 0))) return 'movabs';
  if (name === 'iret') return d.prefixes.opsize16 ? 'iretw' : 'iret';
  if ((name === 'pushf' || name === 'popf') && form.opsize === 16) return name + 'w';
  if (STRING_OPS.has(name)) {
    if (name === 'movs' || name === 'cmps') return name + SUFFIX[form.opsize];
    return name.endsWith('b') && name !== 'movsb' && name !== 'cmpsb' ? name.slice(0, -1) : name;
  }
  // A register operand (not CL, not DX) tells the size; so does having no memory operand.
  let sized = false;
  let mem = false;
  for (const o of ops) {
    if (o.type === 'reg') {
      if (!((o.reg === 1 && o.size === 8 && form.operands.some((f) => f.kind === 'cl')) || (o.reg === 2 && o.size === 16 && !o.high8 && form.operands.some((f) => f.kind === 'dx')))) sized = true;
    } else if (o.type === 'mem' && o.size !== 0) mem = true;
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

/** Prefix names objdump prints before the mnemonic. */
function prefixText(d: Decoded, form: Form): string {
  let text = '';
  const seg = d.prefixes.segment;
  if (seg >= 0 && seg < 4) text += SEGMENT_REGS[seg] + ' ';
  if (d.prefixes.lock) text += 'lock ';
  const rep = d.prefixes.rep;
  if (rep !== 0) {
    if (form.rep === 'rep') text += rep === 0xf3 ? 'rep ' : 'repnz ';
    else if (rep === 0xf2 && (form.family === 'jcc' || form.mnemonic === 'jmp' || form.mnemonic === 'call' || form.mnemonic === 'ret')) text += 'bnd ';
    else text += rep === 0xf3 ? 'repz ' : 'repnz ';
  }
  return text;
}

/** Implicit operands of string instructions, AT&T order. */
function stringOperands(d: Decoded, form: Form): string {
  const a32 = d.prefixes.addrsize32;
  const si = a32 ? '(%esi)' : '(%rsi)';
  const di = a32 ? '(%edi)' : '(%rdi)';
  const src = `%${d.prefixes.segment >= 0 ? SEGMENT_REGS[d.prefixes.segment] : 'ds'}:${si}`;
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
export function formatInstruction(d: Decoded, address: number, symbols?: SymbolTable): string {
  const form = d.form;
  if (!form) return '(bad)';
  // 66 90 is the 16-bit xchg of ax with itself; objdump names it so
  if (form.mnemonic === 'nop' && form.opcode === 0x90 && form.map === 0 && d.prefixes.opsize16) return 'xchg   %ax,%ax';
  const nextAddress = address + d.length;
  const mnemonic = prefixText(d, form) + mnemonicText(d, form);
  const parts: string[] = [];
  let comment = '';
  if (STRING_OPS.has(form.mnemonic)) {
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
          const m = memoryText(d, o, nextAddress);
          text = m.text;
          if (m.comment) comment = formatTarget(Number(m.comment), symbols, true);
          break;
        }
        case 'imm': text = immText(o.lo, o.hi); break;
        case 'rel': text = formatTarget(nextAddress + o.disp, symbols, false); break;
        case 'moffs': {
          const seg = segmentText(d);
          text = seg + '0x' + (o.hi !== 0 ? o.hi.toString(16) + o.lo.toString(16).padStart(8, '0') : o.lo.toString(16));
          break;
        }
        case 'creg': text = `%cr${o.reg}`; break;
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
