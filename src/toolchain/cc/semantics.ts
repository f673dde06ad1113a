// Semantic rules of C expressions (C11 6.5): the type of every operator's
// result, the implicit conversions (made explicit as 'cast' nodes), lvalue
// and constraint checks, and constant folding. The parser calls these to
// build typed nodes; a violated constraint is an error at the operator.

import { fail, type SourceLocation } from './diagnostics.js';
import type { Node, NodeKind } from './ast.js';
import {
  BOOL, INT, LONG, ULONG, decay, isInteger, isPointerLike, isRecord, isScalar, pointerTo, promote,
  sameType, typeName, unqualified, usualArithmetic, VOID, type Type,
} from './types.js';

/** A value wrapped to the width and signedness of `t`. */
export function wrap(value: bigint, t: Type): bigint {
  if (t.kind === 'bool') return value !== 0n ? 1n : 0n;
  if (t.kind === 'ptr' || t.kind === 'array' || t.kind === 'func') return BigInt.asUintN(64, value);
  const bits = t.size * 8;
  return t.unsigned ? BigInt.asUintN(bits, value) : BigInt.asIntN(bits, value);
}

export function numberNode(value: bigint, type: Type, location: SourceLocation): Node {
  return { kind: 'num', value: wrap(value, type), type, location };
}

/** An expression used as a value: arrays and functions become pointers (6.3.2.1). */
export function valueOf(node: Node): Node {
  const t = node.type!;
  if (t.kind === 'array' || t.kind === 'func') return { kind: 'cast', lhs: node, type: decay(t), location: node.location };
  // A bit-field narrower than int has int's range, so it promotes to int even when declared unsigned (6.3.1.1p2, as gcc).
  if (node.kind === 'member' && node.bitWidth !== undefined && isInteger(t) && t.size <= 4 && t.unsigned && node.bitWidth < 32) {
    return { kind: 'cast', lhs: node, type: INT, location: node.location };
  }
  return node;
}

/** Converts `node` to type `to` (an explicit or implicit conversion). */
export function convert(node: Node, to: Type, location = node.location): Node {
  node = valueOf(node);
  const from = node.type!;
  if (to.kind === 'void') return { kind: 'cast', lhs: node, type: VOID, location };
  if (isRecord(to) || isRecord(from)) {
    if (isRecord(to) && isRecord(from) && sameType(unqualified(to), unqualified(from))) return node;
    fail(location, `conversion from '${typeName(from)}' to '${typeName(to)}' is not possible`);
  }
  if (!isScalar(to)) fail(location, `conversion to non-scalar type '${typeName(to)}' requested`);
  if (!isScalar(from)) fail(location, `'${typeName(from)}' cannot be converted to '${typeName(to)}'`);
  if (node.kind === 'num') return numberNode(node.value!, unqualified(to), location);
  if (sameType(unqualified(from), unqualified(to)) && from.kind !== 'bool') return { ...node, type: to };
  return { kind: 'cast', lhs: node, type: unqualified(to), location };
}

/** Checks `node` is a modifiable lvalue (6.3.2.1) for an assignment or ++. */
export function checkModifiable(node: Node, what: string): void {
  if (!isLvalue(node)) fail(node.location, `lvalue required as ${what}`);
  const t = node.type!;
  if (t.isConst) fail(node.location, `${what === 'left operand of assignment' ? 'assignment' : what} of read-only location`);
  if (t.kind === 'array') fail(node.location, `assignment to expression with array type`);
  if (isRecord(t) && hasConstMember(t)) fail(node.location, `assignment of read-only members`);
}

function hasConstMember(t: Type): boolean {
  return (t.members ?? []).some((m) => m.type.isConst || (isRecord(m.type) && hasConstMember(m.type)));
}

export function isLvalue(node: Node): boolean {
  return node.kind === 'var' || node.kind === 'deref' || node.kind === 'member' || node.kind === 'str' || node.kind === 'compound' || node.kind === 'vaarg';
}

