// Extended asm (`__asm__("..." : outputs : inputs : clobbers)`), the way gcc
// reads it, for the constraints user-level code uses:
//   r q g    any general register      a b c d S D   that register
//   m        memory (the operand is (%reg) with its address in a register)
//   i n      an immediate (only for a constant)          0-9   same place as output N
//   = + &    output, input-output, early clobber (an input may share a fixed register
//            with an output only when that output is not early-clobber, as in gcc)
// Steps: 1. give every operand a place; 2. push the outputs' addresses and the
// inputs' values; 3. load them into their registers; 4. the template, with %N,
// %[name], %% and the b/w/k/q/h/c modifiers replaced; 5. store the register
// outputs through their addresses.

import { fail } from './diagnostics.js';
import type { AsmOperand, Node } from './ast.js';
import { fullRegister, reg, suffix } from './abi.js';
import type { AsmHost } from './codegenFunction.js';

const LETTERS: Record<string, string> = { a: 'rax', b: 'rbx', c: 'rcx', d: 'rdx', S: 'rsi', D: 'rdi' };
const POOL = ['rax', 'rcx', 'rdx', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'rbx', 'r12', 'r13', 'r14', 'r15'];

interface Place {
  kind: 'reg' | 'mem' | 'imm';
  register?: string;
  value?: bigint;
  size: number;
  /** Index of the pushed slot (address or value), counted from the first push. */
  slot?: number;
  operand: AsmOperand;
  isOutput: boolean;
  readWrite: boolean;
}

