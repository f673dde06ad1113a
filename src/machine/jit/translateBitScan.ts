// The JIT's translation of the bit scans and counts (bsf, bsr, tzcnt, lzcnt,
// popcnt; 32 and 64 bits, register or memory source). The result and the
// flags come from the interpreter's own functions (executeBits.ts, through H:
// jit/helpers.ts), including the choices it makes where the manuals leave
// things undefined (bsf/bsr of 0 leave the destination unchanged; the flags
// of the oracle's host CPU). Their flags are made only where observed, by the
// interpreter's bitScanFlags / countFlags from the saved index or count, after
// the record before them (which they partly keep: FlagKind 'scan', 'tzcnt'...).

import type { Decoded } from '../../isa/decode.js';
import { anyReg, Ops, type Piece } from './pieces.js';

/** The piece for bsf/bsr/tzcnt/lzcnt/popcnt r32/r64, r/m, or null. */
export function bitScanPiece(d: Decoded, c: Ops): Piece | null {
  const m = (d.form as NonNullable<Decoded['form']>).mnemonic, size = d.opsize;
  const [x, y] = d.operands;
  if (d.operands.length !== 2 || !anyReg(x) || (size !== 32 && size !== 64) || x.size !== size || y.type === 'imm') return null;
  const src = m === 'bsf' || m === 'bsr' || m === 'tzcnt' || m === 'lzcnt' || m === 'popcnt' ? c.source(y, size) : null;
  if (src === null) return null;
  if (m === 'bsf' || m === 'bsr') {
    const index = m === 'bsf' ? 'lowestSetBit' : 'highestSetBit';
    return c.piece(`{ ${src.pre} const i = H.${index}(${src.v[0]}, ${src.v[1]}); if (i >= 0) { ${c.setReg(x, 'i', '0')} } /*F*/ }`, { kind: 'scan', size });
  }
  return c.piece(`{ ${src.pre} const n = H.countBits('${m}', ${src.v[0]}, ${src.v[1]}, ${size}); ${c.setReg(x, 'n', '0')} /*F*/ }`, { kind: m as 'tzcnt', size });
}
