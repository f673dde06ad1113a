// Writes a relocatable ELF64 object file (ET_REL) for x86-64: the assembled
// sections, one .rela section per section that has relocations, the symbol
// table (locals first, as ELF requires), and the string tables.

import {
  ELF_MAGIC, EI_CLASS, EI_DATA, EI_VERSION, EI_OSABI, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_SYSV,
  ET_REL, EM_X86_64, EHDR_SIZE, SHDR_SIZE, SYM_SIZE, RELA_SIZE, EHDR, SHDR, SYM, RELA,
  SHT_NULL, SHT_NOBITS, SHT_RELA, SHT_SYMTAB, SHT_STRTAB, SHF_INFO_LINK, STB_LOCAL,
  SHN_UNDEF, SHN_ABS, SHN_COMMON, symInfo,
} from '../elf/elfTypes.js';

export interface ObjectSymbol {
  name: string;
  value: bigint;
  size: bigint;
  binding: number; // STB_*
  type: number; // STT_*
  other: number; // visibility
  /** Index into ObjectFile.sections, or 'undefined' / 'absolute' / 'common'. */
  section: number | 'undefined' | 'absolute' | 'common';
}

export interface ObjectRelocation {
  offset: bigint;
  type: number; // R_X86_64_*
  symbol: ObjectSymbol | null; // null: no symbol (index 0)
  addend: bigint;
}

export interface ObjectSection {
  name: string;
  type: number; // SHT_*
  flags: bigint;
  alignment: number;
  entsize: number;
  /** Contents (for SHT_NOBITS only the length counts). */
  data: Uint8Array;
  relocations: ObjectRelocation[];
}

export interface ObjectFile {
  sections: ObjectSection[];
  /** Symbols in table order; locals must come before globals. */
  symbols: ObjectSymbol[];
}

