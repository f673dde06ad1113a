// Linker inputs: read each relocatable object and sort its sections into the
// four output sections of a static program.
//
// Sections are merged by name prefix, as GNU ld's default script does:
// .text and .text.* into .text, .rodata.* into .rodata, .data.* into .data,
// .bss.* (and COMMON symbols, later) into .bss. Sections without a known name go
// by their flags. Sections that are not SHF_ALLOC (.comment, debugging
// information, .note.GNU-stack) are not part of the program and are dropped.

import {
  ET_REL, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHT_NOBITS, SHT_NOTE, SHT_PROGBITS, SHT_INIT_ARRAY,
  SHT_FINI_ARRAY, SHT_X86_64_UNWIND, ElfError,
} from '../elf/elfTypes.js';
import type { ElfFile, ElfRelocationSection, ElfSection } from '../elf/elfTypes.js';
import { readElf } from '../elf/reader.js';

/** Thrown for every problem the linker finds; the message may hold several lines. */
export class LinkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinkError';
  }
}

export type OutputName = '.text' | '.rodata' | '.got' | '.data' | '.bss';

/** Output sections in address order. .got is made by the linker, not taken from inputs. */
export const OUTPUT_ORDER: readonly OutputName[] = ['.text', '.rodata', '.got', '.data', '.bss'];

export interface InputObject {
  index: number;
  name: string;
  elf: ElfFile;
  /** Section index -> the input section kept from it (absent when dropped). */
  kept: Map<number, InputSection>;
  /** Section index -> its relocations (at most one SHT_RELA per section). */
  relocations: Map<number, ElfRelocationSection>;
}

export interface InputSection {
  object: InputObject;
  section: ElfSection;
  output: OutputName;
  /** Offset inside the output section, then the final address; set by layout. */
  outputOffset: number;
  address: number;
}

const SHF_TLS = 0x400;

/** Which output section an allocated input section belongs in. */
export function outputFor(s: ElfSection): OutputName {
  const byPrefix = (prefix: string): boolean => s.name === prefix || s.name.startsWith(prefix + '.');
  if (s.type === SHT_NOBITS) return '.bss'; // no contents: zero-filled memory
  if (byPrefix('.text')) return '.text';
  if (byPrefix('.rodata')) return '.rodata';
  if (byPrefix('.data')) return '.data';
  if (byPrefix('.bss')) return '.data'; // named .bss but has contents
  if (s.flags & SHF_EXECINSTR) return '.text';
  if (s.flags & SHF_WRITE) return '.data';
  return '.rodata';
}

/** Parses the objects and decides which of their sections go into the program. */
export function readInputs(objects: { name: string; bytes: Uint8Array }[]): InputObject[] {
  const problems: string[] = [];
  const inputs: InputObject[] = [];
  objects.forEach((o, index) => {
    let elf: ElfFile;
    try {
      elf = readElf(o.bytes, o.name);
    } catch (e) {
      if (e instanceof ElfError) { problems.push(e.message); return; }
      throw e;
    }
    if (elf.header.type !== ET_REL) {
      problems.push(`${o.name}: not a relocatable object (e_type is ${elf.header.type}; only ET_REL files can be linked)`);
      return;
    }
    const input: InputObject = { index, name: o.name, elf, kept: new Map(), relocations: new Map() };
    for (const s of elf.sections) {
      if (!(s.flags & SHF_ALLOC)) continue;
      // Notes (.note.gnu.property and friends) describe the object file; a static
      // program without a dynamic loader has no reader for them.
      if (s.type === SHT_NOTE) continue;
      if (s.flags & SHF_TLS) {
        problems.push(`${o.name}: section ${s.name} holds thread-local storage, which this linker does not support`);
        continue;
      }
      const known = [SHT_PROGBITS, SHT_NOBITS, SHT_INIT_ARRAY, SHT_FINI_ARRAY, SHT_X86_64_UNWIND];
      if (!known.includes(s.type)) {
        problems.push(`${o.name}: section ${s.name} has type ${s.type}, which this linker does not know how to place`);
        continue;
      }
      input.kept.set(s.index, { object: input, section: s, output: outputFor(s), outputOffset: 0, address: 0 });
    }
    for (const r of elf.relocationSections) {
      if (r.symtab !== elf.symtabIndex || elf.symtabIndex === 0) {
        problems.push(`${o.name}: relocation section ${r.section.name} does not use the object's symbol table`);
        continue;
      }
      if (input.relocations.has(r.target)) {
        problems.push(`${o.name}: two relocation sections patch section ${r.target}`);
        continue;
      }
      input.relocations.set(r.target, r);
    }
    inputs.push(input);
  });
  if (problems.length > 0) throw new LinkError(problems.join('\n'));
  return inputs;
}

/** "a.o(.text+0x14)": how errors name a place in an input. */
export function placeName(object: InputObject, section: ElfSection, offset: number): string {
  return `${object.name}(${section.name}+0x${offset.toString(16)})`;
}
