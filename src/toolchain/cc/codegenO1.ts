// -O1 expression code: the same frame and the same value convention as the
// stack machine of codegenFunction.ts (-O0), which stays the simple reference
// the differential tests also run; what changes is how much code an
// expression takes:
//
//   1. Operands in place: a binary operator whose right side is a constant or
//      a variable uses it as an immediate, register or memory operand
//      (`addl $1, %eax`, `cmpl -8(%rbp), %eax`) instead of push/pop.
//   2. Scratch registers instead of the stack: when the left side has no call
//      (pure() below), the right side's value waits in one of the free
//      caller-saved registers %rsi %r8-%r11, taken and given back in stack
//      order; push/pop only when they run out or the left side calls.
//   3. Addressing modes: a variable, member or array element is one memory
//      operand, disp(base,index,scale) or sym+disp(%rip), loaded or stored in
//      one instruction (`movslq -48(%rbp,%rsi,4), %rax`).
//   4. Compare and branch: a condition jumps on the flags of its comparison;
//      &&, || and ! become jumps; loops test at the bottom (one jump per
//      iteration, as gcc lays them out).
//   5. Effects only: an expression statement computes no unused value
//      (x++ is `addl $1, %ebx`), and constant or variable call arguments go
//      straight into their argument registers.
//
// Scratch-register discipline: the -O0 code an expression here may still
// fall back to uses %rax %rcx %rdx %rdi (and the stack), never %rsi or
// %r8-%r11, except in calls, struct copies and asm, which pure() excludes.

import type { Node } from './ast.js';
import { isInteger, isRecord, type Type } from './types.js';
import { reg, suffix } from './abi.js';
import { FunctionGen } from './codegenFunction.js';
import { hasSideEffects } from './optimize.js';

/** A memory operand: disp(base,index,scale) or sym+disp(%rip); `held` are scratch registers to give back after use. */
interface Mem {
  base?: string;
  index?: string;
  scale?: number;
  disp: number;
  sym?: string;
  held: string[];
  /** Code to run once the operand has been used (the increment of *p++). */
  post?: () => void;
}

/** x op= c on x's own register or memory operand. */
interface InPlace {
  op: string;
  /** The constant, or undefined when the source is a register variable. */
  c?: bigint;
  src: string;
  dest: string;
  t: Type;
}

/** A source operand of an instruction. */
type Src = { imm: bigint } | { reg: string } | { mem: string };

const SCRATCH = ['r11', 'r10', 'r9', 'r8', 'rsi'];

function fits32(v: bigint | number): boolean {
  const b = BigInt(v);
  return b >= -(1n << 31n) && b < 1n << 31n;
}

function memText(m: Mem): string {
  const at = `${m.sym ?? ''}${m.sym !== undefined && m.disp > 0 ? '+' : ''}${m.disp !== 0 ? m.disp : ''}`;
  if (m.sym !== undefined && m.index) return `${at}(,%${m.index},${m.scale})`;
  if (m.sym !== undefined) return `${at}(%rip)`;
  const d = m.disp !== 0 ? String(m.disp) : '';
  if (m.index) return `${d}(%${m.base},%${m.index},${m.scale})`;
  return `${d}(%${m.base})`;
}

function srcText(s: Src, size: number): string {
  if ('imm' in s) return `$${s.imm}`;
  if ('reg' in s) return reg(s.reg, size);
  return s.mem;
}

function scalarType(t: Type): boolean {
  return isInteger(t) || t.kind === 'ptr';
}

/** Condition codes of the comparisons (the left operand in %rax, compared with the source). */
function conditionCode(kind: string, unsigned: boolean, swapped: boolean): string {
  if (kind === 'eq') return 'e';
  if (kind === 'ne') return 'ne';
  if (kind === 'lt') return swapped ? (unsigned ? 'a' : 'g') : unsigned ? 'b' : 'l';
  return swapped ? (unsigned ? 'ae' : 'ge') : unsigned ? 'be' : 'le';
}

