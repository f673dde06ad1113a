// Instruction selection and encoding, driven by FORMS in src/isa/table.ts.
//
// For one AT&T statement we collect every table form whose operands fit, encode
// each, and keep the shortest, earlier table rows winning ties. That reproduces
// GNU as's choices: the accumulator short forms (05 id), sign-extended byte
// immediates (83 /0 ib), the "store" direction 89 /r for register-to-register
// moves (its row comes before 8B /r), and disp8 over disp32.
//
// Branches to labels (jmp, jcc) are returned unencoded: their size (rel8 or
// rel32) is chosen later by branch relaxation, once label addresses are known.

import { FORMS_BY_MNEMONIC, Form, Operand, Size } from '../../isa/table.js';
import { Expr } from './expression.js';
import { AsmOperand, Register } from './operands.js';
import { MnemonicChoice, mnemonicChoices } from './mnemonics.js';

/** A field of the instruction whose value is known only after layout (or at link time). */
export interface Fixup {
  /** Offset of the field within the encoded bytes. */
  offset: number;
  size: 1 | 2 | 4 | 8;
  expr: Expr;
  /** Relative to the end of the instruction (branch targets, RIP-relative addresses). */
  pcrel: boolean;
  /** The field is sign-extended by the CPU (32S relocation instead of 32). */
  signed: boolean;
  /** A call or jump target: GNU as uses R_X86_64_PLT32 for global symbols. */
  branch: boolean;
  /** Instruction length: a pcrel value is target - (instruction start + end). */
  end: number;
  column: number;
}

export type Encoded =
  | { kind: 'fixed'; bytes: number[]; fixups: Fixup[]; formId?: number }
  | { kind: 'branch'; short: number[]; long: number[]; target: Expr; column: number; shortId: number; longId: number };

export class EncodeError extends Error {
  constructor(readonly column: number, message: string) {
    super(message);
  }
}

/** Value of an expression if it is an assemble-time constant now, else null. */
export type ConstantOf = (expr: Expr) => bigint | null;

const SHIFT_NAMES = new Set(['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sar']);
const COMMUTATIVE = new Set(['test', 'xchg']);

function signExtend(v: bigint, bits: number): bigint {
  return BigInt.asIntN(bits, v);
}

/** The immediate as the CPU sees it at operand size `size`, or null if it does not fit at all. */
function immediateAt(v: bigint, size: number): bigint | null {
  const s = BigInt(size);
  if (v < -(1n << (s - 1n)) || v > (1n << s) - 1n) return null;
  return signExtend(v, size);
}

function immediateFits(v: bigint, fo: Operand, opsize: number): boolean {
  if (fo.kind === 'simm') {
    const at = immediateAt(v, opsize || 64);
    if (at === null) return false;
    return fo.size === 8 ? at >= -128n && at <= 127n : at >= -(1n << 31n) && at < 1n << 31n;
  }
  return immediateAt(v, fo.size) !== null;
}

function isGeneral(op: AsmOperand): op is Extract<AsmOperand, { kind: 'register' }> {
  return op.kind === 'register' && op.reg.kind === 'general';
}

function plainAddress(op: AsmOperand): boolean {
  return op.kind === 'memory' && !op.base && !op.index && !op.segment && !op.indirect;
}

interface Match {
  form: Form;
  ops: AsmOperand[];
  /** A register operand or the suffix fixed the operand size. */
  sized: boolean;
}

