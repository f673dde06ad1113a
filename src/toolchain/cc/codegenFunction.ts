// One function -> assembly, as a stack machine: every expression leaves its
// value in %rax (a struct or union value is its address), and a binary
// operator keeps its left operand on the stack while it computes the right.
//
// The frame (%rbp-based):
//   16(%rbp)...   arguments passed on the stack (used in place)
//   8(%rbp)       return address
//   0(%rbp)       the caller's %rbp
//   below         locals, parameters copied from their registers, the hidden
//                 return pointer, the register save area of a variadic
//                 function, saved callee-saved registers (functions with asm)
//
// A value of a type narrower than 8 bytes is valid in the low bytes of %rax
// only; a conversion to a wider type extends it (cast()), so every operator
// works on the width of its (promoted) type.

import { fail } from './diagnostics.js';
import type { FunctionDef, Node, Variable } from './ast.js';
import { isInteger, isRecord, type Type } from './types.js';
import { alignUp, ARG_REGISTERS, CALLEE_SAVED, reg, registerCount, suffix } from './abi.js';
import { generateAsm } from './codegenAsm.js';

export interface UnitContext {
  labelCount: number;
  /** String literals used in code; emitted as .LxS<index>. */
  strings: Uint8Array[];
  optimize: number;
}

/** The part of FunctionGen that codegenAsm.ts uses. */
export interface AsmHost {
  emit(line: string): void;
  push(): void;
  genValue(n: Node): void;
  genAddress(n: Node): void;
  load(t: Type): void;
  newLabel(): string;
  adjustDepth(slots: number): void;
  savedRegisters: boolean;
}

/** Bytes of the register save area for va_start: the six argument registers. */
const GP_SAVE = 48;
/** va_list.fp_offset when no vector register was saved: "all used". */
const FP_OFFSET_NONE = 304;

export class FunctionGen implements AsmHost {
  protected readonly lines: string[] = [];
  /** 8-byte slots pushed since the frame was made (for call alignment). */
  protected depth = 0;
  protected frameSize = 0;
  protected returnLabel = '';
  protected returnPointerOffset = 0;
  protected vaAreaOffset = 0;
  protected namedRegisters = 0;
  protected namedStackBytes = 0;
  protected savedOffset = 0;
  savedRegisters = false;
  /** -O1: the callee-saved registers given to locals, saved at these frame offsets. */
  private allocated: { register: string; offset: number }[] = [];

  constructor(protected readonly fn: FunctionDef, protected readonly ctx: UnitContext) {}

  emit(line: string): void {
    this.lines.push(line);
  }

  protected ins(text: string): void {
    this.lines.push('\t' + text);
  }

  newLabel(): string {
    return `.Lx${this.ctx.labelCount++}`;
  }

  push(): void {
    this.ins('pushq %rax');
    this.depth++;
  }

  protected pop(r: string): void {
    this.ins(`popq %${r}`);
    this.depth--;
  }

  adjustDepth(slots: number): void {
    this.depth += slots;
  }

  generate(): string {
    const f = this.fn;
    const v = f.variable;
    const ret = v.type.returnType!;
    this.returnLabel = this.newLabel();
    this.layoutFrame();
    this.emit(v.section ? `\t.section\t${v.section},"ax",@progbits` : '\t.text');
    if (!v.isStatic) this.ins(`.globl\t${v.symbol}`);
    if (v.weak) this.ins(`.weak\t${v.symbol}`);
    this.ins(`.type\t${v.symbol}, @function`);
    this.emit(`${v.symbol}:`);
    this.ins('pushq %rbp');
    this.ins('movq %rsp, %rbp');
    if (this.frameSize > 0) this.ins(`subq $${this.frameSize}, %rsp`);
    if (this.savedRegisters) CALLEE_SAVED.forEach((r, i) => this.ins(`movq %${r}, ${this.savedOffset + 8 * i}(%rbp)`));
    for (const a of this.allocated) this.ins(`movq %${a.register}, ${a.offset}(%rbp)`);
    this.storeParameters();
    this.statement(f.body);
    // Falling off the end of main returns 0 (C11 5.1.2.2.3); elsewhere the value is unspecified anyway.
    if (ret.kind !== 'void' && !isRecord(ret)) this.ins('movl $0, %eax');
    this.emit(`${this.returnLabel}:`);
    if (this.savedRegisters) CALLEE_SAVED.forEach((r, i) => this.ins(`movq ${this.savedOffset + 8 * i}(%rbp), %${r}`));
    for (const a of this.allocated) this.ins(`movq ${a.offset}(%rbp), %${a.register}`);
    this.ins('leave');
    this.ins('ret');
    this.ins(`.size\t${v.symbol}, .-${v.symbol}`);
    return this.lines.join('\n');
  }

  // ---- the frame ----