const INVERSE: Record<string, string> = { e: 'ne', ne: 'e', l: 'ge', ge: 'l', le: 'g', g: 'le', b: 'ae', ae: 'b', be: 'a', a: 'be' };
const COMMUTATIVE = new Set(['add', 'mul', 'bitand', 'bitor', 'bitxor', 'eq', 'ne', 'lt', 'le']);
const COMPARISONS = new Set(['eq', 'ne', 'lt', 'le']);
const IMPURE = new Set(['call', 'stmtexpr', 'asm', 'vaarg', 'memzero', 'compound', 'vastart', 'vacopy', 'xchg', 'atomicload', 'atomicstore']);

export class FunctionGenO1 extends FunctionGen {
  private readonly free = [...SCRATCH];
  private readonly pureMemo = new Map<Node, boolean>();

  // ---- scratch registers ----

  private take(): string | null {
    return this.free.pop() ?? null;
  }

  private give(held: string[]): void {
    for (let i = held.length - 1; i >= 0; i--) this.free.push(held[i]);
  }

  /** No calls, asm, struct copies or statements inside: the code uses only %rax %rcx %rdx %rdi and scratch registers in stack order. */
  private pure(n: Node): boolean {
    const known = this.pureMemo.get(n);
    if (known !== undefined) return known;
    let ok = !IMPURE.has(n.kind) && !((n.kind === 'assign' || n.kind === 'cast') && isRecord(n.type!));
    if (ok) for (const c of [n.lhs, n.rhs, n.cond, n.then, n.else]) if (c && !this.pure(c)) ok = false;
    this.pureMemo.set(n, ok);
    return ok;
  }

  // ---- statements ----

  protected override statement(n: Node): void {
    switch (n.kind) {
      case 'exprstmt':
        return this.effect(n.lhs!);
      case 'if': {
        const jump = n.then!.kind === 'break' || n.then!.kind === 'continue' ? n.then!.label : n.then!.kind === 'goto' ? n.then!.uniqueLabel : undefined;
        if (jump && !n.else) return this.branch(n.cond!, jump, true); // if (c) break;
        break;
      }
      case 'for': {
        // init; jmp test; top: body; continue: inc; test: if (cond) goto top; break:
        const top = this.newLabel();
        const test = this.newLabel();
        if (n.init) this.statement(n.init);
        if (n.cond) this.ins(`jmp ${test}`);
        this.emit(`${top}:`);
        this.statement(n.body!);
        this.emit(`${n.continueLabel}:`);
        if (n.inc) this.effect(n.inc);
        this.emit(`${test}:`);
        if (n.cond) this.branch(n.cond, top, true);
        else this.ins(`jmp ${top}`);
        this.emit(`${n.breakLabel}:`);
        return;
      }
    }
    super.statement(n);
  }

  /** As FunctionGen.branch, and a comparison jumps on its own flags. */
  protected override branch(cond: Node, label: string, when: boolean): void {
    switch (cond.kind) {
      case 'eq': case 'ne': case 'lt': case 'le': {
        if (this.postDecrementTest(cond, label, when)) return;
        const cc = this.compare(cond);
        this.ins(`j${when ? cc : INVERSE[cc]} ${label}`);
        return;
      }
      case 'bitand':
        if (cond.rhs!.kind === 'num' && fits32(BigInt.asIntN(64, cond.rhs!.value!))) {
          const s = this.width(cond.lhs!.type!);
          this.genValue(cond.lhs!);
          this.ins(`test${suffix(s)} $${BigInt.asIntN(s * 8, cond.rhs!.value!)}, ${reg('rax', s)}`);
          this.ins(`j${when ? 'ne' : 'e'} ${label}`);
          return;
        }
        break;
    }
    super.branch(cond, label, when);
  }

  // ---- effects: an expression whose value is not used ----

  private effect(n: Node): void {
    if (!hasSideEffects(n)) return;
    switch (n.kind) {
      case 'cast':
        if (!isRecord(n.type!)) return this.effect(n.lhs!);
        break;
      case 'comma':
        this.effect(n.lhs!);
        this.effect(n.rhs!);
        return;
      case 'add': case 'sub': case 'mul': case 'bitand': case 'bitor': case 'bitxor': case 'shl': case 'shr':
      case 'eq': case 'ne': case 'lt': case 'le': case 'neg': case 'bitnot': case 'not':
        this.effect(n.lhs!);
        if (n.rhs) this.effect(n.rhs);
        return;
      case 'assign': {
        const p = this.inPlace(n);
        if (p) return this.emitInPlace(p);
        return this.assignTo(n, false);
      }
    }
    this.genValue(n);
  }