/** Does `op` fit the form operand `fo`? Immediates are range-checked when constant. */
function operandFits(fo: Operand, op: AsmOperand, form: Form, choice: MnemonicChoice, constant: ConstantOf): boolean {
  switch (fo.kind) {
    case 'reg':
    case 'opreg':
      return isGeneral(op) && op.reg.size === fo.size;
    case 'rreg':
      return isGeneral(op) && op.reg.size === 64;
    case 'acc':
      return isGeneral(op) && op.reg.num === 0 && op.reg.size === fo.size;
    case 'cl':
      return isGeneral(op) && op.reg.num === 1 && op.reg.size === 8;
    case 'dx':
      return isGeneral(op) && op.reg.num === 2 && op.reg.size === 16;
    case 'rm':
      // a segment register moves to or from any general register (the table row says rm16)
      if (isGeneral(op) && form.operands.some((o) => o.kind === 'sreg')) return op.reg.size >= 16;
      if (isGeneral(op)) return op.reg.size === fo.size;
      if (op.kind === 'memory' && (form.family === 'smsw' || form.family === 'str') && form.opsize !== 16) return false;
      if (op.kind !== 'memory') return false;
      if (choice.sourceSize && fo === form.operands[1] && fo.size !== choice.sourceSize) return false;
      return true;
    case 'mem':
      return op.kind === 'memory';
    case 'creg':
      return op.kind === 'register' && op.reg.kind === 'control';
    case 'dreg':
      return op.kind === 'register' && op.reg.kind === 'debug';
    case 'sreg':
      return op.kind === 'register' && op.reg.kind === 'segment';
    case 'one': {
      if (op.kind !== 'immediate') return false;
      return constant(op.expr) === 1n;
    }
    case 'imm':
    case 'simm': {
      if (op.kind !== 'immediate') return false;
      const v = constant(op.expr);
      if (v === null) return !(fo.kind === 'simm' && fo.size === 8); // unknown values never get the short form
      return immediateFits(v, fo, form.opsize);
    }
    case 'rel':
      return plainAddress(op);
    case 'moffs':
      return choice.movabs && plainAddress(op);
  }
}

/** Is the operand size of this match fixed by a register operand (or needs none)? */
function sizedByRegister(form: Form, ops: AsmOperand[]): boolean {
  return form.operands.some((fo, i) =>
    (fo.kind === 'reg' || fo.kind === 'rm' || fo.kind === 'opreg' || fo.kind === 'acc' || fo.kind === 'rreg') && isGeneral(ops[i]));
}

function findMatches(choice: MnemonicChoice, att: AsmOperand[], constant: ConstantOf): Match[] {
  const forms = FORMS_BY_MNEMONIC.get(choice.intel) ?? [];
  // Intel operand order is AT&T's reversed (except enter, whose immediates keep their order)
  let intel = choice.intel === 'enter' ? [...att] : [...att].reverse();
  if (SHIFT_NAMES.has(choice.intel) && att.length === 1) {
    intel = [att[0], { kind: 'immediate', expr: { kind: 'number', value: 1n, column: att[0].column }, indirect: false, column: att[0].column }];
  }
  if (choice.intel === 'imul' && att.length === 2 && att[0].kind === 'immediate') intel = [att[1], att[1], att[0]];
  const orders = [intel];
  if (COMMUTATIVE.has(choice.intel) && intel.length === 2) orders.push([intel[1], intel[0]]);
  const out: Match[] = [];
  for (const form of forms) {
    if (choice.movabs && !form.operands.some((o) => o.kind === 'moffs' || (o.kind === 'imm' && o.size === 64) || (form.opcodeLow === 'reg' && form.opcode === 0xb8))) continue;
    if (choice.size && form.opsize !== 0 && form.opsize !== choice.size && !form.operands.some((o) => o.kind === 'sreg')) continue;
    if (choice.sourceSize && form.operands[1]?.size !== choice.sourceSize) continue;
    // movzx/movsx must widen: there is no AT&T movzww or movslw
    if ((form.family === 'movzx' || form.family === 'movsx' || form.family === 'movsxd') && form.operands[1].size >= form.opsize) continue;
    for (const ops of orders) {
      if (ops.length !== form.operands.length) continue;
      // `*` marks the target of an indirect jmp/call; GNU as also takes `call %rax` and `jmp (%rax)` (with a warning)
      const indirectForm = (i: number) => form.operands[i].kind === 'rm' && (form.family === 'jmp' || form.family === 'call');
      const impliedStar = (op: AsmOperand) => op.kind === 'register' || (op.kind === 'memory' && !plainAddress(op));
      if (ops.some((op, i) => op.indirect !== indirectForm(i) && !(indirectForm(i) && impliedStar(op)))) continue;
      if (!form.operands.every((fo, i) => operandFits(fo, ops[i], form, choice, constant))) continue;
      // xchg %eax,%eax is 87 c0: 90 would be nop (and would not zero-extend)
      if (form.family === 'xchg' && form.opcodeLow === 'reg' && form.opsize === 32 && isGeneral(ops[1]) && ops[1].reg.num === 0) continue;
      out.push({ form, ops, sized: choice.size !== 0 || form.opsize === 0 || sizedByRegister(form, ops) });
    }
  }
  return out;
}