/** Assignment conversion (6.5.16.1): the right side converted to the left side's type. */
export function assignConvert(rhs: Node, to: Type, location: SourceLocation, warn: (at: SourceLocation, msg: string) => void, what = 'assignment'): Node {
  const r = valueOf(rhs);
  const from = r.type!;
  if (isRecord(to)) {
    if (!isRecord(from) || !sameType(unqualified(to), unqualified(from))) fail(location, `incompatible types when ${what === 'assignment' ? 'assigning to' : 'initializing'} type '${typeName(to)}' from type '${typeName(from)}'`);
    return r;
  }
  if (to.kind === 'ptr' && isInteger(from) && !(r.kind === 'num' && r.value === 0n)) {
    warn(location, `${what} to '${typeName(to)}' from '${typeName(from)}' makes pointer from integer without a cast`);
  } else if (isInteger(to) && from.kind === 'ptr' && to.kind !== 'bool') {
    warn(location, `${what} to '${typeName(to)}' from '${typeName(from)}' makes integer from pointer without a cast`);
  } else if (!isScalar(from) && from.kind !== 'void') {
    fail(location, `incompatible types when ${what === 'assignment' ? 'assigning to' : 'initializing'} type '${typeName(to)}' from type '${typeName(from)}'`);
  }
  if (from.kind === 'void') fail(location, 'void value not ignored as it ought to be');
  return convert(r, to, location);
}

function checkScalar(node: Node, op: string): void {
  const t = node.type!;
  if (!isScalar(t) && !isPointerLike(t)) fail(node.location, `invalid operand to ${op} (have '${typeName(t)}')`);
}

function checkInteger(a: Node, b: Node | null, op: string, at: SourceLocation): void {
  const bad = !isInteger(a.type!) || (b !== null && !isInteger(b.type!));
  if (bad) fail(at, `invalid operands to binary ${op} (have '${typeName(a.type!)}' and '${typeName(b?.type ?? a.type!)}')`);
}

const FOLDERS: Partial<Record<NodeKind, (a: bigint, b: bigint, unsigned: boolean) => bigint | null>> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => (b === 0n ? null : a / b),
  mod: (a, b) => (b === 0n ? null : a % b),
  bitand: (a, b) => a & b,
  bitor: (a, b) => a | b,
  bitxor: (a, b) => a ^ b,
};

function arith(kind: NodeKind, a: Node, b: Node, type: Type, at: SourceLocation): Node {
  const x = convert(a, type);
  const y = convert(b, type);
  const f = FOLDERS[kind];
  if (f && x.kind === 'num' && y.kind === 'num') {
    const v = f(x.value!, y.value!, type.unsigned);
    if (v !== null) return numberNode(v, type, at);
  }
  return { kind, lhs: x, rhs: y, type, location: at };
}