  /**
   * x = x op c (x += c, x++, with the casts around a narrow x) as one
   * instruction on x's register or memory operand: the plan, or null.
   */
  private inPlace(n: Node): InPlace | null {
    if (n.kind !== 'assign') return null;
    const lhs = n.lhs!;
    const t = lhs.type!;
    if (!scalarType(t) || t.kind === 'bool' || t.isVolatile || (lhs.kind === 'member' && lhs.bitWidth !== undefined)) return null;
    let e = n.rhs!;
    if (e.kind === 'cast' && e.type!.size === t.size) e = e.lhs!;
    if (!['add', 'sub', 'bitand', 'bitor', 'bitxor'].includes(e.kind)) return null;
    const by = e.rhs!;
    const byRegister = by.kind === 'var' && by.variable!.register && scalarType(by.type!) && by.type!.size === t.size && e.type!.size === t.size ? by.variable!.register : null;
    if (by.kind !== 'num' && !byRegister) return null;
    let x = e.lhs!;
    if (x.kind === 'cast' && x.type!.size >= x.lhs!.type!.size && scalarType(x.lhs!.type!)) x = x.lhs!;
    const same = x === lhs || (x.kind === 'var' && lhs.kind === 'var' && x.variable === lhs.variable);
    if (!same || x.type!.size !== t.size) return null;
    const c = byRegister ? undefined : BigInt.asIntN(t.size * 8, by.value!);
    if (c !== undefined && !fits32(c)) return null;
    const src = byRegister ? reg(byRegister, t.size) : `$${c}`;
    const op = { add: 'add', sub: 'sub', bitand: 'and', bitor: 'or', bitxor: 'xor' }[e.kind as 'add'];
    const v = lhs.kind === 'var' ? lhs.variable! : undefined;
    if (v?.register) return { op, c, src, dest: reg(v.register, t.size), t };
    if (!this.fixedAddress(lhs)) return null;
    return { op, c, src, dest: memText(this.address(lhs)), t }; // a fixed address holds no scratch register
  }

  private emitInPlace(p: InPlace): void {
    this.ins(`${p.op}${suffix(p.t.size)} ${p.src}, ${p.dest}`);
  }

  /**
   * x++ and x-- as values: (x += 1) - 1 in x's type. The old value is loaded,
   * then x updated in place.
   */
  private postIncrement(n: Node): boolean {
    const p = this.postIncrementPlan(n);
    if (!p) return false;
    this.ins(this.loadInstruction(p.t, p.dest, 'rax'));
    this.emitInPlace(p);
    return true;
  }

  private postIncrementPlan(n: Node): InPlace | null {
    let e = n;
    if (e.kind === 'cast' && scalarType(e.type!)) e = e.lhs!;
    if ((e.kind !== 'add' && e.kind !== 'sub') || e.rhs!.kind !== 'num') return null;
    let a = e.lhs!;
    if (a.kind === 'cast') a = a.lhs!;
    const p = this.inPlace(a);
    if (!p || p.c === undefined || (p.op !== 'add' && p.op !== 'sub') || n.type!.size !== p.t.size || !scalarType(n.type!)) return null;
    const bits = p.t.size * 8;
    const step = p.op === 'add' ? p.c : -p.c!;
    const back = e.kind === 'add' ? e.rhs!.value! : -e.rhs!.value!;
    if (BigInt.asUintN(bits, step + back) !== 0n) return null;
    return p;
  }

