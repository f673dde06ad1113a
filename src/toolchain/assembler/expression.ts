// Symbol expressions: parsing tokens into a tree and evaluating the tree.
//
// Operator precedence is GNU as's, which differs from C: `* / % << >>` bind
// tightest, then `| & ^ !`, then `+ -` and the comparisons, then `&& ||`.
// A value is a constant plus at most one symbol minus at most one symbol; a
// relocation can express "symbol + constant" and "symbol - here + constant".

import { Token } from './lexer.js';

export type Expr =
  | { kind: 'number'; value: bigint; column: number }
  | { kind: 'symbol'; name: string; column: number }
  | { kind: 'unary'; op: string; arg: Expr; column: number }
  | { kind: 'binary'; op: string; left: Expr; right: Expr; column: number };

export class ExpressionError extends Error {
  constructor(readonly column: number, message: string) {
    super(message);
  }
}

/** Hooks the parser needs from the assembler: local labels and `.`. */
export interface ExpressionContext {
  /** Symbol name for the local label reference `1f` / `1b`. */
  localLabel(label: bigint, direction: 'f' | 'b', column: number): string;
  /** Symbol name standing for the current location `.`. */
  dot(): string;
}

const LEVELS: string[][] = [
  ['||', '&&'],
  ['+', '-', '==', '!=', '<>', '<', '>', '<=', '>='],
  ['|', '&', '^', '!'],
  ['*', '/', '%', '<<', '>>'],
];

/** Parses an expression from tokens[pos...]; returns the tree and the index after it. */
export function parseExpression(tokens: Token[], pos: number, context: ExpressionContext): { expr: Expr; next: number } {
  let i = pos;
  const peek = () => tokens[i];
  const endColumn = () => (tokens.length ? tokens[tokens.length - 1].column + tokens[tokens.length - 1].text.length : 0);

  function primary(): Expr {
    const t = peek();
    if (!t) throw new ExpressionError(endColumn(), 'expected an expression');
    if (t.type === 'number') {
      i++;
      return { kind: 'number', value: t.value, column: t.column };
    }
    if (t.type === 'localref') {
      i++;
      return { kind: 'symbol', name: context.localLabel(t.value, t.direction!, t.column), column: t.column };
    }
    if (t.type === 'ident') {
      i++;
      if (t.text === '.') return { kind: 'symbol', name: context.dot(), column: t.column };
      const at = t.text.indexOf('@');
      if (at > 0) {
        // foo@PLT is what a call to foo gets anyway (R_X86_64_PLT32); no GOT or TLS here
        const suffix = t.text.slice(at + 1);
        if (suffix !== 'PLT') throw new ExpressionError(t.column + at, `relocation operator '@${suffix}' is not supported (compile with -fno-pic)`);
        return { kind: 'symbol', name: t.text.slice(0, at), column: t.column };
      }
      return { kind: 'symbol', name: t.text, column: t.column };
    }
    if (t.type === 'punct' && (t.text === '-' || t.text === '~' || t.text === '!' || t.text === '+')) {
      i++;
      const arg = primary();
      return t.text === '+' ? arg : { kind: 'unary', op: t.text, arg, column: t.column };
    }
    if (t.type === 'punct' && t.text === '(') {
      i++;
      const inner = binary(0);
      const close = peek();
      if (!close || close.text !== ')') throw new ExpressionError(close ? close.column : endColumn(), "expected ')'");
      i++;
      return inner;
    }
    throw new ExpressionError(t.column, `expected an expression, found '${t.text}'`);
  }

  function binary(level: number): Expr {
    if (level === LEVELS.length) return primary();
    let left = binary(level + 1);
    for (;;) {
      const t = peek();
      if (!t || t.type !== 'punct' || !LEVELS[level].includes(t.text)) return left;
      i++;
      const right = binary(level + 1);
      left = { kind: 'binary', op: t.text, left, right, column: t.column };
    }
  }

  const expr = binary(0);
  return { expr, next: i };
}

