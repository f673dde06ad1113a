// -O1's tree pass, between the parser and the code generator: constant
// folding and simple algebraic simplification on the typed tree.
//
//   1. Fold: an operator whose operands are all constants becomes a constant,
//      computed in its type exactly as the machine would (wrap()); this runs
//      again after every rewrite, so x + 1 + 2 ends as x + 3.
//   2. Identities: x + 0, x - 0, x * 1, x / 1, x | 0, x ^ 0, x & ~0, x << 0,
//      x >> 0 are x; x * 0 and x & 0 are 0 when x has no side effects.
//   3. Strength: unsigned x / 2^k is x >> k, unsigned x % 2^k is x & (2^k - 1).
//   4. Reassociation: (x + c1) + c2 is x + (c1 + c2) (also with -), in the
//      same type, so address arithmetic on constant indices collapses.
//   5. Conditions: c ? a : b, c && x, c || x with a constant c lose the dead
//      side; if/while/for with a constant condition lose the dead branch or
//      the test (unless a label or case sits in the code that would vanish).
//
// The parser already folds constant expressions that C requires (array sizes,
// case labels, static initializers); this pass only changes the code -O1
// emits, never a program's meaning: every rewrite holds for all values in
// two's complement arithmetic of the node's type.
//
// The tree is a DAG (x += 1 shares x's node); each node is visited once and
// its replacement reused.

import type { FunctionDef, Node } from './ast.js';
import { isInteger, type Type } from './types.js';
import { wrap } from './semantics.js';

export function optimizeFunction(f: FunctionDef): void {
  new Folder().statement(f.body);
}

const INT_TYPE_KINDS = new Set(['bool', 'char', 'short', 'int', 'long', 'enum']);

function isNum(n: Node | undefined, v?: bigint): boolean {
  return !!n && n.kind === 'num' && (v === undefined || n.value === v);
}

function integral(t: Type | undefined): boolean {
  return !!t && (INT_TYPE_KINDS.has(t.kind) || t.kind === 'ptr');
}

function sameScalar(x: Type, y: Type): boolean {
  return x === y || (x.kind === y.kind && x.size === y.size && x.unsigned === y.unsigned && (x.kind !== 'ptr' || x.base === y.base));
}

/** log2 of a positive power of two, or -1. */
function log2(v: bigint): number {
  if (v <= 0n || (v & (v - 1n)) !== 0n) return -1;
  return v.toString(2).length - 1;
}

/** True if evaluating n can change anything or trap in a way that matters (calls, stores, volatile reads). */
export function hasSideEffects(n: Node): boolean {
  switch (n.kind) {
    case 'num': case 'str': return false;
    case 'var': return !!n.type!.isVolatile;
    case 'assign': case 'call': case 'preinc': case 'postinc': case 'asm': case 'vaarg': case 'stmtexpr':
    case 'atomicload': case 'atomicstore': case 'xchg': case 'memzero': case 'compound': case 'vastart': case 'vacopy':
      return true;
    case 'deref': case 'member':
      return !!n.type!.isVolatile || hasSideEffects(n.lhs!);
    case 'cond':
      return hasSideEffects(n.cond!) || hasSideEffects(n.then!) || hasSideEffects(n.else!);
    default:
      return (n.lhs !== undefined && hasSideEffects(n.lhs)) || (n.rhs !== undefined && hasSideEffects(n.rhs));
  }
}

/** Does the statement contain a label or case that a jump from outside could reach? */
function hasLabel(n: Node | undefined): boolean {
  if (!n) return false;
  if (n.kind === 'label' || n.kind === 'case') return true;
  if (n.kind === 'block' || n.kind === 'decl') return n.stmts!.some(hasLabel);
  return hasLabel(n.then) || hasLabel(n.else) || hasLabel(n.body) || hasLabel(n.init);
}

class Folder {
  private readonly done = new Map<Node, Node>();

  private num(value: bigint, type: Type, at: Node): Node {
    return { kind: 'num', value: wrap(value, type), type, location: at.location };
  }

  // ---- statements: children replaced in place ----

