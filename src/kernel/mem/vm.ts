// Page tables: building and changing the 4-level x86-64 page tables that live in
// emulated physical memory, one tree per process.
//
// A linear address splits into four 9-bit table indices and a 12-bit offset:
//   bits 47..39 PML4, 38..30 PDPT, 29..21 PD, 20..12 PT, 11..0 offset in the page.
// Each entry is 8 bytes: the physical address of the next table (or of the page)
// in bits 51..12, and flag bits: P (present), W (writable), U (user-accessible).
// The processor ANDs W and U over all four levels, so a user page needs U at every
// level; the kernel half (PML4 slots 256..511) never has U set anywhere.
//
// Copy-on-write: bits 9..11 of an entry are ignored by the processor and free for
// the kernel. xk uses bit 9 as PTE_COW: "read-only only because it is shared after
// fork; the first write copies it" (pageFault.ts). A page that is read-only for
// good (program text, rodata) never has PTE_COW, so it never becomes writable.

import type { PhysicalMemory } from '../../machine/memory.js';
import type { FrameKey } from './copyin.js';
import type { PageAllocator } from './kalloc.js';
import { KERNBASE, PAGE_SIZE, USER_LIMIT } from './kernelLayout.js';

export const PTE_P = 0x1;
export const PTE_W = 0x2;
export const PTE_U = 0x4;
export const PTE_A = 0x20;
export const PTE_D = 0x40;
export const PTE_PS = 0x80;
/** Software bit: a writable page shared copy-on-write (mapped without W). */
export const PTE_COW = 0x200;

const TWO32 = 2 ** 32;
/** PML4 slot of KERNBASE: slots 256..511 are the kernel half, shared by all processes. */
const KERNEL_PML4_FIRST = 256;

/** A linear address (signed canonical) as an unsigned 48-bit number. */
function unsigned48(va: number): number {
  return va < 0 ? va + 2 ** 48 : va;
}
/** The four table indices of a linear address, PML4 first. */
export function tableIndices(va: number): [number, number, number, number] {
  const u = unsigned48(va);
  return [
    Math.floor(u / 2 ** 39) % 512,
    Math.floor(u / 2 ** 30) % 512,
    Math.floor(u / 2 ** 21) % 512,
    Math.floor(u / 2 ** 12) % 512,
  ];
}

/** Read the entry at physical address `at`: [flags (low 12 bits), physical address]. */
export function readEntry(mem: PhysicalMemory, at: number): { flags: number; addr: number } {
  const lo = mem.read32(at);
  const hi = mem.read32(at + 4) & 0x000fffff; // bits 51..32 of the address (63 = NX is ignored here)
  return { flags: lo & 0xfff, addr: hi * TWO32 + ((lo & ~0xfff) >>> 0) };
}
function writeEntry(mem: PhysicalMemory, at: number, addr: number, flags: number): void {
  mem.write64(at, ((addr % TWO32) | flags) >>> 0, Math.floor(addr / TWO32));
}

let doorKey: FrameKey | null = null;
/** copyin.ts registers its key once, when it is loaded. */
export function registerFrameKey(key: FrameKey): void {
  if (doorKey) throw new Error('kernel: the copy module\'s key is already registered');
  doorKey = key;
}

/** One page-table tree (a process's address space, or the kernel's). */
export class AddressSpace {
  /** Physical address of the PML4 (what goes in CR3). */
  readonly root: number;

  /** The memory the tables and pages are in: private (see frames()). */
  readonly #memory: PhysicalMemory;

  constructor(mem: PhysicalMemory, readonly allocator: PageAllocator, kernel?: AddressSpace) {
    this.#memory = mem;
    const root = allocator.alloc();
    if (root < 0) throw new OutOfMemory();
    this.root = root;
    if (kernel) {
      // Share the kernel half: copy PML4 slots 256..511 (they point to the same tables).
      for (let i = KERNEL_PML4_FIRST; i < 512; i++) {
        mem.write64(root + i * 8, mem.read32(kernel.root + i * 8), mem.read32(kernel.root + i * 8 + 4));
      }
    }
  }

