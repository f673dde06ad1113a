// The MMU: 4-level x86-64 paging with a software TLB.
//
// A 48-bit linear address splits into four 9-bit table indexes and a 12-bit
// offset:  | PML4 47..39 | PDPT 38..30 | PD 29..21 | PT 20..12 | offset 11..0 |.
// CR3 holds the physical address of the PML4. Each entry is 64 bits:
//   bit 0 P (present), 1 R/W (writable), 2 U/S (user), 5 A (accessed),
//   6 D (dirty, leaf only), 7 PS (page size: a 1 GiB page in a PDPT entry, a
//   2 MiB page in a PD entry), 12..51 physical address, 63 XD (no execute,
//   only meaningful when EFER.NXE = 1; otherwise it is a reserved bit).
// Permissions are the AND of all levels: a page is writable only if every
// entry on the path has R/W = 1, user-accessible only if every entry has U/S = 1,
// and not executable if any entry has XD = 1.
//
// Reset state of the xk machine: flat 64-bit mode with CR0.PG = 0, where
// translation is the identity. (Real hardware cannot run 64-bit code without
// paging; xk allows it so that small test programs need no page tables.)

import { CpuFault, PF, PF_I, PF_P, PF_RSVD, PF_U, PF_W } from './exceptions.js';
import { PhysicalMemory } from './memory.js';

/** CR0 bits. */
export const CR0_PE = 1 << 0;
export const CR0_MP = 1 << 1;
export const CR0_EM = 1 << 2;
export const CR0_TS = 1 << 3;
export const CR0_ET = 1 << 4;
export const CR0_NE = 1 << 5;
export const CR0_WP = 1 << 16;
export const CR0_AM = 1 << 18;
export const CR0_PG = 0x80000000;
/** CR4 bits. */
/** Debugging extensions: DR4/DR5 are #UD instead of aliases of DR6/DR7. */
export const CR4_DE = 1 << 3;
export const CR4_PSE = 1 << 4;
export const CR4_PAE = 1 << 5;
export const CR4_PGE = 1 << 7;
/** EFER (MSR 0xC0000080) bits. */
export const EFER_SCE = 1 << 0;
export const EFER_LME = 1 << 8;
export const EFER_LMA = 1 << 10;
export const EFER_NXE = 1 << 11;

/** Page-table entry bits (low 32 bits of the entry). */
export const PTE_P = 1 << 0;
export const PTE_W = 1 << 1;
export const PTE_U = 1 << 2;
export const PTE_PWT = 1 << 3;
export const PTE_PCD = 1 << 4;
export const PTE_A = 1 << 5;
export const PTE_D = 1 << 6;
export const PTE_PS = 1 << 7;
export const PTE_G = 1 << 8;
/** The XD bit is bit 63, i.e. bit 31 of the entry's high half. */
export const PTE_HI_XD = 0x80000000;

export type Access = 'read' | 'write' | 'execute';

/** The registers the MMU reads (the Cpu has all of them). cr2 is written on #PF. */
export interface PagingRegisters {
  cr0: number;
  cr2: number;
  cr3: number;
  cr4: number;
  efer: number;
}

/** Effective permissions of a translation (also the TLB's permission bits). */
export const PERM_W = 1; // every level writable
export const PERM_U = 2; // every level user-accessible
export const PERM_NX = 4; // some level has XD (and EFER.NXE = 1)
export const PERM_D = 8; // the leaf entry's dirty bit is set
const PERM_LARGE = 16; // came from a 2 MiB or 1 GiB page

export interface Translation {
  /** Physical address of the byte at `linear`. */
  phys: number;
  /** PERM_* bits. */
  perms: number;
  /** Page size in bytes: 4096, 2 MiB or 1 GiB. */
  pageSize: number;
}

const TWO_32 = 0x100000000;
const TWO_48 = 2 ** 48;
const TLB_SIZE = 4096; // direct-mapped, indexed by the low bits of the page number
/**
 * The TLB slot of a linear page number: its low 12 bits folded with the next
 * 24, so that pages 2^n apart for large n (the VMM's pages at the top of the
 * address space and a guest's at 0x40000000) do not keep evicting each other.
 */
