// Number spelling for the disassembler. Addresses are JS numbers: either plain
// non-negative values or signed canonical linear addresses (negative for the
// upper half); objdump shows them as unsigned 64-bit hexadecimal.

import { symbolFor } from './symbols.js';
import type { SymbolTable } from './symbols.js';

const TWO32 = 0x1_0000_0000;

/** Unsigned 64-bit hexadecimal (no 0x) of an integer in [-2^63, 2^64). */
export function hex64(n: number): string {
  if (n >= 0) return n.toString(16);
  // two's complement of a negative value, split into 32-bit halves
  const hi = Math.floor(n / TWO32);
  const lo = n - hi * TWO32;
  return (hi >>> 0).toString(16) + (lo >>> 0).toString(16).padStart(8, '0');
}

/** Signed hexadecimal: 0x10, -0x10. */
export function signedHex(n: number): string {
  return n < 0 ? '-0x' + (-n).toString(16) : '0x' + n.toString(16);
}

/**
 * A branch target or RIP-relative address as objdump prints it: `401000 <main+0x10>`
 * when a symbol covers it, else `0x401000`.
 */
export function formatTarget(address: number, symbols: SymbolTable | undefined): string {
  const sym = symbols ? symbolFor(symbols, address) : undefined;
  if (!sym) return '0x' + hex64(address);
  const offset = address - sym.address;
  return `${hex64(address)} <${sym.name}${offset === 0 ? '' : '+0x' + hex64(offset)}>`;
}