/** Encodes one matched form; null if it cannot be encoded (ah..bh together with REX). */
function encodeForm(m: Match, prefixes: number[], constant: ConstantOf): { bytes: number[]; fixups: Fixup[] } | null {
  const { form, ops } = m;
  let rex = form.sizeRule === 'w' ? 0x48 : 0;
  let regField = typeof form.modrm === 'number' ? form.modrm : 0;
  let rmOp: AsmOperand | undefined;
  let opregNum = 0;
  let highByte = false;
  const tail: { fo: Operand; op: AsmOperand }[] = [];
  let opsize16 = form.sizeRule === 'o16';
  for (let i = 0; i < ops.length; i++) {
    const fo = form.operands[i];
    const op = ops[i];
    if (op.kind === 'register' && op.reg.kind === 'general' && op.reg.size === 8) {
      if (op.reg.needsRex) rex |= 0x40;
      if (op.reg.highByte) highByte = true;
    }
    switch (fo.kind) {
      case 'reg': case 'creg': case 'dreg': case 'sreg':
        regField = (op as { reg: Register }).reg.num;
        break;
      case 'rm': case 'rreg': case 'mem':
        rmOp = op;
        // mov %ds,%ax takes 66; mov %ds,%eax and %rax take nothing (the table row is rm16)
        if (fo.kind === 'rm' && form.operands.some((o) => o.kind === 'sreg') && isGeneral(op)) {
          if (op.reg.size === 16 && fo === form.operands[0]) opsize16 = true;
        }
        // smsw and str store 16 bits to memory whatever the size; str %rax is str %eax
        if ((form.family === 'smsw' || form.family === 'str') && fo.kind === 'rm') {
          if (op.kind === 'memory') opsize16 = false;
          if (form.family === 'str' && form.opsize === 64) rex = (rex & ~0x08) === 0x40 ? 0 : rex & ~0x08;
        }
        break;
      case 'opreg':
        opregNum = (op as { reg: Register }).reg.num;
        break;
      case 'imm': case 'simm': case 'rel': case 'moffs':
        tail.push({ fo, op });
        break;
      default:
        break;
    }
  }
  if (regField & 8) rex |= 0x44;
  if (opregNum & 8) rex |= 0x41;
  const mem = rmOp?.kind === 'memory' ? rmOp : undefined;
  if (rmOp && isGeneral(rmOp) && rmOp.reg.num & 8) rex |= 0x41;
  if (mem?.base && mem.base.kind === 'general' && mem.base.num & 8) rex |= 0x41;
  if (mem?.index && mem.index.num & 8) rex |= 0x42;
  if (highByte && rex) return null;

  const bytes: number[] = [];
  const fixups: Fixup[] = [];
  // prefixes in GNU as's order: segment, address size, operand size, rep, lock
  const segmentBytes: Record<string, number> = { es: 0x26, cs: 0x2e, ss: 0x36, ds: 0x3e, fs: 0x64, gs: 0x65 };
  for (const p of prefixes) if (![0xf0, 0xf2, 0xf3, 0x66, 0x67].includes(p)) bytes.push(p);
  if (mem?.segment) bytes.push(segmentBytes[mem.segment.name]);
  if (prefixes.includes(0x67) || (mem && ((mem.base?.kind === 'general' && mem.base.size === 32) || mem.index?.size === 32))) bytes.push(0x67);
  if (opsize16 || prefixes.includes(0x66)) bytes.push(0x66);
  for (const p of prefixes) if (p === 0xf2 || p === 0xf3) bytes.push(p);
  if (prefixes.includes(0xf0)) bytes.push(0xf0);
  if (form.mandatory) bytes.push(form.mandatory);
  if (rex) bytes.push(rex);
  if (form.map >= 1) bytes.push(0x0f);
  if (form.map === 2) bytes.push(0x38);
  if (form.map === 3) bytes.push(0x3a);
  bytes.push(form.opcodeLow === 'reg' ? form.opcode + (opregNum & 7) : form.opcode);
  if (form.modrmByte >= 0) bytes.push(form.modrmByte);

  const disp: { value: bigint | null; size: 0 | 1 | 4; expr?: Expr; pcrel: boolean } = { value: 0n, size: 0, pcrel: false };
  if (form.modrm !== 'none' && form.modrmByte < 0 && rmOp) {
    const reg = (regField & 7) << 3;
    if (rmOp.kind === 'register') {
      bytes.push(0xc0 | reg | (rmOp.reg.num & 7));
    } else if (rmOp.kind === 'memory') {
      const dv = rmOp.disp ? constant(rmOp.disp) : 0n;
      disp.expr = rmOp.disp;
      disp.value = dv;
      const scaleBits = { 1: 0, 2: 1, 4: 2, 8: 3 }[rmOp.scale] << 6;
      if (rmOp.base?.kind === 'rip') {
        bytes.push(0x05 | reg);
        disp.size = 4;
        disp.pcrel = true;
      } else if (!rmOp.base) {
        bytes.push(0x04 | reg);
        bytes.push(rmOp.index ? scaleBits | ((rmOp.index.num & 7) << 3) | 5 : 0x25);
        disp.size = 4;
      } else {
        const base = rmOp.base.num & 7;
        let mod: number;
        if (dv === 0n && base !== 5) mod = 0;
        else if (dv !== null && dv >= -128n && dv <= 127n) mod = 1;
        else mod = 2;
        disp.size = mod === 0 ? 0 : mod === 1 ? 1 : 4;
        if (rmOp.index || base === 4) {
          bytes.push((mod << 6) | reg | 4);
          bytes.push(scaleBits | ((rmOp.index ? rmOp.index.num & 7 : 4) << 3) | base);
        } else {
          bytes.push((mod << 6) | reg | base);
        }
      }
    }
  }
  const fields: { at: number; size: 1 | 2 | 4 | 8; value: bigint | null; expr?: Expr; pcrel: boolean; signed: boolean; branch: boolean; column: number }[] = [];
  if (disp.size) {
    // with 32-bit addressing the displacement is zero-extended (R_X86_64_32, not 32S)
    const address32 = mem !== undefined && ((mem.base?.kind === 'general' && mem.base.size === 32) || mem.index?.size === 32);
    // (GNU as also uses R_X86_64_32 for lea with a 16- or 32-bit destination: the address is truncated anyway)
    const unsignedDisp = address32 || (form.family === 'lea' && form.opsize !== 64);
    fields.push({ at: bytes.length, size: disp.size, value: disp.value, expr: disp.expr, pcrel: disp.pcrel, signed: !unsignedDisp, branch: false, column: rmOp!.column });
    for (let k = 0; k < disp.size; k++) bytes.push(0);
  }
  for (const { fo, op } of tail) {
    const size = (fo.kind === 'moffs' ? 8 : fo.size / 8) as 1 | 2 | 4 | 8;
    const expr = op.kind === 'immediate' ? op.expr : op.kind === 'memory' ? op.disp! : undefined;
    const value = expr ? constant(expr) : 0n;
    const pcrel = fo.kind === 'rel';
    fields.push({
      at: bytes.length, size, value: pcrel ? null : value, expr, pcrel,
      signed: fo.kind === 'simm', branch: pcrel && (form.family === 'call' || form.family === 'jmp' || form.family === 'jcc'), column: op.column,
    });
    for (let k = 0; k < size; k++) bytes.push(0);
  }
  for (const f of fields) {
    if (f.value !== null) {
      let v = BigInt.asUintN(64, f.value);
      for (let k = 0; k < f.size; k++) {
        bytes[f.at + k] = Number(v & 0xffn);
        v >>= 8n;
      }
    } else if (f.expr) {
      fixups.push({ offset: f.at, size: f.size, expr: f.expr, pcrel: f.pcrel, signed: f.signed, branch: f.branch, end: 0, column: f.column });
    }
  }
  for (const f of fixups) f.end = bytes.length;
  return { bytes, fixups };
}

