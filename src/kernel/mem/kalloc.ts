// The physical page allocator: hands out and takes back 4 KiB pages of emulated
// physical memory (for page tables, kernel stacks and user pages).
//
// Every page has a reference count: alloc() hands a page out with count 1,
// share() adds a holder (a copy-on-write fork maps one page in two address
// spaces), and release() drops one; the page is free again when the last holder
// lets go. Releasing a page that is already free is a kernel bug (a double free):
// it throws instead of corrupting the free list.

import type { PhysicalMemory } from '../../machine/memory.js';
import { PAGE_SIZE } from './kernelLayout.js';

export class PageAllocator {
  private free: number[] = [];
  /** Holders of each physical page (index: page number); 0 = free or not managed here. */
  private readonly refs: Uint16Array;
  readonly totalPages: number;
  /**
   * Called for every page the kernel writes behind the CPU's back (a fresh page, a
   * copyout): the CPU must forget instructions it decoded there. boot() points it
   * at cpu.invalidateDecodeCache.
   */
  invalidate: (physPage: number) => void = () => {};

  /**
   * Called whenever the kernel changes a PRESENT mapping of a running address
   * space (a copy-on-write fork or fault): the TLB may hold the old translation.
   * boot() points it at the MMU's flush.
   */
  flushTlb: () => void = () => {};

  /** Manage the pages in physical [start, end). */
  /** The memory the pages are in: private, the allocator only zeroes pages in it. */
  readonly #memory: PhysicalMemory;

  constructor(mem: PhysicalMemory, start: number, end: number) {
    this.#memory = mem;
    this.refs = new Uint16Array(Math.ceil(mem.size / PAGE_SIZE));
    const first = Math.ceil(start / PAGE_SIZE) * PAGE_SIZE;
    const last = Math.floor(Math.min(end, mem.size) / PAGE_SIZE) * PAGE_SIZE;
    // Highest address first in the array, so pop() hands out low pages first.
    for (let p = last - PAGE_SIZE; p >= first; p -= PAGE_SIZE) this.free.push(p);
    this.totalPages = this.free.length;
  }

  /** A zeroed page's physical address, or -1 when memory is exhausted. */
  alloc(): number {
    const page = this.free.pop();
    if (page === undefined) return -1;
    this.refs[page / PAGE_SIZE] = 1;
    this.#memory.bytes.fill(0, page, page + PAGE_SIZE);
    this.invalidate(page / PAGE_SIZE);
    return page;
  }

  /**
   * `count` physically contiguous zeroed pages (a virtual machine's memory): the
   * first page's address, or -1 when no free run is long enough.
   */
  allocContiguous(count: number): number {
    const sorted = [...this.free].sort((a, b) => a - b);
    for (let i = 0; i + count <= sorted.length; i++) {
      // The free pages are distinct, so a run of `count` of them is contiguous exactly when its ends are.
      if (sorted[i + count - 1] - sorted[i] !== (count - 1) * PAGE_SIZE) continue;
      const start = sorted[i], end = start + count * PAGE_SIZE;
      this.free = this.free.filter((p) => p < start || p >= end);
      this.#memory.bytes.fill(0, start, end);
      for (let p = start; p < end; p += PAGE_SIZE) {
        this.refs[p / PAGE_SIZE] = 1;
        this.invalidate(p / PAGE_SIZE);
      }
      return start;
    }
    return -1;
  }

  /**
   * Give back a run from allocContiguous. Its pages go to the far end of the free
   * list, so alloc() hands them out only once every other free page is taken: the
   * run stays whole for the next allocContiguous. (Pushed on top like single pages,
   * the next process's pages landed in the middle of the freed run, and after a few
   * dozen virtual machines no run of their size was left in a memory mostly free.)
   */
  releaseRun(start: number, count: number): void {
    const freed: number[] = [];
    for (let p = start + (count - 1) * PAGE_SIZE; p >= start; p -= PAGE_SIZE) {
      const n = this.holders(p, 'kfree');
      this.refs[p / PAGE_SIZE] = n - 1;
      if (n === 1) freed.push(p);
    }
    this.free = freed.concat(this.free);
  }

  /** One more holder of an allocated page (copy-on-write sharing). */
  share(page: number): void {
    const n = this.holders(page, 'share');
    if (n === 0xffff) throw new Error(`kalloc: page 0x${page.toString(16)} has too many holders`);
    this.refs[page / PAGE_SIZE] = n + 1;
  }

  /** Drop one holder of `page`; the last one frees it. */
  release(page: number): void {
    const n = this.holders(page, 'kfree');
    this.refs[page / PAGE_SIZE] = n - 1;
    if (n === 1) this.free.push(page);
  }

  /** How many address spaces (or kernel uses) hold `page`: 0 when it is free. */
  refCount(page: number): number {
    return this.refs[page / PAGE_SIZE] ?? 0;
  }

  /** The holder count of an allocated page; throws for a misaligned or free page. */
  private holders(page: number, what: string): number {
    if (page % PAGE_SIZE !== 0) throw new Error(`${what}: 0x${page.toString(16)} is not page-aligned`);
    const n = this.refs[page / PAGE_SIZE] ?? 0;
    if (n === 0) throw new Error(`${what}: page 0x${page.toString(16)} is not allocated (double free?)`);
    return n;
  }

  get freePages(): number {
    return this.free.length;
  }
  get usedPages(): number {
    return this.totalPages - this.free.length;
  }
}