  private layoutFrame(): void {
    const f = this.fn;
    let size = 0;
    const slot = (bytes: number, align: number): number => {
      size = alignUp(size + bytes, Math.max(align, 1));
      return -size;
    };
    const ret = f.variable.type.returnType!;
    let regs = 0;
    if (isRecord(ret) && registerCount(ret) === 0) {
      this.returnPointerOffset = slot(8, 8);
      regs = 1;
    }
    let stack = 16;
    for (const p of f.params) {
      const n = registerCount(p.type);
      if (n > 0 && regs + n <= ARG_REGISTERS.length) {
        p.offset = slot(alignUp(Math.max(p.type.size, 1), 8), Math.max(p.type.align, 8));
        regs += n;
      } else {
        stack = alignUp(stack, Math.max(p.type.align, 8));
        p.offset = stack;
        stack += alignUp(p.type.size, 8);
      }
    }
    this.namedRegisters = regs;
    const inRegisters = this.chooseRegisters();
    for (const v of inRegisters) this.allocated.push({ register: v.register!, offset: slot(8, 8) });
    this.namedStackBytes = stack - 16;
    if (f.variable.type.variadic) this.vaAreaOffset = slot(GP_SAVE, 16);
    for (const l of f.locals) if (!l.register) l.offset = slot(Math.max(l.type.size, 1), Math.max(l.align ?? 1, l.type.align, l.type.size >= 16 ? 16 : 1));
    if (f.hasAsm) {
      this.savedRegisters = true;
      this.savedOffset = slot(8 * CALLEE_SAVED.length, 8);
    }
    this.frameSize = alignUp(size, 16);
  }

  /**
   * -O1: the scalar locals (and register-passed parameters) whose address is
   * never taken, by use count, each given one of the callee-saved registers,
   * which calls preserve. Functions with inline asm keep everything in memory.
   */
  private chooseRegisters(): Variable[] {
    const f = this.fn;
    if (this.ctx.optimize < 1 || f.hasAsm) return [];
    const inMemory = new Set<Variable>();
    const seen = new Set<Node>();
    const walk = (n: Node): void => {
      if (seen.has(n)) return;
      seen.add(n);
      if ((n.kind === 'memzero' || n.kind === 'compound') && n.variable) inMemory.add(n.variable);
      if ((n.kind === 'addr' || n.kind === 'member') && n.lhs?.kind === 'var') inMemory.add(n.lhs.variable!);
      for (const [key, value] of Object.entries(n)) {
        if (key === 'type' || key === 'variable' || key === 'location' || key === 'temp') continue;
        if (Array.isArray(value)) for (const x of value) { if (x && typeof x === 'object' && 'kind' in x) walk(x as Node); }
        else if (value && typeof value === 'object' && 'kind' in value) walk(value as Node);
      }
    };
    walk(f.body);
    const scalar = (v: Variable): boolean => {
      const t = v.type;
      return (isInteger(t) || t.kind === 'ptr' || t.kind === 'bool') && [1, 2, 4, 8].includes(t.size) && !t.isVolatile;
    };
    const candidates = [...f.params.filter((p) => p.offset! < 0 && !isRecord(p.type)), ...f.locals]
      .filter((v) => scalar(v) && !v.addressTaken && !v.asmRegister && !inMemory.has(v) && !v.isStatic);
    candidates.sort((a, b) => (b.uses ?? 0) - (a.uses ?? 0));
    const chosen = candidates.slice(0, CALLEE_SAVED.length);
    chosen.forEach((v, i) => { v.register = CALLEE_SAVED[i]; });
    return chosen;
  }

  /** Copies the register arguments into their frame slots. */
  private storeParameters(): void {
    const f = this.fn;
    let r = 0;
    if (this.returnPointerOffset !== 0) this.ins(`movq %rdi, ${this.returnPointerOffset}(%rbp)`), r = 1;
    if (f.variable.type.variadic) {
      ARG_REGISTERS.forEach((a, i) => this.ins(`movq %${a}, ${this.vaAreaOffset + 8 * i}(%rbp)`));
    }
    for (const p of f.params) {
      const n = registerCount(p.type);
      if (n === 0 || p.offset! > 0) continue;
      if (p.register) {
        this.ins(`movq %${ARG_REGISTERS[r++]}, %${p.register}`);
        continue;
      }
      if (!isRecord(p.type)) {
        this.ins(`mov${suffix(p.type.size)} ${reg(ARG_REGISTERS[r++], p.type.size)}, ${p.offset}(%rbp)`);
        continue;
      }
      for (let k = 0; k < n; k++) this.ins(`movq %${ARG_REGISTERS[r++]}, ${p.offset! + 8 * k}(%rbp)`);
    }
  }

  // ---- statements ----

