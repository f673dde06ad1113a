// Random instruction cases for the host-CPU oracle (test/hostOracle.test.ts).
//
// Each case is a short snippet of AT&T text (1-3 instructions, sometimes with
// a little setup), an initial register file and RFLAGS, and initial scratch
// memory. GNU as turns the text into bytes; the native harness
// (test/oracle/harness.c) and the emulator both run them from the same
// addresses and report registers, flags and scratch memory.
//
// Register conventions (test/oracle/layout.h): r15 points into scratch and is
// the base of every memory operand; r14 holds a small index; rbp and rsp
// point into scratch (the stack). Those four are never destinations.

import { FORMS, flagEffect, mayLeaveResultUndefined, mayLeaveUndefined, type Form } from '../src/isa/table.js';
import { REG16, REG32, REG64, REG8_LEGACY, REG8_REX } from '../src/isa/registers.js';
import { CONDITIONS } from '../src/isa/conditions.js';
import { seededUint32 } from './helpers/random.js';

export const SCRATCH = 0x200000;
export const SCRATCH_SIZE = 0x800;
export const CODE = 0x210000;
export const CODE_SLOT = 512;
export const EPILOGUE_AT = 320; // offset of the epilogue in a slot
export const SAVE = 0x220000;
export const SAVE_RETURN = 0x220108;
export const R15_VALUE = SCRATCH + 0x100;
export const RBP_VALUE = SCRATCH + 0x400;
export const RSP_VALUE = SCRATCH + 0x700;

/** Mnemonics the oracle does not run: privileged ones (the system half's), and those whose result is host-specific by design. */
const SKIP = new Set([
  'hlt', 'cli', 'sti', 'lgdt', 'lidt', 'sgdt', 'sidt', 'smsw', 'lmsw', 'ltr', 'str', 'invlpg', 'in', 'out',
  'rdmsr', 'wrmsr', 'swapgs', 'iretq', 'iret', 'int', 'int3', 'int1', 'pushf', 'popf',
  'cpuid', // xk reports its own fixed processor (tested in cpuCore.test)
  'rdtsc', // xk counts instructions
  'syscall', 'sysretq', 'sysretl', // syscall would enter the host kernel; sysret at CPL 3: test/systemCallHost.test.ts
]);

/** The user-level forms the oracle covers. */
export function oracleForms(): Form[] {
  return FORMS.filter((f) => !SKIP.has(f.mnemonic) && !f.operands.some((o) => o.kind === 'creg' || o.kind === 'dreg' || o.kind === 'sreg'));
}

/** The cases' random choices, from THE seeded PRNG (test/helpers/random.ts): the same seed gives the same cases. */
export class Rng {
  readonly next: () => number;
  constructor(seed: number) { this.next = seededUint32(seed); }
  int(n: number): number { return this.next() % n; }
  pick<T>(a: readonly T[]): T { return a[this.int(a.length)]; }
  chance(p: number): boolean { return this.next() / 0x100000000 < p; }
}

const EDGES: bigint[] = [
  0n, 1n, 2n, 0x7fn, 0x80n, 0xffn, 0x100n, 0x7fffn, 0x8000n, 0xffffn, 0x10000n,
  0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0x8000000000000000n,
  0xffffffffffffffffn, 0xfffffffffffffffen, 0xffffffff80000000n, 0xffffffffffffff80n, 0xffffffffffff8000n,
  31n, 32n, 33n, 63n, 64n, 65n, 15n, 16n, 17n, 7n, 8n, 9n,
];

function rand64(r: Rng): bigint {
  return (BigInt(r.next()) << 32n) | BigInt(r.next());
}

/** A 64-bit value weighted toward the edges. */
export function edgeValue(r: Rng): bigint {
  switch (r.int(6)) {
    case 0: case 1: return r.pick(EDGES);
    case 2: return BigInt(r.int(70));
    case 3: return BigInt(r.next());
    case 4: return BigInt.asUintN(64, BigInt(r.next() | 0)); // sign-extended 32-bit
    default: return rand64(r);
  }
}

export interface OracleCase {
  text: string; // the snippet (AT&T), without epilogue
  regs: bigint[]; // 16 initial values
  rflags: number;
  scratch: Uint8Array;
}

