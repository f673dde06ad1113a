// The physical page allocator: hands out and takes back 4 KiB pages of emulated
// physical memory (for page tables, kernel stacks and user pages).

import type { PhysicalMemory } from '../machine/memory.js';
import { PAGE_SIZE } from './kernelLayout.js';

export class PageAllocator {
  private free: number[] = [];
  readonly totalPages: number;
  /**
   * Called for every page the kernel writes behind the CPU's back (a fresh page, a
   * copyout): the CPU must forget instructions it decoded there. boot() points it
   * at cpu.invalidateDecodeCache.
   */
  invalidate: (physPage: number) => void = () => {};

  /** Manage the pages in physical [start, end). */
  constructor(readonly mem: PhysicalMemory, start: number, end: number) {
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
    this.mem.bytes.fill(0, page, page + PAGE_SIZE);
    this.invalidate(page / PAGE_SIZE);
    return page;
  }

  release(page: number): void {
    if (page % PAGE_SIZE !== 0) throw new Error(`kfree: 0x${page.toString(16)} is not page-aligned`);
    this.free.push(page);
  }

  get freePages(): number {
    return this.free.length;
  }
  get usedPages(): number {
    return this.totalPages - this.free.length;
  }
}