  protected statement(n: Node): void {
    switch (n.kind) {
      case 'block':
        for (const s of n.stmts!) this.statement(s);
        return;
      case 'decl':
        for (const s of n.stmts!) this.statement(s.kind === 'assign' || s.kind === 'memzero' ? { kind: 'exprstmt', lhs: s, location: s.location } : s);
        return;
      case 'exprstmt':
        this.genValue(n.lhs!);
        return;
      case 'memzero':
        this.genValue(n);
        return;
      case 'if': {
        const els = this.newLabel();
        this.branch(n.cond!, els, false);
        this.statement(n.then!);
        if (!n.else) {
          this.emit(`${els}:`);
          return;
        }
        const end = this.newLabel();
        this.ins(`jmp ${end}`);
        this.emit(`${els}:`);
        this.statement(n.else);
        this.emit(`${end}:`);
        return;
      }
      case 'for': {
        const top = this.newLabel();
        if (n.init) this.statement(n.init);
        this.emit(`${top}:`);
        if (n.cond) this.branch(n.cond, n.breakLabel!, false);
        this.statement(n.body!);
        this.emit(`${n.continueLabel}:`);
        if (n.inc) this.genValue(n.inc);
        this.ins(`jmp ${top}`);
        this.emit(`${n.breakLabel}:`);
        return;
      }
      case 'dowhile': {
        const top = this.newLabel();
        this.emit(`${top}:`);
        this.statement(n.body!);
        this.emit(`${n.continueLabel}:`);
        this.branch(n.cond!, top, true);
        this.emit(`${n.breakLabel}:`);
        return;
      }
      case 'switch':
        return this.switchStatement(n);
      case 'case':
        this.emit(`${n.uniqueLabel}:`);
        this.statement(n.body!);
        return;
      case 'label':
        this.emit(`${n.uniqueLabel}:`);
        this.statement(n.body!);
        return;
      case 'goto':
        this.ins(`jmp ${n.uniqueLabel}`);
        return;
      case 'break': case 'continue':
        this.ins(`jmp ${n.label}`);
        return;
      case 'return':
        if (n.lhs) this.returnValue(n.lhs);
        this.ins(`jmp ${this.returnLabel}`);
        return;
      case 'asm':
        if (n.isBasicAsm) this.emit('\t' + n.template!);
        else generateAsm(this, n);
        return;
      default:
        this.genValue(n);
    }
  }

  protected returnValue(e: Node): void {
    this.genValue(e);
    const t = e.type!;
    if (!isRecord(t)) return;
    const n = registerCount(t);
    if (n === 0) {
      this.ins('movq %rax, %rsi');
      this.ins(`movq ${this.returnPointerOffset}(%rbp), %rdi`);
      this.copyBytes(t.size);
      this.ins(`movq ${this.returnPointerOffset}(%rbp), %rax`);
      return;
    }
    this.ins('movq %rax, %rsi');
    this.loadPart('rax', 'rsi', 0, Math.min(8, t.size));
    if (n === 2) this.loadPart('rdx', 'rsi', 8, t.size - 8);
  }

  protected switchStatement(n: Node): void {
    this.genValue(n.cond!);
    this.extend(n.cond!.type!);
    for (const c of n.cases!) {
      if (c.low === c.high) {
        this.compareImmediate(c.low!);
        this.ins(`je ${c.uniqueLabel}`);
      } else {
        this.ins('movq %rax, %rdx');
        this.immediate('rcx', c.low!);
        this.ins('subq %rcx, %rdx');
        this.immediate('rcx', BigInt.asUintN(64, c.high! - c.low!));
        this.ins('cmpq %rcx, %rdx');
        this.ins(`jbe ${c.uniqueLabel}`);
      }
    }
    this.ins(`jmp ${n.defaultCase ? n.defaultCase.uniqueLabel : n.breakLabel}`);
    this.statement(n.body!);
    this.emit(`${n.breakLabel}:`);
  }

  protected compareImmediate(v: bigint): void {
    const s = BigInt.asIntN(64, v);
    if (s >= -(1n << 31n) && s < 1n << 31n) this.ins(`cmpq $${s}, %rax`);
    else {
      this.immediate('rcx', s);
      this.ins('cmpq %rcx, %rax');
    }
  }

  /** %rax (of type t) compared with 0. */
  protected compareZero(t: Type): void {
    const size = isRecord(t) || t.kind === 'array' || t.kind === 'func' ? 8 : t.size;
    this.ins(`test${suffix(size)} ${reg('rax', size)}, ${reg('rax', size)}`);
  }

