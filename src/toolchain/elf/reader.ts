// ELF64 reader: parses x86-64 little-endian relocatable objects and executables.
//
// The file is untrusted. Every offset and size is checked against the file length
// before it is used (as `offset <= length && size <= length - offset`, which cannot
// overflow), every string index against its string table, every section index
// against the section count. Anything wrong raises ElfError naming the field;
// no host exception (RangeError from a DataView, say) can escape.

import {
  EI_CLASS, EI_DATA, EI_OSABI, EI_VERSION, ELFCLASS64, ELFDATA2LSB, ELF_MAGIC, EM_X86_64,
  EHDR, EHDR_SIZE, ET_DYN, ET_EXEC, ET_REL, EV_CURRENT, ElfError, PHDR, PHDR_SIZE, RELA, RELA_SIZE,
  SHDR, SHDR_SIZE, SHN_ABS, SHN_COMMON, SHN_LORESERVE, SHN_UNDEF, SHN_XINDEX, SHT_DYNSYM, SHT_NOBITS,
  SHT_NULL, SHT_REL, SHT_RELA, SHT_STRTAB, SHT_SYMTAB, SYM, SYM_SIZE, hex, symBind, symType,
} from './elfTypes.js';
import type {
  ElfFile, ElfHeader, ElfRelocation, ElfRelocationSection, ElfSection, ElfSegment, ElfSymbol,
} from './elfTypes.js';

/** True when [offset, offset + size) lies inside a buffer of `length` bytes. */
export function fitsIn(offset: number, size: number, length: number): boolean {
  return offset >= 0 && size >= 0 && offset <= length && size <= length - offset;
}

