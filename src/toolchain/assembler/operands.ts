// AT&T operands: %register, $immediate, memory `seg:disp(base,index,scale)`,
// and `*operand` for indirect jumps and calls.

import { REG64, REG32, REG16, REG8_REX, REG8_LEGACY, SEGMENT_REGS, CONTROL_REGS, DEBUG_REGS } from '../../isa/registers.js';
import { Token } from './lexer.js';
import { Expr, ExpressionContext, ExpressionError, parseExpression } from './expression.js';

export interface Register {
  name: string;
  kind: 'general' | 'segment' | 'control' | 'debug' | 'rip';
  /** Hardware number 0..15 (REX bit 3 included). */
  num: number;
  size: 8 | 16 | 32 | 64;
  /** spl, bpl, sil, dil and r8b..r15b need a REX prefix. */
  needsRex: boolean;
  /** ah, ch, dh, bh cannot be encoded when a REX prefix is present. */
  highByte: boolean;
}

const REGISTERS = new Map<string, Register>();
function define(name: string, kind: Register['kind'], num: number, size: Register['size'], needsRex = false, highByte = false) {
  REGISTERS.set(name, { name, kind, num, size, needsRex, highByte });
}
REG64.forEach((n, i) => define(n, 'general', i, 64));
REG32.forEach((n, i) => define(n, 'general', i, 32));
REG16.forEach((n, i) => define(n, 'general', i, 16));
REG8_REX.forEach((n, i) => define(n, 'general', i, 8, i >= 4));
REG8_LEGACY.forEach((n, i) => { if (i >= 4) define(n, 'general', i, 8, false, true); });
['r8l', 'r9l', 'r10l', 'r11l', 'r12l', 'r13l', 'r14l', 'r15l'].forEach((n, i) => define(n, 'general', i + 8, 8, true));
SEGMENT_REGS.forEach((n, i) => define(n, 'segment', i, 16));
CONTROL_REGS.forEach((n, i) => define(n, 'control', i, 64));
DEBUG_REGS.forEach((n, i) => { define(n, 'debug', i, 64); define(n.replace('db', 'dr'), 'debug', i, 64); });
define('rip', 'rip', 0, 64);

export function findRegister(name: string): Register | undefined {
  return REGISTERS.get(name);
}

export type AsmOperand =
  | { kind: 'register'; reg: Register; indirect: boolean; column: number }
  | { kind: 'immediate'; expr: Expr; indirect: false; column: number }
  | { kind: 'memory'; segment?: Register; disp?: Expr; base?: Register; index?: Register; scale: 1 | 2 | 4 | 8; indirect: boolean; column: number };

export class OperandError extends Error {
  constructor(readonly column: number, message: string) {
    super(message);
  }
}

function register(t: Token): Register {
  const reg = REGISTERS.get(t.text);
  if (!reg && /^([xyz]mm\d+|mm[0-7]|st)$/.test(t.text)) {
    throw new OperandError(t.column, `'%${t.text}' is an SSE/MMX/x87 register, which xk does not have (compile with -mno-sse -mno-mmx -mno-80387)`);
  }
  if (!reg) throw new OperandError(t.column, `bad register name '%${t.text}'`);
  return reg;
}