  /**
   * Jumps to `label` when cond's truth is `when`; falls through otherwise. A
   * constant jumps or not (do ... while (0), a macro's statement, tests
   * nothing); !, && and || become jumps.
   */
  protected branch(cond: Node, label: string, when: boolean): void {
    switch (cond.kind) {
      case 'num':
        if ((cond.value !== 0n) === when) this.ins(`jmp ${label}`);
        return;
      case 'not':
        return this.branch(cond.lhs!, label, !when);
      case 'logand': case 'logor': {
        // a && b jumps on false as soon as a is false; on true only if both are
        const shortCircuit = cond.kind === 'logor';
        if (when === shortCircuit) {
          this.branch(cond.lhs!, label, when);
          this.branch(cond.rhs!, label, when);
          return;
        }
        const skip = this.newLabel();
        this.branch(cond.lhs!, skip, shortCircuit);
        this.branch(cond.rhs!, label, when);
        this.emit(`${skip}:`);
        return;
      }
    }
    this.genValue(cond);
    this.compareZero(cond.type!);
    this.ins(`j${when ? 'ne' : 'e'} ${label}`);
  }

  // ---- values ----

  protected immediate(r: string, v: bigint): void {
    const s = BigInt.asIntN(64, v);
    if (s >= -(1n << 31n) && s < 1n << 31n) this.ins(`movq $${s}, %${r}`);
    else this.ins(`movabsq $${s}, %${r}`);
  }

  /** Sign- or zero-extends %rax from type t to 64 bits. */
  protected extend(t: Type): void {
    if (t.size >= 8 || isRecord(t) || t.kind === 'array' || t.kind === 'func' || t.kind === 'void') return;
    const u = t.unsigned;
    if (t.size === 1) this.ins(u ? 'movzbl %al, %eax' : 'movsbq %al, %rax');
    else if (t.size === 2) this.ins(u ? 'movzwl %ax, %eax' : 'movswq %ax, %rax');
    else this.ins(u ? 'movl %eax, %eax' : 'movslq %eax, %rax');
  }

  /** Loads the value of type t at the address in %rax into %rax. */
  load(t: Type): void {
    if (isRecord(t) || t.kind === 'array' || t.kind === 'func') return;
    const u = t.unsigned;
    switch (t.size) {
      case 1: this.ins(u ? 'movzbl (%rax), %eax' : 'movsbq (%rax), %rax'); return;
      case 2: this.ins(u ? 'movzwl (%rax), %eax' : 'movswq (%rax), %rax'); return;
      case 4: this.ins(u ? 'movl (%rax), %eax' : 'movslq (%rax), %rax'); return;
      default: this.ins('movq (%rax), %rax');
    }
  }

  /** Stores %rax (type t) at the address in %rdi; a record is copied from the address in %rax. */
  protected store(t: Type): void {
    if (isRecord(t) || t.kind === 'array') {
      this.ins('movq %rax, %rsi');
      this.ins('pushq %rdi');
      this.copyBytes(t.size);
      this.ins('popq %rax');
      return;
    }
    this.ins(`mov${suffix(t.size)} ${reg('rax', t.size)}, (%rdi)`);
  }

  /** Copies `size` bytes from (%rsi) to (%rdi); clobbers %rcx, %rsi, %rdi. */
  protected copyBytes(size: number): void {
    if (size > 64) {
      this.ins(`movq $${size}, %rcx`);
      this.ins('rep movsb');
      return;
    }
    let off = 0;
    for (const chunk of [8, 4, 2, 1]) {
      while (size - off >= chunk) {
        this.ins(`mov${suffix(chunk)} ${off}(%rsi), ${reg('rcx', chunk)}`);
        this.ins(`mov${suffix(chunk)} ${reg('rcx', chunk)}, ${off}(%rdi)`);
        off += chunk;
      }
    }
  }

  /** Loads exactly n (1..8) bytes at off(%base) into %dst, zero-extended; clobbers %r11. */
  protected loadPart(dst: string, base: string, off: number, n: number): void {
    if (n === 8) return this.ins(`movq ${off}(%${base}), %${dst}`);
    if (n === 4) return this.ins(`movl ${off}(%${base}), ${reg(dst, 4)}`);
    if (n === 2) return this.ins(`movzwl ${off}(%${base}), ${reg(dst, 4)}`);
    if (n === 1) return this.ins(`movzbl ${off}(%${base}), ${reg(dst, 4)}`);
    this.ins(`xorl ${reg(dst, 4)}, ${reg(dst, 4)}`);
    for (let k = n - 1; k >= 0; k--) {
      this.ins(`shlq $8, %${dst}`);
      this.ins(`movzbl ${off + k}(%${base}), %r11d`);
      this.ins(`orq %r11, %${dst}`);
    }
  }

  /** Stores exactly n (1..8) bytes of %src at off(%base); clobbers %src for odd sizes. */
  protected storePart(src: string, base: string, off: number, n: number): void {
    if (n === 8 || n === 4 || n === 2 || n === 1) return this.ins(`mov${suffix(n)} ${reg(src, n)}, ${off}(%${base})`);
    for (let k = 0; k < n; k++) {
      this.ins(`movb ${reg(src, 1)}, ${off + k}(%${base})`);
      this.ins(`shrq $8, %${src}`);
    }
  }

