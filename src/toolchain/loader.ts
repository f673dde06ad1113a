// Program loader: checks an executable before the kernel's exec maps it.
//
// exec is where untrusted bytes meet the kernel, so nothing in the file is
// believed until checked: the identification bytes, the header sizes, every
// segment's place in the file (offset + filesz, computed without overflow), its
// size in memory (memsz) against the caller's limits, its address range against
// user space [userBase, userLimit), overlap with the other segments (by page, as
// the kernel maps whole pages), and the entry point, which must be inside an
// executable segment. Only PT_LOAD segments are loaded; section headers are never
// read. All 64-bit fields are read as BigInt and compared before they become
// numbers, so a huge value cannot wrap or lose precision.

import { EHDR_SIZE, EM_X86_64, ET_EXEC, PAGE_SIZE, PF_R, PF_W, PF_X, PHDR_SIZE, PT_LOAD } from './elf/elfTypes.js';

export class LoaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoaderError';
  }
}

export interface LoaderLimits {
  userBase: number;        // lowest address a segment may use
  userLimit: number;       // segments must end at or below this address
  maxSegmentBytes: number; // largest p_memsz accepted for one segment
  /**
   * False for a kernel that copies each segment's bytes into fresh pages (xk's exec)
   * rather than mapping file pages: then a segment's p_offset need not equal its
   * p_vaddr modulo the page size, as in `ld -N` output (XK's user programs).
   */
  congruentOffsets?: boolean;
}

export interface LoadedSegment {
  vaddr: number;
  memsz: number;
  filesz: number;
  fileOffset: number;
  readable: boolean;
  writable: boolean;
  executable: boolean;
  /** A copy of the segment's filesz bytes from the file; the rest of memsz is zero. */
  data: Uint8Array;
}

export interface LoadedProgram {
  entry: number;
  /** PT_LOAD segments in increasing address order. */
  segments: LoadedSegment[];
  /** First address after the highest segment (where a heap can start). */
  end: number;
}

const PAGE = BigInt(PAGE_SIZE);
const MAX_PROGRAM_HEADERS = 64;

function hex(n: bigint | number): string { return '0x' + n.toString(16); }

