// The xk kernel's memory that a VM process may not touch (issue 11 item 2:
// "the host must never touch memory outside the VM"), checked for every fuzz
// guest the kernel runs (kernelGuests.ts). The pages the page allocator hands
// the VM process when it is created (its guest memory and shadow pool, its GDT
// page, its kernel stack) are its own; when the VM is first entered (its
// parent has gone on to wait for it), the rest of physical memory (the
// kernel's text, data and tables, other processes' pages, free pages) is
// copied. When the VM stops, before its process ends, all of that must be as
// it was, but for the one per-process structure a VM changes: the TSS's rsp0,
// which the scheduler points at the running process's kernel stack (the VM's);
// and in the kernel's page tables (which every shadow root shares for the
// kernel's half) the accessed and dirty bits the MMU sets as the kernel works.
// One VM at a time (the fuzzer's sessions run their guests one after another).

import type { Kernel } from '../../kernel/kernel.js';
import type { Proc } from '../../kernel/proc/proc.js';
import { kstackTop } from '../../kernel/proc/proc.js';
import { FREE_MEMORY_PHYS, PAGE_SIZE, TSS_PHYS } from '../../kernel/mem/kernelLayout.js';
import { TSS_RSP0 } from '../../machine/descriptors.js';
import type { PhysicalMemory } from '../../machine/memory.js';

const PRESENT = 1, LARGE = 0x80;
/** The MMU's accessed (bit 5) and dirty (bit 6) bits of a page-table entry. */
const ACCESSED_DIRTY = 0x60;

export class KernelHostMemory {
  /** Physical memory as it was when the VM was created (one buffer, reused VM after VM). */
  private before: Uint8Array | null = null;
  /** 1 for each page the VM process got from the page allocator. */
  private owned: Uint8Array | null = null;
  private held: Uint16Array | null = null;
  /** The kernel's page-table pages (page numbers). */
  private readonly tables = new Set<number>();

  constructor(private readonly memory: PhysicalMemory) {}

  /** Just before the VM process is created: which pages the allocator holds. */
  beforeSpawn(k: Kernel): void {
    const pages = this.memory.size / PAGE_SIZE;
    this.held ??= new Uint16Array(pages);
    for (let p = 0; p < pages; p++) this.held[p] = k.allocator.refCount(p * PAGE_SIZE);
  }

  /** Just after: the pages it took are the VM's. */
  afterSpawn(k: Kernel): void {
    const pages = this.memory.size / PAGE_SIZE;
    this.owned ??= new Uint8Array(pages);
    for (let p = 0; p < pages; p++) this.owned[p] = this.held![p] === 0 && k.allocator.refCount(p * PAGE_SIZE) !== 0 ? 1 : 0;
  }

  /** When the VM is first entered: everything but its own pages is kept to compare with. */
  firstEntry(k: Kernel): void {
    this.before ??= new Uint8Array(this.memory.size);
    this.before.set(this.memory.bytes);
    this.tables.clear();
    this.collectTables(k.kernelVm.root, 4);
  }

  /** The page-table pages of the tree at `table` (`level` 4: a PML4), into this.tables. */
  private collectTables(table: number, level: number): void {
    this.tables.add(table / PAGE_SIZE);
    if (level === 1) return;
    for (let i = 0; i < 512; i++) {
      const entry = this.memory.read32(table + 8 * i);
      if ((entry & PRESENT) === 0 || (level < 4 && (entry & LARGE) !== 0)) continue;
      const next = ((entry & ~0xfff) >>> 0) + (this.memory.read32(table + 8 * i + 4) & 0xfffff) * 2 ** 32;
      if (next + PAGE_SIZE <= this.memory.size) this.collectTables(next, level - 1);
    }
  }

  /** When VM process `vm` stops: null if the host's memory outside its own pages is as before, else the first change. */
  check(k: Kernel, vm: Proc): string | null {
    const before = this.before!, owned = this.owned!, now = this.memory.bytes;
    const rsp0 = BigInt.asUintN(64, BigInt(kstackTop(vm)));
    /** A page as it must be now: as before, but the TSS's rsp0 naming the VM's kernel stack (the scheduler put it there). */
    const expected = (at: number): Uint8Array => {
      const page = before.subarray(at, at + PAGE_SIZE);
      if (TSS_PHYS < at || TSS_PHYS >= at + PAGE_SIZE) return page;
      const copy = page.slice();
      new DataView(copy.buffer).setBigUint64(TSS_PHYS - at + TSS_RSP0, rsp0, true);
      return copy;
    };
    for (let page = 0; page < owned.length; page++) {
      if (owned[page] !== 0) continue;
      const at = page * PAGE_SIZE;
      const was = expected(at), is = now.subarray(at, at + PAGE_SIZE);
      if (Buffer.from(is.buffer, is.byteOffset, PAGE_SIZE).equals(was)) continue;
      let i = 0;
      const table = this.tables.has(page);
      while (i < PAGE_SIZE && (is[i] === was[i] || (table && i % 8 === 0 && ((is[i] ^ was[i]) & ~ACCESSED_DIRTY) === 0))) i++;
      if (i === PAGE_SIZE) continue;
      const what = at < FREE_MEMORY_PHYS ? 'the kernel\'s own memory (text, data, tables)'
        : k.allocator.refCount(at) !== 0 ? 'a page the kernel or another process holds' : 'a free page';
      return `host memory: ${what} changed at physical 0x${(at + i).toString(16)} (0x${was[i].toString(16)} -> 0x${is[i].toString(16)})`;
    }
    return null;
  }
}
