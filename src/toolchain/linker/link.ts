// The static linker: relocatable objects in, one executable out.
//
//   1. read the objects and choose the sections that are part of the program (inputs.ts)
//   2. resolve global symbols across objects (symbols.ts)
//   3. decide the GOT slots, then place every section in memory and in the file (layout.ts)
//   4. give every symbol its final address and patch the relocations (relocate.ts)
//   5. write the ELF executable with a symbol table for objdump and gdb (elf/executableWriter.ts)

import {
  SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHT_NOBITS, SHT_PROGBITS, STB_GLOBAL, STB_LOCAL, STB_WEAK, STT_FILE,
} from '../elf/elfTypes.js';
import type { ExecutableSection, ExecutableSymbol } from '../elf/executableWriter.js';
import { writeExecutable } from '../elf/executableWriter.js';
import { LinkError, OUTPUT_ORDER, readInputs } from './inputs.js';
import type { OutputName } from './inputs.js';
import { layOut } from './layout.js';
import type { Layout } from './layout.js';
import { linkerMap } from './linkerMap.js';
import type { MapSymbol } from './linkerMap.js';
import { applyRelocations, planGot } from './relocate.js';
import { commonSymbols, defineLinkerSymbols, isListedLocal, resolveSymbols, symbolValue } from './symbols.js';

export { LinkError } from './inputs.js';

export interface LinkOptions {
  /** Entry symbol (or a number as text, e.g. "0x401000"); default `_start`. */
  entry?: string;
  /** Address of .text (-Ttext); default 0x401000, with the headers loaded at 0x400000. */
  textAddress?: number;
}

export interface LinkResult {
  executable: Uint8Array;
  /** The linker map as text. */
  map: string;
  entry: number;
}

/** Links relocatable objects into a static x86-64 executable. Throws LinkError. */
export function link(objects: { name: string; bytes: Uint8Array }[], options: LinkOptions = {}): Uint8Array {
  return linkWithMap(objects, options).executable;
}

const SECTION_FLAGS: Record<OutputName, number> = {
  '.text': SHF_ALLOC | SHF_EXECINSTR,
  '.rodata': SHF_ALLOC,
  '.got': SHF_ALLOC | SHF_WRITE,
  '.data': SHF_ALLOC | SHF_WRITE,
  '.bss': SHF_ALLOC | SHF_WRITE,
};

function linkerSymbolAddress(name: string, layout: Layout): number {
  switch (name) {
    case 'etext': case '_etext': case '__etext': return layout.textEnd;
    case 'edata': case '_edata': return layout.dataEnd;
    case '__bss_start': return layout.bssStart;
    default: return layout.imageEnd; // end, _end
  }
}

export function linkWithMap(objects: { name: string; bytes: Uint8Array }[], options: LinkOptions = {}): LinkResult {
  if (objects.length === 0) throw new LinkError('no input files');
  if (options.textAddress !== undefined) {
    const t = options.textAddress;
    if (!Number.isSafeInteger(t) || t < 0 || t >= 2 ** 47) throw new LinkError(`text address ${t} is not a usable user address`);
  }
  const inputs = readInputs(objects);
  const globals = resolveSymbols(inputs);
  defineLinkerSymbols(globals);
  const commons = commonSymbols(globals);
  const got = planGot(inputs, globals);
  const layout = layOut(inputs, commons, got.size, options.textAddress);

  // Final values of the global symbols.
  for (const g of globals.values()) {
    const d = g.definition;
    if (d === undefined) g.address = 0;
    else if (d.kind === 'section') g.address = d.input === undefined ? 0 : d.input.address + d.symbol.value;
    else if (d.kind === 'abs') g.address = d.symbol.value;
    else if (d.kind === 'linker') g.address = linkerSymbolAddress(g.name, layout);
    // COMMON symbols got their addresses from the layout.
  }

  applyRelocations(inputs, globals, layout, got);

  const entryName = options.entry ?? '_start';
  const entrySymbol = globals.get(entryName);
  let entry: number;
  if (entrySymbol?.definition !== undefined) {
    entry = entrySymbol.address;
  } else if (/^(0x[0-9a-f]+|[0-9]+)$/i.test(entryName)) {
    entry = Number(entryName);
  } else {
    throw new LinkError(`entry symbol '${entryName}' is not defined`);
  }

  // Sections of the executable: .text always, the others when not empty.
  const kept = OUTPUT_ORDER.filter((name) => name === '.text' || layout.sections.get(name)!.size > 0);
  const sectionIndex = new Map<OutputName, number>(kept.map((name, i) => [name, i]));
  const sections: ExecutableSection[] = kept.map((name) => {
    const out = layout.sections.get(name)!;
    return {
      name, type: name === '.bss' ? SHT_NOBITS : SHT_PROGBITS, flags: SECTION_FLAGS[name],
      addr: out.address, offset: out.fileOffset, size: out.size, align: out.align, data: out.data,
    };
  });

  // Symbol table: each object's file name and local symbols, then the globals.
  const symbols: ExecutableSymbol[] = [];
  const mapSymbols: MapSymbol[] = [];
  for (const object of inputs) {
    for (const sym of object.elf.symbols) {
      if (sym.type === STT_FILE && sym.bind === STB_LOCAL && sym.name !== '') {
        symbols.push({ name: sym.name, value: 0, size: 0, bind: STB_LOCAL, type: STT_FILE, section: 'abs' });
        continue;
      }
      if (!isListedLocal(sym) || sym.type === STT_FILE) continue;
      const input = object.kept.get(sym.shndx);
      const v = symbolValue(object, sym.index, globals);
      if (!v.defined) continue;
      const section = input === undefined ? 'abs' : sectionIndex.get(input.output)!;
      symbols.push({ name: sym.name, value: v.value, size: sym.size, bind: STB_LOCAL, type: sym.type, section });
      if (input !== undefined) mapSymbols.push({ name: sym.name, address: v.value, object: object.name, section: input.section.name });
    }
  }
  const globalList = [...globals.values()].sort((a, b) => a.name.localeCompare(b.name));
  for (const g of globalList) {
    const d = g.definition;
    let section: number | 'abs' | 'undef';
    if (d === undefined) {
      if (g.strongReference) continue; // an error was already raised if it was used
      section = 'undef';
    } else if (d.kind === 'section') {
      if (d.input === undefined) continue;
      section = sectionIndex.get(d.input.output)!;
      mapSymbols.push({ name: g.name, address: g.address, object: d.object.name, section: d.input.section.name });
    } else if (d.kind === 'common') {
      section = sectionIndex.get('.bss')!;
    } else {
      section = 'abs';
      if (d.kind === 'linker') mapSymbols.push({ name: g.name, address: g.address, object: '', section: '' });
    }
    symbols.push({ name: g.name, value: g.address, size: g.size, bind: g.bind === STB_WEAK ? STB_WEAK : STB_GLOBAL, type: g.type, section });
  }

  const executable = writeExecutable({ entry, segments: layout.segments, sections, symbols });
  const map = linkerMap(layout, { name: entryName, address: entry }, mapSymbols);
  return { executable, map, entry };
}