const tlbSlot = (page: number): number => (page ^ (page >>> 12) ^ (page >>> 24)) & (TLB_SIZE - 1);
/** Most TLBs of other roots kept by switchRoot. */
const KEPT_TLBS = 4;

/** The TLB of a root that is not the current one (Mmu.switchRoot). */
interface KeptTlb { root: number; page: Float64Array; frame: Float64Array; perms: Uint8Array; largeEntries: number; used: number }

/** Physical address held in bits 12..51 of an entry (lo/hi halves). */
function entryAddress(lo: number, hi: number): number {
  return ((lo & 0xfffff000) >>> 0) + (hi & 0xfffff) * TWO_32;
}

/** The linear address as an unsigned 48-bit number (the bits paging uses). */
function low48(linear: number): number {
  return linear < 0 ? linear + TWO_48 : linear;
}

/**
 * Why a walk failed, as a page-fault error code without the W/U/I access bits
 * (0 = not present, PF_P = protection, PF_P|PF_RSVD = reserved bit).
 */
interface WalkResult {
  ok: boolean;
  errorBits: number;
  phys: number;
  perms: number;
  pageSize: number;
  /** Physical addresses of the entries used (for A/D updates). */
  entries: number[];
}

/**
 * Walk the page tables rooted at `cr3` for `linear` without side effects.
 * Used by the MMU (which then sets A/D bits) and by software that must
 * inspect a page table the way the hardware would (the kernel's copyin).
 */
export function walkPageTables(memory: PhysicalMemory, cr3: number, nxe: boolean, linear: number): WalkResult {
  const u = low48(linear);
  let table = cr3 - (cr3 % 4096);
  let perms = PERM_W | PERM_U;
  const entries: number[] = [];
  // Shift amounts for PML4, PDPT, PD, PT indexes.
  const shifts = [39, 30, 21, 12];
  for (let level = 0; level < 4; level++) {
    const index = Math.floor(u / 2 ** shifts[level]) & 511;
    const at = table + index * 8;
    const lo = memory.read32(at);
    const hi = memory.read32(at + 4);
    entries.push(at);
    if ((lo & PTE_P) === 0) return { ok: false, errorBits: 0, phys: 0, perms, pageSize: 0, entries };
    if ((hi & PTE_HI_XD) !== 0) {
      if (!nxe) return { ok: false, errorBits: PF_P | PF_RSVD, phys: 0, perms, pageSize: 0, entries };
      perms |= PERM_NX;
    }
    if ((lo & PTE_W) === 0) perms &= ~PERM_W;
    if ((lo & PTE_U) === 0) perms &= ~PERM_U;
    const isLeaf = level === 3 || (lo & PTE_PS) !== 0;
    if (isLeaf) {
      if (level === 0) return { ok: false, errorBits: PF_P | PF_RSVD, phys: 0, perms, pageSize: 0, entries };
      const pageSize = 2 ** shifts[level];
      // In a large-page entry bit 12 is PAT; bits 13 up to the page size are reserved.
      if (level < 3 && ((lo >>> 13) & ((pageSize >>> 13) - 1)) !== 0) {
        return { ok: false, errorBits: PF_P | PF_RSVD, phys: 0, perms, pageSize: 0, entries };
      }
      const base = level < 3 ? entryAddress(lo & ~0x1fff, hi) : entryAddress(lo, hi);
      if ((lo & PTE_D) !== 0) perms |= PERM_D;
      if (level < 3) perms |= PERM_LARGE;
      return { ok: true, errorBits: 0, phys: base + (u % pageSize), perms, pageSize, entries };
    }
    table = entryAddress(lo, hi);
  }
  throw new Error('page walk: unreachable');
}

/** Does an access of this kind at this CPL pass the permission bits? */
export function permits(perms: number, access: Access, cpl: number, wp: boolean): boolean {
  const user = cpl === 3;
  if (user && (perms & PERM_U) === 0) return false;
  if (access === 'write' && (perms & PERM_W) === 0 && (user || wp)) return false;
  if (access === 'execute' && (perms & PERM_NX) !== 0) return false;
  return true;
}

