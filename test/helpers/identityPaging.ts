// Paging for CPU tests: an identity map of the first 2 MiB in 4 KiB pages, with one page left out.

import type { Machine } from '../../src/machine/machine.js';

/** Identity-map the first 2 MiB with 4 KiB pages (page `absent` not present), and turn on long-mode paging. */
export function identityPaging(m: Machine, absent: number): void {
  const PML4 = 0xf0000, PDPT = 0xf1000, PD = 0xf2000, PT = 0xf3000;
  m.memory.write32(PML4, PDPT | 7);
  m.memory.write32(PDPT, PD | 7);
  m.memory.write32(PD, PT | 7);
  for (let i = 0; i < 512; i++) m.memory.write32(PT + 8 * i, i * 4096 === absent ? 0 : (i * 4096) | 7);
  m.cpu.cr3 = PML4; m.cpu.cr4 = 1 << 5; m.cpu.efer = (1 << 8) | (1 << 10);
  m.cpu.cr0 = 0x80010001;
  m.mmu.flush();
}

