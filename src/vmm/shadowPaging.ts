// Shadow page tables: the tables the real MMU walks while the guest runs.
//
// The guest's own tables live in guest-physical memory and map guest-virtual
// to guest-physical addresses. xk places guest-physical address p at host-
// physical p (the guest owns host-physical [0, guestBytes)), so a shadow entry
// maps guest-virtual -> the same frame number, after checking that the frame
// and every table the guest's walk touched lie inside the guest's memory.
//
// Shadow entries are filled lazily, on real page faults (a "hidden" fault the
// guest never sees). The guest's page-table semantics are reproduced exactly:
// the fill sets the Accessed bits in the guest's entries as the hardware would,
// and a page is mapped writable in the shadow only once the guest's Dirty bit is
// set, so the first write faults again and sets D.
//
// A monitor inside the host kernel (src/vmm/kernelProcess.ts) gives the guest
// host-physical [base, base + guestBytes) instead: guest-physical p is then
// host-physical base + p, and the reserved PML4 slot holds the host kernel's
// half (its slot 256, supervisor-only) so that the guest's traps can enter the
// kernel; when the guest uses slot 256 the kernel's half appears in another slot.
//
// There are two shadow roots: one for virtual CPL 0 (every page the guest maps
// is reachable: the real CPL is 3, so all shadow leaves have U = 1) and one for
// virtual CPL 3 (only the guest's user pages). One PML4 slot of both roots is
// the host's own (GDT, IDT, TSS, stack; supervisor-only), never the guest's:
// 511 under xk vm, 256 under the xk kernel, until the guest uses that slot and
// the host moves (`relocate`).

import { permits, walkPageTables, PTE_A, PTE_D } from '../machine/mmu.js';
import type { PhysicalMemory } from '../machine/memory.js';
import { guestPhysicalView } from './guestMemory.js';
import type { Vcpu } from './vcpu.js';

export type Access = 'read' | 'write' | 'execute';

const PAGE = 4096;
const P = 1, W = 2, U = 4;
const EFER_NXE = 1 << 11;
const CR0_WP = 1 << 16;
/** The PML4 slot reserved for the monitor. */
export const MONITOR_PML4_SLOT = 511;

/** A guest access the guest's own tables refuse: reflect #PF with this error code. */
export interface GuestPageFault { kind: 'fault'; errorCode: number }
/** The guest tried to reach memory that is not its own: stop the VM. */
export interface Escape { kind: 'escape'; message: string }
export interface Translated { kind: 'ok'; phys: number; writable: boolean }
export type GuestTranslation = Translated | GuestPageFault | Escape;

export interface ShadowPlacement {
  /** Host-physical address of guest-physical 0 (default 0). */
  base?: number;
  /** The PML4 slot the host keeps for itself in every shadow root (default MONITOR_PML4_SLOT). */
  reservedSlot?: number;
  /**
   * A host page table (PML4) whose entry for its own slot `hostSlot` every shadow root
   * copies into the reserved slot, instead of pointing the reserved slot at monitorPdpt.
   */
  hostRoot?: number;
  /** The slot of hostRoot that is copied (default: the first reserved slot). */
  hostSlot?: number;
}

/** The linear address where PML4 slot `slot` begins (slots 256..511: the upper half, negative). */
export const slotBase = (slot: number): number => (slot >= 256 ? slot - 512 : slot) * 2 ** 39;

/** The low 48 bits of a canonical (signed) linear address. (Adding 2 ** 64 would lose the low bits to rounding.) */
const low48 = (linear: number): number => (linear < 0 ? linear + 2 ** 48 : linear);
const hex = (n: number): string => '0x' + (n < 0 ? BigInt.asUintN(64, BigInt(n)) : BigInt(n)).toString(16);

export class ShadowPaging {
  private next: number;
  private roots: [number, number] = [-1, -1];
  /** Shadow tables built so far (statistics). */
  fills = 0;
  /**
   * Times every shadow entry was forgotten (flush): a host that keeps the real
   * TLB of each root across root switches (Mmu.switchRoot) flushes it when this moves.
   */
  flushes = 0;
  /** Host-physical address of guest-physical 0. */
  readonly base: number;
  /** The guest's physical memory, addressed by guest-physical addresses. */
  readonly guest: PhysicalMemory;
  private reservedSlot: number;
  private readonly hostRoot: number | undefined;
  private readonly hostSlot: number;

