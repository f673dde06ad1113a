// Test instructions generated from FORMS, in GNU as (AT&T) syntax, each tagged with
// the form it must decode to. They cover every form with registers of every kind
// (r8-r15, spl..dil, ah..bh), the addressing modes (base, base+index*scale,
// disp8/disp32 boundaries, RIP-relative, no-base SIB, the rsp/r12/rbp/r13 special
// cases, 32-bit addressing, segment overrides) and immediates at size boundaries.
// GNU as encodes them; the tests compare the decoder and disassembler against objdump.

import { FORMS } from '../src/isa/table.js';
import type { Form, Operand, Size } from '../src/isa/table.js';
import { REG16, REG32, REG64, REG8_LEGACY, REG8_REX, SEGMENT_REGS } from '../src/isa/registers.js';

export interface Sample {
  /** One line of AT&T assembly for GNU as. */
  asm: string;
  /** The form the encoded bytes must decode to. */
  form: Form;
}

const SUFFIX: Record<number, string> = { 8: 'b', 16: 'w', 32: 'l', 64: 'q' };

/** Register numbers used for the register operands of one sample, in operand order. */
const REGSETS = [[0, 1, 2], [8, 15, 9], [4, 12, 5], [5, 13, 3], [7, 9, 14], [6, 10, 11], [3, 2, 1], [11, 14, 12]];

/** Memory operands: every addressing mode and displacement boundary. */
export const MEMORY_OPERANDS = [
  '(%rax)', '(%rsp)', '(%rbp)', '(%r12)', '(%r13)', '0x7f(%rcx)', '-0x80(%rdx)', '0x80(%rbx)', '-0x81(%rsi)',
  '0x7fffffff(%rdi)', '-0x80000000(%r8)', '(%rax,%rbx,1)', '0x8(%rax,%rbx,4)', '-0x8(%rsp,%r12,8)',
  '(%rbp,%r13,2)', '0x10(,%rcx,8)', '0x12345678', '0xffffffff80000000', '0x10(%rip)', '-0x10(%rip)',
  '(%r15,%r14,1)', '%fs:0x28', '%gs:(%rax)', '(%eax)', '0x4(%ebx,%ecx,2)', '0x0(%rax,%rax,1)', '(%r11,%r9,8)',
  '%es:0x1(%r10)', '(%r9)',
];

function regName(num: number, size: Size, legacy: boolean): string {
  switch (size) {
    case 8: return '%' + (legacy ? REG8_LEGACY[num] : REG8_REX[num]);
    case 16: return '%' + REG16[num];
    case 32: return '%' + REG32[num];
    default: return '%' + REG64[num];
  }
}

const hex = (n: bigint) => (n < 0n ? '-0x' + (-n).toString(16) : '0x' + n.toString(16));

/** Immediate values at the boundaries of each field, chosen so GNU as keeps the intended form. */
function immediateValues(form: Form, o: Operand): bigint[] {
  const opsize = form.opsize;
  if (o.kind === 'simm' && o.size === 8) return [-0x80n, -1n, 0n, 0x7fn];
  if (o.kind === 'simm' && o.size === 32) return [0x80n, 0x7fffffffn, -0x80000000n, -0x81n];
  if (o.size === 64) return [0x123456789abcdef0n, 0x8000000000000000n, 0x100000000n, 0xffffffffn];
  // imm32 / imm16 at the operand size: values that do not fit a sign-extended byte
  // (GNU as would pick the shorter imm8 form for those)
  const izv = form.operands.some((x) => x.kind === 'simm' || x.kind === 'imm') && (o.size === 16 || o.size === 32) && opsize === o.size;
  if (izv && o.size === 16) return [0x80n, 0x1234n, 0x7fffn, 0x8000n, 0xff7fn];
  if (izv && o.size === 32) return [0x80n, 0x12345678n, 0x7fffffffn, 0x80000000n, 0xffffff7fn];
  if (o.size === 16) return [0n, 0x7fffn, 0x8000n, 0xffffn];
  // 8-bit immediates; shift counts avoid 1 (GNU as would use the shift-by-one form)
  return [0n, 0x7fn, 0x80n, 0xffn, 3n];
}

const REG_KINDS = new Set(['reg', 'rm', 'opreg', 'rreg']);