  /** while (n--) and while (n-- > 0) with unsigned n: one subtraction whose borrow says the old n was 0. */
  private postDecrementTest(cond: Node, label: string, when: boolean): boolean {
    let x: Node | undefined;
    if (cond.kind === 'ne' && cond.rhs!.kind === 'num' && cond.rhs!.value === 0n) x = cond.lhs;
    else if (cond.kind === 'lt' && cond.lhs!.kind === 'num' && cond.lhs!.value === 0n && (cond.rhs!.type!.unsigned || cond.rhs!.type!.kind === 'ptr')) x = cond.rhs;
    if (!x) return false;
    const p = this.postIncrementPlan(x);
    if (!p || BigInt.asUintN(p.t.size * 8, p.op === 'sub' ? p.c! : -p.c!) !== 1n) return false;
    this.ins(`sub${suffix(p.t.size)} $1, ${p.dest}`);
    this.ins(`j${when ? 'ae' : 'b'} ${label}`);
    return true;
  }

  // ---- values ----

  override genValue(n: Node): void {
    const t = n.type!;
    switch (n.kind) {
      case 'var':
        if (n.variable!.register) break;
        return this.loadFrom(n);
      case 'deref': case 'member':
        if (n.kind === 'member' && n.bitWidth !== undefined) break;
        return this.loadFrom(n);
      case 'comma':
        this.effect(n.lhs!);
        this.genValue(n.rhs!);
        return;
      case 'assign': {
        const p = this.inPlace(n);
        if (!p) return this.assignTo(n, true);
        this.emitInPlace(p);
        this.ins(this.loadInstruction(p.t, p.dest, 'rax'));
        return;
      }
      case 'cast':
        if (t.kind === 'bool' && COMPARISONS.has(n.lhs!.kind)) return this.genValue(n.lhs!);
        if (this.postIncrement(n)) return;
        if (this.extendedLoad(n)) return this.genValue(n.lhs!);
        break;
      case 'add': case 'sub':
        if (this.postIncrement(n)) return;
        return this.arithmetic(n);
      case 'mul': case 'div': case 'mod': case 'bitand': case 'bitor': case 'bitxor': case 'shl': case 'shr':
        return this.arithmetic(n);
      case 'eq': case 'ne': case 'lt': case 'le': {
        const cc = this.compare(n);
        this.ins(`set${cc} %al`);
        this.ins('movzbl %al, %eax');
        return;
      }
    }
    super.genValue(n);
  }

  override genAddress(n: Node): void {
    if (n.kind === 'var' || n.kind === 'deref' || n.kind === 'str' || (n.kind === 'member' && n.bitWidth === undefined)) {
      if (n.kind === 'var' && n.variable!.register) return super.genAddress(n);
      const m = this.address(n);
      this.lea(m);
      return;
    }
    super.genAddress(n);
  }

  private lea(m: Mem): void {
    if (!(m.base === 'rax' && !m.index && m.disp === 0)) this.ins(`leaq ${memText(m)}, %rax`);
    this.done(m);
  }

  /** A memory operand has been used: its scratch registers go back, its pending increment is done. */
  private done(m: Mem): void {
    this.give(m.held);
    m.post?.();
  }

  /**
   * A widening conversion of a variable, member or element: its load already
   * extended it to 64 bits by its type (loadInstruction, loadRegister, the
   * bit-field shifts), which is what the conversion would do.
   */
  private extendedLoad(n: Node): boolean {
    const from = n.lhs!.type!;
    const to = n.type!;
    return ['var', 'deref', 'member'].includes(n.lhs!.kind) && scalarType(from) && scalarType(to) && to.kind !== 'bool' && to.size > from.size;
  }

  /** The operation width of a promoted operand type: 4 or 8. */
  private width(t: Type): number {
    return t.size === 8 || t.kind === 'ptr' || t.kind === 'array' || t.kind === 'func' ? 8 : 4;
  }

  /** A constant or variable usable as an instruction's source operand of `size` bytes, with no code. */
  private direct(n: Node, size: number): Src | null {
    if (n.kind === 'num') {
      const v = BigInt.asIntN(size * 8, n.value!);
      return fits32(v) ? { imm: v } : null;
    }
    if (n.kind !== 'var' || !scalarType(n.type!) || n.type!.size !== size) return null;
    const v = n.variable!;
    if (v.register) return { reg: v.register };
    if (v.isLocal && v.offset === undefined) return null;
    return { mem: v.isLocal ? `${v.offset}(%rbp)` : `${v.symbol}(%rip)` };
  }

