// The integer ALU operations the JIT translates, as JavaScript templates over
// int32 halves (pieces.ts: the translations' values are int32). They compute
// what executeFast.ts's alu32/alu64 (the interpreter's specialized execute
// functions) compute, written here as text with integer operations only (the
// 64-bit carry from the top bits of the low halves instead of a double sum);
// test/jitDifferential.test.ts checks the JIT against the interpreter on
// random operands for every operation and size.

import { borrow, carry } from './pieces.js';

export type AluOp = 'add' | 'sub' | 'cmp' | 'and' | 'or' | 'xor' | 'test';
export const ALU_OPS: ReadonlySet<string> = new Set<AluOp>(['add', 'sub', 'cmp', 'and', 'or', 'xor', 'test']);

/**
 * JS statements that compute the result halves `rL`, `rH` of `a op b` (a, aH,
 * b, bH are the operand halves, in scope as constants; 32-bit: high halves 0).
 */
export function aluExpression(op: AluOp, size: 32 | 64, _al: string, _ah: string, _bl: string, _bh: string): { code: string } {
  if (size === 32) {
    switch (op) {
      case 'add': return { code: 'const rL = (a + b) | 0, rH = 0;' };
      case 'sub': case 'cmp': return { code: 'const rL = (a - b) | 0, rH = 0;' };
      case 'and': case 'test': return { code: 'const rL = (a & b) | 0, rH = 0;' };
      case 'or': return { code: 'const rL = (a | b) | 0, rH = 0;' };
      default: return { code: 'const rL = (a ^ b) | 0, rH = 0;' };
    }
  }
  switch (op) {
    // The carry (borrow) out of the low half from the top bits of the operands and the result (pieces.ts),
    // not from the double sum: every value stays a 32-bit integer, which V8 keeps in integer registers
    // (a double sum costs conversions).
    case 'add': return { code: `const rL = (a + b) | 0, rH = (aH + bH + ${carry('a', 'b', 'rL')}) | 0;` };
    case 'sub': case 'cmp': return { code: `const rL = (a - b) | 0, rH = (aH - bH - ${borrow('a', 'b', 'rL')}) | 0;` };
    case 'and': case 'test': return { code: 'const rL = a & b, rH = aH & bH;' };
    case 'or': return { code: 'const rL = a | b, rH = aH | bH;' };
    default: return { code: 'const rL = a ^ b, rH = aH ^ bH;' };
  }
}
