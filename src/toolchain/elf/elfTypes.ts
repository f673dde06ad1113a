// ELF64 constants and structure layouts for x86-64 (System V ABI, little-endian).
//
// Every structure is described twice: as a TypeScript interface (what the reader
// returns and the writers take) and as a table of byte offsets inside the record
// (what code that reads or writes raw bytes with a DataView uses). 64-bit fields
// are JavaScript numbers: the reader refuses values that a number cannot hold
// exactly (above 2^53), which never happens for the programs this toolchain builds.

// ---------------------------------------------------------------- identification

/** e_ident[0..3]: 0x7f 'E' 'L' 'F'. */
export const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const;
export const EI_CLASS = 4;
export const EI_DATA = 5;
export const EI_VERSION = 6;
export const EI_OSABI = 7;
export const EI_ABIVERSION = 8;
export const EI_NIDENT = 16;

export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const EV_CURRENT = 1;
export const ELFOSABI_SYSV = 0;

// ---------------------------------------------------------------- file types, machine

export const ET_NONE = 0;
export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_CORE = 4;

export const EM_X86_64 = 62;

// ---------------------------------------------------------------- record sizes

export const EHDR_SIZE = 64;
export const SHDR_SIZE = 64;
export const PHDR_SIZE = 56;
export const SYM_SIZE = 24;
export const RELA_SIZE = 24;
export const REL_SIZE = 16;

/** Byte offsets of the ELF header fields (Elf64_Ehdr). */
export const EHDR = {
  ident: 0,      // 16 bytes
  type: 16,      // u16
  machine: 18,   // u16
  version: 20,   // u32
  entry: 24,     // u64
  phoff: 32,     // u64
  shoff: 40,     // u64
  flags: 48,     // u32
  ehsize: 52,    // u16
  phentsize: 54, // u16
  phnum: 56,     // u16
  shentsize: 58, // u16
  shnum: 60,     // u16
  shstrndx: 62,  // u16
} as const;

/** Byte offsets of the section header fields (Elf64_Shdr). */
export const SHDR = {
  name: 0,       // u32, index into .shstrtab
  type: 4,       // u32
  flags: 8,      // u64
  addr: 16,      // u64
  offset: 24,    // u64
  size: 32,      // u64
  link: 40,      // u32
  info: 44,      // u32
  addralign: 48, // u64
  entsize: 56,   // u64
} as const;

/** Byte offsets of the program header fields (Elf64_Phdr). */
export const PHDR = {
  type: 0,    // u32
  flags: 4,   // u32
  offset: 8,  // u64
  vaddr: 16,  // u64
  paddr: 24,  // u64
  filesz: 32, // u64
  memsz: 40,  // u64
  align: 48,  // u64
} as const;

/** Byte offsets of the symbol fields (Elf64_Sym). */
export const SYM = {
  name: 0,  // u32, index into the linked string table
  info: 4,  // u8, binding << 4 | type
  other: 5, // u8, visibility in the low 2 bits
  shndx: 6, // u16, section index or SHN_*
  value: 8, // u64
  size: 16, // u64
} as const;

/** Byte offsets of the relocation-with-addend fields (Elf64_Rela). */
export const RELA = {
  offset: 0, // u64, where to patch (section offset in .o files)
  info: 8,   // u64, symbol index << 32 | type
  addend: 16, // s64
} as const;

// ---------------------------------------------------------------- sections

export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_HASH = 5;
export const SHT_DYNAMIC = 6;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_DYNSYM = 11;
export const SHT_INIT_ARRAY = 14;
export const SHT_FINI_ARRAY = 15;
export const SHT_GROUP = 17;
export const SHT_SYMTAB_SHNDX = 18;
export const SHT_X86_64_UNWIND = 0x70000001;

export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const SHF_MERGE = 0x10;
export const SHF_STRINGS = 0x20;
export const SHF_INFO_LINK = 0x40;
export const SHF_GROUP = 0x200;

// ---------------------------------------------------------------- symbols

export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;

export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;
export const STT_COMMON = 5;

export const STV_DEFAULT = 0;
export const STV_HIDDEN = 2;

export function symBind(info: number): number { return info >> 4; }
export function symType(info: number): number { return info & 0xf; }
export function symInfo(bind: number, type: number): number { return ((bind & 0xf) << 4) | (type & 0xf); }

// ---------------------------------------------------------------- relocations (x86-64 psABI)
// S = symbol value, A = addend, P = address of the place patched, G/GOT = GOT entry.