  /**
   * Evaluates `lhs` into %rax and `rhs` into a source operand (of `size`
   * bytes); with `commute` it may evaluate them the other way round, and says
   * so. The caller gives back `held` after the instruction.
   */
  private operands(lhs: Node, rhs: Node, size: number, commute: boolean): { src: Src; held: string[]; swapped: boolean } {
    if (commute && lhs.kind === 'num') {
      // the constant as the immediate: 10 < y is y > 10
      const l = this.direct(lhs, size);
      if (l) {
        this.genValue(rhs);
        return { src: l, held: [], swapped: true };
      }
    }
    const d = this.direct(rhs, size);
    if (d) {
      this.genValue(lhs);
      return { src: d, held: [], swapped: false };
    }
    if (commute) {
      const l = this.direct(lhs, size);
      if (l) {
        this.genValue(rhs);
        return { src: l, held: [], swapped: true };
      }
    }
    if (this.pure(lhs)) {
      const r = this.take();
      if (r) {
        this.genValue(rhs);
        this.ins(`movq %rax, %${r}`);
        this.genValue(lhs);
        return { src: { reg: r }, held: [r], swapped: false };
      }
    }
    this.genValue(rhs);
    this.push();
    this.genValue(lhs);
    this.pop('rdi');
    return { src: { reg: 'rdi' }, held: [], swapped: false };
  }

  private arithmetic(n: Node): void {
    const operand = n.lhs!.type!;
    const s = this.width(operand);
    const x = suffix(s);
    const ax = reg('rax', s);
    const unsigned = operand.unsigned || operand.kind === 'ptr';
    if (n.kind === 'shl' || n.kind === 'shr') {
      const op = n.kind === 'shl' ? 'shl' : unsigned ? 'shr' : 'sar';
      const { src, held } = this.operands(n.lhs!, n.rhs!, this.width(n.rhs!.type!), false);
      if ('imm' in src) this.ins(`${op}${x} $${BigInt.asUintN(64, src.imm) & BigInt(s * 8 - 1)}, ${ax}`);
      else {
        this.ins(`movl ${srcText(src, 4)}, %ecx`);
        this.ins(`${op}${x} %cl, ${ax}`);
      }
      this.give(held);
      return;
    }
    const { src, held } = this.operands(n.lhs!, n.rhs!, s, COMMUTATIVE.has(n.kind));
    const text = srcText(src, s);
    switch (n.kind) {
      case 'add': this.ins(`add${x} ${text}, ${ax}`); break;
      case 'sub': this.ins(`sub${x} ${text}, ${ax}`); break;
      case 'bitand': this.ins(`and${x} ${text}, ${ax}`); break;
      case 'bitor': this.ins(`or${x} ${text}, ${ax}`); break;
      case 'bitxor': this.ins(`xor${x} ${text}, ${ax}`); break;
      case 'mul':
        this.ins('imm' in src ? `imul${x} ${text}, ${ax}, ${ax}` : `imul${x} ${text}, ${ax}`);
        break;
      default: { // div, mod
        let divisor = text;
        if ('imm' in src) {
          this.ins(`mov${x} ${text}, ${reg('rdi', s)}`);
          divisor = reg('rdi', s);
        }
        this.divide(n.kind as 'div' | 'mod', unsigned, s, divisor);
      }
    }
    this.give(held);
  }

  /** Sets the flags for comparison n; returns the condition code that is true when n is. */
  private compare(n: Node): string {
    const operand = n.lhs!.type!;
    const s = this.width(operand);
    const unsigned = operand.unsigned || operand.kind === 'ptr';
    // a variable against a constant or a register variable: one cmp, no load
    const l = this.direct(n.lhs!, s);
    const r = this.direct(n.rhs!, s);
    if (l && r && !('imm' in l) && ('imm' in r || 'reg' in l || 'reg' in r)) {
      this.ins(`cmp${suffix(s)} ${srcText(r, s)}, ${srcText(l, s)}`);
      return conditionCode(n.kind, unsigned, false);
    }
    if (l && r && 'imm' in l && !('imm' in r)) {
      this.ins(`cmp${suffix(s)} ${srcText(l, s)}, ${srcText(r, s)}`);
      return conditionCode(n.kind, unsigned, true);
    }
    const { src, held, swapped } = this.operands(n.lhs!, n.rhs!, s, true);
    this.ins(`cmp${suffix(s)} ${srcText(src, s)}, ${reg('rax', s)}`);
    this.give(held);
    return conditionCode(n.kind, unsigned, swapped);
  }