/** Registers a snippet may write. */
const DEST = [0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13];
const SUFFIX: Record<number, string> = { 8: 'b', 16: 'w', 32: 'l', 64: 'q' };

function regName(n: number, size: number): string {
  switch (size) {
    case 8: return '%' + REG8_REX[n];
    case 16: return '%' + REG16[n];
    case 32: return '%' + REG32[n];
    default: return '%' + REG64[n];
  }
}

function hex(v: bigint): string {
  return v < 0n ? '-0x' + (-v).toString(16) : '0x' + v.toString(16);
}

/** An immediate for an operand of kind imm/simm with field size `field` used at operand size `opsize`. */
function immediate(r: Rng, kind: string, field: number, opsize: number): bigint {
  const v = edgeValue(r);
  if (kind === 'simm' || (field === 32 && opsize === 64)) {
    return BigInt.asIntN(field, v);
  }
  return BigInt.asUintN(field, v);
}

function memText(r: Rng): string {
  const disp = r.int(0xe0) - 0x70;
  if (r.chance(0.3)) return `${disp}(%r15,%r14,${r.pick([1, 2, 4, 8])})`;
  return `${disp}(%r15)`;
}

/** AT&T mnemonic for a form at its size. */
function attMnemonic(f: Form, needsSuffix: boolean): string {
  const s = f.opsize;
  const src = f.operands[1]?.size;
  switch (f.mnemonic) {
    // 16-bit from 16-bit: GNU as has no mnemonic; a data16 prefix on the 32-bit form gives 66 0F B7/BF.
    case 'movzx': return s === 16 && src === 16 ? 'data16 movzwl' : `movz${SUFFIX[src]}${SUFFIX[s]}`;
    case 'movsx': return s === 16 && src === 16 ? 'data16 movswl' : `movs${SUFFIX[src]}${SUFFIX[s]}`;
    case 'movsxd': return s === 32 ? 'movsxd' : 'movslq';
    case 'movs': case 'stos': case 'lods': case 'cmps': case 'scas': return f.mnemonic + SUFFIX[s];
  }
  if (/^(movs|stos|lods|cmps|scas)b$/.test(f.mnemonic)) return f.mnemonic;
  return needsSuffix && s && f.operands.length ? f.mnemonic + SUFFIX[s] : f.mnemonic;
}

const LOOPING = new Set(['loop', 'jrcxz']);

