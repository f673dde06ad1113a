// Symbol resolution: one global symbol table for the whole program.
//
// Each object's local symbols stay private to it. Global and weak symbols with
// the same name are the same symbol, and exactly one definition wins:
//   - two strong (STB_GLOBAL) definitions are an error;
//   - a strong definition beats a weak one; among weak ones the first wins;
//   - any real definition beats a COMMON one (an uninitialised C global compiled
//     with -fcommon); several COMMONs merge into the largest, most aligned one.
// A symbol still undefined after all objects have been read is an error when a
// relocation uses it, unless every reference was weak: then its value is 0.

import {
  SHN_ABS, SHN_COMMON, SHN_UNDEF, STB_GLOBAL, STB_LOCAL, STB_WEAK, STT_FILE, STT_NOTYPE, STT_OBJECT,
  STT_SECTION,
} from '../elf/elfTypes.js';
import type { ElfSymbol } from '../elf/elfTypes.js';
import { LinkError } from './inputs.js';
import type { InputObject, InputSection } from './inputs.js';

export type Definition =
  | { kind: 'section'; object: InputObject; symbol: ElfSymbol; input: InputSection | undefined }
  | { kind: 'abs'; object: InputObject; symbol: ElfSymbol }
  | { kind: 'common'; object: InputObject; size: number; align: number }
  | { kind: 'linker' };

export interface GlobalSymbol {
  name: string;
  bind: number;     // STB_GLOBAL or STB_WEAK, of the winning definition
  type: number;     // STT_*
  size: number;
  definition: Definition | undefined;
  /** True when some object refers to it with a strong (not weak) undefined symbol. */
  strongReference: boolean;
  /** The final value (an address, or the value of an absolute symbol); set after layout. */
  address: number;
}

/**
 * Symbols the linker defines itself when a program refers to them without
 * defining them, as GNU ld's default script does: the end of the code, the end
 * of the initialised data, the start of .bss and the end of the whole image
 * (where a heap grown by sbrk can start).
 */
export const LINKER_SYMBOLS = ['etext', '_etext', '__etext', 'edata', '_edata', '__bss_start', 'end', '_end'] as const;
/** Of those, the ones always defined (and written to the symbol table) as GNU ld does. */
const ALWAYS_DEFINED = new Set(['_edata', '__bss_start', '_end']);

function isGlobal(sym: ElfSymbol): boolean {
  // STB_GNU_UNIQUE (10) behaves as global in a static link.
  return sym.bind === STB_GLOBAL || sym.bind === STB_WEAK || sym.bind === 10;
}

function definitionPlace(d: Definition): string {
  if (d.kind === 'linker') return 'the linker';
  if (d.kind === 'section') return `${d.object.name}(${d.input?.section.name ?? 'discarded section'})`;
  if (d.kind === 'abs') return `${d.object.name} (absolute)`;
  return `${d.object.name} (COMMON)`;
}

export function resolveSymbols(inputs: InputObject[]): Map<string, GlobalSymbol> {
  const globals = new Map<string, GlobalSymbol>();
  const problems: string[] = [];
  for (const object of inputs) {
    for (const sym of object.elf.symbols) {
      if (sym.index === 0 || !isGlobal(sym)) continue;
      if (sym.name === '') {
        problems.push(`${object.name}: global symbol ${sym.index} has no name`);
        continue;
      }
      let g = globals.get(sym.name);
      if (g === undefined) {
        g = { name: sym.name, bind: sym.bind, type: sym.type, size: sym.size, definition: undefined, strongReference: false, address: 0 };
        globals.set(sym.name, g);
      }
      if (sym.shndx === SHN_UNDEF) {
        if (sym.bind !== STB_WEAK) g.strongReference = true;
        continue;
      }
      let d: Definition;
      if (sym.shndx === SHN_COMMON) {
        // For COMMON symbols st_value holds the required alignment.
        d = { kind: 'common', object, size: sym.size, align: Math.max(1, sym.value) };
      } else if (sym.shndx === SHN_ABS) {
        d = { kind: 'abs', object, symbol: sym };
      } else {
        d = { kind: 'section', object, symbol: sym, input: object.kept.get(sym.shndx) };
      }
      const old = g.definition;
      const take = (): void => { g!.definition = d; g!.bind = sym.bind; g!.type = sym.type; g!.size = sym.size; };
      if (old === undefined) { take(); continue; }
      if (d.kind === 'common') {
        if (old.kind === 'common') {
          old.size = Math.max(old.size, d.size);
          old.align = Math.max(old.align, d.align);
          g.size = old.size;
        }
        continue; // a real definition already wins over COMMON
      }
      if (old.kind === 'common') { take(); continue; }
      if (g.bind === STB_WEAK && sym.bind !== STB_WEAK) { take(); continue; }
      if (sym.bind === STB_WEAK) continue;
      if (g.bind !== STB_WEAK) {
        problems.push(`${object.name}: multiple definition of '${sym.name}' (first defined in ${definitionPlace(old)})`);
      }
    }
  }
  if (problems.length > 0) throw new LinkError(problems.join('\n'));
  return globals;
}

/** Adds the linker-defined symbols (their addresses are set by the layout). */
export function defineLinkerSymbols(globals: Map<string, GlobalSymbol>): void {
  for (const name of LINKER_SYMBOLS) {
    const g = globals.get(name);
    if (g === undefined) {
      if (!ALWAYS_DEFINED.has(name)) continue;
      globals.set(name, {
        name, bind: STB_GLOBAL, type: STT_NOTYPE, size: 0, definition: { kind: 'linker' }, strongReference: false, address: 0,
      });
    } else if (g.definition === undefined) {
      g.definition = { kind: 'linker' };
      g.bind = STB_GLOBAL;
      g.type = STT_NOTYPE;
    }
  }
}

/** COMMON symbols that won, in a stable order (first mention), for allocation in .bss. */
export function commonSymbols(globals: Map<string, GlobalSymbol>): GlobalSymbol[] {
  return [...globals.values()].filter((g) => g.definition?.kind === 'common').map((g) => {
    g.type = STT_OBJECT;
    return g;
  });
}

export interface SymbolValue {
  name: string;
  /** False for an undefined symbol (value 0). */
  defined: boolean;
  value: number;
  /** The global entry when the symbol is global. */
  global?: GlobalSymbol;
}

/** The value a relocation in `object` sees for its symbol number `index`. */
export function symbolValue(object: InputObject, index: number, globals: Map<string, GlobalSymbol>): SymbolValue {
  const sym = object.elf.symbols[index]!;
  if (index === 0) return { name: '', defined: true, value: 0 };
  if (isGlobal(sym)) {
    const g = globals.get(sym.name)!;
    return { name: sym.name, defined: g.definition !== undefined, value: g.address, global: g };
  }
  const name = sym.type === STT_SECTION ? (object.elf.sections[sym.shndx]?.name ?? '') : sym.name;
  if (sym.shndx === SHN_ABS) return { name, defined: true, value: sym.value };
  if (sym.shndx === SHN_UNDEF || sym.type === STT_FILE) return { name, defined: false, value: 0 };
  const input = object.kept.get(sym.shndx);
  if (input === undefined) return { name, defined: false, value: 0 };
  return { name, defined: true, value: input.address + sym.value };
}

/** Local symbols worth listing in the executable's symbol table (functions, objects, labels). */
export function isListedLocal(sym: ElfSymbol): boolean {
  return sym.bind === STB_LOCAL && sym.index !== 0 && sym.type !== STT_SECTION && sym.name !== '';
}