  genAddress(n: Node): void {
    switch (n.kind) {
      case 'var': {
        const v = n.variable!;
        if (v.isLocal) {
          if (v.register) fail(n.location, `internal: the address of '${v.name}', kept in %${v.register}`);
          if (v.offset === undefined) fail(n.location, `internal: local '${v.name}' has no frame slot`);
          this.ins(`leaq ${v.offset}(%rbp), %rax`);
        } else this.ins(`leaq ${v.symbol}(%rip), %rax`);
        return;
      }
      case 'deref':
        this.genValue(n.lhs!);
        return;
      case 'member':
        if (n.bitWidth !== undefined) fail(n.location, 'cannot take address of bit-field');
        this.genAddress(n.lhs!);
        if (n.offset) this.ins(`addq $${n.offset}, %rax`);
        return;
      case 'str':
        this.ins(`leaq ${this.stringLabel(n.bytes!)}(%rip), %rax`);
        return;
      case 'compound':
        for (const s of n.stmts!) this.genValue(s);
        this.genAddress({ kind: 'var', variable: n.variable, type: n.type, location: n.location });
        return;
      case 'vaarg':
        this.vaArg(n);
        return;
      case 'comma':
        this.genValue(n.lhs!);
        this.genAddress(n.rhs!);
        return;
      case 'cast':
        if (isRecord(n.type!) || n.type!.kind === 'array') return this.genAddress(n.lhs!);
        break;
      default:
        if (n.type && isRecord(n.type)) return this.genValue(n);
    }
    fail(n.location, 'lvalue required');
  }

  protected stringLabel(bytes: Uint8Array): string {
    this.ctx.strings.push(bytes);
    return `.LxS${this.ctx.strings.length - 1}`;
  }

  genValue(n: Node): void {
    const t = n.type!;
    switch (n.kind) {
      case 'num':
        if (t.size <= 4) this.ins(`movl $${BigInt.asIntN(32, n.value!)}, %eax`);
        else this.immediate('rax', n.value!);
        return;
      case 'var':
        if (n.variable!.register) return this.loadRegister(n.variable!);
        this.genAddress(n);
        this.load(t);
        return;
      case 'str': case 'deref': case 'compound': case 'vaarg':
        this.genAddress(n);
        this.load(t);
        return;
      case 'member':
        if (n.bitWidth !== undefined) {
          this.genAddress(n.lhs!);
          if (n.offset) this.ins(`addq $${n.offset}, %rax`);
          this.ins('movq %rax, %rdi');
          this.loadBitField(n);
          return;
        }
        this.genAddress(n);
        this.load(t);
        return;
      case 'addr':
        this.genAddress(n.lhs!);
        return;
      case 'cast':
        this.genValue(n.lhs!);
        this.cast(n.lhs!.type!, t);
        return;
      case 'assign':
        return this.assign(n);
      case 'comma':
        this.genValue(n.lhs!);
        this.genValue(n.rhs!);
        return;
      case 'cond': {
        const els = this.newLabel();
        const end = this.newLabel();
        this.branch(n.cond!, els, false);
        this.genValue(n.then!);
        this.ins(`jmp ${end}`);
        this.emit(`${els}:`);
        this.genValue(n.else!);
        this.emit(`${end}:`);
        return;
      }
      case 'logand': case 'logor': {
        const no = this.newLabel();
        const end = this.newLabel();
        this.branch(n, no, false);
        this.ins('movl $1, %eax');
        this.ins(`jmp ${end}`);
        this.emit(`${no}:`);
        this.ins('xorl %eax, %eax');
        this.emit(`${end}:`);
        return;
      }
      case 'not':
        this.genValue(n.lhs!);
        this.compareZero(n.lhs!.type!);
        this.ins('sete %al');
        this.ins('movzbl %al, %eax');
        return;
      case 'neg': case 'bitnot': {
        this.genValue(n.lhs!);
        const s = t.size === 8 ? 8 : 4;
        this.ins(`${n.kind === 'neg' ? 'neg' : 'not'}${suffix(s)} ${reg('rax', s)}`);
        return;
      }
      case 'add': case 'sub': case 'mul': case 'div': case 'mod': case 'bitand': case 'bitor': case 'bitxor':
      case 'shl': case 'shr': case 'eq': case 'ne': case 'lt': case 'le':
        return this.binary(n);
      case 'call':
        return this.call(n);
      case 'stmtexpr': {
        const stmts = n.stmts!;
        stmts.forEach((s, i) => {
          if (i === stmts.length - 1 && s.kind === 'exprstmt') this.genValue(s.lhs!);
          else this.statement(s);
        });
        return;
      }
      case 'memzero': {
        const v = n.variable!;
        this.ins(`leaq ${v.offset}(%rbp), %rdi`);
        if (n.size! > 64) {
          this.ins(`movq $${n.size}, %rcx`);
          this.ins('xorl %eax, %eax');
          this.ins('rep stosb');
          return;
        }
        let off = 0;
        for (const chunk of [8, 4, 2, 1]) {
          while (n.size! - off >= chunk) {
            this.ins(`mov${suffix(chunk)} $0, ${off}(%rdi)`);
            off += chunk;
          }
        }
        return;
      }
      case 'vastart': {
        this.genValue(n.lhs!);
        this.ins(`movl $${this.namedRegisters * 8}, (%rax)`);
        this.ins(`movl $${FP_OFFSET_NONE}, 4(%rax)`);
        this.ins(`leaq ${16 + this.namedStackBytes}(%rbp), %rdx`);
        this.ins('movq %rdx, 8(%rax)');
        this.ins(`leaq ${this.vaAreaOffset}(%rbp), %rdx`);
        this.ins('movq %rdx, 16(%rax)');
        return;
      }
      case 'vacopy':
        this.genValue(n.lhs!);
        this.push();
        this.genValue(n.rhs!);
        this.ins('movq %rax, %rsi');
        this.pop('rdi');
        this.copyBytes(24);
        return;
      case 'xchg': case 'atomicstore': {
        this.genValue(n.lhs!);
        this.push();
        this.genValue(n.rhs!);
        this.pop('rdi');
        const s = n.rhs!.type!.size;
        this.ins(`xchg${suffix(s)} ${reg('rax', s)}, (%rdi)`);
        return;
      }
      case 'atomicload':
        this.genValue(n.lhs!);
        this.load(t);
        return;
      case 'asm':
        if (n.template) this.ins(n.template);
        return;
      case 'nop':
        return;
    }
    fail(n.location, `xk cc cannot generate code for this expression (${n.kind})`);
  }