/** Build one snippet exercising form `f`. Returns the text; may adjust the register file. */
function snippetFor(f: Form, r: Rng, regs: bigint[]): string {
  const m = f.mnemonic;
  const setup: string[] = [];
  const ccName = f.cc >= 0 ? CONDITIONS[f.cc][0] : '';
  void ccName;

  // Control flow and strings have their own templates.
  if (f.family === 'jcc') {
    const wide = f.operands[0].size === 32 ? '{disp32} ' : '';
    return `${wide}${m} 1f\n  inc %eax\n1:\n  inc %ecx`;
  }
  if (m === 'jmp') {
    if (f.operands[0].kind === 'rel') return `${f.operands[0].size === 32 ? '{disp32} ' : ''}jmp 1f\n  inc %eax\n1:`;
    return r.chance(0.5) ? `lea 1f(%rip), %rbx\n  jmp *%rbx\n  inc %eax\n1:` : `lea 1f(%rip), %rbx\n  mov %rbx, 8(%r15)\n  jmp *8(%r15)\n  inc %eax\n1:`;
  }
  if (m === 'call') {
    if (f.operands[0].kind === 'rel') return `call 1f\n  inc %eax\n1:\n  pop %rdx`;
    return r.chance(0.5) ? `lea 1f(%rip), %rbx\n  call *%rbx\n1:\n  pop %rsi` : `lea 1f(%rip), %rbx\n  mov %rbx, 16(%r15)\n  call *16(%r15)\n1:\n  pop %rsi`;
  }
  if (m === 'ret') {
    const n = f.operands.length ? `$${r.pick([0, 8, 16])}` : '';
    return `call 1f\n  jmp 2f\n1:\n  ret ${n}\n2:\n  inc %eax`;
  }
  if (LOOPING.has(m)) {
    const count = r.pick([0, 1, 2, 5]);
    const rcx = r.chance(0.2) ? `mov $${count}, %ecx` : `mov $${count}, %rcx`;
    if (m === 'loop') return count === 0 ? `mov $3, %ecx\n1:\n  inc %eax\n  loop 1b` : `${rcx}\n1:\n  add $3, %eax\n  loop 1b`;
    return `${rcx}\n  jrcxz 1f\n  inc %eax\n1:`;
  }
  if (/^(movs|stos|lods|cmps|scas)b?$/.test(m)) {
    const size = f.opsize / 8;
    const rep = f.rep === 'repe' ? r.pick(['', 'repe ', 'repne ']) : r.pick(['', 'rep ']);
    const count = r.pick([0, 1, 3, 8, 15]);
    const std = r.chance(0.3);
    const acc = r.chance(0.5) ? `  mov $${hex(BigInt(r.int(256)))}, %eax\n` : '';
    void size;
    return `lea 0x300(%r15), %rsi\n  lea 0x500(%r15), %rdi\n  mov $${count}, %ecx\n${acc}  ${std ? 'std' : 'cld'}\n  ${rep}${attMnemonic(f, true)}\n  cld`;
  }
  if (m === 'enter') {
    const level = r.pick([0, 0, 1, 2, 3]);
    return `enter $${r.pick([0, 8, 24])}, $${level}\n  leave`;
  }
  if (m === 'leave') return `mov %rsp, %rbp\n  sub $32, %rsp\n  ${f.opsize === 16 ? 'leavew' : 'leave'}`;
  if (m === 'ud2') return 'ud2';

  // Generic: build operands from the form.
  const useMem = r.chance(0.5);
  // ah, ch, dh, bh cannot appear with a REX prefix: only in all-byte register forms.
  const legacy8 = !useMem && f.operands.every((o) => o.size === 8 || o.kind === 'imm' || o.kind === 'simm') && r.chance(0.5);
  const usedRegs: number[] = [];
  const texts: string[] = [];
  let hasMem = false, sizeFromReg = false;
  for (const o of f.operands) {
    switch (o.kind) {
      case 'reg': case 'opreg': case 'rreg': {
        const n = legacy8 ? r.int(8) : r.pick(DEST);
        usedRegs.push(n);
        texts.push(legacy8 ? '%' + REG8_LEGACY[n] : regName(n, o.size));
        sizeFromReg = true;
        break;
      }
      case 'rm':
        if (useMem) { hasMem = true; texts.push(memText(r)); }
        else {
          const n = legacy8 ? r.int(8) : r.pick(DEST);
          usedRegs.push(n);
          texts.push(legacy8 ? '%' + REG8_LEGACY[n] : regName(n, o.size));
          sizeFromReg = true;
        }
        break;
      case 'mem': {
        // lea: any registers may form the address (no memory is touched).
        const base = r.pick(DEST), index = r.pick(DEST);
        const disp = BigInt.asIntN(32, edgeValue(r));
        texts.push(r.chance(0.5) ? `${hex(disp)}(%${REG64[base]},%${REG64[index]},${r.pick([1, 2, 4, 8])})` : `${hex(disp)}(%${REG64[base]})`);
        break;
      }
      case 'acc': texts.push(regName(0, o.size)); sizeFromReg = true; break;
      case 'cl': texts.push('%cl'); break;
      case 'dx': texts.push('%dx'); break;
      case 'one': texts.push('$1'); break;
      case 'imm': case 'simm': {
        let v: bigint;
        if (/^(shl|shr|sar|rol|ror|rcl|rcr|shld|shrd|bt|bts|btr|btc)$/.test(m)) v = BigInt(r.pick([0, 1, 2, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, r.int(256)]));
        // 16-bit shld/shrd with a count of 16 or more: result and flags undefined (SDM), host-specific.
        if ((m === 'shld' || m === 'shrd') && f.opsize === 16) v = BigInt(r.int(16));
        else v = immediate(r, o.kind, o.size, f.opsize || 64);
        if (o.kind === 'imm' && o.size === 8) v = BigInt.asUintN(8, v);
        texts.push(`$${hex(v)}`);
        break;
      }
      case 'moffs': {
        hasMem = true;
        texts.push(`0x${(SCRATCH + 0x100 + r.int(0x80)).toString(16)}`);
        break;
      }
      default:
        throw new Error(`oracle generator: operand kind ${o.kind} in ${m}`);
    }
  }
  // Form-specific setup.
  if (/^(shl|shr|sar|rol|ror|rcl|rcr|shld|shrd)$/.test(m) && f.operands.some((o) => o.kind === 'cl')) {
    regs[1] = BigInt(r.pick([0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255]));
    if ((m === 'shld' || m === 'shrd') && f.opsize === 16) setup.push(`mov $${r.int(16) + 32 * r.int(8)}, %cl`); // masked count below 16
    // The count lives in CL: keep it out of the destination.
    if (usedRegs[0] === 1) return snippetFor(f, r, regs);
  }
  if ((m === 'bt' || m === 'bts' || m === 'btr' || m === 'btc') && f.operands[1].kind === 'reg' && hasMem) {
    const n = usedRegs[0];
    regs[n] = BigInt.asUintN(64, BigInt(r.int(1600) - 500));
  }
  if ((m === 'div' || m === 'idiv') && r.chance(0.7)) {
    const size = f.opsize;
    if (m === 'div') setup.push(size === 8 ? 'movzbw %al, %ax' : size === 16 ? 'xor %dx, %dx' : size === 32 ? 'xor %edx, %edx' : 'xor %edx, %edx');
    else setup.push(size === 8 ? 'cbtw' : size === 16 ? 'cwtd' : size === 32 ? 'cltd' : 'cqto');
    if (usedRegs[0] === 0 || usedRegs[0] === 2) return snippetFor(f, r, regs);
  }
  if (m === 'cmpxchg' && r.chance(0.5)) {
    // Make the accumulator equal to the destination sometimes.
    setup.push(`mov ${texts[0]}, ${regName(0, f.opsize)}`);
  }
  const suffix = !sizeFromReg && !['movzx', 'movsx', 'movsxd'].includes(m);
  let mn = attMnemonic(f, suffix);
  if (m === 'mov' && f.operands.some((o) => o.kind === 'moffs')) mn = 'movabs';
  if (m === 'mov' && f.opsize === 64 && f.operands[1]?.kind === 'imm' && f.operands[1].size === 64) mn = 'movabs';
  if (m === 'mov' && f.operands[0].kind === 'rm' && f.operands[1]?.kind === 'imm' && !hasMem) mn = 'mov' + SUFFIX[f.opsize]; // C7 /0 vs B8+r
  const lock = f.lock && hasMem && r.chance(0.3) ? 'lock ' : '';
  // {load}/{store} choose between the two register-register directions of ALU and mov forms.
  let pseudo = '';
  if (!hasMem && f.operands.length === 2 && f.operands[0].kind === 'rm' && f.operands[1].kind === 'reg') pseudo = '{store} ';
  if (!hasMem && f.operands.length === 2 && f.operands[0].kind === 'reg' && f.operands[1].kind === 'rm') pseudo = '{load} ';
  if (mn.startsWith('data16')) texts[0] = regName(usedRegs[0], 32);
  const operandText = texts.slice().reverse().join(', ');
  const line = `${pseudo}${lock}${mn}${operandText ? ' ' + operandText : ''}`;
  return [...setup, line].join('\n  ');
}