/** Little-endian field access that turns every out-of-range read into an ElfError. */
class Bytes {
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array, private readonly fail: (message: string) => never) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get length(): number { return this.bytes.length; }
  private check(at: number, width: number, what: string): void {
    if (!fitsIn(at, width, this.bytes.length)) {
      this.fail(`${what} at offset ${hex(at)} is past the end of the file (${this.bytes.length} bytes)`);
    }
  }
  u8(at: number, what: string): number { this.check(at, 1, what); return this.view.getUint8(at); }
  u16(at: number, what: string): number { this.check(at, 2, what); return this.view.getUint16(at, true); }
  u32(at: number, what: string): number { this.check(at, 4, what); return this.view.getUint32(at, true); }
  /** An unsigned 64-bit field; values a JavaScript number cannot hold exactly are refused. */
  u64(at: number, what: string): number {
    this.check(at, 8, what);
    const v = this.view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} ${hex(v)} is too large`);
    return Number(v);
  }
  /**
   * A 64-bit virtual address: below 2^53 as it is; an address in the upper half
   * (a higher-half kernel's, 0xffffffff80000000...) as the signed number xk uses for
   * canonical linear addresses (-2^31...), when it is that close to the top.
   */
  address(at: number, what: string): number {
    this.check(at, 8, what);
    const v = this.view.getBigInt64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) this.fail(`${what} ${hex(BigInt.asUintN(64, v))} is too large`);
    return Number(v);
  }
  /** A signed 64-bit field (relocation addends). */
  s64(at: number, what: string): number {
    this.check(at, 8, what);
    const v = this.view.getBigInt64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      this.fail(`${what} ${hex(v)} is out of range`);
    }
    return Number(v);
  }
  /** Raw 64-bit field, for r_info whose halves are split by the caller. */
  u64big(at: number, what: string): bigint { this.check(at, 8, what); return this.view.getBigUint64(at, true); }
}

/** Longest symbol or section name accepted. */
export const MAX_NAME_LENGTH = 4096;

/** Reads a NUL-terminated string at `index` inside the string-table section `table`. */
function stringAt(file: Bytes, table: ElfSection, index: number, what: string, fail: (m: string) => never): string {
  const tableName = table.name !== '' ? table.name : `string table section ${table.index}`;
  if (index >= table.size) {
    fail(`${what}: string index ${hex(index)} is outside ${tableName} (size ${hex(table.size)})`);
  }
  const start = table.offset + index;
  // The scan is bounded, so many symbols sharing one huge name cannot take quadratic time.
  const end = Math.min(table.offset + table.size, start + MAX_NAME_LENGTH + 1);
  let i = start;
  while (i < end && file.bytes[i] !== 0) i++;
  if (i >= end) {
    if (i === start + MAX_NAME_LENGTH + 1) fail(`${what}: string at index ${hex(index)} in ${tableName} is longer than ${MAX_NAME_LENGTH} bytes`);
    fail(`${what}: string at index ${hex(index)} in ${tableName} is not NUL-terminated`);
  }
  let s = '';
  for (let k = start; k < i; k++) s += String.fromCharCode(file.bytes[k]!);
  return s;
}

function isPowerOfTwoOrZero(n: number): boolean {
  if (n === 0) return true;
  // Works for all safe integers: a power of two has exactly one bit set.
  let x = n;
  while (x > 1) { if (x % 2 !== 0) return false; x = x / 2; }
  return x === 1;
}

/**
 * Parses and validates an ELF64 x86-64 file. `name` is used in error messages.
 * Throws ElfError for any malformed input.
 */
export function readElf(bytes: Uint8Array, name = 'input'): ElfFile {
  const fail = (message: string): never => { throw new ElfError(`${name}: ${message}`); };
  const file = new Bytes(bytes, fail);
  const header = readHeader(file, fail);
  const sections = readSections(file, header, fail);
  const segments = readSegments(file, header, fail);

  // Tables of records do not overlap in a real file, so together they fit in it. Checking
  // that keeps the work linear in the file size even when many headers name the same bytes.
  let tableBytes = 0;
  for (const s of sections) {
    if (s.type === SHT_SYMTAB || s.type === SHT_DYNSYM || s.type === SHT_RELA) tableBytes += s.size;
  }
  if (tableBytes > bytes.length) {
    fail(`symbol and relocation tables add up to ${hex(tableBytes)} bytes, more than the file (${bytes.length} bytes): they overlap`);
  }

  // Symbol tables: parse every SHT_SYMTAB/SHT_DYNSYM (relocations may refer to either).
  const symbolTables = new Map<number, ElfSymbol[]>();
  let symtabIndex = 0;
  for (const s of sections) {
    if (s.type !== SHT_SYMTAB && s.type !== SHT_DYNSYM) continue;
    if (s.type === SHT_SYMTAB) {
      if (symtabIndex !== 0) fail(`section ${s.index} (${s.name}): a second symbol table (the first is section ${symtabIndex})`);
      symtabIndex = s.index;
    }
    symbolTables.set(s.index, readSymbols(file, sections, s, fail));
  }

  const relocationSections: ElfRelocationSection[] = [];
  for (const s of sections) {
    if (s.type === SHT_RELA) relocationSections.push(readRelocations(file, sections, s, symbolTables, fail));
    else if (s.type === SHT_REL) fail(`section ${s.index} (${s.name}): SHT_REL relocations are not used on x86-64 (expected SHT_RELA)`);
  }

  return {
    bytes, header, sections, segments,
    symbols: symtabIndex === 0 ? [] : symbolTables.get(symtabIndex)!,
    symtabIndex, relocationSections,
  };
}

function readHeader(file: Bytes, fail: (m: string) => never): ElfHeader {
  if (file.length < EHDR_SIZE) fail(`file is ${file.length} bytes, too short for an ELF header (${EHDR_SIZE} bytes)`);
  for (let i = 0; i < 4; i++) {
    if (file.bytes[i] !== ELF_MAGIC[i]) fail('not an ELF file (bad magic number in e_ident[0..3])');
  }
  const fileClass = file.u8(EI_CLASS, 'e_ident[EI_CLASS]');
  if (fileClass !== ELFCLASS64) fail(`e_ident[EI_CLASS] is ${fileClass}, expected ${ELFCLASS64} (ELFCLASS64)`);
  const dataEncoding = file.u8(EI_DATA, 'e_ident[EI_DATA]');
  if (dataEncoding !== ELFDATA2LSB) fail(`e_ident[EI_DATA] is ${dataEncoding}, expected ${ELFDATA2LSB} (little-endian)`);
  const identVersion = file.u8(EI_VERSION, 'e_ident[EI_VERSION]');
  if (identVersion !== EV_CURRENT) fail(`e_ident[EI_VERSION] is ${identVersion}, expected ${EV_CURRENT}`);
  const h: ElfHeader = {
    fileClass, dataEncoding,
    osabi: file.u8(EI_OSABI, 'e_ident[EI_OSABI]'),
    type: file.u16(EHDR.type, 'e_type'),
    machine: file.u16(EHDR.machine, 'e_machine'),
    version: file.u32(EHDR.version, 'e_version'),
    entry: file.address(EHDR.entry, 'e_entry'),
    phoff: file.u64(EHDR.phoff, 'e_phoff'),
    shoff: file.u64(EHDR.shoff, 'e_shoff'),
    flags: file.u32(EHDR.flags, 'e_flags'),
    ehsize: file.u16(EHDR.ehsize, 'e_ehsize'),
    phentsize: file.u16(EHDR.phentsize, 'e_phentsize'),
    phnum: file.u16(EHDR.phnum, 'e_phnum'),
    shentsize: file.u16(EHDR.shentsize, 'e_shentsize'),
    shnum: file.u16(EHDR.shnum, 'e_shnum'),
    shstrndx: file.u16(EHDR.shstrndx, 'e_shstrndx'),
  };
  if (h.type !== ET_REL && h.type !== ET_EXEC && h.type !== ET_DYN) {
    fail(`e_type is ${h.type}, expected ET_REL (1), ET_EXEC (2) or ET_DYN (3)`);
  }
  if (h.machine !== EM_X86_64) fail(`e_machine is ${h.machine}, expected ${EM_X86_64} (EM_X86_64)`);
  if (h.version !== EV_CURRENT) fail(`e_version is ${h.version}, expected ${EV_CURRENT}`);
  if (h.ehsize !== EHDR_SIZE) fail(`e_ehsize is ${h.ehsize}, expected ${EHDR_SIZE}`);

  if (h.shoff === 0 && h.shnum !== 0) fail(`e_shnum is ${h.shnum} but e_shoff is 0`);
  if (h.shoff !== 0 && h.shnum === 0) fail('e_shnum is 0 with a section header table (extended section numbering is not supported)');
  if (h.shnum !== 0) {
    if (h.shentsize !== SHDR_SIZE) fail(`e_shentsize is ${h.shentsize}, expected ${SHDR_SIZE}`);
    if (h.shnum >= SHN_LORESERVE) fail(`e_shnum ${h.shnum} is too large`);
    if (!fitsIn(h.shoff, h.shnum * SHDR_SIZE, file.length)) {
      fail(`section header table: e_shoff ${hex(h.shoff)} + ${h.shnum} entries of ${SHDR_SIZE} bytes is past the end of the file (${file.length} bytes)`);
    }
    if (h.shstrndx === SHN_XINDEX) fail('e_shstrndx is SHN_XINDEX (extended section numbering is not supported)');
    if (h.shstrndx >= h.shnum) fail(`e_shstrndx ${h.shstrndx} is not a section index (e_shnum is ${h.shnum})`);
  } else if (h.shstrndx !== SHN_UNDEF) {
    fail(`e_shstrndx is ${h.shstrndx} but there are no section headers`);
  }

  if (h.phoff === 0 && h.phnum !== 0) fail(`e_phnum is ${h.phnum} but e_phoff is 0`);
  if (h.phnum !== 0) {
    if (h.phentsize !== PHDR_SIZE) fail(`e_phentsize is ${h.phentsize}, expected ${PHDR_SIZE}`);
    if (h.phnum === 0xffff) fail('e_phnum is PN_XNUM (extended program header numbering is not supported)');
    if (!fitsIn(h.phoff, h.phnum * PHDR_SIZE, file.length)) {
      fail(`program header table: e_phoff ${hex(h.phoff)} + ${h.phnum} entries of ${PHDR_SIZE} bytes is past the end of the file (${file.length} bytes)`);
    }
  }
  return h;
}

function readSections(file: Bytes, h: ElfHeader, fail: (m: string) => never): ElfSection[] {
  const sections: ElfSection[] = [];
  for (let i = 0; i < h.shnum; i++) {
    const at = h.shoff + i * SHDR_SIZE;
    const what = (field: string): string => `section ${i}: ${field}`;
    const s: ElfSection = {
      index: i, name: '',
      nameOffset: file.u32(at + SHDR.name, what('sh_name')),
      type: file.u32(at + SHDR.type, what('sh_type')),
      flags: file.u64(at + SHDR.flags, what('sh_flags')),
      addr: file.address(at + SHDR.addr, what('sh_addr')),
      offset: file.u64(at + SHDR.offset, what('sh_offset')),
      size: file.u64(at + SHDR.size, what('sh_size')),
      link: file.u32(at + SHDR.link, what('sh_link')),
      info: file.u32(at + SHDR.info, what('sh_info')),
      addralign: file.u64(at + SHDR.addralign, what('sh_addralign')),
      entsize: file.u64(at + SHDR.entsize, what('sh_entsize')),
    };
    sections.push(s);
  }
  const placed = (s: ElfSection): boolean => s.type === SHT_NOBITS || s.type === SHT_NULL || fitsIn(s.offset, s.size, file.length);
  const bounds = (s: ElfSection, label: string): string =>
    `${label}: offset ${hex(s.offset)} + size ${hex(s.size)} is past the end of the file (${file.length} bytes)`;
  // Names come from the section-name string table, checked first so that the
  // messages about every other section can name it.
  if (h.shnum !== 0 && h.shstrndx !== SHN_UNDEF) {
    const names = sections[h.shstrndx]!;
    if (names.type !== SHT_STRTAB) fail(`e_shstrndx ${h.shstrndx} names section of type ${names.type}, expected SHT_STRTAB`);
    if (!placed(names)) fail(bounds(names, `section ${names.index} (section names)`));
    for (const s of sections) {
      s.name = stringAt(file, names, s.nameOffset, `section ${s.index}: sh_name`, fail);
    }
  }
  for (const s of sections) {
    const label = sectionLabel(s);
    if (s.index === 0 && s.type !== SHT_NULL) fail(`section 0: sh_type is ${s.type}, expected SHT_NULL`);
    if (!placed(s)) fail(bounds(s, label));
    if (!isPowerOfTwoOrZero(s.addralign)) fail(`${label}: sh_addralign ${hex(s.addralign)} is not a power of two`);
    if (s.link >= h.shnum) fail(`${label}: sh_link ${s.link} is not a section index (e_shnum is ${h.shnum})`);
    if (s.type === SHT_STRTAB && s.size > 0 && file.bytes[s.offset + s.size - 1] !== 0) {
      fail(`${label}: string table does not end with a NUL byte`);
    }
  }
  return sections;
}

function readSegments(file: Bytes, h: ElfHeader, fail: (m: string) => never): ElfSegment[] {
  const segments: ElfSegment[] = [];
  for (let i = 0; i < h.phnum; i++) {
    const at = h.phoff + i * PHDR_SIZE;
    const what = (field: string): string => `program header ${i}: ${field}`;
    const p: ElfSegment = {
      index: i,
      type: file.u32(at + PHDR.type, what('p_type')),
      flags: file.u32(at + PHDR.flags, what('p_flags')),
      offset: file.u64(at + PHDR.offset, what('p_offset')),
      vaddr: file.address(at + PHDR.vaddr, what('p_vaddr')),
      paddr: file.u64(at + PHDR.paddr, what('p_paddr')),
      filesz: file.u64(at + PHDR.filesz, what('p_filesz')),
      memsz: file.u64(at + PHDR.memsz, what('p_memsz')),
      align: file.u64(at + PHDR.align, what('p_align')),
    };
    if (!fitsIn(p.offset, p.filesz, file.length)) {
      fail(`program header ${i}: p_offset ${hex(p.offset)} + p_filesz ${hex(p.filesz)} is past the end of the file (${file.length} bytes)`);
    }
    if (p.filesz > p.memsz) fail(`program header ${i}: p_filesz ${hex(p.filesz)} is larger than p_memsz ${hex(p.memsz)}`);
    if (!isPowerOfTwoOrZero(p.align)) fail(`program header ${i}: p_align ${hex(p.align)} is not a power of two`);
    segments.push(p);
  }
  return segments;
}

function sectionLabel(s: ElfSection): string {
  return s.name === '' ? `section ${s.index}` : `section ${s.index} (${s.name})`;
}

function readSymbols(file: Bytes, sections: ElfSection[], s: ElfSection, fail: (m: string) => never): ElfSymbol[] {
  const label = sectionLabel(s);
  if (s.entsize !== SYM_SIZE) fail(`${label}: sh_entsize is ${s.entsize}, expected ${SYM_SIZE}`);
  if (s.size % SYM_SIZE !== 0) fail(`${label}: size ${hex(s.size)} is not a multiple of ${SYM_SIZE}`);
  const strtab = sections[s.link];
  if (s.link === 0 || strtab === undefined || strtab.type !== SHT_STRTAB) {
    fail(`${label}: sh_link ${s.link} does not name a string table`);
  }
  const count = s.size / SYM_SIZE;
  if (count > 0 && s.info > count) fail(`${label}: sh_info ${s.info} (first global symbol) is past the ${count} symbols`);
  const symbols: ElfSymbol[] = [];
  for (let i = 0; i < count; i++) {
    const at = s.offset + i * SYM_SIZE;
    const what = (field: string): string => `${label}: symbol ${i}: ${field}`;
    const info = file.u8(at + SYM.info, what('st_info'));
    const sym: ElfSymbol = {
      index: i, name: '',
      nameOffset: file.u32(at + SYM.name, what('st_name')),
      bind: symBind(info), type: symType(info),
      other: file.u8(at + SYM.other, what('st_other')),
      shndx: file.u16(at + SYM.shndx, what('st_shndx')),
      value: file.address(at + SYM.value, what('st_value')),
      size: file.u64(at + SYM.size, what('st_size')),
    };
    sym.name = stringAt(file, strtab!, sym.nameOffset, what('st_name'), fail);
    const special = sym.shndx === SHN_UNDEF || sym.shndx === SHN_ABS || sym.shndx === SHN_COMMON;
    if (!special) {
      if (sym.shndx === SHN_XINDEX) fail(`${what('st_shndx')} is SHN_XINDEX (extended section indices are not supported)`);
      if (sym.shndx >= sections.length) {
        fail(`${what('st_shndx')} ${sym.shndx} for '${sym.name}' is not a section index (there are ${sections.length} sections)`);
      }
    }
    symbols.push(sym);
  }
  return symbols;
}

function readRelocations(
  file: Bytes, sections: ElfSection[], s: ElfSection, symbolTables: Map<number, ElfSymbol[]>,
  fail: (m: string) => never,
): ElfRelocationSection {
  const label = sectionLabel(s);
  if (s.entsize !== RELA_SIZE) fail(`${label}: sh_entsize is ${s.entsize}, expected ${RELA_SIZE}`);
  if (s.size % RELA_SIZE !== 0) fail(`${label}: size ${hex(s.size)} is not a multiple of ${RELA_SIZE}`);
  // sh_link names the symbol table; 0 is allowed (only relocations without a symbol).
  let symbolCount = 1;
  if (s.link !== 0) {
    const table = symbolTables.get(s.link);
    if (table === undefined) fail(`${label}: sh_link ${s.link} does not name a symbol table`);
    symbolCount = table!.length;
  }
  // sh_info names the section patched (0 in executables for dynamic relocations).
  if (s.info >= sections.length) fail(`${label}: sh_info ${s.info} is not a section index (there are ${sections.length} sections)`);
  const count = s.size / RELA_SIZE;
  const relocations: ElfRelocation[] = [];
  for (let i = 0; i < count; i++) {
    const at = s.offset + i * RELA_SIZE;
    const what = (field: string): string => `${label}: relocation ${i}: ${field}`;
    const offset = file.u64(at + RELA.offset, what('r_offset'));
    const info = file.u64big(at + RELA.info, what('r_info'));
    const addend = file.s64(at + RELA.addend, what('r_addend'));
    const symbol = Number(info >> 32n);
    const type = Number(info & 0xffffffffn);
    if (symbol >= symbolCount) {
      fail(`${what('symbol index')} ${symbol} is past the ${symbolCount} symbols of section ${s.link}`);
    }
    relocations.push({ offset, type, symbol, addend });
  }
  return { section: s, target: s.info, symtab: s.link, relocations };
}

/** The bytes of a section (empty for SHT_NOBITS and SHT_NULL). Bounds were checked by readElf. */
export function sectionData(elf: ElfFile, section: ElfSection): Uint8Array {
  if (section.type === SHT_NOBITS || section.type === SHT_NULL) return new Uint8Array(0);
  return elf.bytes.subarray(section.offset, section.offset + section.size);
}

/** Finds a section by name, or undefined. */
export function findSection(elf: ElfFile, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name);
}
