// ELF64 executable writer: lays bytes out exactly as the caller placed them.
//
// The caller (the linker) decides where every section lives in the file and in
// memory, because the two are tied together by the program headers. This module
// only serialises: the ELF header at offset 0, the program headers right after it,
// each section's bytes at its file offset, and then the non-loaded tail: the
// symbol table, its string table, the section-name string table and finally the
// section header table.

import {
  EHDR, EHDR_SIZE, ELFCLASS64, ELFDATA2LSB, ELFOSABI_SYSV, EM_X86_64, ET_EXEC, EV_CURRENT, PHDR,
  PHDR_SIZE, SHDR, SHDR_SIZE, SHN_ABS, SHN_UNDEF, SHT_NOBITS, SHT_STRTAB, SHT_SYMTAB, STB_LOCAL, SYM,
  SYM_SIZE, ElfError, symInfo,
} from './elfTypes.js';

export interface ExecutableSegment {
  type: number;   // PT_*
  flags: number;  // PF_*
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  align: number;
}

export interface ExecutableSection {
  name: string;
  type: number;        // SHT_PROGBITS or SHT_NOBITS
  flags: number;       // SHF_*
  addr: number;
  offset: number;      // file offset chosen by the caller
  size: number;
  align: number;
  data: Uint8Array;    // ignored for SHT_NOBITS; otherwise `size` bytes
}

export interface ExecutableSymbol {
  name: string;
  value: number;
  size: number;
  bind: number;        // STB_*
  type: number;        // STT_*
  /** Index into the `sections` array given to writeExecutable, or 'abs' for SHN_ABS, or 'undef'. */
  section: number | 'abs' | 'undef';
}

export interface ExecutableImage {
  entry: number;
  segments: ExecutableSegment[];
  sections: ExecutableSection[];
  /** Local symbols must come before global ones (the ELF rule); the writer checks it. */
  symbols: ExecutableSymbol[];
}

/** Bytes needed for the ELF header and `count` program headers. */
export function headersSize(segmentCount: number): number {
  return EHDR_SIZE + segmentCount * PHDR_SIZE;
}

function alignUp(n: number, align: number): number {
  return align <= 1 ? n : Math.ceil(n / align) * align;
}

/** A string table under construction: offset 0 is the empty string. */
class StringTable {
  private readonly parts: number[] = [0];
  private readonly seen = new Map<string, number>();
  add(s: string): number {
    if (s === '') return 0;
    const known = this.seen.get(s);
    if (known !== undefined) return known;
    const at = this.parts.length;
    for (let i = 0; i < s.length; i++) this.parts.push(s.charCodeAt(i) & 0xff);
    this.parts.push(0);
    this.seen.set(s, at);
    return at;
  }
  bytes(): Uint8Array { return Uint8Array.from(this.parts); }
}