/** Encodes one instruction (mnemonic as written, AT&T operands, prefix bytes written before it). */
export function encodeInstruction(mnemonic: string, att: AsmOperand[], prefixes: number[], column: number, constant: ConstantOf): Encoded {
  const choices = mnemonicChoices(mnemonic);
  if (choices.length === 0) throw new EncodeError(column, `unknown mnemonic '${mnemonic}'`);

  // jmp/jcc to a label: the relaxation pass picks rel8 or rel32
  for (const choice of choices) {
    const forms = FORMS_BY_MNEMONIC.get(choice.intel) ?? [];
    const short = forms.find((f) => f.operands.length === 1 && f.operands[0].kind === 'rel' && f.operands[0].size === 8);
    const long = forms.find((f) => f.operands.length === 1 && f.operands[0].kind === 'rel' && f.operands[0].size === 32);
    if (short && long && att.length === 1 && plainAddress(att[0])) {
      const opcodeBytes = (f: Form) => [...prefixes, ...(f.map ? [0x0f] : []), f.opcode];
      return { kind: 'branch', short: opcodeBytes(short), long: opcodeBytes(long), target: (att[0] as { disp: Expr }).disp, column: att[0].column, shortId: short.id, longId: long.id };
    }
  }

  let matches: Match[] = [];
  for (const choice of choices) {
    matches = findMatches(choice, att, constant);
    if (matches.length) break;
  }
  if (matches.length === 0) throw new EncodeError(column, describeMismatch(mnemonic, att, choices, constant));
  const sized = matches.filter((m) => m.sized);
  if (sized.length) {
    matches = sized;
  } else {
    const sizes = new Set(matches.map((m) => m.form.opsize));
    if (sizes.size > 1) {
      if (matches.every((m) => m.form.default64)) matches = matches.filter((m) => m.form.opsize === 64);
      else throw new EncodeError(column, `ambiguous operand size for '${mnemonic}' (no register operand and no b/w/l/q suffix)`);
    }
  }
  // xchg %rax,%rax: GNU as emits the one-byte nop
  if (matches[0].form.family === 'xchg' && att.length === 2 && isGeneral(att[0]) && isGeneral(att[1]) && att[0].reg.num === 0 && att[1].reg.num === 0 && att[0].reg.size === 64 && att[1].reg.size === 64) {
    return { kind: 'fixed', bytes: [...prefixes, 0x90], fixups: [] };
  }
  let best: { bytes: number[]; fixups: Fixup[]; formId: number; simm8: boolean } | null = null;
  let highByteTrouble = false;
  for (const m of matches) {
    const e = encodeForm(m, prefixes, constant);
    if (!e) {
      highByteTrouble = true;
      continue;
    }
    // equal lengths: GNU as prefers the sign-extended imm8 form (its table lists it first)
    const simm8 = m.form.operands.some((o) => o.kind === 'simm' && o.size === 8);
    if (!best || e.bytes.length < best.bytes.length || (e.bytes.length === best.bytes.length && simm8 && !best.simm8)) {
      best = { ...e, formId: m.form.id, simm8 };
    }
  }
  if (!best) {
    if (highByteTrouble) throw new EncodeError(column, `can't encode a high-byte register (%ah, %bh, %ch, %dh) in an instruction requiring a REX prefix`);
    throw new EncodeError(column, `invalid operands for '${mnemonic}'`);
  }
  return { kind: 'fixed', bytes: best.bytes, fixups: best.fixups, formId: best.formId };
}

