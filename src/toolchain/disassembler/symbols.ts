// Symbols for the disassembler: names printed as <name+0xoffset> after addresses.

export interface DisassemblySymbol {
  name: string;
  /** Address (same representation as the disassembly addresses). */
  address: number;
}

/** Symbols sorted by address (build with makeSymbolTable). */
export type SymbolTable = readonly DisassemblySymbol[];

/**
 * Orders addresses as unsigned 64-bit values, as objdump does: a negative number
 * (a signed canonical upper-half address) is above every non-negative one.
 */
export function compareAddresses(a: number, b: number): number {
  if ((a < 0) !== (b < 0)) return a < 0 ? 1 : -1;
  return a - b;
}

/** Sorts symbols by address; among equal addresses the first one given wins. */
export function makeSymbolTable(symbols: readonly DisassemblySymbol[]): SymbolTable {
  return symbols.map((s, i) => ({ s, i }))
    .sort((a, b) => compareAddresses(a.s.address, b.s.address) || a.i - b.i)
    .map((x) => x.s);
}

/** The symbol with the greatest address <= `address`, or undefined. */
export function symbolFor(table: SymbolTable, address: number): DisassemblySymbol | undefined {
  let lo = 0, hi = table.length - 1, found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (compareAddresses(table[mid].address, address) <= 0) { found = mid; lo = mid + 1; } else hi = mid - 1;
  }
  if (found < 0) return undefined;
  // the first of several symbols at the same address
  while (found > 0 && table[found - 1].address === table[found].address) found--;
  return table[found];
}