/** The value of an expression: constant + plus - minus (symbols by name). */
export interface Value {
  constant: bigint;
  plus?: string;
  minus?: string;
}

/** What evaluation needs to know about symbols. */
export interface SymbolResolver {
  /** A constant symbol's value ({constant}), or {constant: 0, plus: name} for a label or undefined symbol. */
  lookup(name: string, column: number): Value;
  /** a - b if both are labels whose distance is known (same section, final layout), else null. */
  difference(a: string, b: string): bigint | null;
}

function isConstant(v: Value): boolean {
  return v.plus === undefined && v.minus === undefined;
}

function truth(b: boolean): bigint {
  return b ? -1n : 0n; // GNU as: comparisons yield -1 for true
}

/** Evaluates an expression; throws ExpressionError for operations a relocation cannot express. */
export function evaluate(expr: Expr, symbols: SymbolResolver): Value {
  switch (expr.kind) {
    case 'number':
      return { constant: expr.value };
    case 'symbol':
      return symbols.lookup(expr.name, expr.column);
    case 'unary': {
      const a = evaluate(expr.arg, symbols);
      if (!isConstant(a)) throw new ExpressionError(expr.column, `operator '${expr.op}' needs a constant operand`);
      if (expr.op === '-') return { constant: -a.constant };
      if (expr.op === '~') return { constant: ~a.constant };
      return { constant: a.constant === 0n ? 1n : 0n };
    }
    case 'binary': {
      const a = evaluate(expr.left, symbols);
      const b = evaluate(expr.right, symbols);
      if (expr.op === '+') return add(a, b, expr.column, symbols);
      if (expr.op === '-') {
        return add(a, { constant: -b.constant, plus: b.minus, minus: b.plus }, expr.column, symbols);
      }
      if (!isConstant(a) || !isConstant(b)) {
        throw new ExpressionError(expr.column, `operator '${expr.op}' needs constant operands`);
      }
      const x = a.constant;
      const y = b.constant;
      switch (expr.op) {
        case '*': return { constant: x * y };
        case '/':
        case '%':
          if (y === 0n) throw new ExpressionError(expr.column, 'division by zero');
          return { constant: expr.op === '/' ? x / y : x % y };
        case '<<': return { constant: BigInt.asIntN(64, x << (y & 63n)) };
        case '>>': return { constant: BigInt.asIntN(64, x) >> (y & 63n) };
        case '|': return { constant: x | y };
        case '&': return { constant: x & y };
        case '^': return { constant: x ^ y };
        case '!': return { constant: x | ~y };
        case '==': return { constant: truth(x === y) };
        case '!=': case '<>': return { constant: truth(x !== y) };
        case '<': return { constant: truth(x < y) };
        case '>': return { constant: truth(x > y) };
        case '<=': return { constant: truth(x <= y) };
        case '>=': return { constant: truth(x >= y) };
        case '&&': return { constant: x !== 0n && y !== 0n ? 1n : 0n };
        case '||': return { constant: x !== 0n || y !== 0n ? 1n : 0n };
      }
      throw new ExpressionError(expr.column, `unknown operator '${expr.op}'`);
    }
  }
}

function add(a: Value, b: Value, column: number, symbols: SymbolResolver): Value {
  const plus = [a.plus, b.plus].filter((s): s is string => s !== undefined);
  const minus = [a.minus, b.minus].filter((s): s is string => s !== undefined);
  let constant = a.constant + b.constant;
  // cancel label pairs whose distance is known
  for (let p = plus.length - 1; p >= 0; p--) {
    for (let m = minus.length - 1; m >= 0; m--) {
      const d = plus[p] === minus[m] ? 0n : symbols.difference(plus[p], minus[m]);
      if (d !== null) {
        constant += d;
        plus.splice(p, 1);
        minus.splice(m, 1);
        break;
      }
    }
  }
  if (plus.length > 1 || minus.length > 1) throw new ExpressionError(column, 'expression is too complex for a relocation');
  return { constant, plus: plus[0], minus: minus[0] };
}