/** Flags `f` may read (rcl/rcr read CF only for a nonzero count: take the count-1 case). */
function mayRead(f: Form): number {
  return flagEffect(f).reads | flagEffect(f, { count: 1 }).reads;
}

export interface CaseOptions {
  /** Only one instruction per case (no second or third line). */
  single?: boolean;
  /**
   * Allow a later line to read a flag an earlier line may leave undefined, or
   * to follow an instruction whose result may be undefined (default false:
   * such lines are not generated, their results depend on the CPU model).
   */
  allowDependent?: boolean;
}

/** Build `count` cases cycling through the forms (every form gets its turn), from `seed`. */
export function buildCases(seed: number, count: number, forms: Form[], options: CaseOptions = {}): OracleCase[] {
  const r = new Rng(seed);
  const cases: OracleCase[] = [];
  for (let i = 0; i < count; i++) {
    const regs: bigint[] = [];
    for (let k = 0; k < 16; k++) regs.push(edgeValue(r));
    regs[4] = BigInt(RSP_VALUE);
    regs[5] = BigInt(RBP_VALUE);
    regs[14] = BigInt(r.int(16));
    regs[15] = BigInt(R15_VALUE);
    const lines: string[] = [];
    const n = options.single || r.chance(0.7) ? 1 : 2 + r.int(2);
    // What the lines so far may leave undefined: a later line must not depend on it.
    let undefinedSoFar = 0, resultUndefined = false;
    for (let k = 0; k < n; k++) {
      let f = k === 0 ? forms[(i + seed) % forms.length] : r.pick(forms);
      if (k > 0 && !options.allowDependent) {
        if (resultUndefined) break;
        for (let tries = 0; mayRead(f) & undefinedSoFar; tries++) f = tries < 50 ? r.pick(forms) : FORMS.find((g) => g.mnemonic === 'nop')!;
      }
      undefinedSoFar |= mayLeaveUndefined(f);
      resultUndefined ||= mayLeaveResultUndefined(f);
      lines.push(snippetFor(f, r, regs));
    }
    const arith = [0, 2, 4, 6, 7, 11].reduce((acc, b) => acc | (r.chance(0.5) ? 1 << b : 0), 0);
    const scratch = new Uint8Array(SCRATCH_SIZE);
    for (let k = 0; k < SCRATCH_SIZE; k += 4) {
      const v = r.chance(0.3) ? Number(BigInt.asUintN(32, edgeValue(r))) : r.next();
      scratch[k] = v & 0xff; scratch[k + 1] = (v >>> 8) & 0xff; scratch[k + 2] = (v >>> 16) & 0xff; scratch[k + 3] = v >>> 24;
    }
    cases.push({ text: lines.join('\n  '), regs, rflags: arith | 2, scratch });
  }
  return cases;
}

