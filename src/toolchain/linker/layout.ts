// Layout: where every section goes in memory and in the file.
//
// The program is cut into page-aligned PT_LOAD segments, one per kind of access,
// so the kernel can give each page exactly the permissions it needs:
//
//   0x400000  R     ELF header + program headers   (file offset 0)
//   0x401000  R X   .text                          (file offset 0x1000)
//   next page R     .rodata
//   next page R W   .got, .data, then .bss (memory only: p_memsz > p_filesz)
//
// This is GNU ld's default static layout (with -z separate-code). With -Ttext
// ADDR the code starts at ADDR and the headers are not loaded. A segment's file
// offset and address are equal modulo the page size, which is what lets the kernel
// map (or copy) file pages straight into memory pages.

import { PAGE_SIZE, PF_R, PF_W, PF_X, PT_GNU_STACK, PT_LOAD, SHT_NOBITS } from '../elf/elfTypes.js';
import type { ExecutableSegment } from '../elf/executableWriter.js';
import { headersSize } from '../elf/executableWriter.js';
import { LinkError, OUTPUT_ORDER } from './inputs.js';
import type { InputObject, InputSection, OutputName } from './inputs.js';
import type { GlobalSymbol } from './symbols.js';

export const DEFAULT_BASE = 0x400000;

export interface OutputSection {
  name: OutputName;
  inputs: InputSection[];
  /** COMMON symbols allocated at the end of .bss, with their offsets. */
  commons: { symbol: GlobalSymbol; offset: number }[];
  align: number;
  size: number;
  address: number;
  fileOffset: number;
  data: Uint8Array; // size bytes (empty for .bss)
}

export interface Layout {
  sections: Map<OutputName, OutputSection>;
  segments: ExecutableSegment[];
  /** End addresses used for the linker-defined symbols. */
  textEnd: number;
  dataEnd: number;
  bssStart: number;
  imageEnd: number;
  /** Address of the GOT's first slot (slots are 8 bytes each). */
  gotAddress: number;
}

const USER_TOP = 2 ** 47; // canonical lower half: addresses must stay below it
/** Larger alignments than this are refused (they would only pad the file with zeros). */
export const MAX_ALIGN = 0x100000;
/** Refuse to build a file with more than this many bytes of section contents. */
const MAX_FILE_BYTES = 256 * 1024 * 1024;

function alignUp(n: number, align: number): number {
  return align <= 1 ? n : Math.ceil(n / align) * align;
}

