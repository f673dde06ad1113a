// Arguments of the interpreter's helpers (H: helpers.ts) as int32. Guest
// values live in the translations as uint32 halves; V8 passes a call's
// argument of 2^31 or more as a newly allocated heap number (a small integer
// is a 32-bit signed one), so a helper that V8 does not inline into a
// translation would allocate up to one number per half per call — the
// garbage collector's work on the bench came mostly from these. The helpers
// called with int32() arguments take either form (they use only the bits, or
// make them uint32 first: wideMultiply.ts, wideDivide.ts, executeBits.ts,
// executeLogic.ts's rotates).

/** The JS expression `v` (a uint32) as the int32 with the same bits. */
export function int32(v: string): string {
  return /^\d+$/.test(v) && Number(v) < 2 ** 31 ? v : `${v} | 0`;
}