  constructor(
    private readonly memory: PhysicalMemory,
    readonly guestBytes: number,
    private readonly poolBase: number,
    private readonly poolEnd: number,
    /** Physical address of the monitor's PDPT for the reserved PML4 slot (511 unless `placement` says otherwise). */
    private readonly monitorPdpt: number,
    placement: ShadowPlacement = {},
  ) {
    this.next = poolBase;
    this.base = placement.base ?? 0;
    this.reservedSlot = placement.reservedSlot ?? MONITOR_PML4_SLOT;
    this.hostRoot = placement.hostRoot;
    this.hostSlot = placement.hostSlot ?? this.reservedSlot;
    this.guest = guestPhysicalView(memory, this.base, guestBytes);
  }

  /** The shadow PML4 for a virtual CPL (built on first use). */
  root(vcpl: number): number {
    const i = vcpl === 3 ? 1 : 0;
    if (this.roots[i] < 0) {
      const r = this.allocate();
      const slot = r + this.reservedSlot * 8;
      if (this.hostRoot === undefined) this.memory.write32(slot, this.monitorPdpt | P | W);
      else this.memory.bytes.copyWithin(slot, this.hostRoot + this.hostSlot * 8, this.hostRoot + this.hostSlot * 8 + 8);
      this.roots[i] = r;
    }
    return this.roots[i];
  }

  /** Copy `data` to guest-physical `phys` (loading an image), zero-filling up to `memsz` bytes. */
  load(phys: number, data: Uint8Array, memsz = data.length): void {
    if (phys < 0 || phys + Math.max(memsz, data.length) > this.guestBytes) {
      throw new Error(`vm: segment at guest-physical ${hex(phys)}..${hex(phys + memsz)} does not fit in ${this.guestBytes / 1048576} MiB`);
    }
    this.guest.bytes.fill(0, phys, phys + memsz);
    this.guest.bytes.set(data, phys);
  }

  /** The PML4 slot the host keeps for itself in every shadow root. */
  get slot(): number {
    return this.reservedSlot;
  }

  /** Is `linear` in the host's PML4 slot (which the shadow never maps for the guest)? */
  inReservedSlot(linear: number): boolean {
    return Math.floor(low48(linear) / 2 ** 39) === this.reservedSlot;
  }

  /**
   * The highest PML4 slot the guest's own top-level table leaves empty (not
   * present), or -1 (paging off, a PML4 outside guest memory, or every slot used).
   */
  freeGuestSlot(vcpu: Vcpu): number {
    if (!vcpu.paging) return -1;
    const pml4 = vcpu.cr3 - (vcpu.cr3 % PAGE);
    if (pml4 + PAGE > this.guestBytes) return -1;
    for (let slot = 511; slot >= 0; slot--) {
      if ((this.guest.read32(pml4 + 8 * slot) & P) === 0) return slot;
    }
    return -1;
  }

  /**
   * The guest maps the host's slot: move the host's region to the highest slot
   * the guest leaves empty (host.ts, kernelProcess.ts), every root rebuilt with it
   * there. Returns the new slot, or -1 when the guest leaves no slot empty.
   */
  relocate(vcpu: Vcpu): number {
    const slot = this.freeGuestSlot(vcpu);
    if (slot < 0 || slot === this.reservedSlot) return -1;
    this.reservedSlot = slot;
    this.flush();
    return slot;
  }

  /** Forget every shadow entry (mov %cr3, CR0/CR4 writes, pool exhausted). */
  flush(): void {
    this.flushes++;
    this.next = this.poolBase;
    this.roots = [-1, -1];
  }

  /** Forget one page's shadow entries in both roots (invlpg). */
  flushPage(linear: number): void {
    for (const r of this.roots) {
      if (r < 0) continue;
      const leaf = this.find(r, linear, false);
      if (leaf >= 0) { this.memory.write32(leaf, 0); this.memory.write32(leaf + 4, 0); }
    }
  }