/** Builds a binary operator node with C's conversions; `op` is the source spelling for messages. */
export function binary(op: string, lhs: Node, rhs: Node, at: SourceLocation): Node {
  const a = valueOf(lhs);
  const b = valueOf(rhs);
  const ta = a.type!;
  const tb = b.type!;
  switch (op) {
    case '+': {
      if (isInteger(ta) && isInteger(tb)) return arith('add', a, b, usualArithmetic(ta, tb), at);
      if (ta.kind === 'ptr' && isInteger(tb)) return pointerOffset(a, b, 1, at);
      if (isInteger(ta) && tb.kind === 'ptr') return pointerOffset(b, a, 1, at);
      fail(at, `invalid operands to binary + (have '${typeName(ta)}' and '${typeName(tb)}')`);
    }
    // falls through never
    case '-': {
      if (isInteger(ta) && isInteger(tb)) return arith('sub', a, b, usualArithmetic(ta, tb), at);
      if (ta.kind === 'ptr' && isInteger(tb)) return pointerOffset(a, b, -1, at);
      if (ta.kind === 'ptr' && tb.kind === 'ptr') {
        const size = elementSize(ta, at);
        const diff: Node = { kind: 'sub', lhs: convert(a, LONG), rhs: convert(b, LONG), type: LONG, location: at };
        if (size === 1) return diff;
        return { kind: 'div', lhs: diff, rhs: numberNode(BigInt(size), LONG, at), type: LONG, location: at };
      }
      fail(at, `invalid operands to binary - (have '${typeName(ta)}' and '${typeName(tb)}')`);
    }
    // falls through never
    case '*': case '/': case '%': case '&': case '|': case '^': {
      if (op === '*' || op === '/' || op === '%' || op === '&' || op === '|' || op === '^') checkInteger(a, b, op, at);
      const kinds: Record<string, NodeKind> = { '*': 'mul', '/': 'div', '%': 'mod', '&': 'bitand', '|': 'bitor', '^': 'bitxor' };
      return arith(kinds[op], a, b, usualArithmetic(ta, tb), at);
    }
    case '<<': case '>>': {
      checkInteger(a, b, op, at);
      const t = promote(ta);
      const x = convert(a, t);
      const y = convert(b, promote(tb));
      if (x.kind === 'num' && y.kind === 'num' && y.value! >= 0n && y.value! < BigInt(t.size * 8)) {
        return numberNode(op === '<<' ? x.value! << y.value! : x.value! >> y.value!, t, at);
      }
      return { kind: op === '<<' ? 'shl' : 'shr', lhs: x, rhs: y, type: t, location: at };
    }
    case '==': case '!=': case '<': case '>': case '<=': case '>=': {
      checkScalar(a, op);
      checkScalar(b, op);
      let x = a;
      let y = b;
      if (isInteger(ta) && isInteger(tb)) {
        const t = usualArithmetic(ta, tb);
        x = convert(a, t);
        y = convert(b, t);
      } else {
        // Pointers compare as unsigned 64-bit addresses.
        x = convert(a, ULONG);
        y = convert(b, ULONG);
      }
      if (op === '>' || op === '>=') [x, y] = [y, x];
      const kind: NodeKind = op === '==' ? 'eq' : op === '!=' ? 'ne' : op === '<' || op === '>' ? 'lt' : 'le';
      if (x.kind === 'num' && y.kind === 'num') {
        const v = kind === 'eq' ? x.value === y.value : kind === 'ne' ? x.value !== y.value : kind === 'lt' ? x.value! < y.value! : x.value! <= y.value!;
        return numberNode(v ? 1n : 0n, INT, at);
      }
      return { kind, lhs: x, rhs: y, type: INT, location: at };
    }
    case '&&': case '||': {
      checkScalar(a, op);
      checkScalar(b, op);
      const x = toCondition(a);
      const y = toCondition(b);
      if (x.kind === 'num' && y.kind === 'num') {
        const v = op === '&&' ? x.value !== 0n && y.value !== 0n : x.value !== 0n || y.value !== 0n;
        return numberNode(v ? 1n : 0n, INT, at);
      }
      return { kind: op === '&&' ? 'logand' : 'logor', lhs: x, rhs: y, type: INT, location: at };
    }
  }
  fail(at, `unknown operator ${op}`);
}

function elementSize(ptr: Type, at: SourceLocation): number {
  const base = ptr.base!;
  if (base.kind === 'void' || base.kind === 'func') return 1; // GNU C: void * arithmetic in bytes
  if (isRecord(base) && !base.complete) fail(at, `invalid use of undefined type '${typeName(base)}'`);
  return base.size;
}

/** ptr + n or ptr - n: n scaled by the element size. */
function pointerOffset(ptr: Node, n: Node, sign: 1 | -1, at: SourceLocation): Node {
  const size = elementSize(ptr.type!, at);
  let scaled = convert(n, LONG);
  if (size !== 1) scaled = arith('mul', scaled, numberNode(BigInt(size), LONG, at), LONG, at);
  return { kind: sign === 1 ? 'add' : 'sub', lhs: ptr, rhs: scaled, type: ptr.type, location: at };
}

/** A controlling expression (if, while, &&, !): any scalar, compared with 0. */
export function toCondition(node: Node): Node {
  const v = valueOf(node);
  if (!isScalar(v.type!)) fail(node.location, `used ${typeName(v.type!)} type value where scalar is required`);
  return v;
}