  /** Converts %rax from type `from` to type `to`. */
  protected cast(from: Type, to: Type): void {
    if (to.kind === 'void') return;
    if (to.kind === 'bool') {
      this.compareZero(from);
      this.ins('setne %al');
      this.ins('movzbl %al, %eax');
      return;
    }
    if (to.size > from.size && (isInteger(from) || from.kind === 'ptr')) this.extend(from);
  }

  protected assign(n: Node): void {
    const lhs = n.lhs!;
    const t = lhs.type!;
    if (lhs.kind === 'member' && lhs.bitWidth !== undefined) {
      this.genAddress(lhs.lhs!);
      if (lhs.offset) this.ins(`addq $${lhs.offset}, %rax`);
      this.push();
      this.genValue(n.rhs!);
      this.pop('rdi');
      this.storeBitField(lhs);
      return;
    }
    const direct = this.variableOperand(lhs);
    if (direct && n.rhs!.kind === 'num' && isInteger(t) || direct && n.rhs!.kind === 'num' && t.kind === 'ptr') {
      const v = BigInt.asIntN(64, n.rhs!.value!);
      if (v >= -(1n << 31n) && v < 1n << 31n) {
        // x = constant: one store, as gcc writes it
        const imm = t.size === 1 ? BigInt.asIntN(8, v) : t.size === 2 ? BigInt.asIntN(16, v) : t.size === 4 ? BigInt.asIntN(32, v) : v;
        this.ins(`mov${suffix(t.size)} $${imm}, ${direct}`);
        this.genValue(n.rhs!);
        return;
      }
    }
    if (lhs.kind === 'var' && lhs.variable!.register) {
      this.genValue(n.rhs!);
      this.ins(`mov${suffix(t.size)} ${reg('rax', t.size)}, ${reg(lhs.variable!.register, t.size)}`);
      return;
    }
    this.genAddress(lhs);
    this.push();
    this.genValue(n.rhs!);
    this.pop('rdi');
    this.store(t);
  }

  /** A local kept in a register -> %rax, extended from its type as load() does. */
  protected loadRegister(v: Variable): void {
    const t = v.type, r = v.register!, u = t.unsigned;
    switch (t.size) {
      case 1: this.ins(`${u ? 'movzbl' : 'movsbq'} ${reg(r, 1)}, ${u ? '%eax' : '%rax'}`); return;
      case 2: this.ins(`${u ? 'movzwl' : 'movswq'} ${reg(r, 2)}, ${u ? '%eax' : '%rax'}`); return;
      case 4: this.ins(u ? `movl ${reg(r, 4)}, %eax` : `movslq ${reg(r, 4)}, %rax`); return;
      default: this.ins(`movq %${r}, %rax`);
    }
  }

  /** A variable as a memory operand (off(%rbp) or sym(%rip)), or null for any other lvalue. */
  protected variableOperand(n: Node): string | null {
    if (n.kind !== 'var') return null;
    const v = n.variable!;
    if (v.isLocal && v.register) return reg(v.register, n.type!.size);
    if (v.isLocal) return v.offset === undefined ? null : `${v.offset}(%rbp)`;
    return `${v.symbol}(%rip)`;
  }

