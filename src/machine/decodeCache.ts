// The decoded-instruction cache.
//
// Decoding x86 is slow (prefixes, ModRM, SIB, immediates), so each instruction
// is decoded once and the result reused. Entries are keyed by the PHYSICAL
// address of the instruction's first byte: the bytes there determine the
// decoding, whatever linear address maps to them, so a CR3 switch needs no
// flush (the MMU's translation of the code page checks permissions; it is
// redone whenever the page, the CPL, CR0 or the MMU's generation changes).
//
// A write to a physical page that holds decoded instructions drops that page's
// entries (`codePages` marks such pages; Cpu.writeMem checks it on every
// store). Code outside the CPU that writes memory directly (a loader copying
// a program into place) must call cpu.invalidateDecodeCache(page) or (all).
//
// Each entry carries the execute function chosen for its form once, when the
// table below is built, so running an instruction is one indirect call.
// Entries also link to the entry that ran after them in the same page (`next`
// for fall-through, `jump` for the last branch target), so the run loop in
// cpu.ts finds the next instruction without a lookup; dropping a page cuts the
// links of its entries.

import { decode, type Decoded } from '../isa/decode.js';
import { FORMS } from '../isa/table.js';
import type { Cpu } from './cpu.js';
import { CpuFault, GP, UD } from './exceptions.js';
import type { Block } from './blocks.js';
import { HANDLERS, STRAIGHT_MNEMONICS } from './execute.js';
import { specialize } from './executeFast.js';
import { SYSTEM_FORMS } from './system.js';

export type Exec = (cpu: Cpu, d: Decoded) => void;

export interface CacheEntry {
  d: Decoded;
  exec: Exec;
  length: number;
  /**
   * The entry of the instruction that follows this one in the same page, once
   * the run loop has seen execution fall through to it (null until then, and
   * again when the page is invalidated): sequential code skips the lookup.
   */
  next: CacheEntry | null;
  /** Cached, and the next instruction starts in the same page: `next` may be set. */
  linkable: boolean;
  /** Cached (not straddling two pages, inside RAM): other entries may link to it. */
  cached: boolean;
  /** The last branch target in the same page that execution went to from here (offset in the page, -1 none), and its entry. */
  jumpOffset: number;
  jump: CacheEntry | null;
  /** The instruction always continues at the next one and changes nothing the run loop watches (blocks.ts). */
  straight: boolean;
  /** Times the run loop started a block here without one (blocks.ts), until the block is generated. */
  hits: number;
  /** The generated block starting with this entry (blocks.ts), or null. */
  block: Block | null;
}

/** Mnemonics the system half executes (system.ts executeSystem). */
export const SYSTEM_MNEMONICS: ReadonlySet<string> = new Set([
  'hlt', 'cli', 'sti', 'lgdt', 'lidt', 'sgdt', 'sidt', 'smsw', 'lmsw', 'ltr', 'str', 'invlpg',
  'in', 'out', 'rdmsr', 'wrmsr', 'swapgs', 'iretq', 'iret', 'int', 'int3', 'int1', 'pushf', 'popf',
]);

/** System instructions may change anything the run loop watches (IF, halted, device lines): it looks again after each. */
const toSystem: Exec = (cpu, d) => {
  cpu.interruptCheck = true;
  cpu.system(d);
};

export function invalidInstruction(cpu: Cpu, d: Decoded): void {
  void cpu;
  if (d.fault === GP) throw new CpuFault(GP, 0, 'instruction longer than 15 bytes');
  throw new CpuFault(UD, undefined, 'invalid instruction');
}

function unimplemented(cpu: Cpu, d: Decoded): void {
  void cpu;
  throw new CpuFault(UD, undefined, `instruction not implemented: ${d.form?.mnemonic}`);
}

/** The execute function of every form, by form id: built once from FORMS. */
export const EXEC_BY_FORM: readonly Exec[] = FORMS.map((f) => {
  if (SYSTEM_FORMS[f.id] || SYSTEM_MNEMONICS.has(f.mnemonic)) return toSystem;
  if (f.operands.some((o) => o.kind === 'creg' || o.kind === 'dreg' || o.kind === 'sreg')) return toSystem;
  return HANDLERS.get(f.mnemonic) ?? HANDLERS.get(f.family) ?? unimplemented;
});

/** Which forms are straight (see CacheEntry.straight), by form id. */
const STRAIGHT_BY_FORM: readonly boolean[] = FORMS.map((f, id) => {
  if (EXEC_BY_FORM[id] === toSystem || EXEC_BY_FORM[id] === unimplemented) return false;
  return STRAIGHT_MNEMONICS.has(HANDLERS.has(f.mnemonic) ? f.mnemonic : f.family);
});

const PAGE = 4096;
/** The longest x86 instruction: decoding at most this far from an address reads nothing beyond it. */
const MAX_LENGTH = 15;

export class DecodeCache {
  /** 1 for each physical page that has cached entries. */
  readonly codePages: Uint8Array;
  /** Entries by physical page number, then by offset in the page (null: nothing cached there). */
  private pages: ((CacheEntry | undefined)[] | null)[];
  /** The same entries as a list per page, to unlink their `next` pointers when the page goes. */
  private lists: (CacheEntry[] | null)[];
  private readonly memorySize: number;
  /** Instructions decoded (cache misses), for statistics. */
  decodes = 0;
  /** Generated blocks hanging off the entries (blocks.ts), for the bound on them. */
  blocks = 0;

  // The current code page: instructions mostly follow each other in one page,
  // so the translation of the last fetched page is remembered and reused while
  // nothing that could change it has happened (a TLB flush or invlpg bumps the
  // MMU's generation; CPL and CR0 are compared directly).
  private codeLinearPage = NaN;
  private codePhysBase = 0;
  private codeCpl = -1;
  private codeCr0 = -1;
  private codeGeneration = -1;

