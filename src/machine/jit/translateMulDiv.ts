// The JIT's translation of the one-operand multiply and divide (mul, imul,
// div, idiv, 32 and 64 bits): rDX:rAX with a register or memory source. The
// product is written inline (inlineMultiply.ts, checked against BigInt by
// test/jitMultiply.test.ts), cheaper than the call; so is the division for
// its common operands (inlineDivide.ts, test/jitDivide.test.ts), the rest
// being the interpreter's own (wideDivide.ts, called through H: jit/helpers.ts).
//
// Division can raise #DE (a zero divisor, a quotient that does not fit). The
// check comes before anything is written, and the piece is marked as one that
// may fault (memory: 'load', whether or not it reads memory), so the
// translation's catch leaves registers, flags, RIP and the count as they were
// before the instruction, as the interpreter's fault does.

import type { Decoded } from '../../isa/decode.js';
import { inlineDivide } from './inlineDivide.js';
import { fullProduct } from './inlineMultiply.js';
import { Ops, type Piece, type Reg } from './pieces.js';

/** The piece for a one-operand mul/imul/div/idiv of 32 or 64 bits, or null. */
export function mulDivPiece(d: Decoded, c: Ops): Piece | null {
  const m = (d.form as NonNullable<Decoded['form']>).mnemonic, size = d.opsize;
  if (d.operands.length !== 1 || (size !== 32 && size !== 64)) return null;
  if (m !== 'mul' && m !== 'imul' && m !== 'div' && m !== 'idiv') return null;
  const src = c.source(d.operands[0], size);
  if (src === null) return null;
  c.reads.push(0, 2);
  const rax: Reg = { type: 'reg', reg: 0, size, high8: false }, rdx: Reg = { ...rax, reg: 2 };
  const wide = size === 64;
  // The source first (it may be rAX or rDX itself).
  const head = `{ ${src.pre} const b = ${src.v[0]}, bH = ${src.v[1]};`;
  if (m === 'mul' || m === 'imul') {
    // As executeArithmetic's mul / imul1: CF = OF = the high half is not the extension of the low (Flags.setMul).
    // The product inline (inlineMultiply.ts: what wideMultiply.ts's mulU32 mulS32 mulU64 mulS64 compute).
    const product = fullProduct('p', m === 'imul', wide ? ['l0', 'h0'] : ['l0'], wide ? ['b', 'bH'] : ['b']);
    const ov = m === 'mul' ? (wide ? '(p2 | p3) !== 0' : 'p1 !== 0')
      : wide ? 'p2 !== x || p3 !== x' : 'p1 !== x';
    const ext = m === 'imul' ? `const x = p${wide ? 1 : 0} >> 31; ` : '';
    const write = wide ? `${c.setReg(rax, 'p0', 'p1')} ${c.setReg(rdx, 'p2', 'p3')}` : `${c.setReg(rax, 'p0', '0')} ${c.setReg(rdx, 'p1', '0')}`;
    return c.piece(`${head} ${product} ${ext}const ov = ${ov}; ${write} /*F*/ }`, { kind: 'mul', size });
  }
  // As executeArithmetic's div / idiv: #DE before anything changes, then rDX:rAX; the flags (divideFlags) where observed.
  // The common operands inline (inlineDivide.ts), the rest through the interpreter's own division.
  const args = (wide ? ['l0', 'h0', 'l2', 'h2', 'b', 'bH'] : ['l0', 'l2', 'b']).join(', ');
  // DIVISION is a Uint32Array: its words as int32.
  const call = `if (!H.${m}${size}(${args})) throw H.divideError(); const D = H.DIVISION; dq0 = D[0] | 0; dq1 = D[1] | 0; dr0 = D[2] | 0; dr1 = D[3] | 0;`;
  const divide = inlineDivide(m === 'idiv', size, ['l0', 'h0'], ['l2', 'h2'], ['b', 'bH'], call);
  const write = wide ? `${c.setReg(rax, 'dq0', 'dq1')} ${c.setReg(rdx, 'dr0', 'dr1')}` : `${c.setReg(rax, 'dq0', '0')} ${c.setReg(rdx, 'dr0', '0')}`;
  c.memory ??= 'load';
  return c.piece(`${head} ${divide} ${write} /*F*/ }`, { kind: 'div', size });
}