  protected bitSpan(n: Node): number {
    const span = Math.ceil((n.bitOffset! + n.bitWidth!) / 8);
    const size = [1, 2, 4, 8].find((s) => s >= span);
    if (size === undefined) fail(n.location, 'xk cc does not support a bit-field spanning more than 8 bytes');
    return size;
  }

  /** The bit-field of `n` in the storage at (%rdi) -> %rax, extended by its type's signedness. */
  protected loadBitField(n: Node): void {
    const size = this.bitSpan(n);
    this.loadPart('rax', 'rdi', 0, size);
    const left = 64 - n.bitOffset! - n.bitWidth!;
    const right = 64 - n.bitWidth!;
    if (left) this.ins(`shlq $${left}, %rax`);
    if (right) this.ins(`${n.type!.unsigned ? 'shrq' : 'sarq'} $${right}, %rax`);
  }

  /** Stores %rax into the bit-field of `n` at (%rdi); the result is the field's new value. */
  protected storeBitField(n: Node): void {
    const size = this.bitSpan(n);
    const mask = ((1n << BigInt(n.bitWidth!)) - 1n) << BigInt(n.bitOffset!);
    this.loadPart('rdx', 'rdi', 0, size);
    this.immediate('rcx', mask);
    if (n.bitOffset) this.ins(`shlq $${n.bitOffset}, %rax`);
    this.ins('andq %rcx, %rax');
    this.ins('notq %rcx');
    this.ins('andq %rcx, %rdx');
    this.ins('orq %rax, %rdx');
    this.storePart('rdx', 'rdi', 0, size);
    this.loadBitField(n);
  }

  /** %rax (s bytes) divided by `divisor` (a register or memory operand): the quotient or the remainder in %rax. */
  protected divide(kind: 'div' | 'mod', unsigned: boolean, s: number, divisor: string): void {
    const x = suffix(s);
    if (unsigned) {
      this.ins('xorl %edx, %edx');
      this.ins(`div${x} ${divisor}`);
    } else {
      this.ins(s === 8 ? 'cqto' : 'cltd');
      this.ins(`idiv${x} ${divisor}`);
    }
    if (kind === 'mod') this.ins(`mov${x} ${reg('rdx', s)}, ${reg('rax', s)}`);
  }

  protected binary(n: Node): void {
    this.genValue(n.rhs!);
    this.push();
    this.genValue(n.lhs!);
    this.pop('rdi');
    const operand = n.lhs!.type!;
    const s = operand.size === 8 || operand.kind === 'ptr' ? 8 : 4;
    const ax = reg('rax', s);
    const di = reg('rdi', s);
    const x = suffix(s);
    const unsigned = operand.unsigned || operand.kind === 'ptr';
    switch (n.kind) {
      case 'add': this.ins(`add${x} ${di}, ${ax}`); return;
      case 'sub': this.ins(`sub${x} ${di}, ${ax}`); return;
      case 'mul': this.ins(`imul${x} ${di}, ${ax}`); return;
      case 'bitand': this.ins(`and${x} ${di}, ${ax}`); return;
      case 'bitor': this.ins(`or${x} ${di}, ${ax}`); return;
      case 'bitxor': this.ins(`xor${x} ${di}, ${ax}`); return;
      case 'div': case 'mod':
        return this.divide(n.kind, unsigned, s, di);
      case 'shl': case 'shr':
        this.ins('movl %edi, %ecx');
        this.ins(`${n.kind === 'shl' ? 'shl' : unsigned ? 'shr' : 'sar'}${x} %cl, ${ax}`);
        return;
      default: {
        this.ins(`cmp${x} ${di}, ${ax}`);
        const cc = n.kind === 'eq' ? 'e' : n.kind === 'ne' ? 'ne' : n.kind === 'lt' ? (unsigned ? 'b' : 'l') : unsigned ? 'be' : 'le';
        this.ins(`set${cc} %al`);
        this.ins('movzbl %al, %eax');
      }
    }
  }

  // ---- calls ----