/** Index of the '(' matching the ')' at tokens[close], or -1. */
function matchingOpen(tokens: Token[], close: number): number {
  let depth = 0;
  for (let i = close; i >= 0; i--) {
    if (tokens[i].text === ')' && tokens[i].type === 'punct') depth++;
    else if (tokens[i].text === '(' && tokens[i].type === 'punct') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** Parses one operand (the tokens between commas). */
export function parseOperand(tokens: Token[], context: ExpressionContext): AsmOperand {
  if (tokens.length === 0) throw new OperandError(0, 'missing operand');
  const column = tokens[0].column;
  let depth = 0;
  for (const t of tokens) {
    if (t.type === 'punct' && t.text === '(') depth++;
    if (t.type === 'punct' && t.text === ')' && --depth < 0) break;
  }
  if (depth !== 0) throw new OperandError(column, 'unbalanced parentheses in operand');
  let i = 0;
  let indirect = false;
  if (tokens[0].type === 'punct' && tokens[0].text === '*') {
    indirect = true;
    i++;
  }
  if (tokens[i]?.type === 'punct' && tokens[i].text === '$') {
    if (indirect) throw new OperandError(column, "'*' cannot apply to an immediate");
    const { expr, next } = parseExpression(tokens, i + 1, context);
    if (next !== tokens.length) throw new OperandError(tokens[next].column, `junk '${tokens[next].text}' after immediate`);
    return { kind: 'immediate', expr, indirect: false, column };
  }
  let segment: Register | undefined;
  if (tokens[i]?.type === 'register') {
    const reg = register(tokens[i]);
    if (i + 1 === tokens.length) {
      if (reg.kind === 'rip') throw new OperandError(tokens[i].column, "'%rip' can only be a base register");
      return { kind: 'register', reg, indirect, column };
    }
    if (reg.kind === 'segment' && tokens[i + 1].text === ':') {
      segment = reg;
      i += 2;
    } else {
      throw new OperandError(tokens[i + 1].column, `junk '${tokens[i + 1].text}' after register`);
    }
  }
  // memory: [disp] [ '(' [base] [, index [, scale]] ')' ]
  let end = tokens.length;
  let base: Register | undefined;
  let index: Register | undefined;
  let scale: 1 | 2 | 4 | 8 = 1;
  const last = tokens[end - 1];
  if (last && last.type === 'punct' && last.text === ')' && end - 1 >= i) {
    const open = matchingOpen(tokens, end - 1);
    const inner = tokens.slice(open + 1, end - 1);
    const isAddress = open >= i && (inner.length === 0 || inner[0].type === 'register' || inner[0].text === ',');
    if (isAddress) {
      let k = 0;
      if (inner[k]?.type === 'register') base = register(inner[k++]);
      if (k < inner.length) {
        if (inner[k].text !== ',') throw new OperandError(inner[k].column, `expected ',' in address, found '${inner[k].text}'`);
        k++;
        if (inner[k]?.type === 'register') index = register(inner[k++]);
        if (k < inner.length) {
          if (inner[k].text !== ',') throw new OperandError(inner[k].column, `expected ',' in address, found '${inner[k].text}'`);
          k++;
          const s = inner[k];
          if (!s || s.type !== 'number' || ![1n, 2n, 4n, 8n].includes(s.value) || k + 1 !== inner.length) {
            throw new OperandError(s ? s.column : last.column, 'scale factor must be 1, 2, 4 or 8');
          }
          scale = Number(s.value) as 1 | 2 | 4 | 8;
        }
      }
      if (base && base.kind !== 'general' && base.kind !== 'rip') throw new OperandError(column, `'%${base.name}' is not a valid base register`);
      if (base && base.kind === 'general' && base.size < 32) throw new OperandError(column, `'%${base.name}' is not a valid base register`);
      if (index && (index.kind !== 'general' || index.size < 32)) throw new OperandError(column, `'%${index.name}' is not a valid index register`);
      if (index && index.num === 4 && index.size >= 32) throw new OperandError(column, `'%${index.name}' is not a valid index register`);
      if (base?.kind === 'rip' && index) throw new OperandError(column, "'%rip' cannot be used with an index register");
      if (base && index && base.kind === 'general' && base.size !== index.size) throw new OperandError(column, 'base and index registers differ in size');
      end = open;
    }
  }
  let disp: Expr | undefined;
  if (end > i) {
    try {
      const { expr, next } = parseExpression(tokens.slice(0, end), i, context);
      if (next !== end) throw new OperandError(tokens[next].column, `junk '${tokens[next].text}' in operand`);
      disp = expr;
    } catch (e) {
      if (e instanceof ExpressionError) throw new OperandError(e.column, e.message);
      throw e;
    }
  }
  if (!disp && !base && !index) throw new OperandError(column, 'missing address in memory operand');
  return { kind: 'memory', segment, disp, base, index, scale, indirect, column };
}