  /** A new, empty process address space sharing this (the kernel's) half (exec, fork). */
  newProcessSpace(): AddressSpace {
    return new AddressSpace(this.#memory, this.allocator, this);
  }

  /**
   * The physical memory behind this address space, for the copy module only:
   * copyin.ts alone holds a FrameKey (its class is exported as a type only, and
   * its private member makes it nominal), so no other code can call this.
   */
  frames(key: FrameKey): PhysicalMemory {
    if (key !== doorKey) throw new Error('kernel: only the copy module (copyin.ts) reads the frames behind a page table');
    return this.#memory;
  }

  /**
   * A fresh physical page holding a copy of the user page mapped at `page` (the
   * first write to a copy-on-write page, pageFault.ts); -1 when `page` is not a
   * mapped user page or memory is exhausted. The caller maps it.
   */
  privateCopy(page: number): number {
    const e = page >= 0 && page < USER_LIMIT ? this.lookup(page) : undefined;
    if (!e || !(e.flags & PTE_U)) return -1;
    const copy = this.allocator.alloc();
    if (copy < 0) return -1;
    this.#memory.bytes.copyWithin(copy, e.addr, e.addr + PAGE_SIZE);
    this.allocator.invalidate(copy / PAGE_SIZE);
    return copy;
  }

  /**
   * Physical address of the last-level entry for `va`, creating missing tables
   * when `create` (with `tableFlags` on the new intermediate entries); -1 if absent.
   */
  walk(va: number, create: boolean, tableFlags = PTE_P | PTE_W | PTE_U): number {
    let table = this.root;
    const indices = tableIndices(va);
    for (let level = 0; level < 3; level++) {
      const at = table + indices[level] * 8;
      const e = readEntry(this.#memory, at);
      if (e.flags & PTE_P) {
        table = e.addr;
        continue;
      }
      if (!create) return -1;
      const next = this.allocator.alloc();
      if (next < 0) return -1;
      writeEntry(this.#memory, at, next, tableFlags);
      table = next;
    }
    return table + indices[3] * 8;
  }

  /** Map the page at `va` to physical page `pa`. False when a table could not be allocated. */
  map(va: number, pa: number, flags: number): boolean {
    const tableFlags = va < 0 ? PTE_P | PTE_W : PTE_P | PTE_W | PTE_U;
    const at = this.walk(va, true, tableFlags);
    if (at < 0) return false;
    writeEntry(this.#memory, at, pa, flags | PTE_P);
    return true;
  }

  /** The page mapped at `va`: its physical address and flags, or undefined. */
  lookup(va: number): { addr: number; flags: number } | undefined {
    const at = this.walk(va, false);
    if (at < 0) return undefined;
    const e = readEntry(this.#memory, at);
    return e.flags & PTE_P ? e : undefined;
  }

  /** Remove the mapping at `va`; returns the physical page it mapped, or -1. */
  unmap(va: number): number {
    const at = this.walk(va, false);
    if (at < 0) return -1;
    const e = readEntry(this.#memory, at);
    if (!(e.flags & PTE_P)) return -1;
    this.#memory.write64(at, 0, 0);
    return e.addr;
  }

  /** Allocate zeroed user pages covering [from, to). All or nothing. */
  allocUser(from: number, to: number, flags = PTE_U | PTE_W): boolean {
    const start = Math.floor(from / PAGE_SIZE) * PAGE_SIZE;
    for (let va = start; va < to; va += PAGE_SIZE) {
      if (this.lookup(va)) continue;
      const page = this.allocator.alloc();
      if (page < 0 || !this.map(va, page, flags)) {
        if (page >= 0) this.allocator.release(page);
        this.freeUser(start, va);
        return false;
      }
    }
    return true;
  }

  /** Unmap and free the user pages in [from, to) (page-rounded inward at `from`). */
  freeUser(from: number, to: number): void {
    const start = Math.ceil(from / PAGE_SIZE) * PAGE_SIZE;
    for (let va = start; va < to; va += PAGE_SIZE) {
      const page = this.unmap(va);
      if (page >= 0) this.allocator.release(page);
    }
  }

  /**
   * Visit every present user page entry in address order: the page's address, where
   * its entry lives (physical), the page it maps and the entry's flags.
   */
  forEachUserEntry(visit: (va: number, at: number, pa: number, flags: number) => void): void {
    const walkTable = (table: number, level: number, base: number): void => {
      const limit = level === 0 ? KERNEL_PML4_FIRST : 512;
      const span = 2 ** (39 - 9 * level);
      for (let i = 0; i < limit; i++) {
        const at = table + i * 8;
        const e = readEntry(this.#memory, at);
        if (!(e.flags & PTE_P)) continue;
        const va = base + i * span;
        if (va >= USER_LIMIT) return;
        if (level === 3) visit(va, at, e.addr, e.flags);
        else walkTable(e.addr, level + 1, va);
      }
    };
    walkTable(this.root, 0, 0);
  }

  /** Every mapped user page, in address order: [va, physical page, flags]. */
  userPages(): Array<[number, number, number]> {
    const pages: Array<[number, number, number]> = [];
    this.forEachUserEntry((va, _at, pa, flags) => pages.push([va, pa, flags]));
    return pages;
  }

  /**
   * Eager fork: copy every user page into `dest`. False when memory runs out (dest
   * keeps what it got). A copy-on-write page becomes a private writable copy.
   */
  copyUserPagesTo(dest: AddressSpace): boolean {
    for (const [va, pa, flags] of this.userPages()) {
      const page = this.allocator.alloc();
      if (page < 0) return false;
      if (!dest.map(va, page, flags & PTE_COW ? PTE_U | PTE_W : flags & (PTE_U | PTE_W))) {
        this.allocator.release(page);
        return false;
      }
      this.#memory.bytes.copyWithin(page, pa, pa + PAGE_SIZE);
    }
    return true;
  }

  /**
   * Copy-on-write fork: map every user page in `dest` too, one more holder each.
   * Writable pages lose W in BOTH spaces and get PTE_COW; read-only pages are
   * shared as they are. False when a page table cannot be allocated (dest keeps
   * what it got, with its references counted, so dest.destroy() undoes it).
   */
  shareUserPagesWith(dest: AddressSpace): boolean {
    let ok = true;
    let destTable = -1; // dest's last-level table for the current 2 MiB span, found once per span
    let destSpan = -1;
    this.forEachUserEntry((va, at, pa, flags) => {
      if (!ok) return;
      const shared = flags & (PTE_W | PTE_COW) ? (flags & ~PTE_W) | PTE_COW : flags;
      if (shared !== flags) writeEntry(this.#memory, at, pa, shared);
      const span = Math.floor(va / 2 ** 21);
      if (span !== destSpan) {
        const entry = dest.walk(va, true);
        if (entry < 0) {
          ok = false;
          return;
        }
        destTable = entry - (Math.floor(va / PAGE_SIZE) % 512) * 8;
        destSpan = span;
      }
      writeEntry(this.#memory, destTable + (Math.floor(va / PAGE_SIZE) % 512) * 8, pa, (shared & (PTE_U | PTE_W | PTE_COW)) | PTE_P);
      this.allocator.share(pa);
    });
    this.allocator.flushTlb(); // this space's writable entries just became read-only
    return ok;
  }

  /** Replace the flag bits of the entry mapping `va` (which must be present). */
  setFlags(va: number, flags: number): void {
    const at = this.walk(va, false);
    if (at < 0) return;
    const e = readEntry(this.#memory, at);
    if (e.flags & PTE_P) writeEntry(this.#memory, at, e.addr, (flags & 0xfff) | PTE_P);
  }

  /** Change the permission bits of the mapped pages in [from, to) (exec makes text read-only). */
  protect(from: number, to: number, flags: number): void {
    const start = Math.floor(from / PAGE_SIZE) * PAGE_SIZE;
    for (let va = start; va < to; va += PAGE_SIZE) {
      const at = this.walk(va, false);
      if (at < 0) continue;
      const e = readEntry(this.#memory, at);
      if (e.flags & PTE_P) writeEntry(this.#memory, at, e.addr, flags | PTE_P);
    }
  }

  /** Free every user page, the user half's tables, and the root. */
  destroy(): void {
    const release = (table: number, level: number): void => {
      const limit = level === 0 ? KERNEL_PML4_FIRST : 512;
      for (let i = 0; i < limit; i++) {
        const e = readEntry(this.#memory, table + i * 8);
        if (!(e.flags & PTE_P)) continue;
        if (level < 3) release(e.addr, level + 1);
        this.allocator.release(e.addr);
      }
    };
    release(this.root, 0);
    this.allocator.release(this.root);
  }
}

export class OutOfMemory extends Error {
  constructor() {
    super('out of physical memory');
  }
}

/**
 * The kernel's page table: the direct map KERNBASE + phys -> phys for all of
 * physical memory, present and writable, never user-accessible.
 */
export function buildKernelAddressSpace(mem: PhysicalMemory, allocator: PageAllocator): AddressSpace {
  const kernel = new AddressSpace(mem, allocator);
  for (let phys = 0; phys < mem.size; phys += PAGE_SIZE) {
    if (!kernel.map(KERNBASE + phys, phys, PTE_W)) throw new OutOfMemory();
  }
  return kernel;
}
