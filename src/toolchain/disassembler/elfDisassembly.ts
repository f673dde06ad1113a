// `objdump -d` for an ELF64 file: every executable section, labelled with the
// file's symbols, in objdump's layout.

import { ET_REL, ElfError, SHF_EXECINSTR, SHN_LORESERVE, SHN_UNDEF, SHT_PROGBITS, STB_LOCAL, STT_FILE, STT_FUNC, STT_OBJECT, STT_SECTION } from '../elf/elfTypes.js';
import type { ElfFile, ElfSymbol } from '../elf/elfTypes.js';
import { readElf, sectionData } from '../elf/reader.js';
import { objdumpListing } from './listing.js';
import type { DisassemblySymbol } from './symbols.js';

export { ElfError };

/**
 * Symbols objdump uses to name addresses: no file, section or undefined symbols.
 * Where several share an address, objdump names it after a function or object
 * before a plain label, and a global before a local; the order here encodes that.
 */
function namingSymbols(symbols: readonly ElfSymbol[], keep: (s: ElfSymbol) => boolean): DisassemblySymbol[] {
  const rank = (s: ElfSymbol) => (s.type === STT_FUNC || s.type === STT_OBJECT ? 0 : 2) + (s.bind === STB_LOCAL ? 1 : 0);
  return symbols
    .filter((s) => s.index !== 0 && s.name !== '' && s.shndx !== SHN_UNDEF && s.shndx < SHN_LORESERVE && s.type !== STT_FILE && s.type !== STT_SECTION && keep(s))
    .map((s, order) => ({ s, order }))
    .sort((a, b) => rank(a.s) - rank(b.s) || a.order - b.order)
    .map(({ s }) => ({ name: s.name, address: s.value }));
}

/** The full `objdump -d` text for an ELF file held in `bytes`; `path` is the name printed in the header. */
export function objdumpElf(bytes: Uint8Array, path: string): string {
  const elf: ElfFile = readElf(bytes, path);
  // In an object file symbol values are offsets into their own section, so each
  // section is labelled with its own symbols only; an executable's are addresses.
  const relocatable = elf.header.type === ET_REL;
  const allSymbols = namingSymbols(elf.symbols, () => true);
  let out = `\n${path}:     file format elf64-x86-64\n\n`;
  for (const section of elf.sections) {
    if (section.type !== SHT_PROGBITS || (section.flags & SHF_EXECINSTR) === 0 || section.size === 0) continue;
    const symbols = relocatable ? namingSymbols(elf.symbols, (s) => s.shndx === section.index) : allSymbols;
    out += `\nDisassembly of section ${section.name}:\n`;
    out += objdumpListing(sectionData(elf, section), section.addr, symbols, section.name);
  }
  return out;
}
