// Disassembling a run of bytes, and the objdump -d listing layout:
//
//   0000000000401000 <main>:
//     401000:	48 83 ec 08          	sub    $0x8,%rsp
//
// The address column drops the leading zeros all addresses of the section share
// (in groups of four hex digits); the byte column holds 7 bytes, and longer
// instructions continue on a second line with only the address and bytes.

import { decodeBytes } from '../../isa/decode.js';
import type { Decoded } from '../../isa/decode.js';
import { formatInstruction } from './att.js';
import { hex64 } from './numbers.js';
import { makeSymbolTable } from './symbols.js';
import type { DisassemblySymbol, SymbolTable } from './symbols.js';

export interface DisassembledLine {
  address: number;
  /** The instruction's bytes. */
  bytes: Uint8Array;
  /** AT&T text as objdump prints it ('(bad)' for an invalid encoding). */
  text: string;
  decoded: Decoded;
}

/** Decodes and formats every instruction in `bytes`, the first one at `startAddress`. */
export function disassemble(bytes: Uint8Array, startAddress: number, symbols?: readonly DisassemblySymbol[]): DisassembledLine[] {
  const table = symbols ? makeSymbolTable(symbols) : undefined;
  const lines: DisassembledLine[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const decoded = decodeBytes(bytes, offset);
    const length = Math.max(1, Math.min(decoded.length, bytes.length - offset));
    const address = startAddress + offset;
    lines.push({ address, bytes: bytes.subarray(offset, offset + length), text: formatInstruction(decoded, address, table), decoded });
    offset += length;
  }
  return lines;
}

const BYTES_PER_LINE = 7;

/** How many leading hex digits of 16 objdump drops from every address of a section ending at `end`. */
function skippedAddressDigits(end: number): number {
  const digits = hex64(end).padStart(16, '0');
  let zeros = 0;
  while (zeros < 16 && digits[zeros] === '0') zeros++;
  return zeros >= 4 ? (zeros - 1) & ~3 : 0;
}

function addressColumn(address: number, skip: number): string {
  const digits = hex64(address).padStart(16, '0').slice(skip);
  let i = 0;
  while (i < digits.length - 1 && digits[i] === '0') i++;
  return ' '.repeat(i) + digits.slice(i);
}

function byteText(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0') + ' ';
  return s;
}

/**
 * The body of `objdump -d` for one section: symbol headings and instruction lines,
 * each line ending in '\n'. `symbols` label the code (and name branch targets).
 */
export function objdumpListing(bytes: Uint8Array, startAddress: number, symbols: readonly DisassemblySymbol[] = []): string {
  const table: SymbolTable = makeSymbolTable(symbols);
  const skip = skippedAddressDigits(startAddress + bytes.length);
  const labels = new Map<number, string>();
  for (const s of table) if (!labels.has(s.address)) labels.set(s.address, s.name);
  const out: string[] = [];
  let offset = 0;
  let first = true;
  while (offset < bytes.length) {
    const address = startAddress + offset;
    const label = labels.get(address);
    if (label !== undefined || first) {
      out.push(`\n${hex64(address).padStart(16, '0')} <${label ?? section(table, address)}>:\n`);
      first = false;
    }
    const decoded = decodeBytes(bytes, offset);
    const length = Math.max(1, Math.min(decoded.length, bytes.length - offset));
    const insn = bytes.subarray(offset, offset + length);
    const text = formatInstruction(decoded, address, table);
    out.push(`${addressColumn(address, skip)}:\t${byteText(insn.subarray(0, BYTES_PER_LINE)).padEnd(BYTES_PER_LINE * 3)}\t${text}\n`);
    for (let k = BYTES_PER_LINE; k < length; k += BYTES_PER_LINE) {
      out.push(`${addressColumn(address + k, skip)}:\t${byteText(insn.subarray(k, k + BYTES_PER_LINE))}\n`);
    }
    offset += length;
  }
  return out.join('');
}

/** Heading for code before the first symbol: objdump names the nearest symbol before it, if any. */
function section(table: SymbolTable, address: number): string {
  let best: DisassemblySymbol | undefined;
  for (const s of table) if (s.address <= address) best = s;
  return best ? `${best.name}+0x${(address - best.address).toString(16)}` : '.text';
}