  // ---- memory operands ----

  /** Can address(n) be given without emitting any code? */
  private fixedAddress(n: Node): boolean {
    switch (n.kind) {
      case 'var': return !n.variable!.register && (!n.variable!.isLocal || n.variable!.offset !== undefined);
      case 'member': return n.bitWidth === undefined && this.fixedAddress(n.lhs!);
      case 'deref': return this.fixedPointer(n.lhs!, 0n);
      default: return false;
    }
  }

  private fixedPointer(p: Node, disp: bigint): boolean {
    if ((p.kind === 'add' || p.kind === 'sub') && p.type!.kind === 'ptr' && p.rhs!.kind === 'num') {
      return this.fixedPointer(p.lhs!, disp + BigInt.asIntN(64, p.rhs!.value!));
    }
    if (!fits32(disp * 2n)) return false;
    if (p.kind === 'var') return !!p.variable!.register && p.type!.kind === 'ptr';
    if (p.kind === 'cast' && p.lhs!.type!.kind === 'array') return this.fixedAddress(p.lhs!);
    if (p.kind === 'addr') return this.fixedAddress(p.lhs!);
    return false;
  }

  /** The lvalue n as a memory operand; emits the code that computes its parts. */
  private address(n: Node): Mem {
    switch (n.kind) {
      case 'var': {
        const v = n.variable!;
        if (v.isLocal && !v.register && v.offset !== undefined) return { base: 'rbp', disp: v.offset, held: [] };
        if (!v.isLocal) return { sym: v.symbol, disp: 0, held: [] };
        break;
      }
      case 'str':
        return { sym: this.stringLabel(n.bytes!), disp: 0, held: [] };
      case 'member':
        if (n.bitWidth !== undefined) break;
        return this.displaced(this.address(n.lhs!), BigInt(n.offset ?? 0));
      case 'deref':
        return this.pointee(n.lhs!);
    }
    super.genAddress(n);
    return { base: 'rax', disp: 0, held: [] };
  }

  /** m moved by `d` bytes (through %rax if the displacement would not fit). */
  private displaced(m: Mem, d: bigint): Mem {
    if (fits32(BigInt(m.disp) + d)) {
      m.disp += Number(d);
      return m;
    }
    this.lea(m);
    this.immediate('rdi', d);
    this.ins('addq %rdi, %rax');
    return { base: 'rax', disp: 0, held: [] };
  }

  /** The object pointer p points to, as a memory operand. */
  private pointee(p: Node): Mem {
    const post = this.postIncrementPlan(p);
    if (post && post.t.size === 8 && post.dest.startsWith('%')) {
      // *p++ with p in a register: (%p), and p moves after the access
      return { base: post.dest.slice(1), disp: 0, held: [], post: () => this.emitInPlace(post) };
    }
    if (this.postIncrement(p)) return { base: 'rax', disp: 0, held: [] };
    if ((p.kind === 'add' || p.kind === 'sub') && p.type!.kind === 'ptr' && p.rhs!.kind === 'num') {
      const d = BigInt.asIntN(64, p.rhs!.value!);
      return this.displaced(this.pointee(p.lhs!), p.kind === 'add' ? d : -d);
    }
    if (p.kind === 'add' && p.type!.kind === 'ptr' && p.lhs!.type!.kind === 'ptr') {
      // base + index * scale
      let index = p.rhs!;
      let scale = 1;
      if (index.kind === 'mul' && index.rhs!.kind === 'num' && [2n, 4n, 8n].includes(index.rhs!.value!)) {
        scale = Number(index.rhs!.value!);
        index = index.lhs!;
      }
      if (index.type!.size === 8 && this.fixedBase(p.lhs!)) {
        // the base needs no code: the index stays in %rax (sym(,%rax,s) needs a non-PIC link, as gcc -fno-pie's code does)
        this.genValue(index);
        const m = this.pointerBase(p.lhs!);
        return { base: m.base, sym: m.sym, index: 'rax', scale, disp: m.disp, held: [] };
      }
      if (index.type!.size === 8 && this.pure(p.lhs!)) {
        const iv = index.kind === 'var' && index.variable!.register ? index.variable!.register : null;
        const r = iv ?? this.take();
        if (r) {
          if (!iv) {
            this.genValue(index);
            this.ins(`movq %rax, %${r}`);
          }
          let m = this.pointerBase(p.lhs!);
          if (m.sym !== undefined || m.index) {
            this.lea(m);
            m = { base: 'rax', disp: 0, held: [] };
          }
          return { base: m.base, index: r, scale, disp: m.disp, held: iv ? m.held : [r, ...m.held] };
        }
      }
    }
    return this.pointerBase(p);
  }