/**
 * The profile probe: `perForm` single-instruction cases for every form that may
 * leave a flag or its result undefined. A host whose undefined flags match xk's
 * on all of them is taken to be a CPU of xk's profile.
 */
export function probeCases(seed: number, forms: Form[], perForm: number): OracleCase[] {
  const undefinedForms = forms.filter((f) => mayLeaveUndefined(f) !== 0 || mayLeaveResultUndefined(f));
  const cases: OracleCase[] = [];
  // count = the number of forms: each form is the instruction of exactly one case per round.
  for (let k = 0; k < perForm; k++) cases.push(...buildCases(seed + k * 7919, undefinedForms.length, undefinedForms, { single: true }));
  return cases;
}

/** The register-saving epilogue every snippet ends with (test/oracle/layout.h: SAVE, SAVE_RETURN). */
export function epilogue(): string {
  const lines: string[] = [];
  for (let k = 0; k < 16; k++) lines.push(`mov %${REG64[k]}, 0x${(SAVE + 8 * k).toString(16)}`);
  lines.push(`mov $0x${(SAVE + 0x800).toString(16)}, %rsp`, 'pushfq', 'pop %rax', `mov %rax, 0x${(SAVE + 0x80).toString(16)}`, `jmp *0x${SAVE_RETURN.toString(16)}`);
  return lines.map((l) => '  ' + l).join('\n');
}

/** The assembly source of a batch: one CODE_SLOT-byte slot per case. */
export function batchSource(cases: OracleCase[]): string {
  const out: string[] = ['  .text'];
  const epi = epilogue();
  cases.forEach((c, i) => {
    out.push(`  .org ${i * CODE_SLOT}, 0xcc`, `  ${c.text}`, '  jmp 9f', `  .org ${i * CODE_SLOT + EPILOGUE_AT}, 0xcc`, '9:', epi);
  });
  out.push(`  .org ${cases.length * CODE_SLOT}, 0xcc`);
  return out.join('\n') + '\n';
}