export const R_X86_64_NONE = 0;
export const R_X86_64_64 = 1;        // word64: S + A
export const R_X86_64_PC32 = 2;      // word32: S + A - P (signed)
export const R_X86_64_GOT32 = 3;
export const R_X86_64_PLT32 = 4;     // word32: L + A - P; static links use S for L
export const R_X86_64_GOTPCREL = 9;  // word32: G + GOT + A - P
export const R_X86_64_32 = 10;       // word32: S + A, zero-extended (must fit in u32)
export const R_X86_64_32S = 11;      // word32: S + A, sign-extended (must fit in s32)
export const R_X86_64_16 = 12;
export const R_X86_64_PC16 = 13;
export const R_X86_64_8 = 14;
export const R_X86_64_PC8 = 15;
export const R_X86_64_PC64 = 24;     // word64: S + A - P
export const R_X86_64_GOTPCRELX = 41;     // like GOTPCREL; the linker may relax the instruction
export const R_X86_64_REX_GOTPCRELX = 42; // same, instruction has a REX prefix

export const RELOCATION_NAMES: ReadonlyMap<number, string> = new Map([
  [R_X86_64_NONE, 'R_X86_64_NONE'],
  [R_X86_64_64, 'R_X86_64_64'],
  [R_X86_64_PC32, 'R_X86_64_PC32'],
  [R_X86_64_GOT32, 'R_X86_64_GOT32'],
  [R_X86_64_PLT32, 'R_X86_64_PLT32'],
  [R_X86_64_GOTPCREL, 'R_X86_64_GOTPCREL'],
  [R_X86_64_32, 'R_X86_64_32'],
  [R_X86_64_32S, 'R_X86_64_32S'],
  [R_X86_64_16, 'R_X86_64_16'],
  [R_X86_64_PC16, 'R_X86_64_PC16'],
  [R_X86_64_8, 'R_X86_64_8'],
  [R_X86_64_PC8, 'R_X86_64_PC8'],
  [R_X86_64_PC64, 'R_X86_64_PC64'],
  [R_X86_64_GOTPCRELX, 'R_X86_64_GOTPCRELX'],
  [R_X86_64_REX_GOTPCRELX, 'R_X86_64_REX_GOTPCRELX'],
]);

export function relocationName(type: number): string {
  return RELOCATION_NAMES.get(type) ?? `relocation type ${type}`;
}

/** r_info packs the symbol index (high 32 bits) and the type (low 32 bits). */
export function relaSym(info: bigint): number { return Number(info >> 32n); }
export function relaType(info: bigint): number { return Number(info & 0xffffffffn); }
export function relaInfo(sym: number, type: number): bigint { return (BigInt(sym) << 32n) | BigInt(type >>> 0); }

// ---------------------------------------------------------------- segments

export const PT_NULL = 0;
export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;
export const PT_NOTE = 4;
export const PT_PHDR = 6;
export const PT_TLS = 7;
export const PT_GNU_STACK = 0x6474e551;

export const PF_X = 0x1;
export const PF_W = 0x2;
export const PF_R = 0x4;

/** x86-64 page size; PT_LOAD segments are aligned to it. */
export const PAGE_SIZE = 0x1000;

// ---------------------------------------------------------------- parsed structures

export interface ElfHeader {
  fileClass: number;   // e_ident[EI_CLASS]
  dataEncoding: number; // e_ident[EI_DATA]
  osabi: number;
  type: number;        // ET_*
  machine: number;     // EM_*
  version: number;
  entry: number;
  phoff: number;
  shoff: number;
  flags: number;
  ehsize: number;
  phentsize: number;
  phnum: number;
  shentsize: number;
  shnum: number;
  shstrndx: number;
}

export interface ElfSection {
  index: number;
  name: string;
  nameOffset: number;
  type: number;      // SHT_*
  flags: number;     // SHF_*
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

export interface ElfSymbol {
  index: number;
  name: string;
  nameOffset: number;
  value: number;
  size: number;
  bind: number;       // STB_*
  type: number;       // STT_*
  other: number;
  shndx: number;      // section index or SHN_*
}

export interface ElfRelocation {
  offset: number;   // place, as an offset into the target section (.o) or an address
  type: number;     // R_X86_64_*
  symbol: number;   // index into the symbol table
  addend: number;   // signed
}

export interface ElfRelocationSection {
  section: ElfSection;     // the SHT_RELA section itself
  target: number;          // index of the section it patches (sh_info)
  symtab: number;          // index of the symbol table it uses (sh_link)
  relocations: ElfRelocation[];
}

export interface ElfSegment {
  index: number;
  type: number;   // PT_*
  flags: number;  // PF_*
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
  align: number;
}

export interface ElfFile {
  bytes: Uint8Array;
  header: ElfHeader;
  sections: ElfSection[];
  segments: ElfSegment[];
  /** Symbols of the (single) SHT_SYMTAB section, index 0 included; empty if there is none. */
  symbols: ElfSymbol[];
  /** Index of the SHT_SYMTAB section, or 0 if none. */
  symtabIndex: number;
  relocationSections: ElfRelocationSection[];
}

/** The one error type for malformed ELF files: its message names the field that was wrong. */
export class ElfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ElfError';
  }
}

export function hex(n: number | bigint): string {
  return (n < 0 ? '-0x' + (-BigInt(n)).toString(16) : '0x' + n.toString(16));
}
