// Page faults raised by running code: the #PF error code (P, W, U, I bits) and
// CR2 for each kind of access from user and kernel mode, the saved RIP, and the
// accessed/dirty bits the hardware walk leaves in the page tables.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot, recorded, setGate, PageTableBuilder, LAYOUT } from './systemHelpers.js';
import { CR0_PE, CR0_PG, CR0_WP, EFER_NXE, PTE_A, PTE_D, PTE_U, PTE_W } from '../src/machine/mmu.js';

/** Boot with paging: low memory identity-mapped for the kernel, the code pages and user stack user-accessible. */
function pagedBoot(userCode: string, kernelExtra = '') {
  const b = boot(userCode, kernelExtra);
  const { m } = b;
  const pt = new PageTableBuilder(m.memory, LAYOUT.pageTables);
  for (let a = 0; a < 0x80000; a += 4096) {
    const user = (a >= LAYOUT.code && a < LAYOUT.code + 0x10000) || (a >= LAYOUT.userStackTop - 0x1000 && a < LAYOUT.userStackTop);
    pt.map(a, a, PTE_W | (user ? PTE_U : 0));
  }
  m.cpu.cr3 = pt.root;
  m.cpu.cr0 = CR0_PG | CR0_PE;
  setGate(m, 14, b.at('record'), 0);
  return { ...b, pt };
}

function pageFault(userCode: string, setup?: (pt: PageTableBuilder) => void, kernelExtra = '', kernelEntry?: string) {
  const b = pagedBoot(userCode, kernelExtra);
  setup?.(b.pt);
  if (kernelEntry) b.m.cpu.rip = b.at(kernelEntry);
  assert.equal(b.m.run(500), 'halted');
  const r = recorded(b.m);
  return { err: Number(r[1]), rip: Number(r[2]), cr2: Number(r[9]), ...b };
}

test('#PF from user mode: not present (read 4, write 6), supervisor page (5, 7), read-only page (7)', () => {
  let f = pageFault('fault: mov 0x900000, %rax');
  assert.deepEqual([f.err, f.cr2, f.rip], [4, 0x900000, f.at('fault')]);
  f = pageFault('fault: movb $1, 0x900010');
  assert.deepEqual([f.err, f.cr2], [6, 0x900010]);
  f = pageFault(`fault: mov ${LAYOUT.data + 8}, %rax`);
  assert.deepEqual([f.err, f.cr2], [5, LAYOUT.data + 8]);
  f = pageFault(`fault: movl $1, ${LAYOUT.gdt}`);
  assert.deepEqual([f.err, f.cr2], [7, LAYOUT.gdt]);
  f = pageFault('fault: movq $1, 0x600008', (pt) => pt.map(0x600000, 0x50000, PTE_U));
  assert.deepEqual([f.err, f.cr2], [7, 0x600008]);
  // The user stack page is fine; a push below it lands on a supervisor page: P|W|U.
  f = pageFault(`  mov $${LAYOUT.userStackTop - 0x1000}, %rsp\nfault: push %rax`);
  assert.deepEqual([f.err, f.cr2, f.rip], [7, LAYOUT.userStackTop - 0x1000 - 8, f.at('fault')]);
});

test('#PF from kernel mode: read-only pages fault only with CR0.WP', () => {
  const kernel = `
kwrite:
  movq $7, 0x600000
  mov %cr0, %rax
  or $${CR0_WP}, %eax
  mov %rax, %cr0
fault: movq $8, 0x600000
`;
  const f = pageFault('', (pt) => pt.map(0x600000, 0x50000, 0), kernel, 'kwrite');
  assert.deepEqual([f.err, f.cr2, f.rip], [3, 0x600000, f.at('fault')]);
  assert.equal(f.m.memory.read32(0x50000), 7);
});

test('NX: fetching from an XD page faults with I = 1 (EFER.NXE), CR2 and RIP = the target', () => {
  const f = pageFault('  mov $0x600000, %rax\n  jmp *%rax', (pt) => pt.map(0x600000, 0x50000, PTE_U, { nx: true }));
  assert.equal(f.err, 1 | 4 | 8); // NXE = 0: the XD bit is reserved -> P | U | RSVD, and no I bit
  const b = pagedBoot('  mov $0x600000, %rax\n  jmp *%rax');
  b.pt.map(0x600000, 0x50000, PTE_U, { nx: true });
  b.m.cpu.efer |= EFER_NXE;
  assert.equal(b.m.run(500), 'halted');
  const r = recorded(b.m);
  assert.deepEqual([Number(r[1]), Number(r[2]), Number(r[9])], [0x15, 0x600000, 0x600000]);
  // An executable page runs: 0x50000 holds `int $64` (cd 40).
  const c = pagedBoot('  mov $0x600000, %rax\n  jmp *%rax');
  c.pt.map(0x600000, 0x50000, PTE_U);
  c.m.memory.write16(0x50000, 0x40cd);
  c.m.cpu.efer |= EFER_NXE;
  setGate(c.m, 64, c.at('record'), 3);
  assert.equal(c.m.run(500), 'halted');
  assert.equal(Number(recorded(c.m)[1]), 0x600002);
});

test('accessed and dirty bits set by running code', () => {
  const b = pagedBoot('  mov 0x600000, %rax\n  movq $1, 0x601000\n  int $64');
  b.pt.map(0x600000, 0x50000, PTE_U | PTE_W);
  b.pt.map(0x601000, 0x51000, PTE_U | PTE_W);
  setGate(b.m, 64, b.at('record'), 3);
  assert.equal(b.m.run(500), 'halted');
  const read = b.m.memory.read32(b.pt.entryAddress(0x600000));
  const written = b.m.memory.read32(b.pt.entryAddress(0x601000));
  assert.equal(read & (PTE_A | PTE_D), PTE_A);
  assert.equal(written & (PTE_A | PTE_D), PTE_A | PTE_D);
  assert.equal(b.m.memory.read32(0x51000), 1);
});