/** Special mnemonic spellings for GNU as. */
function attMnemonic(form: Form): string {
  const m = form.mnemonic;
  const names: Record<string, string> = { cbw: 'cbtw', cwde: 'cwtl', cdqe: 'cltq', cwd: 'cwtd', cdq: 'cltd', cqo: 'cqto', iret: 'iretl' };
  if (m in names) return names[m];
  if (m === 'movzx' || m === 'movsx') return (m === 'movzx' ? 'movz' : 'movs') + SUFFIX[form.operands[1].size] + SUFFIX[form.operands[0].size];
  if (m === 'movsxd') return form.opsize === 64 ? 'movslq' : 'movsxd';
  if (m === 'pushf' || m === 'popf') return m + SUFFIX[form.opsize];
  if (m === 'leave') return form.opsize === 16 ? 'leavew' : 'leave';
  if (['movs', 'cmps', 'stos', 'lods', 'scas'].includes(m)) return m + SUFFIX[form.opsize];
  if (m === 'mov' && (form.operands.some((o) => o.kind === 'moffs') || (form.opcode >= 0xb8 && form.opcode <= 0xbf && form.opsize === 64))) return 'movabs';
  return m;
}

/** Opcodes with a twin in the other direction (ALU 00-3B, mov 88-8B): reg,reg needs {load} to pick the r <- r/m one. */
function isLoadDirection(form: Form): boolean {
  return form.map === 0 && form.modrm === 'reg' && ((form.opcode < 0x40 && (form.opcode & 7) >= 2 && (form.opcode & 7) <= 3) || form.opcode === 0x8a || form.opcode === 0x8b);
}

function specialSamples(form: Form): Sample[] | null {
  const m = form.mnemonic;
  const kinds = form.operands.map((o) => o.kind).join(',');
  const s = (asm: string): Sample => ({ asm, form });
  if (form.operands.length === 0) {
    const name = attMnemonic(form);
    if (form.rep === 'rep') return [s(name), s('rep ' + name)];
    if (form.rep === 'repe') return [s(name), s('repe ' + name), s('repne ' + name)];
    return [s(name)];
  }
  if (kinds === 'rel') {
    const short = form.operands[0].size === 8;
    if (short) return ['.+0x2', '.-0x7e', '.+0x81', '.+0x10'].map((t) => s(`${m} ${t}`));
    return ['.+0x1000', '.-0x1000', '.+0x90', '.-0x7f'].map((t) => s(`${m} ${t}`));
  }
  if (kinds === 'moffs,acc' || kinds === 'acc,moffs') {
    const acc = regName(0, form.operands[kinds === 'acc,moffs' ? 0 : 1].size as Size, false);
    return ['0x1122334455667788', '0x10', '%fs:0xffffffffffffff00'].map((addr) =>
      s(kinds === 'acc,moffs' ? `movabs ${addr},${acc}` : `movabs ${acc},${addr}`));
  }
  if (form.operands.some((o) => o.kind === 'creg')) {
    const pairs: [number, number][] = [[0, 0], [2, 9], [3, 15], [4, 3], [8, 7]];
    return pairs.map(([cr, r]) => s(kinds === 'rreg,creg' ? `mov %cr${cr},${regName(r, 64, false)}` : `mov ${regName(r, 64, false)},%cr${cr}`));
  }
  if (form.operands.some((o) => o.kind === 'dreg')) {
    const pairs: [number, number][] = [[0, 0], [1, 9], [3, 15], [6, 3], [7, 7], [4, 1], [5, 2]];
    return pairs.map(([dr, r]) => s(kinds === 'rreg,dreg' ? `mov %db${dr},${regName(r, 64, false)}` : `mov ${regName(r, 64, false)},%db${dr}`));
  }
  if (form.operands.some((o) => o.kind === 'sreg')) {
    const out: Sample[] = [];
    const toSreg = kinds === 'sreg,rm';
    SEGMENT_REGS.forEach((seg, i) => {
      if (toSreg && seg === 'cs') return; // loading CS with mov is #UD
      const reg = regName(i + 1, i % 2 ? 32 : 16, false);
      out.push(s(toSreg ? `mov ${reg},%${seg}` : `mov %${seg},${reg}`));
      const mem = MEMORY_OPERANDS[(i * 5) % MEMORY_OPERANDS.length];
      out.push(s(toSreg ? `mov ${mem},%${seg}` : `mov %${seg},${mem}`));
    });
    return out;
  }
  if (m === 'in' || m === 'out') {
    const acc = regName(0, form.operands[m === 'in' ? 0 : 1].size as Size, false);
    const port = form.operands.some((o) => o.kind === 'dx') ? ['(%dx)'] : ['$0x60', '$0x0', '$0xff'];
    return port.map((p) => s(m === 'in' ? `in ${p},${acc}` : `out ${acc},${p}`));
  }
  if (m === 'enter') return [s('enter $0x10,$0x1'), s('enter $0xffff,$0xff'), s('enter $0x0,$0x0')];
  if (kinds === 'imm' && (m === 'ret' || m === 'int')) {
    return (m === 'ret' ? ['$0x8', '$0xffff', '$0x0'] : ['$0x40', '$0xff', '$0x80']).map((v) => s(`${m} ${v}`));
  }
  if (kinds === 'simm' || kinds === 'imm') {
    // push imm8 / push imm32 (or imm16)
    const name = form.opsize === 16 ? 'pushw' : 'push';
    return immediateValues(form, form.operands[0]).map((v) => s(`${name} $${hex(v)}`));
  }
  return null;
}