export class Mmu {
  readonly memory: PhysicalMemory;
  /** Where CR0/CR3/CR4/EFER are read and CR2 written; the Machine points this at its Cpu. */
  regs: PagingRegisters;

  // Software TLB: direct-mapped by linear page number.
  private tlbPage: Float64Array = new Float64Array(TLB_SIZE).fill(NaN);
  private tlbFrame: Float64Array = new Float64Array(TLB_SIZE);
  private tlbPerms: Uint8Array = new Uint8Array(TLB_SIZE);
  private largeEntries = 0;
  /**
   * The TLBs of the other page-table roots a host switches between (switchRoot).
   * Their tables and the current ones are swapped, never shared: an ordinary
   * field, so that whatever puts a machine back as it was (the fuzzer's reset,
   * src/vmm/fuzz/snapshot.ts) puts these back with the current tables. A saved
   * VM state (src/vmm/vmState.ts) skips it: a resumed machine starts with none kept.
   */
  private keptTlbs: KeptTlb[] = [];
  /** Switches so far: the kept TLB used longest ago is the one replaced. */
  private rootSwitches = 0;
  /** Number of page-table walks performed (for tests and statistics). */
  walks = 0;
  /**
   * Bumped by every flush and flushPage: the CPU keeps its own small caches of
   * translations (the current code page, recent data pages) and drops them
   * when this changes.
   */
  generation = 0;

  constructor(memory: PhysicalMemory, regs?: PagingRegisters) {
    this.memory = memory;
    this.regs = regs ?? { cr0: 0, cr2: 0, cr3: 0, cr4: 0, efer: 0 };
  }

  /** Is paging on (CR0.PG)? */
  get pagingEnabled(): boolean {
    return (this.regs.cr0 & CR0_PG) !== 0;
  }

  /**
   * Translate a canonical linear address (signed form) to a physical address
   * for an access of the given kind at the given CPL, or throw #PF after
   * setting CR2. Only the page containing `linear` is checked; callers split
   * accesses that cross a page boundary.
   */
  translate(linear: number, access: Access, cpl: number): number {
    const regs = this.regs;
    if ((regs.cr0 & CR0_PG) === 0) return low48(linear);
    const page = Math.floor(linear / 4096);
    const slot = tlbSlot(page);
    const wp = (regs.cr0 & CR0_WP) !== 0;
    if (this.tlbPage[slot] === page) {
      const perms = this.tlbPerms[slot];
      // A write to a page whose D bit is clear must walk again to set D.
      if (permits(perms, access, cpl, wp) && (access !== 'write' || (perms & PERM_D) !== 0)) {
        return this.tlbFrame[slot] * 4096 + (linear & 0xfff);
      }
    }
    return this.walkAndFill(linear, access, cpl, wp, page, slot);
  }

  private walkAndFill(linear: number, access: Access, cpl: number, wp: boolean, page: number, slot: number): number {
    const regs = this.regs;
    const nxe = (regs.efer & EFER_NXE) !== 0;
    this.walks++;
    const walk = walkPageTables(this.memory, regs.cr3, nxe, linear);
    let errorBits = walk.errorBits;
    if (walk.ok && !permits(walk.perms, access, cpl, wp)) errorBits = PF_P;
    else if (walk.ok) {
      // Success: set the accessed bit on every level, and dirty on the leaf for writes.
      const mem = this.memory;
      for (const at of walk.entries) {
        const lo = mem.read32(at);
        if ((lo & PTE_A) === 0) mem.write32(at, lo | PTE_A);
      }
      let perms = walk.perms;
      if (access === 'write') {
        const leaf = walk.entries[walk.entries.length - 1];
        const lo = mem.read32(leaf);
        if ((lo & PTE_D) === 0) mem.write32(leaf, lo | PTE_D);
        perms |= PERM_D;
      }
      const frame = Math.floor(walk.phys / 4096);
      if (!Number.isNaN(this.tlbPage[slot]) && (this.tlbPerms[slot] & PERM_LARGE) !== 0) this.largeEntries--;
      this.tlbPage[slot] = page;
      this.tlbFrame[slot] = frame;
      this.tlbPerms[slot] = perms;
      if ((perms & PERM_LARGE) !== 0) this.largeEntries++;
      return frame * 4096 + (linear & 0xfff);
    }
    let code = errorBits;
    if (access === 'write') code |= PF_W;
    if (cpl === 3) code |= PF_U;
    if (access === 'execute' && nxe) code |= PF_I;
    regs.cr2 = linear;
    throw new CpuFault(PF, code);
  }

