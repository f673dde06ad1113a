// The physical page allocator: hands out and takes back 4 KiB pages of emulated
// physical memory (for page tables, kernel stacks and user pages).

import type { PhysicalMemory } from '../../machine/memory.js';
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
      this.mem.bytes.fill(0, start, end);
      for (let p = start; p < end; p += PAGE_SIZE) this.invalidate(p / PAGE_SIZE);
      return start;
    }
    return -1;
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