  /** Is p a pointer that pointerBase() turns into a base with no code (and no index)? */
  private fixedBase(p: Node): boolean {
    if (p.kind === 'var') return !!p.variable!.register && p.type!.kind === 'ptr';
    if (p.kind === 'cast' && p.lhs!.type!.kind === 'array') return p.lhs!.kind === 'var' && this.fixedAddress(p.lhs!);
    if (p.kind === 'addr') return p.lhs!.kind === 'var' && p.lhs!.type!.kind !== 'func' && this.fixedAddress(p.lhs!);
    return false;
  }

  /** A pointer value as a memory operand's base (an array's own address, a register variable, or %rax). */
  private pointerBase(p: Node): Mem {
    if (p.kind === 'var' && p.variable!.register && p.type!.kind === 'ptr') return { base: p.variable!.register, disp: 0, held: [] };
    if (p.kind === 'cast' && p.lhs!.type!.kind === 'array') return this.address(p.lhs!);
    if (p.kind === 'addr' && p.lhs!.type!.kind !== 'func' && !(p.lhs!.kind === 'var' && p.lhs!.variable!.register)) return this.address(p.lhs!);
    this.genValue(p);
    return { base: 'rax', disp: 0, held: [] };
  }

  /** The value of lvalue n (a variable, member or element) -> %rax; a record, array or function is its address. */
  private loadFrom(n: Node): void {
    const t = n.type!;
    const m = this.address(n);
    if (isRecord(t) || t.kind === 'array' || t.kind === 'func') return this.lea(m);
    this.ins(this.loadInstruction(t, memText(m), 'rax'));
    this.done(m);
  }

  /** The instruction loading a value of type t from operand `from` into the 64-bit register `to`, extended as load() extends. */
  private loadInstruction(t: Type, from: string, to: string): string {
    const u = t.unsigned;
    switch (t.size) {
      case 1: return u ? `movzbl ${from}, ${reg(to, 4)}` : `movsbq ${from}, %${to}`;
      case 2: return u ? `movzwl ${from}, ${reg(to, 4)}` : `movswq ${from}, %${to}`;
      case 4: return u ? `movl ${from}, ${reg(to, 4)}` : `movslq ${from}, %${to}`;
      default: return `movq ${from}, %${to}`;
    }
  }

  // ---- assignment ----