  constructor(memorySize: number) {
    this.memorySize = memorySize;
    this.codePages = new Uint8Array(Math.ceil(memorySize / PAGE));
    this.pages = new Array(this.codePages.length).fill(null);
    this.lists = new Array(this.codePages.length).fill(null);
  }

  /** The entry for the instruction at linear `rip` (translating it for execute at the current CPL). */
  fetch(cpu: Cpu, rip: number): CacheEntry {
    const linearPage = Math.floor(rip / PAGE);
    if (linearPage === this.codeLinearPage && cpu.cpl === this.codeCpl && cpu.cr0 === this.codeCr0 &&
        cpu.mmu.generation === this.codeGeneration) {
      const base = this.codePhysBase;
      const page = this.pages[base >>> 12];
      if (page !== null) {
        const e = page[rip & 0xfff];
        if (e !== undefined) return e;
      }
      return this.fill(cpu, rip, base + (rip & 0xfff));
    }
    const phys = cpu.mmu.translate(rip, 'execute', cpu.cpl);
    if (phys < this.memorySize) {
      this.codeLinearPage = linearPage;
      this.codePhysBase = phys - (phys & 0xfff);
      this.codeCpl = cpu.cpl;
      this.codeCr0 = cpu.cr0;
      this.codeGeneration = cpu.mmu.generation;
    } else {
      this.codeLinearPage = NaN;
    }
    const page = phys < this.memorySize ? this.pages[phys >>> 12] : null;
    if (page !== null) {
      const e = page[phys & 0xfff];
      if (e !== undefined) return e;
    }
    return this.fill(cpu, rip, phys);
  }

  /**
   * The entry at linear `rip`, in the code page of the last fetch(), for the
   * block builder looking ahead: decoded only if that cannot need bytes of the
   * next page; near the page's end only an entry already there (else null).
   */
  fetchAhead(cpu: Cpu, rip: number): CacheEntry | null {
    if ((rip & 0xfff) <= PAGE - MAX_LENGTH) return this.fetch(cpu, rip);
    if (Math.floor(rip / PAGE) !== this.codeLinearPage) return null;
    return this.pages[this.codePhysBase >>> 12]?.[rip & 0xfff] ?? null;
  }

  /**
   * The entry at linear `rip` if it lies in the code page of the last fetch(),
   * that page's translation still holds, and it is decoded already; else null.
   * Translates and decodes nothing (so it cannot fault): the run loop's way to
   * find the block at a JIT region's exit.
   */
  cachedEntry(cpu: Cpu, rip: number): CacheEntry | null {
    if (Math.floor(rip / PAGE) !== this.codeLinearPage || cpu.cpl !== this.codeCpl || cpu.cr0 !== this.codeCr0 ||
        cpu.mmu.generation !== this.codeGeneration) return null;
    return this.pages[this.codePhysBase >>> 12]?.[rip & 0xfff] ?? null;
  }

  private fill(cpu: Cpu, rip: number, phys: number): CacheEntry {
    const memory = cpu.memory;
    const room = PAGE - (phys & 0xfff);
    let crossed = false;
    const d = decode((offset) => {
      if (offset < room) return memory.read8(phys + offset);
      crossed = true;
      return memory.read8(cpu.mmu.translate(rip + offset, 'execute', cpu.cpl));
    });
    this.decodes++;
    const exec = d.form === null ? invalidInstruction : specialize(d) ?? EXEC_BY_FORM[d.form.id];
    // Instructions that straddle two pages, or lie outside RAM, are not cached.
    const cached = !crossed && phys < this.memorySize;
    const entry: CacheEntry = {
      d, exec, length: d.length, next: null, linkable: cached && (phys & 0xfff) + d.length < PAGE, cached, jumpOffset: -1, jump: null,
      straight: d.form !== null && STRAIGHT_BY_FORM[d.form.id], hits: 0, block: null,
    };
    if (cached) {
      const n = phys >>> 12;
      let page = this.pages[n];
      let list = this.lists[n];
      if (page === null || list === null) {
        page = new Array(PAGE);
        list = [];
        this.pages[n] = page;
        this.lists[n] = list;
        this.codePages[n] = 1;
        cpu.probeEpoch++; // a JIT store's probe cache may hold this page
      }
      page[phys & 0xfff] = entry;
      list.push(entry);
    }
    return entry;
  }

  /** Drop the entries of physical page `n` (address / 4096). */
  invalidatePage(n: number): void {
    // Most stores (a guest's stack pushes under the monitor) reach pages with nothing decoded: nothing to drop.
    if (n >= 0 && n < this.codePages.length && (this.codePages[n] !== 0 || this.lists[n] !== null || this.pages[n] !== null)) {
      this.blocks -= unlink(this.lists[n]);
      this.pages[n] = null;
      this.lists[n] = null;
      this.codePages[n] = 0;
    }
  }

  flush(): void {
    for (const list of this.lists) unlink(list);
    this.blocks = 0;
    this.pages.fill(null);
    this.lists.fill(null);
    this.codePages.fill(0);
  }
}

/** Cut the links and blocks of a dropped page's entries (an entry being executed may still hold one); returns the blocks dropped. */
function unlink(list: CacheEntry[] | null): number {
  if (list === null) return 0;
  let blocks = 0;
  for (const e of list) {
    e.next = null; e.jump = null; e.jumpOffset = -1;
    const b = e.block;
    if (b !== null) { blocks++; b.fall = null; b.jump = null; b.fallOffset = -1; b.jumpOffset = -1; e.block = null; }
    e.hits = 0;
  }
  return blocks;
}
