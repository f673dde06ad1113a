// The disassembler: decoded instructions as GNU objdump -d prints them (AT&T syntax).

export { formatInstruction } from './att.js';
export { disassemble, objdumpListing } from './listing.js';
export type { DisassembledLine } from './listing.js';
export { makeSymbolTable, symbolFor } from './symbols.js';
export type { DisassemblySymbol, SymbolTable } from './symbols.js';
export { hex64, signedHex } from './numbers.js';