  private assignTo(n: Node, needValue: boolean): void {
    const lhs = n.lhs!;
    const t = lhs.type!;
    const rhs = n.rhs!;
    const src = scalarType(t) ? this.storeSource(rhs, t) : null;
    if (lhs.kind === 'var' && lhs.variable!.register && src && !needValue) {
      this.ins(`mov${suffix(t.size)} ${srcText(src, t.size)}, ${reg(lhs.variable!.register, t.size)}`);
      return;
    }
    const plain = scalarType(t) && !(lhs.kind === 'member' && lhs.bitWidth !== undefined) && !(lhs.kind === 'var' && lhs.variable!.register);
    if (!plain) return super.assign(n);
    if (src && (this.fixedAddress(lhs) || this.pure(lhs))) {
      // a constant or register variable stored straight from where it is
      const m = this.address(lhs);
      this.ins(`mov${suffix(t.size)} ${srcText(src, t.size)}, ${memText(m)}`);
      this.done(m);
      if (needValue) this.genValue(rhs);
      return;
    }
    if (this.fixedAddress(lhs)) {
      const m = this.address(lhs);
      this.genValue(rhs);
      this.ins(`mov${suffix(t.size)} ${reg('rax', t.size)}, ${memText(m)}`);
      this.done(m);
      return;
    }
    if (this.pure(rhs) && this.pure(lhs)) {
      const r = this.take();
      if (r) {
        const m = this.address(lhs);
        // the parts of the address computed in %rax move to r, out of the right side's way
        if (m.base === 'rax' || m.index === 'rax') {
          this.ins(`movq %rax, %${r}`);
          if (m.base === 'rax') m.base = r;
          if (m.index === 'rax') m.index = r;
          m.held.push(r);
        } else this.give([r]);
        this.genValue(rhs);
        this.ins(`mov${suffix(t.size)} ${reg('rax', t.size)}, ${memText(m)}`);
        this.done(m);
        return;
      }
    }
    super.assign(n);
  }

  /** The right side of an assignment to type t as an immediate or a register variable (through narrowing casts), or null. */
  private storeSource(rhs: Node, t: Type): Src | null {
    if (t.kind === 'bool') return null;
    let e = rhs;
    while (e.kind === 'cast' && scalarType(e.type!) && scalarType(e.lhs!.type!) && e.type!.size <= e.lhs!.type!.size && e.type!.kind !== 'bool') e = e.lhs!;
    if (e.kind === 'num') {
      const c = BigInt.asIntN(t.size * 8, e.value!);
      return fits32(c) ? { imm: c } : null;
    }
    if (e.kind === 'var' && e.variable!.register && e.type!.size >= t.size && scalarType(e.type!)) return { reg: e.variable!.register };
    return null;
  }

  // ---- calls ----

  protected override isLeafArgument(a: Node): boolean {
    if (a.kind === 'num') return true;
    if (a.kind === 'str') return true;
    if (a.kind === 'var') return scalarType(a.type!) && (!!a.variable!.register || this.fixedAddress(a));
    if (a.kind === 'cast') {
      const from = a.lhs!.type!;
      if (from.kind === 'array') return this.fixedAddress(a.lhs!);
      return scalarType(a.type!) && scalarType(from) && a.type!.size > from.size && a.type!.kind !== 'bool' && a.lhs!.kind === 'var' && this.isLeafArgument(a.lhs!);
    }
    if (a.kind === 'addr') return a.lhs!.type!.kind !== 'func' && this.fixedAddress(a.lhs!);
    return false;
  }

  protected override loadLeafArgument(a: Node, register: string): void {
    switch (a.kind) {
      case 'num': {
        // as the value is pushed at -O0: extended from its type
        const t = a.type!;
        const v = t.size >= 8 || t.kind === 'ptr' ? BigInt.asIntN(64, a.value!) : t.unsigned ? BigInt.asUintN(t.size * 8, a.value!) : BigInt.asIntN(t.size * 8, a.value!);
        if (v === 0n) this.ins(`xorl ${reg(register, 4)}, ${reg(register, 4)}`);
        else if (v > 0n && v < 1n << 32n) this.ins(`movl $${v}, ${reg(register, 4)}`);
        else this.immediate(register, v);
        return;
      }
      case 'str':
        this.ins(`leaq ${this.stringLabel(a.bytes!)}(%rip), %${register}`);
        return;
      case 'var': {
        const v = a.variable!;
        const from = v.register ? reg(v.register, a.type!.size) : memText(this.address(a));
        this.ins(this.loadInstruction(a.type!, from, register));
        return;
      }
      case 'cast':
        if (a.lhs!.type!.kind === 'array') return void this.ins(`leaq ${memText(this.address(a.lhs!))}, %${register}`);
        return this.loadLeafArgument(a.lhs!, register);
      case 'addr':
        this.ins(`leaq ${memText(this.address(a.lhs!))}, %${register}`);
        return;
    }
  }
}