  protected call(n: Node): void {
    const ft = n.funcType!;
    const ret = n.type!;
    const args = n.args!;
    const memoryReturn = isRecord(ret) && registerCount(ret) === 0;
    // Where each argument goes (abi.ts rules 1-3).
    let regs = memoryReturn ? 1 : 0;
    const inRegs: boolean[] = [];
    let stackBytes = 0;
    for (const a of args) {
      const c = registerCount(a.type!);
      if (c > 0 && regs + c <= ARG_REGISTERS.length) {
        inRegs.push(true);
        regs += c;
      } else {
        inRegs.push(false);
        stackBytes += alignUp(a.type!.size, 8);
      }
    }
    let padding = 0;
    if ((this.depth * 8 + stackBytes) % 16 !== 0) {
      padding = 8;
      this.ins('subq $8, %rsp');
      this.depth++;
    }
    // leaves (constants, variables) go straight into their registers after the pops below
    const leaf = args.map((a, i) => inRegs[i] && this.isLeafArgument(a));
    for (let i = args.length - 1; i >= 0; i--) if (!inRegs[i]) this.pushArgument(args[i], true);
    for (let i = args.length - 1; i >= 0; i--) if (inRegs[i] && !leaf[i]) this.pushArgument(args[i], false);
    const direct = this.directCallee(n.callee!);
    if (!direct) {
      this.genValue(n.callee!);
      this.ins('movq %rax, %r10');
    }
    let r = memoryReturn ? 1 : 0;
    const leaves: [Node, string][] = [];
    args.forEach((a, i) => {
      if (!inRegs[i]) return;
      if (leaf[i]) return void leaves.push([a, ARG_REGISTERS[r++]]);
      const c = isRecord(a.type!) ? registerCount(a.type!) : 1;
      for (let k = 0; k < c; k++) this.pop(ARG_REGISTERS[r++]);
    });
    for (const [a, register] of leaves) this.loadLeafArgument(a, register);
    if (memoryReturn) this.ins(`leaq ${n.temp!.offset}(%rbp), %rdi`);
    if (ft.variadic || ft.oldStyle) this.ins('movl $0, %eax');
    this.ins(direct ? `call ${direct}` : 'call *%r10');
    if (stackBytes + padding > 0) this.ins(`addq $${stackBytes + padding}, %rsp`);
    this.depth -= (stackBytes + padding) / 8;
    if (isRecord(ret)) {
      if (!memoryReturn) {
        const t = n.temp!;
        this.ins(`leaq ${t.offset}(%rbp), %rdi`);
        this.storePart('rax', 'rdi', 0, Math.min(8, ret.size));
        if (ret.size > 8) this.storePart('rdx', 'rdi', 8, ret.size - 8);
      }
      this.ins(`leaq ${n.temp!.offset}(%rbp), %rax`);
    }
  }

  /** -O1 (codegenO1.ts): an argument loaded straight into its register, with no code that could clobber another. */
  protected isLeafArgument(_a: Node): boolean {
    return false;
  }

  protected loadLeafArgument(a: Node, _register: string): void {
    fail(a.location, 'internal: no leaf arguments at -O0');
  }

  /** The symbol of a call to a named function, or null for a call through a pointer. */
  protected directCallee(f: Node): string | null {
    let e = f;
    while (e.kind === 'cast' || e.kind === 'addr') e = e.lhs!;
    if (e.kind === 'var' && e.variable!.type.kind === 'func' && !e.variable!.isLocal) return e.variable!.symbol;
    return null;
  }

  /** Evaluates an argument onto the stack: a scalar as one slot, a struct as its eightbytes (or its bytes, on the stack). */
  protected pushArgument(a: Node, onStack: boolean): void {
    const t = a.type!;
    this.genValue(a);
    if (!isRecord(t)) {
      this.extend(t);
      this.push();
      return;
    }
    if (onStack) {
      const size = alignUp(t.size, 8);
      this.ins('movq %rax, %rsi');
      this.ins(`subq $${size}, %rsp`);
      this.depth += size / 8;
      this.ins('movq %rsp, %rdi');
      this.copyBytes(t.size);
      return;
    }
    const c = registerCount(t);
    this.ins('movq %rax, %rsi');
    for (let k = c - 1; k >= 0; k--) {
      this.loadPart('rax', 'rsi', 8 * k, Math.min(8, t.size - 8 * k));
      this.push();
    }
  }

  /** va_arg: the address of the next argument of type n.type, from the registers saved by va_start or the stack. */
  protected vaArg(n: Node): void {
    const t = n.type!;
    this.genValue(n.lhs!);
    const c = registerCount(t);
    const stack = this.newLabel();
    const end = this.newLabel();
    if (c > 0) {
      this.ins('movl (%rax), %ecx');
      this.ins(`cmpl $${GP_SAVE - 8 * c}, %ecx`);
      this.ins(`ja ${stack}`);
      this.ins('movq 16(%rax), %rdx');
      this.ins('addq %rcx, %rdx');
      this.ins(`addl $${8 * c}, %ecx`);
      this.ins('movl %ecx, (%rax)');
      this.ins('movq %rdx, %rax');
      this.ins(`jmp ${end}`);
    }
    this.emit(`${stack}:`);
    this.ins('movq 8(%rax), %rdx');
    this.ins(`leaq ${alignUp(Math.max(t.size, 1), 8)}(%rdx), %rcx`);
    this.ins('movq %rcx, 8(%rax)');
    this.ins('movq %rdx, %rax');
    this.emit(`${end}:`);
  }
}

export type { Variable };