export function unary(op: string, operand: Node, at: SourceLocation): Node {
  const a = valueOf(operand);
  const t = a.type!;
  switch (op) {
    case '-': case '~': case '+': {
      if (!isInteger(t)) fail(at, `wrong type argument to unary ${op === '-' ? 'minus' : op === '+' ? 'plus' : 'complement'}`);
      const p = promote(t);
      const x = convert(a, p);
      if (op === '+') return x;
      if (x.kind === 'num') return numberNode(op === '-' ? -x.value! : ~x.value!, p, at);
      return { kind: op === '-' ? 'neg' : 'bitnot', lhs: x, type: p, location: at };
    }
    case '!': {
      const x = toCondition(a);
      if (x.kind === 'num') return numberNode(x.value === 0n ? 1n : 0n, INT, at);
      return { kind: 'not', lhs: x, type: INT, location: at };
    }
  }
  fail(at, `unknown operator ${op}`);
}

/** The conditional operator's result type (6.5.15). */
export function conditional(cond: Node, a: Node, b: Node, at: SourceLocation): Node {
  const c = toCondition(cond);
  let x = valueOf(a);
  let y = valueOf(b);
  const ta = x.type!;
  const tb = y.type!;
  let type: Type;
  if (isInteger(ta) && isInteger(tb)) {
    type = usualArithmetic(ta, tb);
  } else if (ta.kind === 'void' || tb.kind === 'void') {
    type = VOID;
  } else if (isRecord(ta) && isRecord(tb) && sameType(unqualified(ta), unqualified(tb))) {
    type = ta;
  } else if (ta.kind === 'ptr' && tb.kind === 'ptr') {
    type = ta.base!.kind === 'void' ? tb : tb.base!.kind === 'void' ? ta : ta;
    if (ta.base!.kind === 'void' && !(x.kind === 'num' || (x.kind === 'cast' && x.lhs!.kind === 'num'))) type = ta;
  } else if (ta.kind === 'ptr' && isInteger(tb)) {
    type = ta;
  } else if (tb.kind === 'ptr' && isInteger(ta)) {
    type = tb;
  } else {
    fail(at, `type mismatch in conditional expression ('${typeName(ta)}' and '${typeName(tb)}')`);
  }
  if (type.kind !== 'void' && !isRecord(type)) {
    x = convert(x, type);
    y = convert(y, type);
  }
  if (c.kind === 'num' && type.kind !== 'void' && !isRecord(type) && x.kind === 'num' && y.kind === 'num') return c.value !== 0n ? x : y;
  return { kind: 'cond', cond: c, then: x, else: y, type, location: at };
}

/** `*p` */
export function dereference(operand: Node, at: SourceLocation): Node {
  const a = valueOf(operand);
  const t = a.type!;
  if (t.kind !== 'ptr') fail(at, `invalid type argument of unary '*' (have '${typeName(t)}')`);
  if (t.base!.kind === 'func') return a; // *f is f
  return { kind: 'deref', lhs: a, type: t.base!, location: at };
}

/** `&x` */
export function addressOf(operand: Node, at: SourceLocation): Node {
  if (operand.kind === 'member' && operand.bitWidth !== undefined) fail(at, 'cannot take address of bit-field');
  if (operand.kind === 'deref') return { ...valueOf(operand.lhs!), location: at };
  if (operand.type!.kind === 'func') return { kind: 'addr', lhs: operand, type: pointerTo(operand.type!), location: at };
  if (!isLvalue(operand)) fail(at, 'lvalue required as unary \'&\' operand');
  if (operand.kind === 'var') operand.variable!.addressTaken = true;
  markAddressTaken(operand);
  return { kind: 'addr', lhs: operand, type: pointerTo(operand.type!), location: at };
}

/** An object whose address escapes must live in memory (not in a register). */
export function markAddressTaken(node: Node): void {
  let n: Node | undefined = node;
  while (n && (n.kind === 'member' || n.kind === 'cast')) n = n.lhs;
  if (n?.kind === 'var') n.variable!.addressTaken = true;
}

/** The value of an integer constant expression, or an error at its location. */
export function constantValue(node: Node, what = 'expression'): bigint {
  const v = valueOf(node);
  if (v.kind === 'num' && isInteger(v.type!)) return v.value!;
  fail(node.location, `${what} is not an integer constant expression`);
}

export { BOOL };