export function loadExecutable(bytes: Uint8Array, limits: LoaderLimits): LoadedProgram {
  const fail = (message: string): never => { throw new LoaderError(`exec: ${message}`); };
  const { userBase, userLimit, maxSegmentBytes } = limits;
  if (!Number.isSafeInteger(userBase) || !Number.isSafeInteger(userLimit) || userBase < 0 || userBase >= userLimit
      || !Number.isSafeInteger(maxSegmentBytes) || maxSegmentBytes < 0) {
    fail(`bad loader limits (userBase ${userBase}, userLimit ${userLimit}, maxSegmentBytes ${maxSegmentBytes})`);
  }
  const length = BigInt(bytes.length);
  if (bytes.length < EHDR_SIZE) fail(`file is ${bytes.length} bytes, too short for an ELF header (64 bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  // Identification and header (all reads below are inside the 64 checked bytes).
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) fail('not an ELF file (bad magic number)');
  if (bytes[4] !== 2) fail(`not a 64-bit ELF file (EI_CLASS is ${bytes[4]}, expected 2)`);
  if (bytes[5] !== 1) fail(`not little-endian (EI_DATA is ${bytes[5]}, expected 1)`);
  if (bytes[6] !== 1) fail(`bad ELF version (EI_VERSION is ${bytes[6]}, expected 1)`);
  const type = view.getUint16(16, true);
  if (type !== ET_EXEC) fail(`not an executable (e_type is ${type}, expected ${ET_EXEC} ET_EXEC)`);
  const machine = view.getUint16(18, true);
  if (machine !== EM_X86_64) fail(`not an x86-64 program (e_machine is ${machine}, expected ${EM_X86_64})`);
  const version = view.getUint32(20, true);
  if (version !== 1) fail(`bad ELF version (e_version is ${version}, expected 1)`);
  const entry = view.getBigUint64(24, true);
  const phoff = view.getBigUint64(32, true);
  const phentsize = view.getUint16(54, true);
  const phnum = view.getUint16(56, true);
  if (phentsize !== PHDR_SIZE) fail(`e_phentsize is ${phentsize}, expected ${PHDR_SIZE}`);
  if (phnum === 0) fail('no program headers (e_phnum is 0)');
  if (phnum > MAX_PROGRAM_HEADERS) fail(`too many program headers (e_phnum is ${phnum}, at most ${MAX_PROGRAM_HEADERS})`);
  const tableSize = BigInt(phnum * PHDR_SIZE);
  if (phoff > length || tableSize > length - phoff) {
    fail(`program header table (e_phoff ${hex(phoff)}, ${phnum} entries) is past the end of the file (${bytes.length} bytes)`);
  }

  const base = BigInt(userBase);
  const limit = BigInt(userLimit);
  const maxBytes = BigInt(maxSegmentBytes);
  const segments: LoadedSegment[] = [];
  const ranges: { start: bigint; end: bigint; index: number }[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = Number(phoff) + i * PHDR_SIZE;
    if (view.getUint32(at, true) !== PT_LOAD) continue;
    const flags = view.getUint32(at + 4, true);
    const offset = view.getBigUint64(at + 8, true);
    const vaddr = view.getBigUint64(at + 16, true);
    const filesz = view.getBigUint64(at + 32, true);
    const memsz = view.getBigUint64(at + 40, true);
    const align = view.getBigUint64(at + 48, true);
    const what = `segment ${i}`;
    if (offset > length || filesz > length - offset) {
      fail(`${what}: p_offset ${hex(offset)} + p_filesz ${hex(filesz)} is past the end of the file (${bytes.length} bytes)`);
    }
    if (filesz > memsz) fail(`${what}: p_filesz ${hex(filesz)} is larger than p_memsz ${hex(memsz)}`);
    if (memsz === 0n) continue; // occupies nothing
    if (memsz > maxBytes) fail(`${what}: p_memsz ${hex(memsz)} is larger than the limit ${hex(maxBytes)}`);
    if (vaddr < base) fail(`${what}: p_vaddr ${hex(vaddr)} is below the start of user memory ${hex(base)}`);
    if (vaddr > limit || memsz > limit - vaddr) {
      fail(`${what}: ${hex(vaddr)} + p_memsz ${hex(memsz)} goes past the end of user memory ${hex(limit)}`);
    }
    if (align > 1n && (align & (align - 1n)) !== 0n) fail(`${what}: p_align ${hex(align)} is not a power of two`);
    // A kernel that maps file pages needs a file page to land at the same place in a memory page.
    if (limits.congruentOffsets !== false && vaddr % PAGE !== offset % PAGE) {
      fail(`${what}: p_vaddr ${hex(vaddr)} and p_offset ${hex(offset)} differ modulo the page size (${PAGE})`);
    }
    // Overlap is checked on whole pages, which the kernel will give one set of permissions.
    const start = vaddr - (vaddr % PAGE);
    const end = ((vaddr + memsz + PAGE - 1n) / PAGE) * PAGE;
    for (const r of ranges) {
      if (start < r.end && r.start < end) {
        fail(`segments ${r.index} and ${i} overlap (pages ${hex(r.start)}-${hex(r.end)} and ${hex(start)}-${hex(end)})`);
      }
    }
    ranges.push({ start, end, index: i });
    const o = Number(offset);
    segments.push({
      vaddr: Number(vaddr), memsz: Number(memsz), filesz: Number(filesz), fileOffset: o,
      readable: (flags & PF_R) !== 0, writable: (flags & PF_W) !== 0, executable: (flags & PF_X) !== 0,
      data: bytes.slice(o, o + Number(filesz)),
    });
  }
  if (segments.length === 0) fail('no loadable segments (no PT_LOAD with p_memsz > 0)');
  const entryOk = segments.some((s) => s.executable && entry >= BigInt(s.vaddr) && entry < BigInt(s.vaddr + s.memsz));
  if (!entryOk) fail(`entry point ${hex(entry)} is not inside an executable segment`);
  segments.sort((a, b) => a.vaddr - b.vaddr);
  const last = segments[segments.length - 1]!;
  return { entry: Number(entry), segments, end: last.vaddr + last.memsz };
}
