// Symbols for the kernel's assembly entry stubs, as a small ELF file gdb can
// load with `add-symbol-file FILE`: one allocated .text section over the stubs
// (NOBITS: gdb reads the bytes from the target) and a function symbol for each
// entry point at its linear address. `monitor symbols PATH` writes it.

import { writeExecutable, type ExecutableSymbol } from '../toolchain/elf/executableWriter.js';
import { SHF_ALLOC, SHF_EXECINSTR, SHT_NOBITS, STB_GLOBAL, STT_FUNC } from '../toolchain/elf/elfTypes.js';

/** The ELF bytes naming `points` ([name, signed linear address]). */
export function kernelSymbolFile(points: [string, number][]): Uint8Array {
  if (points.length === 0) throw new Error('kernel symbols: no entry points');
  const sorted = [...points].sort((a, b) => a[1] - b[1]);
  const low = sorted[0][1] - (sorted[0][1] & 0xfff);
  const high = sorted[sorted.length - 1][1] + 16; // past the last stub's first instructions
  const size = high - low;
  const symbols: ExecutableSymbol[] = sorted.map(([name, value], i) => ({
    name, value, size: i + 1 < sorted.length ? sorted[i + 1][1] - value : 16, bind: STB_GLOBAL, type: STT_FUNC, section: 0,
  }));
  return writeExecutable({
    entry: 0,
    segments: [],
    sections: [{ name: '.text', type: SHT_NOBITS, flags: SHF_ALLOC | SHF_EXECINSTR, addr: low, offset: 0x1000, size, align: 16, data: new Uint8Array(0) }],
    symbols,
  });
}