  /**
   * Translate without side effects (no A/D bits, no CR2, no TLB fill):
   * the physical address, or -1 if the access would fault.
   */
  probe(linear: number, access: Access, cpl: number): number {
    const regs = this.regs;
    if ((regs.cr0 & CR0_PG) === 0) return low48(linear);
    const walk = walkPageTables(this.memory, regs.cr3, (regs.efer & EFER_NXE) !== 0, linear);
    if (!walk.ok || !permits(walk.perms, access, cpl, (regs.cr0 & CR0_WP) !== 0)) return -1;
    return walk.phys;
  }

  /** Forget every cached translation (CR3 writes, paging-mode changes), the kept TLBs' too. */
  flush(): void {
    this.generation++;
    this.tlbPage.fill(NaN);
    this.largeEntries = 0;
    for (const k of this.keptTlbs) { k.page.fill(NaN); k.largeEntries = 0; }
  }

  /**
   * Make `root` the page-table root (CR3), keeping the TLB of the root it
   * replaces and taking back the one kept for `root`, as a processor with
   * process-context identifiers does: a host that switches between page tables
   * it maintains itself (the VMM's two shadow roots, src/vmm/host.ts) does not
   * walk them again after every switch. flush and flushPage act on every kept
   * TLB too, so that host must call them whenever any of its tables change.
   * At most KEPT_TLBS roots are kept (the least recently used goes).
   */
  switchRoot(root: number): void {
    const regs = this.regs;
    if (regs.cr3 === root) return;
    // The record kept for `root`, else a new one (up to KEPT_TLBS), else the least recently used
    // (emptied). It then keeps the current root's TLB: the two swap their tables, nothing is allocated.
    const kept = this.keptTlbs;
    let next: KeptTlb | undefined;
    for (const k of kept) {
      if (k.root === root) next = k;
      else if (k.root === regs.cr3) { k.root = -1; k.page.fill(NaN); k.largeEntries = 0; k.used = 0; } // older than the TLB it is about to keep
    }
    if (next === undefined) {
      if (kept.length < KEPT_TLBS) {
        next = { root, page: new Float64Array(TLB_SIZE).fill(NaN), frame: new Float64Array(TLB_SIZE), perms: new Uint8Array(TLB_SIZE), largeEntries: 0, used: 0 };
        kept.push(next);
      } else {
        next = kept[0];
        for (const k of kept) if (k.used < next.used) next = k;
        next.page.fill(NaN);
        next.largeEntries = 0;
      }
    }
    const { page, frame, perms, largeEntries } = next;
    next.root = regs.cr3;
    next.page = this.tlbPage;
    next.frame = this.tlbFrame;
    next.perms = this.tlbPerms;
    next.largeEntries = this.largeEntries;
    next.used = ++this.rootSwitches;
    this.tlbPage = page;
    this.tlbFrame = frame;
    this.tlbPerms = perms;
    this.largeEntries = largeEntries;
    regs.cr3 = root;
    this.generation++;
  }

  /**
   * Forget the translation of the page containing `linear` (invlpg). If a
   * 2 MiB or 1 GiB page may be cached, flush everything: the whole large page
   * must go, and over-flushing is always allowed.
   */
  flushPage(linear: number): void {
    if (this.largeEntries > 0) { this.flush(); return; }
    this.generation++;
    const page = Math.floor(linear / 4096);
    const slot = tlbSlot(page);
    if (this.tlbPage[slot] === page) this.tlbPage[slot] = NaN;
    for (const k of this.keptTlbs) {
      if (k.largeEntries > 0) { k.page.fill(NaN); k.largeEntries = 0; } else if (k.page[slot] === page) k.page[slot] = NaN;
    }
  }
}
