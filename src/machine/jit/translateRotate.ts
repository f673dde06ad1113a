// The JIT's translation of rol and ror (32 and 64 bits, a register rotated by
// an immediate or by CL). The rotation and its CF/OF come from the
// interpreter's own functions (executeLogic.ts: rotateBits, rotateFlags,
// through H: jit/helpers.ts). The flags are made only where observed: from
// the saved result (FlagKind 'rol'/'ror'), and by CL from the saved count too
// ('rolCount'/'rorCount': a count of 0 changes no flags; a 32-bit register is
// still zero-extended).

import type { Decoded } from '../../isa/decode.js';
import { hi, isReg, Ops, type Piece } from './pieces.js';

/** The piece for rol/ror r32/r64 by imm8 or CL, or null. */
export function rotatePiece(d: Decoded, c: Ops): Piece | null {
  const m = (d.form as NonNullable<Decoded['form']>).mnemonic, size = d.opsize;
  const [x, y] = d.operands;
  if ((m !== 'rol' && m !== 'ror') || d.operands.length !== 2 || (size !== 32 && size !== 64) || !isReg(x, size)) return null;
  const countMask = size === 64 ? 63 : 31;
  const [L, H] = c.reg(x);
  const left = m === 'rol';
  const rotate = (n: string): string => `H.rotateBits(${L}, ${H}, ${n}, ${size}, ${left}); const RT = H.ROTATED; ${c.setReg(x, 'RT[0] | 0', size === 64 ? 'RT[1] | 0' : '0')}`;
  if (y.type === 'imm') {
    // A fixed nonzero count: the flags (rotateFlags, from the result) only where observed.
    const n = y.lo & countMask;
    if (n === 0) return null;
    return c.piece(`{ ${rotate(String(n))} /*F*/ }`, { kind: m, size });
  }
  if (!isReg(y, 8) || y.reg !== 1) return null;
  // By CL: a count of 0 changes no flags. Lazy (FlagKind 'rolCount'/'rorCount'): the count and the result are
  // saved, and where observed the record before it is made, then rotateFlags's CF and OF if the count was not 0.
  c.reads.push(1);
  const zeroCount = size === 32 ? ` else ${hi(x.reg)} = 0;` : '';
  return c.piece(`{ const n = l1 & ${countMask}; let r0 = 0, r1 = 0; if (n !== 0) { ${rotate('n')} r0 = RT[0] | 0; r1 = RT[1] | 0; }${zeroCount} /*F*/ }`,
    { kind: left ? 'rolCount' : 'rorCount', size });
}