/** Forms whose register-destination encoding GNU as never picks (it prefers a shorter one). */
function registerFormUnreachable(form: Form): boolean {
  if (form.map !== 0) return false;
  if (form.opcode === 0xc6) return true; // mov $imm,%reg8 -> B0+r
  if (form.opcode === 0xc7) return form.opsize !== 64; // mov $imm,%reg -> B8+r
  if (form.opcode === 0xff && (form.modrm === 6)) return true; // push %reg -> 50+r
  if (form.opcode === 0x8f) return true; // pop %reg -> 58+r
  return false;
}

/** True when GNU as would choose the accumulator short form for this register choice. */
function accumulatorConflict(form: Form, regs: number[]): boolean {
  if (form.map !== 0) return false;
  const first = regs[0];
  if (first !== 0) return false;
  // 80 /n, 81 /n, F6 /0, F7 /0 (test imm): GNU as uses 04/05/A8/A9 for the accumulator
  if (form.opcode === 0x80 || form.opcode === 0x81) return true;
  if ((form.opcode === 0xf6 || form.opcode === 0xf7) && form.modrm === 0) return true;
  return false;
}

function generalSamples(form: Form): Sample[] {
  const ops = form.operands;
  const out: Sample[] = [];
  const hasRm = ops.some((o) => o.kind === 'rm');
  const hasMem = ops.some((o) => o.kind === 'mem') || hasRm;
  const memOnly = ops.some((o) => o.kind === 'mem');
  const isXchg = form.mnemonic === 'xchg';
  const name = attMnemonic(form);
  const noSuffix = form.family === 'setcc' || ['lea', 'lgdt', 'lidt', 'sgdt', 'sidt', 'invlpg', 'smsw', 'str', 'lmsw', 'ltr', 'jmp', 'call'].includes(form.mnemonic) || name !== form.mnemonic;
  const indirect = form.mnemonic === 'jmp' || form.mnemonic === 'call';
  const immOps = ops.filter((o) => o.kind === 'imm' || o.kind === 'simm');
  const immLists = immOps.map((o) => immediateValues(form, o));

  const render = (regs: number[], mem: string | null, legacy: boolean, variant: number, prefix = ''): string | null => {
    let r = 0, imm = 0;
    const texts: string[] = [];
    let sizedByRegister = false;
    for (const o of ops) {
      let t: string;
      switch (o.kind) {
        case 'reg': case 'opreg': case 'rreg':
          t = regName(regs[r++], o.size as Size, legacy); sizedByRegister = true; break;
        case 'rm':
          if (mem) t = mem; else { t = regName(regs[r++], o.size as Size, legacy); sizedByRegister = true; }
          break;
        case 'mem': t = mem!; break;
        case 'acc': t = regName(0, o.size as Size, false); sizedByRegister = true; break;
        case 'cl': t = '%cl'; break;
        case 'dx': t = '(%dx)'; break;
        case 'one': continue; // shl %eax means shift by one
        case 'imm': case 'simm': {
          const list = immLists[imm++];
          t = '$' + hex(list[variant % list.length]);
          break;
        }
        default: return null;
      }
      texts.push(indirect ? '*' + t : t);
    }
    texts.reverse();
    let mnemonic = name;
    if (!sizedByRegister && !noSuffix && form.opsize !== 0) mnemonic += SUFFIX[form.opsize];
    if (form.mnemonic === 'nop') mnemonic = 'nop' + SUFFIX[form.opsize];
    return `${prefix}${mnemonic} ${texts.join(',')}`;
  };

  const regCount = ops.filter((o) => REG_KINDS.has(o.kind)).length;
  let variant = 0;
  // Register-only samples.
  // GNU as drops REX.W from `str %rax` (the register form writes the same either way)
  const registersReachable = !(form.mnemonic === 'str' && form.opsize === 64);
  if (!memOnly && registersReachable && !(hasRm && registerFormUnreachable(form))) {
    for (const set of REGSETS) {
      const regs = set.slice(0, regCount);
      if (accumulatorConflict(form, regs)) continue;
      // xchg with the accumulator is 90+r (and xchg %eax,%eax is 87 c0)
      if (isXchg && regs.some((x) => x === 0)) continue;
      const text = render(regs, null, false, variant++, hasRm && isLoadDirection(form) ? '{load} ' : '');
      if (text) out.push({ asm: text, form });
    }
    // ah..bh: only where no REX prefix is needed
    const byteRegs = ops.some((o) => REG_KINDS.has(o.kind) && o.size === 8);
    const needsRex = ops.some((o) => o.size === 64 && REG_KINDS.has(o.kind)) || form.sizeRule === 'w';
    if (byteRegs && !needsRex && regCount > 0) {
      for (const set of [[4, 7, 5], [6, 5, 4]]) {
        const regs = set.slice(0, regCount).map((x, i) => (ops.filter((o) => REG_KINDS.has(o.kind))[i].size === 8 ? x : x - 4));
        const text = render(regs, null, true, variant++, hasRm && isLoadDirection(form) ? '{load} ' : '');
        if (text) out.push({ asm: text, form });
      }
    }
  }
  // Memory samples: every addressing mode.
  if (hasMem) {
    MEMORY_OPERANDS.forEach((mem, k) => {
      const regs = REGSETS[k % REGSETS.length].slice(0, regCount);
      // lea ignores segments (GNU as drops the prefix); smsw/str memory stores 16 bits in every form
      if (form.mnemonic === 'lea' && mem.includes('%') && mem.includes(':')) return;
      if ((form.mnemonic === 'smsw' || form.mnemonic === 'str') && form.opsize !== 32) return;
      const text = render(regs, mem, false, variant++);
      if (text) out.push({ asm: text, form });
    });
    if (form.lock) {
      const regs = REGSETS[1].slice(0, regCount);
      const text = render(regs, '0x8(%rax,%rbx,4)', false, variant++, 'lock ');
      if (text) out.push({ asm: text, form });
    }
  }
  // Make sure every immediate value appears at least once.
  if (immLists.length > 0) {
    const longest = Math.max(...immLists.map((l) => l.length));
    for (let v = 0; v < longest; v++) {
      const regs = REGSETS[3].slice(0, regCount);
      const mem = hasMem ? '0x8(%rax,%rbx,4)' : null;
      const useMem = memOnly || (hasRm && (registerFormUnreachable(form) || accumulatorConflict(form, regs))) ? mem : null;
      const text = render(regs, useMem, false, v);
      if (text) out.push({ asm: text, form });
    }
  }
  return out;
}

