// The JIT's translation of rol and ror (32 and 64 bits, a register rotated by
// an immediate or by CL). The rotation and its CF/OF come from the
// interpreter's own functions (executeLogic.ts: rotateBits, rotateFlags,
// through H: jit/helpers.ts). The flags are made at the instruction (eager:
// the marker S first makes the record before it up to date); a count of 0
// changes no flags, and a 32-bit register is still zero-extended.

import type { Decoded } from '../../isa/decode.js';
import { hi, isReg, Ops, type Piece } from './pieces.js';

/** The piece for rol/ror r32/r64 by imm8 or CL, or null. */
export function rotatePiece(d: Decoded, c: Ops): Piece | null {
  const m = (d.form as NonNullable<Decoded['form']>).mnemonic, size = d.opsize;
  const [x, y] = d.operands;
  if ((m !== 'rol' && m !== 'ror') || d.operands.length !== 2 || (size !== 32 && size !== 64) || !isReg(x, size)) return null;
  const countMask = size === 64 ? 63 : 31;
  let count: string;
  if (y.type === 'imm') {
    if ((y.lo & countMask) === 0) return null;
    count = String(y.lo & countMask);
  } else if (isReg(y, 8) && y.reg === 1) {
    c.reads.push(1);
    count = `l1 & ${countMask}`;
  } else return null;
  const [L, H] = c.reg(x);
  const left = m === 'rol';
  const rotate = `H.rotateBits(${L}, ${H}, n, ${size}, ${left}); const R = H.ROTATED; ${c.setReg(x, 'R[0]', size === 64 ? 'R[1]' : '0')} ` +
    `H.rotateFlags(F, R[0], R[1], ${size}, ${left});`;
  const zeroCount = size === 32 ? ` else ${hi(x.reg)} = 0;` : '';
  return { ...c.piece(`{ /*S*/ const n = ${count}; if (n !== 0) { ${rotate} }${zeroCount} }`), eager: true };
}