  /**
   * Translate a guest-virtual address as the guest's MMU would at virtual CPL
   * `vcpl`, with the guest-visible side effects (A and D bits). Used both for
   * shadow fills and for the monitor's own accesses on the guest's behalf.
   */
  translate(vcpu: Vcpu, linear: number, access: Access, vcpl: number): GuestTranslation {
    const u = low48(linear);
    if (this.inReservedSlot(linear)) {
      return { kind: 'escape', message: `guest address ${hex(linear)} is in the host's reserved region (PML4 slot ${this.reservedSlot})` };
    }
    if (!vcpu.paging) {
      if (u >= this.guestBytes) return { kind: 'escape', message: `guest-physical address ${hex(u)} is beyond the guest's ${this.guestBytes} bytes` };
      return { kind: 'ok', phys: u, writable: true };
    }
    const nxe = (vcpu.efer & EFER_NXE) !== 0;
    const cr3 = vcpu.cr3 - (vcpu.cr3 % PAGE);
    if (cr3 >= this.guestBytes) return { kind: 'escape', message: `guest CR3 ${hex(cr3)} is beyond the guest's memory` };
    const walk = walkPageTables(this.guest, cr3, nxe, linear);
    for (const at of walk.entries) {
      if (at >= this.guestBytes) return { kind: 'escape', message: `guest page table at ${hex(at - (at % PAGE))} is beyond the guest's memory` };
    }
    const wp = (vcpu.cr0 & CR0_WP) !== 0;
    let errorBits = walk.errorBits;
    if (walk.ok && !permits(walk.perms, access, vcpl, wp)) errorBits = P;
    else if (walk.ok) {
      if (walk.phys >= this.guestBytes) {
        return { kind: 'escape', message: `guest page table maps ${hex(linear)} to ${hex(walk.phys)}, beyond the guest's memory` };
      }
      const mem = this.guest;
      for (const at of walk.entries) {
        const lo = mem.read32(at);
        if ((lo & PTE_A) === 0) mem.write32(at, lo | PTE_A);
      }
      const leaf = walk.entries[walk.entries.length - 1];
      if (access === 'write') {
        const lo = mem.read32(leaf);
        if ((lo & PTE_D) === 0) mem.write32(leaf, lo | PTE_D);
      }
      const dirty = (mem.read32(leaf) & PTE_D) !== 0;
      return { kind: 'ok', phys: walk.phys, writable: dirty && permits(walk.perms, 'write', vcpl, wp) };
    }
    let code = errorBits;
    if (access === 'write') code |= W;
    if (vcpl === 3) code |= U;
    if (access === 'execute' && nxe) code |= 1 << 4;
    return { kind: 'fault', errorCode: code };
  }

  /** Handle a real page fault at `linear`: fill the shadow entry, or say why not. */
  fill(vcpu: Vcpu, linear: number, access: Access): GuestTranslation {
    const t = this.translate(vcpu, linear, access, vcpu.cpl);
    if (t.kind !== 'ok') return t;
    if (this.next + 4 * PAGE > this.poolEnd) this.flush();
    const root = this.root(vcpu.cpl);
    const leaf = this.find(root, linear, true);
    const frame = this.base + t.phys - (t.phys % PAGE);
    let nx = 0;
    if ((vcpu.efer & EFER_NXE) !== 0 && access !== 'execute') {
      // Keep the guest's no-execute: ask the guest's walk whether a fetch would be allowed.
      const walk = walkPageTables(this.guest, vcpu.cr3 - (vcpu.cr3 % PAGE), true, linear);
      if (walk.ok && !permits(walk.perms, 'execute', vcpu.cpl, false)) nx = 0x80000000;
    }
    this.memory.write32(leaf, frame | P | U | (t.writable ? W : 0));
    this.memory.write32(leaf + 4, Math.floor(frame / 2 ** 32) | nx);
    this.fills++;
    return t;
  }

  /** Physical address of the shadow PTE for `linear` under `root` (creating tables if `create`), or -1. */
  private find(root: number, linear: number, create: boolean): number {
    const u = low48(linear);
    let table = root;
    for (const shift of [39, 30, 21]) {
      const at = table + (Math.floor(u / 2 ** shift) & 511) * 8;
      let lo = this.memory.read32(at);
      if ((lo & P) === 0) {
        if (!create) return -1;
        const t = this.allocate();
        this.memory.write32(at, t | P | W | U);
        this.memory.write32(at + 4, 0);
        lo = t | P;
      }
      table = lo & ~0xfff;
    }
    return table + (Math.floor(u / PAGE) & 511) * 8;
  }

  private allocate(): number {
    if (this.next + PAGE > this.poolEnd) throw new Error('shadow page-table pool exhausted');
    const p = this.next;
    this.next += PAGE;
    this.memory.bytes.fill(0, p, p + PAGE);
    return p;
  }
}
