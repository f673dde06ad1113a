// The interpreter's own functions that translated code calls, passed to every
// compiled function as H (compileJit): the wide multiply and divide
// (wideMultiply.ts, wideDivide.ts), the #DE and flag rules of div/idiv, the
// bit scans and counts, and the rotates. The JIT's translations call these instead of carrying a
// second copy of the arithmetic, so both tiers compute the same bits.

import { divideError, divideFlags } from '../executeArithmetic.js';
import { bitScanFlags, countBits, countFlags, highestSetBit, lowestSetBit } from '../executeBits.js';
import { ROTATED, rotateBits, rotateFlags } from '../executeLogic.js';
import { DIVISION, div32, div64, idiv32, idiv64 } from '../wideDivide.js';
import { PRODUCT, mulLow64, mulS32, mulS64, mulU32, mulU64 } from '../wideMultiply.js';

export const JIT_HELPERS = {
  PRODUCT, mulU32, mulS32, mulU64, mulS64, mulLow64,
  DIVISION, div32, div64, idiv32, idiv64, divideError, divideFlags,
  lowestSetBit, highestSetBit, bitScanFlags, countBits, countFlags,
  ROTATED, rotateBits, rotateFlags,
};