function describeMismatch(mnemonic: string, att: AsmOperand[], choices: MnemonicChoice[], constant: ConstantOf): string {
  const counts = new Set(choices.flatMap((c) => (FORMS_BY_MNEMONIC.get(c.intel) ?? []).map((f) => f.operands.length)));
  if (choices.some((c) => SHIFT_NAMES.has(c.intel))) counts.add(1);
  if (choices.some((c) => c.intel === 'imul')) counts.add(2);
  if (!counts.has(att.length)) {
    const n = [...counts].sort().join(' or ');
    return `'${mnemonic}' takes ${n} operand${n === '1' ? '' : 's'}, found ${att.length}`;
  }
  const regSizes = att.filter(isGeneral).map((o) => o.reg.size);
  const suffix = choices.find((c) => c.size)?.size;
  if (suffix && regSizes.some((s) => s !== suffix) && !choices.some((c) => c.sourceSize)) {
    return `operand size mismatch for '${mnemonic}' (register size does not match the suffix)`;
  }
  if (regSizes.length > 1 && new Set(regSizes).size > 1 && !choices.some((c) => c.sourceSize)) return `operand size mismatch for '${mnemonic}'`;
  // would it fit with a small immediate? then the value was out of range
  const zero: Expr = { kind: 'number', value: 0n, column: 0 };
  const small = att.map((op) => (op.kind === 'immediate' ? { ...op, expr: zero } : op));
  if (att.some((op) => op.kind === 'immediate') && choices.some((c) => findMatches(c, small, constant).length > 0)) {
    const imm = att.find((op) => op.kind === 'immediate') as Extract<AsmOperand, { kind: 'immediate' }>;
    const v = constant(imm.expr);
    return `value ${v ?? ''} out of range for '${mnemonic}'`.replace('value  ', 'value ');
  }
  return `operand type mismatch for '${mnemonic}'`;
}

export type { Size };