  statement(n: Node): Node {
    switch (n.kind) {
      case 'block': case 'decl':
        n.stmts = n.stmts!.map((s) => this.statement(s));
        return n;
      case 'exprstmt':
        n.lhs = this.expr(n.lhs!);
        return n;
      case 'if': {
        n.cond = this.expr(n.cond!);
        n.then = this.statement(n.then!);
        if (n.else) n.else = this.statement(n.else);
        if (isNum(n.cond) && n.cond!.type!.kind !== 'ptr') {
          const taken = n.cond!.value !== 0n ? n.then : n.else;
          const dead = n.cond!.value !== 0n ? n.else : n.then;
          if (!hasLabel(dead)) return taken ?? { kind: 'block', stmts: [], location: n.location };
        }
        return n;
      }
      case 'for':
        if (n.init) n.init = this.statement(n.init);
        if (n.cond) n.cond = this.expr(n.cond);
        if (n.inc) n.inc = this.expr(n.inc);
        n.body = this.statement(n.body!);
        if (n.cond && isNum(n.cond)) {
          // for (;1;) tests nothing; for (;0;) runs only its init (a while (0) body needs no code)
          if (n.cond.value !== 0n) n.cond = undefined;
          else if (!hasLabel(n.body)) {
            return { kind: 'block', stmts: n.init ? [n.init] : [], location: n.location };
          }
        }
        return n;
      case 'dowhile':
        n.body = this.statement(n.body!);
        n.cond = this.expr(n.cond!);
        return n;
      case 'switch':
        n.cond = this.expr(n.cond!);
        n.body = this.statement(n.body!);
        return n;
      case 'case': case 'label':
        n.body = this.statement(n.body!);
        return n;
      case 'return':
        if (n.lhs) n.lhs = this.expr(n.lhs);
        return n;
      case 'asm':
        for (const o of [...(n.outputs ?? []), ...(n.inputs ?? [])]) o.expr = this.expr(o.expr);
        return n;
      case 'goto': case 'break': case 'continue':
        return n;
      default:
        return this.expr(n);
    }
  }

  // ---- expressions ----

  expr(n: Node): Node {
    const seen = this.done.get(n);
    if (seen) return seen;
    this.done.set(n, n); // a cycle guard; the real answer replaces it below
    const out = this.rewrite(n);
    this.done.set(n, out);
    return out;
  }

  private children(n: Node): void {
    if (n.lhs) n.lhs = this.expr(n.lhs);
    if (n.rhs) n.rhs = this.expr(n.rhs);
    if (n.cond) n.cond = this.expr(n.cond);
    if (n.then) n.then = this.expr(n.then);
    if (n.else) n.else = this.expr(n.else);
    if (n.callee) n.callee = this.expr(n.callee);
    if (n.args) n.args = n.args.map((a) => this.expr(a));
    if (n.stmts) n.stmts = n.stmts.map((s) => this.statement(s));
  }

  private rewrite(n: Node): Node {
    this.children(n);
    const t = n.type!;
    const a = n.lhs;
    const b = n.rhs;
    switch (n.kind) {
      case 'cast':
        if (isNum(a) && integral(t) && integral(a!.type)) return this.num(a!.value!, t, n);
        return n;
      case 'neg': case 'bitnot':
        if (isNum(a)) return this.num(n.kind === 'neg' ? -a!.value! : ~a!.value!, t, n);
        return n;
      case 'not':
        if (isNum(a)) return this.num(a!.value === 0n ? 1n : 0n, t, n);
        return n;
      case 'cond':
        if (isNum(n.cond)) return n.cond!.value !== 0n ? n.then! : n.else!;
        return n;
      case 'logand': case 'logor': {
        const stop = n.kind === 'logand' ? 0n : 1n;
        if (isNum(a)) {
          if ((a!.value !== 0n ? 1n : 0n) === stop) return this.num(stop, t, n);
          return this.truth(b!, n);
        }
        if (isNum(b) && (b!.value !== 0n ? 1n : 0n) !== stop) return this.truth(a!, n);
        if (isNum(b) && !hasSideEffects(a!)) return this.num(stop, t, n);
        return n;
      }
      case 'add': case 'sub': case 'mul': case 'div': case 'mod': case 'bitand': case 'bitor': case 'bitxor':
      case 'shl': case 'shr': case 'eq': case 'ne': case 'lt': case 'le':
        return this.binary(n);
      case 'comma':
        if (!hasSideEffects(a!)) return b!;
        return n;
      default:
        return n;
    }
  }

