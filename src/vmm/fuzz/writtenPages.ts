// The pages of a machine's physical memory that a run wrote, so that the
// fuzzer resets and compares those pages only instead of megabytes per guest
// (a fuzz guest writes a few pages of its 4 MiB).
//
// Every store reaches memory in one of these ways, and each is seen here:
// - through the PhysicalMemory's write8/16/32 (the CPU's stores, the MMU's
//   accessed and dirty bits, interrupt frames, the monitor's own tables): this
//   object's methods are wrapped to mark the page;
// - the JIT's inline stores (jit/translate.ts), which go straight to the
//   buffer, but only to pages the decode cache does not mark as code: every page
//   is marked as code before a run (arm), so a page's first store takes the
//   CPU's writeMem path and is seen; later ones go to a page already marked;
//   (and again after every flush of the decode cache);
// - stores of the monitor's guest processor (vmm/guestCpu.ts) and loads behind
//   the CPU's back, which drop the page's decoded code: DecodeCache.invalidatePage
//   is wrapped to mark the page too.
// Writes that bypass all three (the shadow page-table pool's zero-on-allocate,
// a guest image load) write memory whose old content nothing reads, or that
// the fuzzer loads itself (mark).

import type { Cpu } from '../../machine/cpu.js';
import type { PhysicalMemory } from '../../machine/memory.js';

const PAGE = 4096;

export class WrittenPages {
  /** 1 for each page written since the last reset. */
  readonly marks: Uint8Array;
  /** The pages' contents when this object was made (absent: a zero page). */
  private readonly initial = new Map<number, Uint8Array>();

  /** Call before anything else wraps the memory's or decode cache's methods, and before any snapshot of them. */
  constructor(private readonly memory: PhysicalMemory, private readonly cpu: Cpu) {
    const pages = Math.ceil(memory.size / PAGE);
    const marks = new Uint8Array(pages);
    this.marks = marks;
    const zero = Buffer.alloc(PAGE);
    for (let p = 0; p < pages; p++) {
      const page = memory.bytes.subarray(p * PAGE, (p + 1) * PAGE);
      if (!zero.equals(page)) this.initial.set(p, page.slice());
    }
    const { write8, write16, write32 } = memory;
    const size = memory.size;
    const mark = (phys: number, bytes: number): void => {
      if (phys >= 0 && phys < size) marks[phys >>> 12] = 1;
      const last = phys + bytes - 1;
      if (last >= 0 && last < size) marks[last >>> 12] = 1;
    };
    memory.write8 = function (phys, v) { mark(phys, 1); write8.call(this, phys, v); };
    memory.write16 = function (phys, v) { mark(phys, 2); write16.call(this, phys, v); };
    memory.write32 = function (phys, v) { mark(phys, 4); write32.call(this, phys, v); };
    const cache = cpu.decodeCache;
    const { invalidatePage, flush } = cache;
    cache.invalidatePage = function (n) {
      if (n >= 0 && n < pages) marks[n] = 1;
      invalidatePage.call(this, n);
    };
    // A flush of all decoded code (CR0, CR4 changes...) unmarks every page: mark them again.
    cache.flush = function () { flush.call(this); this.codePages.fill(1); cpu.probeEpoch++; };
  }

  /** Mark `bytes` bytes at `phys` (a load the caller makes itself). */
  mark(phys: number, bytes: number): void {
    for (let p = Math.floor(phys / PAGE); p * PAGE < phys + bytes && p < this.marks.length; p++) this.marks[p] = 1;
  }

  /** Before a run: every page counts as holding code, so that the JIT's first store to a page is seen (see above). */
  arm(): void {
    this.cpu.decodeCache.codePages.fill(1);
    this.cpu.probeEpoch++; // the JIT's probe caches hold no code page
  }

  /** Put every written page back as it was when this object was made, and forget the marks. */
  reset(): void {
    const bytes = this.memory.bytes, marks = this.marks;
    for (let p = 0; p < marks.length; p++) {
      if (marks[p] === 0) continue;
      const page = this.initial.get(p);
      if (page !== undefined) bytes.set(page, p * PAGE);
      else bytes.fill(0, p * PAGE, (p + 1) * PAGE);
      marks[p] = 0;
    }
  }
}

/** Do two memories (views of equal length) differ on a page either run wrote? The first differing address, or -1. */
export function firstDifference(a: Uint8Array, b: Uint8Array, marksA: Uint8Array, marksB: Uint8Array): number {
  const pages = Math.ceil(a.length / PAGE);
  for (let p = 0; p < pages; p++) {
    if (marksA[p] === 0 && marksB[p] === 0) continue;
    const start = p * PAGE, end = Math.min(start + PAGE, a.length);
    if (Buffer.from(a.buffer, a.byteOffset + start, end - start).equals(Buffer.from(b.buffer, b.byteOffset + start, end - start))) continue;
    for (let at = start; at < end; at++) if (a[at] !== b[at]) return at;
  }
  return -1;
}
