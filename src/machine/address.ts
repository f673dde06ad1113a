// Linear addresses as JS numbers.
//
// x86-64 linear addresses are 64 bits wide, but only "canonical" ones are
// legal: bits 63..47 must all equal bit 47. xk holds a canonical address in a
// JS number in SIGNED form (sign-extended from bit 47), so it lies in
// [-2^47, 2^47) and is exact in a double. 0xffff800000000000 is -2^47.

const TWO_32 = 0x100000000;

/** Is the 64-bit value hi:lo canonical (bits 63..47 all equal)? */
export function isCanonical(lo: number, hi: number): boolean {
  const top = hi >> 15; // bits 63..47 as a signed 17-bit value: 0 or -1 when canonical
  return top === 0 || top === -1;
}

/** The signed linear number for canonical hi:lo (the caller checked isCanonical). */
export function toSignedLinear(lo: number, hi: number): number {
  return (hi | 0) * TWO_32 + (lo >>> 0);
}

/** Low 32 bits of a signed linear address. */
export function linearLo(n: number): number {
  return n >>> 0;
}

/** High 32 bits of a signed linear address (sign-extended into bits 63..32). */
export function linearHi(n: number): number {
  return Math.floor(n / TWO_32) >>> 0;
}

/** Hex text of a signed linear address as the unsigned 64-bit value (display only). */
export function formatAddress(n: number): string {
  const v = BigInt.asUintN(64, BigInt(n));
  return '0x' + v.toString(16).padStart(16, '0');
}
