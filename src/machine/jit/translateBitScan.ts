// The JIT's translation of the bit scans and counts (bsf, bsr, tzcnt, lzcnt,
// popcnt; 32 and 64 bits, register or memory source). The result and the
// flags come from the interpreter's own functions (executeBits.ts, through H:
// jit/helpers.ts), including the choices it makes where the manuals leave
// things undefined (bsf/bsr of 0 leave the destination unchanged; the flags
// of the oracle's host CPU). The flags are made at the instruction (eager: the
// record before it made up to date first, at the marker S), as the
// interpreter's functions start from materialized flags.

import type { Decoded } from '../../isa/decode.js';
import { anyReg, Ops, type Piece } from './pieces.js';

/** The piece for bsf/bsr/tzcnt/lzcnt/popcnt r32/r64, r/m, or null. */
export function bitScanPiece(d: Decoded, c: Ops): Piece | null {
  const m = (d.form as NonNullable<Decoded['form']>).mnemonic, size = d.opsize;
  const [x, y] = d.operands;
  if (d.operands.length !== 2 || !anyReg(x) || (size !== 32 && size !== 64) || x.size !== size || y.type === 'imm') return null;
  let code: string;
  if (m === 'bsf' || m === 'bsr') {
    const src = c.source(y, size);
    if (src === null) return null;
    const index = m === 'bsf' ? 'lowestSetBit' : 'highestSetBit';
    code = `const i = H.${index}(b, bH); /*S*/ H.bitScanFlags(F, i); if (i >= 0) { ${c.setReg(x, 'i', '0')} }`;
    code = `${src.pre} const b = ${src.v[0]}, bH = ${src.v[1]}; ${code}`;
  } else if (m === 'tzcnt' || m === 'lzcnt' || m === 'popcnt') {
    const src = c.source(y, size);
    if (src === null) return null;
    code = `${src.pre} const n = H.countBits('${m}', ${src.v[0]}, ${src.v[1]}, ${size}); /*S*/ H.countFlags(F, '${m}', n, ${size}); ${c.setReg(x, 'n', '0')}`;
  } else return null;
  return { ...c.piece(`{ ${code} }`), eager: true };
}