  /** x != 0 as an int 0/1 (the value of `1 && x`). */
  private truth(x: Node, at: Node): Node {
    if (isNum(x)) return this.num(x.value !== 0n ? 1n : 0n, at.type!, at);
    if (['eq', 'ne', 'lt', 'le', 'not', 'logand', 'logor'].includes(x.kind)) return x;
    return { kind: 'ne', lhs: x, rhs: { kind: 'num', value: 0n, type: x.type, location: x.location }, type: at.type, location: at.location };
  }

  private binary(n: Node): Node {
    const t = n.type!;
    const a = n.lhs!;
    const b = n.rhs!;
    if (!integral(a.type) || !integral(b.type)) return n;
    const ot = a.type!; // the operands' type (comparisons: t is int)
    const bits = BigInt(ot.size * 8);
    if (isNum(a) && isNum(b)) {
      const x = a.value!, y = b.value!;
      // compare and divide in the operands' type; pointer-typed constants are unsigned 64-bit
      switch (n.kind) {
        case 'add': return this.num(x + y, t, n);
        case 'sub': return this.num(x - y, t, n);
        case 'mul': return this.num(x * y, t, n);
        case 'bitand': return this.num(x & y, t, n);
        case 'bitor': return this.num(x | y, t, n);
        case 'bitxor': return this.num(x ^ y, t, n);
        case 'div': case 'mod':
          if (y === 0n) return n;
          return this.num(n.kind === 'div' ? x / y : x % y, t, n);
        case 'shl': case 'shr':
          if (y < 0n || y >= bits) return n;
          return this.num(n.kind === 'shl' ? x << y : x >> y, t, n);
        case 'eq': return this.num(x === y ? 1n : 0n, t, n);
        case 'ne': return this.num(x !== y ? 1n : 0n, t, n);
        case 'lt': return this.num(x < y ? 1n : 0n, t, n);
        case 'le': return this.num(x <= y ? 1n : 0n, t, n);
      }
    }
    const allOnes = ot.unsigned || ot.kind === 'ptr' ? BigInt.asUintN(Number(bits), -1n) : -1n;
    // constant on the left of a commutative operator: move it right
    if (isNum(a) && ['add', 'mul', 'bitand', 'bitor', 'bitxor'].includes(n.kind) && sameScalar(a.type!, b.type!)) {
      return this.binary({ ...n, lhs: b, rhs: a });
    }
    if (!isNum(b)) return n;
    const c = b.value!;
    const same = a.type!.size === t.size && a.type!.kind !== 'bool' && t.kind !== 'bool';
    switch (n.kind) {
      case 'add': case 'sub':
        if (c === 0n && same) return a;
        // (x + c1) + c2, (x - c1) + c2, ... -> x + c in one type
        if ((a.kind === 'add' || a.kind === 'sub') && isNum(a.rhs) && sameScalar(a.type!, t) && sameScalar(a.rhs!.type!, b.type!)) {
          const inner = a.kind === 'add' ? a.rhs!.value! : -a.rhs!.value!;
          const total = inner + (n.kind === 'add' ? c : -c);
          return this.binary({ ...n, kind: 'add', lhs: a.lhs!, rhs: this.num(total, b.type!, b) });
        }
        return n;
      case 'mul':
        if (c === 1n && same) return a;
        if (c === 0n && !hasSideEffects(a)) return this.num(0n, t, n);
        return n;
      case 'div':
        if (c === 1n && same) return a;
        if ((ot.unsigned || ot.kind === 'ptr') && log2(c) > 0 && isInteger(t)) {
          return { ...n, kind: 'shr', rhs: this.num(BigInt(log2(c)), b.type!, b) };
        }
        return n;
      case 'mod':
        if ((ot.unsigned || ot.kind === 'ptr') && log2(c) >= 0 && isInteger(t)) {
          return this.binary({ ...n, kind: 'bitand', rhs: this.num(c - 1n, b.type!, b) });
        }
        return n;
      case 'bitor': case 'bitxor':
        if (c === 0n && same) return a;
        return n;
      case 'bitand':
        if (c === allOnes && same) return a;
        if (c === 0n && !hasSideEffects(a)) return this.num(0n, t, n);
        return n;
      case 'shl': case 'shr':
        if (c === 0n && same) return a;
        return n;
      default:
        return n;
    }
  }
}
