// Loading a bootable ELF64 image into physical memory, the way a boot loader
// does before it jumps to a kernel: every PT_LOAD segment is copied to its
// PHYSICAL address (p_paddr), the part of the segment beyond the file's bytes
// (p_memsz > p_filesz, the .bss) is zeroed, and execution starts at e_entry.
//
// The machine starts with paging off, so the entry point must be a physical
// address. An image linked at the addresses it is loaded at (virtual = physical,
// like the guest kernel in guest/) can use e_entry as it is; for an image whose
// segments have p_vaddr != p_paddr, the entry is translated through the
// segment that contains it.

import { readElf } from './elf/reader.js';
import { ElfError, EM_X86_64, ET_EXEC, PT_LOAD, hex } from './elf/elfTypes.js';

/** Where an image is loaded: physical memory as bytes (the machine's PhysicalMemory is one). */
export interface LoadTarget {
  readonly size: number;
  readonly bytes: Uint8Array;
}

/** A bad boot image: the message names the file and what is wrong with it. */
export class BootImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BootImageError';
  }
}

export interface BootSegment {
  /** Physical load address (p_paddr). */
  paddr: number;
  /** Virtual address the segment was linked at (p_vaddr). */
  vaddr: number;
  /** The file's bytes for the segment (p_filesz of them). */
  data: Uint8Array;
  /** Size in memory (p_memsz >= p_filesz); the rest is zero-filled. */
  memsz: number;
}

export interface BootImage {
  /** Physical address of the first instruction. */
  entry: number;
  segments: BootSegment[];
}

/** Parse and check an ELF64 executable for booting. Throws BootImageError. */
export function readBootImage(bytes: Uint8Array, name = 'image'): BootImage {
  let elf;
  try {
    elf = readElf(bytes, name);
  } catch (e) {
    if (e instanceof ElfError) throw new BootImageError(e.message);
    throw e;
  }
  const h = elf.header;
  if (h.type !== ET_EXEC) throw new BootImageError(`${name}: not an executable (e_type ${h.type}, expected ${ET_EXEC} ET_EXEC)`);
  if (h.machine !== EM_X86_64) throw new BootImageError(`${name}: not an x86-64 file (e_machine ${h.machine}, expected ${EM_X86_64})`);
  const segments: BootSegment[] = [];
  for (const p of elf.segments) {
    if (p.type !== PT_LOAD) continue;
    if (p.filesz > p.memsz) {
      throw new BootImageError(`${name}: segment ${p.index} has p_filesz ${hex(p.filesz)} larger than p_memsz ${hex(p.memsz)}`);
    }
    if (p.offset + p.filesz > bytes.length) {
      throw new BootImageError(`${name}: segment ${p.index} extends past the end of the file`);
    }
    segments.push({ paddr: p.paddr, vaddr: p.vaddr, data: bytes.subarray(p.offset, p.offset + p.filesz), memsz: p.memsz });
  }
  if (segments.length === 0) throw new BootImageError(`${name}: no PT_LOAD segments, nothing to load`);
  const home = segments.find((s) => h.entry >= s.vaddr && h.entry < s.vaddr + s.memsz);
  if (!home) throw new BootImageError(`${name}: the entry point ${hex(h.entry)} is not inside any PT_LOAD segment`);
  return { entry: home.paddr + (h.entry - home.vaddr), segments };
}

/** Copy the image's segments into physical memory. Throws BootImageError if one does not fit. */
export function loadBootImage(memory: LoadTarget, image: BootImage, name = 'image'): void {
  for (const s of image.segments) {
    if (s.paddr + s.memsz > memory.size) {
      throw new BootImageError(
        `${name}: segment at physical ${hex(s.paddr)}..${hex(s.paddr + s.memsz)} does not fit in ` +
        `${memory.size / (1024 * 1024)} MiB of memory`,
      );
    }
  }
  for (const s of image.segments) {
    memory.bytes.fill(0, s.paddr, s.paddr + s.memsz);
    memory.bytes.set(s.data, s.paddr);
  }
}