export function writeExecutable(image: ExecutableImage): Uint8Array {
  const { sections, segments, symbols } = image;
  const phEnd = headersSize(segments.length);

  // Section contents must not collide with the headers; the caller placed them.
  let contentEnd = phEnd;
  for (const s of sections) {
    if (s.type === SHT_NOBITS) continue;
    if (s.offset < phEnd && s.size > 0) throw new ElfError(`section ${s.name} at file offset ${s.offset} overlaps the headers`);
    if (s.data.length !== s.size) throw new ElfError(`section ${s.name}: ${s.data.length} bytes of data for size ${s.size}`);
    contentEnd = Math.max(contentEnd, s.offset + s.size);
  }
  // A segment of .bss alone has no bytes in the file, but its offset must still be inside it.
  for (const p of segments) contentEnd = Math.max(contentEnd, p.offset + p.filesz);

  // Symbol table: entry 0 is the null symbol; sh_info = index of the first non-local.
  const strtab = new StringTable();
  const symtab = new Uint8Array((symbols.length + 1) * SYM_SIZE);
  const symView = new DataView(symtab.buffer);
  let firstGlobal = symbols.length + 1;
  symbols.forEach((sym, i) => {
    const at = (i + 1) * SYM_SIZE;
    if (sym.bind === STB_LOCAL) {
      if (firstGlobal <= symbols.length) throw new ElfError(`local symbol '${sym.name}' follows a global one`);
    } else if (firstGlobal > symbols.length) {
      firstGlobal = i + 1;
    }
    const shndx = sym.section === 'abs' ? SHN_ABS : sym.section === 'undef' ? SHN_UNDEF : sym.section + 1;
    symView.setUint32(at + SYM.name, strtab.add(sym.name), true);
    symView.setUint8(at + SYM.info, symInfo(sym.bind, sym.type));
    symView.setUint8(at + SYM.other, 0);
    symView.setUint16(at + SYM.shndx, shndx, true);
    symView.setBigUint64(at + SYM.value, BigInt(sym.value), true);
    symView.setBigUint64(at + SYM.size, BigInt(sym.size), true);
  });
  const strtabBytes = strtab.bytes();

  // Section names: the caller's sections, then .symtab, .strtab, .shstrtab.
  const shstrtab = new StringTable();
  const nameOffsets = sections.map((s) => shstrtab.add(s.name));
  const symtabName = shstrtab.add('.symtab');
  const strtabName = shstrtab.add('.strtab');
  const shstrtabName = shstrtab.add('.shstrtab');
  const shstrtabBytes = shstrtab.bytes();

  const symtabOffset = alignUp(contentEnd, 8);
  const strtabOffset = symtabOffset + symtab.length;
  const shstrtabOffset = strtabOffset + strtabBytes.length;
  const shoff = alignUp(shstrtabOffset + shstrtabBytes.length, 8);
  const shnum = sections.length + 4; // null + caller's + symtab, strtab, shstrtab
  const out = new Uint8Array(shoff + shnum * SHDR_SIZE);
  const view = new DataView(out.buffer);

  // ELF header.
  out.set([0x7f, 0x45, 0x4c, 0x46, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_SYSV]);
  view.setUint16(EHDR.type, ET_EXEC, true);
  view.setUint16(EHDR.machine, EM_X86_64, true);
  view.setUint32(EHDR.version, EV_CURRENT, true);
  view.setBigUint64(EHDR.entry, BigInt(image.entry), true);
  view.setBigUint64(EHDR.phoff, BigInt(segments.length > 0 ? EHDR_SIZE : 0), true);
  view.setBigUint64(EHDR.shoff, BigInt(shoff), true);
  view.setUint32(EHDR.flags, 0, true);
  view.setUint16(EHDR.ehsize, EHDR_SIZE, true);
  view.setUint16(EHDR.phentsize, PHDR_SIZE, true);
  view.setUint16(EHDR.phnum, segments.length, true);
  view.setUint16(EHDR.shentsize, SHDR_SIZE, true);
  view.setUint16(EHDR.shnum, shnum, true);
  view.setUint16(EHDR.shstrndx, shnum - 1, true);

  // Program headers.
  segments.forEach((p, i) => {
    const at = EHDR_SIZE + i * PHDR_SIZE;
    view.setUint32(at + PHDR.type, p.type, true);
    view.setUint32(at + PHDR.flags, p.flags, true);
    view.setBigUint64(at + PHDR.offset, BigInt(p.offset), true);
    view.setBigUint64(at + PHDR.vaddr, BigInt(p.vaddr), true);
    view.setBigUint64(at + PHDR.paddr, BigInt(p.vaddr), true);
    view.setBigUint64(at + PHDR.filesz, BigInt(p.filesz), true);
    view.setBigUint64(at + PHDR.memsz, BigInt(p.memsz), true);
    view.setBigUint64(at + PHDR.align, BigInt(p.align), true);
  });

  // Section contents and the symbol/string tables.
  for (const s of sections) if (s.type !== SHT_NOBITS) out.set(s.data, s.offset);
  out.set(symtab, symtabOffset);
  out.set(strtabBytes, strtabOffset);
  out.set(shstrtabBytes, shstrtabOffset);

  // Section headers (entry 0 stays all zero: SHT_NULL).
  const writeShdr = (index: number, f: {
    name: number; type: number; flags: number; addr: number; offset: number; size: number;
    link: number; info: number; align: number; entsize: number;
  }): void => {
    const at = shoff + index * SHDR_SIZE;
    view.setUint32(at + SHDR.name, f.name, true);
    view.setUint32(at + SHDR.type, f.type, true);
    view.setBigUint64(at + SHDR.flags, BigInt(f.flags), true);
    view.setBigUint64(at + SHDR.addr, BigInt(f.addr), true);
    view.setBigUint64(at + SHDR.offset, BigInt(f.offset), true);
    view.setBigUint64(at + SHDR.size, BigInt(f.size), true);
    view.setUint32(at + SHDR.link, f.link, true);
    view.setUint32(at + SHDR.info, f.info, true);
    view.setBigUint64(at + SHDR.addralign, BigInt(f.align), true);
    view.setBigUint64(at + SHDR.entsize, BigInt(f.entsize), true);
  };
  sections.forEach((s, i) => writeShdr(i + 1, {
    name: nameOffsets[i]!, type: s.type, flags: s.flags, addr: s.addr, offset: s.offset, size: s.size,
    link: 0, info: 0, align: s.align, entsize: 0,
  }));
  const symtabIndex = sections.length + 1;
  writeShdr(symtabIndex, {
    name: symtabName, type: SHT_SYMTAB, flags: 0, addr: 0, offset: symtabOffset, size: symtab.length,
    link: symtabIndex + 1, info: firstGlobal, align: 8, entsize: SYM_SIZE,
  });
  writeShdr(symtabIndex + 1, {
    name: strtabName, type: SHT_STRTAB, flags: 0, addr: 0, offset: strtabOffset, size: strtabBytes.length,
    link: 0, info: 0, align: 1, entsize: 0,
  });
  writeShdr(symtabIndex + 2, {
    name: shstrtabName, type: SHT_STRTAB, flags: 0, addr: 0, offset: shstrtabOffset, size: shstrtabBytes.length,
    link: 0, info: 0, align: 1, entsize: 0,
  });
  return out;
}