/** Encodings GNU as never produces from assembly text, written as raw bytes (objdump still names them). */
function rawSamples(form: Form): Sample[] {
  if (form.mnemonic === 'str' && form.opsize === 64) {
    return [{ asm: '.byte 0x48,0x0f,0x00,0xc8', form }, { asm: '.byte 0x4d,0x0f,0x00,0xcf', form }];
  }
  // movzww/movsww: GNU as refuses the 16-bit destination, the CPU and objdump accept it
  if ((form.mnemonic === 'movzx' || form.mnemonic === 'movsx') && form.opsize === 16 && form.operands[1].size === 16) {
    const op = form.mnemonic === 'movzx' ? '0xb7' : '0xbf';
    return [{ asm: `.byte 0x66,0x0f,${op},0xc0`, form }, { asm: `.byte 0x66,0x45,0x0f,${op},0x3c,0x24`, form }];
  }
  return [];
}

/** Samples for one form (empty if the generator does not know how to write it). */
export function samplesFor(form: Form): Sample[] {
  const raw = rawSamples(form);
  if (raw.length > 0 && form.operands[0]?.size === 16 && (form.mnemonic === 'movzx' || form.mnemonic === 'movsx')) return raw;
  return [...(specialSamples(form) ?? generalSamples(form)), ...raw];
}

/** Samples for every form in FORMS. */
export function allSamples(): Sample[] {
  return FORMS.flatMap(samplesFor);
}