export function layOut(
  inputs: InputObject[], commons: GlobalSymbol[], gotSlots: number, textAddress: number | undefined,
): Layout {
  // 1. Offsets of input sections inside their output sections, in command-line order.
  const sections = new Map<OutputName, OutputSection>();
  for (const name of OUTPUT_ORDER) {
    sections.set(name, { name, inputs: [], commons: [], align: 1, size: 0, address: 0, fileOffset: 0, data: new Uint8Array(0) });
  }
  for (const object of inputs) {
    for (const input of object.kept.values()) {
      const out = sections.get(input.output)!;
      const align = Math.max(1, input.section.addralign);
      if (align > MAX_ALIGN) {
        throw new LinkError(`${object.name}: section ${input.section.name} asks for alignment 0x${align.toString(16)} (at most 0x${MAX_ALIGN.toString(16)} is supported)`);
      }
      out.align = Math.max(out.align, align);
      input.outputOffset = alignUp(out.size, align);
      out.size = input.outputOffset + input.section.size;
      out.inputs.push(input);
    }
  }
  const bss = sections.get('.bss')!;
  for (const symbol of commons) {
    const d = symbol.definition;
    if (d?.kind !== 'common') continue;
    if (d.align > MAX_ALIGN) {
      throw new LinkError(`${d.object.name}: COMMON symbol '${symbol.name}' asks for alignment 0x${d.align.toString(16)} (at most 0x${MAX_ALIGN.toString(16)} is supported)`);
    }
    const offset = alignUp(bss.size, d.align);
    bss.commons.push({ symbol, offset });
    bss.size = offset + d.size;
    bss.align = Math.max(bss.align, d.align);
  }
  const got = sections.get('.got')!;
  got.size = gotSlots * 8;
  got.align = gotSlots > 0 ? 8 : 1;

  for (const out of sections.values()) {
    if (out.name !== '.bss' && out.size > MAX_FILE_BYTES) {
      throw new LinkError(`output section ${out.name} would be 0x${out.size.toString(16)} bytes, more than this linker writes`);
    }
  }

  // 2. Segments and addresses.
  const text = sections.get('.text')!;
  const rodata = sections.get('.rodata')!;
  const data = sections.get('.data')!;
  const hasRodata = rodata.size > 0;
  const hasData = got.size + data.size + bss.size > 0;
  const loadHeaders = textAddress === undefined;
  const segmentCount = (loadHeaders ? 1 : 0) + 1 + (hasRodata ? 1 : 0) + (hasData ? 1 : 0) + 1;
  const headerBytes = headersSize(segmentCount);
  const segments: ExecutableSegment[] = [];

  const textStart = textAddress ?? DEFAULT_BASE + PAGE_SIZE;
  if (loadHeaders) {
    segments.push({ type: PT_LOAD, flags: PF_R, offset: 0, vaddr: DEFAULT_BASE, filesz: headerBytes, memsz: headerBytes, align: PAGE_SIZE });
  }
  // Code: address as asked, file offset on the first page after the headers with the same page offset.
  text.address = alignUp(textStart, text.align);
  text.fileOffset = PAGE_SIZE + (text.address % PAGE_SIZE);
  segments.push({ type: PT_LOAD, flags: PF_R | PF_X, offset: text.fileOffset, vaddr: text.address, filesz: text.size, memsz: text.size, align: PAGE_SIZE });

  let nextAddress = text.address + text.size;
  let nextOffset = text.fileOffset + text.size;
  const startSegment = (align: number): { address: number; offset: number } => {
    const address = alignUp(alignUp(nextAddress, PAGE_SIZE), align);
    const offset = alignUp(nextOffset, PAGE_SIZE) + (address % PAGE_SIZE);
    return { address, offset };
  };
  if (hasRodata) {
    const at = startSegment(rodata.align);
    rodata.address = at.address;
    rodata.fileOffset = at.offset;
    segments.push({ type: PT_LOAD, flags: PF_R, offset: at.offset, vaddr: at.address, filesz: rodata.size, memsz: rodata.size, align: PAGE_SIZE });
    nextAddress = rodata.address + rodata.size;
    nextOffset = rodata.fileOffset + rodata.size;
  } else {
    rodata.address = nextAddress;
    rodata.fileOffset = nextOffset;
  }
  // Data segment: .got, .data in the file; .bss after them in memory only.
  const at = startSegment(Math.max(got.align, data.align, bss.align));
  got.address = at.address;
  got.fileOffset = at.offset;
  data.address = alignUp(got.address + got.size, data.align);
  data.fileOffset = got.fileOffset + (data.address - got.address);
  const dataEnd = data.address + data.size;
  bss.address = alignUp(dataEnd, bss.align);
  bss.fileOffset = data.fileOffset + data.size;
  const imageEnd = hasData ? bss.address + bss.size : nextAddress;
  if (hasData) {
    segments.push({
      type: PT_LOAD, flags: PF_R | PF_W, offset: got.fileOffset, vaddr: got.address,
      filesz: dataEnd - got.address, memsz: imageEnd - got.address, align: PAGE_SIZE,
    });
  }
  // A non-executable stack, as GNU ld records from .note.GNU-stack.
  segments.push({ type: PT_GNU_STACK, flags: PF_R | PF_W, offset: 0, vaddr: 0, filesz: 0, memsz: 0, align: 16 });

  if (imageEnd > USER_TOP) {
    throw new LinkError(`program does not fit: it would end at 0x${imageEnd.toString(16)}, past the lower half of the address space`);
  }
  if (loadHeaders && text.address < DEFAULT_BASE + PAGE_SIZE) throw new LinkError('internal error: text overlaps the headers');

  // 3. Final addresses of the input sections and the COMMON symbols.
  for (const out of sections.values()) {
    for (const input of out.inputs) input.address = out.address + input.outputOffset;
  }
  for (const c of bss.commons) c.symbol.address = bss.address + c.offset;

  for (const out of sections.values()) {
    if (out.name !== '.bss') out.data = new Uint8Array(out.size);
  }
  for (const out of sections.values()) {
    for (const input of out.inputs) {
      if (input.section.type === SHT_NOBITS) continue; // zero bytes already
      const bytes = input.object.elf.bytes;
      out.data.set(bytes.subarray(input.section.offset, input.section.offset + input.section.size), input.outputOffset);
    }
  }

  return {
    sections, segments,
    textEnd: text.address + text.size,
    dataEnd,
    bssStart: bss.address,
    imageEnd,
    gotAddress: got.address,
  };
}
