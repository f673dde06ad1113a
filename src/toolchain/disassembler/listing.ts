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
import { formatInstruction, isPrefixByte, prefixName } from './att.js';
import { hex64 } from './numbers.js';
import { makeSymbolTable } from './symbols.js';
import type { DisassemblySymbol, SymbolTable } from './symbols.js';

export interface DisassembledLine {
  address: number;
  /** The instruction's bytes. */
  bytes: Uint8Array;
  /** AT&T text as objdump prints it ('(bad)' for an invalid encoding). */
  text: string;
  /** The decoder's result; null for a run of prefixes objdump shows on its own line. */
  decoded: Decoded | null;
}

/**
 * objdump ends an "instruction" at a REX prefix that is followed by another prefix
 * (the CPU ignores such a REX) and prints those prefixes on a line of their own.
 * Returns how many bytes at `offset` form such a line, or 0.
 */
function strayPrefixLength(bytes: Uint8Array, offset: number): number {
  for (let i = offset; i + 1 < bytes.length && i - offset < 14 && isPrefixByte(bytes[i]); i++) {
    if (bytes[i] >= 0x40 && bytes[i] <= 0x4f && isPrefixByte(bytes[i + 1])) return i + 1 - offset;
  }
  return 0;
}

/** Decodes and formats the instruction at `offset`. */
function instructionAt(bytes: Uint8Array, offset: number, address: number, table: SymbolTable | undefined): DisassembledLine {
  const stray = strayPrefixLength(bytes, offset);
  if (stray > 0) {
    const run = bytes.subarray(offset, offset + stray);
    return { address, bytes: run, text: Array.from(run, prefixName).join(' '), decoded: null };
  }
  const decoded = decodeBytes(bytes, offset);
  const length = Math.max(1, Math.min(decoded.length, bytes.length - offset));
  const insn = bytes.subarray(offset, offset + length);
  return { address, bytes: insn, text: formatInstruction(decoded, address, table, insn), decoded };
}

/** Decodes and formats every instruction in `bytes`, the first one at `startAddress`. */
export function disassemble(bytes: Uint8Array, startAddress: number, symbols?: readonly DisassemblySymbol[]): DisassembledLine[] {
  const table = symbols ? makeSymbolTable(symbols) : undefined;
  const lines: DisassembledLine[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const line = instructionAt(bytes, offset, startAddress + offset, table);
    lines.push(line);
    offset += line.bytes.length;
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
export function objdumpListing(bytes: Uint8Array, startAddress: number, symbols: readonly DisassemblySymbol[] = [], sectionName = '.text'): string {
  const table: SymbolTable = makeSymbolTable(symbols);
  const end = startAddress + bytes.length;
  const skip = skippedAddressDigits(end);
  const labels = new Map<number, string>();
  for (const s of table) if (s.address >= startAddress && s.address < end && !labels.has(s.address)) labels.set(s.address, s.name);
  const out: string[] = [];
  let offset = 0;
  let first = true;
  while (offset < bytes.length) {
    const address = startAddress + offset;
    const label = labels.get(address);
    if (label !== undefined || first) {
      out.push(`\n${hex64(address).padStart(16, '0')} <${label ?? sectionName}>:\n`);
      first = false;
    }
    const line = instructionAt(bytes, offset, address, table);
    const length = line.bytes.length;
    out.push(`${addressColumn(address, skip)}:\t${byteText(line.bytes.subarray(0, BYTES_PER_LINE)).padEnd(BYTES_PER_LINE * 3)}\t${line.text}\n`);
    for (let k = BYTES_PER_LINE; k < length; k += BYTES_PER_LINE) {
      out.push(`${addressColumn(address + k, skip)}:\t${byteText(line.bytes.subarray(k, k + BYTES_PER_LINE))}\n`);
    }
    offset += length;
  }
  return out.join('');
}