export function generateAsm(host: AsmHost, n: Node): void {
  const outputs = n.outputs!;
  const inputs = n.inputs!;
  const clobbered = new Set<string>();
  for (const c of n.clobbers!) {
    const r = fullRegister(c);
    if (r) clobbered.add(r);
  }
  const used = new Set<string>(clobbered);
  /** Fixed-register outputs (true: early clobber) and inputs, for the sharing rule below. */
  const fixedOutputs = new Map<string, boolean>();
  const fixedInputs = new Set<string>();
  const places: Place[] = [];
  const sizeOf = (e: Node): number => {
    const t = e.type!;
    return t.kind === 'array' || t.kind === 'func' ? 8 : t.size;
  };
  // 1. places: fixed registers first, then the pool
  const pending: Place[] = [];
  const place = (o: AsmOperand, isOutput: boolean): Place => {
    const c = o.constraint.replace(/[=+&%]/g, '');
    const p: Place = { kind: 'reg', size: sizeOf(o.expr), operand: o, isOutput, readWrite: o.constraint.includes('+') };
    const bound = /[rqg]/.test(c) && o.expr.kind === 'var' ? o.expr.variable?.asmRegister : undefined;
    const fixed = bound ?? [...c].map((ch) => LETTERS[ch]).find((r) => r !== undefined);
    if (!isOutput && /^[0-9]$/.test(c)) {
      const target = places[Number(c)];
      if (!target || !target.isOutput) fail(o.expr.location, `invalid matching constraint '${c}' in asm`);
      p.register = target.register;
      p.kind = 'reg';
      if (target.kind !== 'reg') fail(o.expr.location, 'xk cc supports a matching constraint only for a register output');
    } else if (!isOutput && /[in]/.test(c) && o.expr.kind === 'num' && !fixed) {
      p.kind = 'imm';
      p.value = o.expr.value!;
    } else if (fixed) {
      p.register = fixed;
      // An input may share its register with an output that is not early-clobber
      // (`"=a"(r) : "a"(n)`, as gcc allows): the input is read before the output is written.
      const taken = isOutput ? fixedOutputs.has(fixed) : fixedInputs.has(fixed) || fixedOutputs.get(fixed) === true;
      if (taken) fail(o.expr.location, `the register '${fixed}' is used by two asm operands`);
      if (isOutput) fixedOutputs.set(fixed, o.constraint.includes('&'));
      else fixedInputs.add(fixed);
      used.add(fixed);
    } else if (/[rqg]/.test(c)) {
      pending.push(p);
    } else if (c.includes('m')) {
      p.kind = 'mem';
      pending.push(p);
    } else if (/[in]/.test(c)) {
      fail(o.expr.location, `impossible constraint in 'asm': '${o.constraint}' needs a constant`);
    } else {
      fail(o.expr.location, `xk cc does not support the asm constraint '${o.constraint}'`);
    }
    places.push(p);
    return p;
  };
  outputs.forEach((o) => place(o, true));
  inputs.forEach((o) => place(o, false));
  for (const p of pending) {
    const r = POOL.find((x) => !used.has(x));
    if (!r) fail(p.operand.expr.location, "impossible register constraint in 'asm': out of registers");
    p.register = r;
    used.add(r);
  }
  if (!host.savedRegisters && [...used].some((r) => ['rbx', 'r12', 'r13', 'r14', 'r15'].includes(r))) {
    fail(n.location, 'internal: asm uses a callee-saved register the frame did not save');
  }
  // 2. push: the outputs' addresses, the inputs' values (memory inputs: their addresses)
  let slots = 0;
  for (const p of places) {
    if (p.kind === 'imm') continue;
    if (p.isOutput || p.kind === 'mem') host.genAddress(p.operand.expr);
    else host.genValue(p.operand.expr);
    host.push();
    p.slot = slots++;
  }
  const slotAt = (p: Place): string => `${8 * (slots - 1 - p.slot!)}(%rsp)`;
  // 3. load the registers: input-output values, inputs, memory addresses
  for (const p of places) {
    if (p.kind === 'imm') continue;
    if (p.kind === 'mem') host.emit(`\tmovq ${slotAt(p)}, %${p.register}`);
    else if (!p.isOutput) host.emit(`\tmovq ${slotAt(p)}, %${p.register}`);
    else if (p.readWrite) {
      host.emit(`\tmovq ${slotAt(p)}, %${p.register}`);
      host.emit(`\t${loadInto(p.register!, p.size)}`);
    }
  }
  // 4. the template
  const text = substitute(n.template!, places, n);
  host.emit('\t' + text);
  // 5. store the register outputs
  const scratch = ['r11', 'r10', 'r9', 'r8', 'rsi', 'rdi', 'rcx', 'rdx', 'rax'].find((r) => !places.some((p) => p.isOutput && p.register === r))!;
  for (const p of places) {
    if (!p.isOutput || p.kind !== 'reg') continue;
    host.emit(`\tmovq ${slotAt(p)}, %${scratch}`);
    host.emit(`\tmov${suffix(p.size)} ${reg(p.register!, p.size)}, (%${scratch})`);
  }
  if (slots > 0) host.emit(`\taddq $${8 * slots}, %rsp`);
  host.adjustDepth(-slots);
}

/** `mov (%r), %r` at the operand's size (the value at the address in r). */
function loadInto(r: string, size: number): string {
  if (size >= 8) return `movq (%${r}), %${r}`;
  if (size === 4) return `movl (%${r}), ${reg(r, 4)}`;
  return `movz${suffix(size)}l (%${r}), ${reg(r, 4)}`;
}

function substitute(template: string, places: Place[], n: Node): string {
  return template.replace(/%(%|=|([bwkqhcPl]?)(\d+|\[[A-Za-z_][A-Za-z0-9_]*\]))/g, (all, _x, modifier: string, which: string) => {
    if (all === '%%') return '%';
    if (all === '%=') return String(n.location.line);
    let p: Place | undefined;
    if (which.startsWith('[')) p = places.find((q) => q.operand.name === which.slice(1, -1));
    else p = places[Number(which)];
    if (!p) fail(n.location, `operand number out of range in asm ('${all}')`);
    if (p.kind === 'imm') return modifier === 'c' || modifier === 'P' ? String(p.value) : `$${p.value}`;
    if (p.kind === 'mem') return `(%${p.register})`;
    const sizes: Record<string, number> = { b: 1, w: 2, k: 4, q: 8 };
    if (modifier === 'h') return '%' + reg(p.register!, 1).slice(1).replace(/l$/, 'h');
    return reg(p.register!, sizes[modifier] ?? p.size);
  });
}