/** A string table under construction. */
class StringTable {
  private bytes: number[] = [0];
  private offsets = new Map<string, number>();
  add(s: string): number {
    if (s === '') return 0;
    const known = this.offsets.get(s);
    if (known !== undefined) return known;
    const at = this.bytes.length;
    for (let i = 0; i < s.length; i++) this.bytes.push(s.charCodeAt(i) & 0xff); // latin1
    this.bytes.push(0);
    this.offsets.set(s, at);
    return at;
  }
  data(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

interface OutSection {
  name: string;
  type: number;
  flags: bigint;
  link: number;
  info: number;
  alignment: number;
  entsize: number;
  data: Uint8Array;
  size: number;
}

/** Serializes an object file to bytes. */
export function writeObject(obj: ObjectFile): Uint8Array {
  const out: OutSection[] = [{ name: '', type: SHT_NULL, flags: 0n, link: 0, info: 0, alignment: 0, entsize: 0, data: new Uint8Array(0), size: 0 }];
  // section header index of each input section, and of its relocations
  const headerIndex: number[] = [];
  const relaFor: { section: number; header: number }[] = [];
  obj.sections.forEach((s, i) => {
    headerIndex[i] = out.length;
    out.push({ name: s.name, type: s.type, flags: s.flags, link: 0, info: 0, alignment: s.alignment, entsize: s.entsize, data: s.data, size: s.data.length });
    if (s.relocations.length) {
      relaFor.push({ section: i, header: out.length });
      out.push({ name: '.rela' + s.name, type: SHT_RELA, flags: BigInt(SHF_INFO_LINK), link: 0, info: headerIndex[i], alignment: 8, entsize: RELA_SIZE, data: new Uint8Array(0), size: 0 });
    }
  });
  const symtabIndex = out.length;
  const strtabIndex = symtabIndex + 1;
  const shstrtabIndex = symtabIndex + 2;

  // symbol table
  const strtab = new StringTable();
  const symbolIndex = new Map<ObjectSymbol, number>();
  const symtab = new Uint8Array(SYM_SIZE * (obj.symbols.length + 1));
  const sv = new DataView(symtab.buffer);
  let firstGlobal = obj.symbols.length + 1;
  obj.symbols.forEach((s, k) => {
    const i = k + 1;
    symbolIndex.set(s, i);
    if (s.binding !== STB_LOCAL && firstGlobal > i) firstGlobal = i;
    const at = i * SYM_SIZE;
    sv.setUint32(at + SYM.name, strtab.add(s.name), true);
    sv.setUint8(at + SYM.info, symInfo(s.binding, s.type));
    sv.setUint8(at + SYM.other, s.other);
    const shndx = s.section === 'undefined' ? SHN_UNDEF : s.section === 'absolute' ? SHN_ABS : s.section === 'common' ? SHN_COMMON : headerIndex[s.section];
    sv.setUint16(at + SYM.shndx, shndx, true);
    sv.setBigUint64(at + SYM.value, BigInt.asUintN(64, s.value), true);
    sv.setBigUint64(at + SYM.size, BigInt.asUintN(64, s.size), true);
  });
  out.push({ name: '.symtab', type: SHT_SYMTAB, flags: 0n, link: strtabIndex, info: firstGlobal, alignment: 8, entsize: SYM_SIZE, data: symtab, size: symtab.length });

  // relocations
  for (const { section, header } of relaFor) {
    const relocs = obj.sections[section].relocations;
    const data = new Uint8Array(RELA_SIZE * relocs.length);
    const dv = new DataView(data.buffer);
    relocs.forEach((r, k) => {
      const at = k * RELA_SIZE;
      const sym = r.symbol ? symbolIndex.get(r.symbol) : 0;
      if (sym === undefined) throw new Error(`relocation against symbol '${r.symbol!.name}' missing from the symbol table`);
      dv.setBigUint64(at + RELA.offset, r.offset, true);
      dv.setBigUint64(at + RELA.info, (BigInt(sym) << 32n) | BigInt(r.type), true);
      dv.setBigInt64(at + RELA.addend, r.addend, true);
    });
    out[header].data = data;
    out[header].size = data.length;
    out[header].link = symtabIndex;
  }

  const strData = strtab.data();
  out.push({ name: '.strtab', type: SHT_STRTAB, flags: 0n, link: 0, info: 0, alignment: 1, entsize: 0, data: strData, size: strData.length });
  const shstrtab = new StringTable();
  const nameOffsets = out.map((s) => shstrtab.add(s.name));
  const shstrIndexName = shstrtab.add('.shstrtab');
  const shData = shstrtab.data();
  out.push({ name: '.shstrtab', type: SHT_STRTAB, flags: 0n, link: 0, info: 0, alignment: 1, entsize: 0, data: shData, size: shData.length });
  nameOffsets.push(shstrIndexName);

  // file layout: header, section contents (aligned), section header table
  let offset = EHDR_SIZE;
  const offsets: number[] = [];
  for (const s of out) {
    const align = Math.max(1, s.alignment);
    if (s.type !== SHT_NULL) offset = Math.ceil(offset / align) * align;
    offsets.push(s.type === SHT_NULL ? 0 : offset);
    if (s.type !== SHT_NOBITS) offset += s.data.length;
  }
  const shoff = Math.ceil(offset / 8) * 8;
  const file = new Uint8Array(shoff + SHDR_SIZE * out.length);
  const fv = new DataView(file.buffer);
  file.set(ELF_MAGIC, 0);
  file[EI_CLASS] = ELFCLASS64;
  file[EI_DATA] = ELFDATA2LSB;
  file[EI_VERSION] = EV_CURRENT;
  file[EI_OSABI] = ELFOSABI_SYSV;
  fv.setUint16(EHDR.type, ET_REL, true);
  fv.setUint16(EHDR.machine, EM_X86_64, true);
  fv.setUint32(EHDR.version, EV_CURRENT, true);
  fv.setBigUint64(EHDR.shoff, BigInt(shoff), true);
  fv.setUint16(EHDR.ehsize, EHDR_SIZE, true);
  fv.setUint16(EHDR.shentsize, SHDR_SIZE, true);
  fv.setUint16(EHDR.shnum, out.length, true);
  fv.setUint16(EHDR.shstrndx, shstrtabIndex, true);
  out.forEach((s, i) => {
    if (s.type !== SHT_NOBITS && s.type !== SHT_NULL) file.set(s.data, offsets[i]);
    const at = shoff + i * SHDR_SIZE;
    fv.setUint32(at + SHDR.name, nameOffsets[i], true);
    fv.setUint32(at + SHDR.type, s.type, true);
    fv.setBigUint64(at + SHDR.flags, s.flags, true);
    fv.setBigUint64(at + SHDR.offset, BigInt(offsets[i]), true);
    fv.setBigUint64(at + SHDR.size, BigInt(s.size), true);
    fv.setUint32(at + SHDR.link, s.link, true);
    fv.setUint32(at + SHDR.info, s.info, true);
    fv.setBigUint64(at + SHDR.addralign, BigInt(s.alignment), true);
    fv.setBigUint64(at + SHDR.entsize, BigInt(s.entsize), true);
  });
  return file;
}
