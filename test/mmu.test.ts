// The MMU against the paging rules of the Intel SDM Vol. 3 ch. 4: translation,
// permission checks, #PF error codes and CR2, NX, accessed/dirty bits, large pages, TLB.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysicalMemory } from '../src/machine/memory.js';
import {
  Mmu, CR0_PG, CR0_WP, EFER_NXE, PTE_A, PTE_D, PTE_U, PTE_W, Access,
} from '../src/machine/mmu.js';
import { CpuFault, PF } from '../src/machine/exceptions.js';
import { PageTableBuilder } from './systemHelpers.js';
import { GraphSnapshot } from '../src/vmm/fuzz/snapshot.js';

function setup(): { mem: PhysicalMemory; mmu: Mmu; pt: PageTableBuilder } {
  const mem = new PhysicalMemory(4 << 20);
  const pt = new PageTableBuilder(mem, 0x100000);
  const mmu = new Mmu(mem, { cr0: CR0_PG, cr2: 0, cr3: pt.root, cr4: 0, efer: 0 });
  return { mem, mmu, pt };
}

/** The #PF error code of an access, or -1 if it succeeds. Checks CR2 too. */
function faultCode(mmu: Mmu, linear: number, access: Access, cpl: number): number {
  try {
    mmu.translate(linear, access, cpl);
    return -1;
  } catch (e) {
    assert.ok(e instanceof CpuFault);
    assert.equal(e.vector, PF);
    assert.equal(mmu.regs.cr2, linear);
    return e.errorCode!;
  }
}

test('physical memory: little-endian access, unbacked bus reads all ones', () => {
  const mem = new PhysicalMemory(8192);
  mem.write32(0x10, 0x11223344);
  assert.equal(mem.read8(0x10), 0x44);
  assert.equal(mem.read16(0x12), 0x1122);
  assert.equal(mem.read32(8192), 0xffffffff);
  assert.equal(mem.read32(8190), 0xffff0000);
  mem.write32(8190, 0xaabbccdd); // half lands, half is dropped
  assert.equal(mem.read16(8190), 0xccdd);
  assert.throws(() => new PhysicalMemory(1000), /multiple of 4096/);
});

test('paging off is the identity; paging on translates 4 KiB pages', () => {
  const { mmu, pt } = setup();
  mmu.regs.cr0 = 0;
  assert.equal(mmu.translate(0x123456, 'read', 0), 0x123456);
  mmu.regs.cr0 = CR0_PG;
  pt.map(0x400000, 0x5000, PTE_W | PTE_U);
  assert.equal(mmu.translate(0x400abc, 'read', 3), 0x5abc);
  pt.map(-(2 ** 47), 0x7000, PTE_W); // 0xffff800000000000
  assert.equal(mmu.translate(-(2 ** 47) + 0x10, 'write', 0), 0x7010);
});

test('#PF error codes for every P/W/U combination, and CR2', () => {
  const { mmu, pt } = setup();
  // Not present: P = 0.
  assert.equal(faultCode(mmu, 0x800000, 'read', 0), 0);
  assert.equal(faultCode(mmu, 0x800000, 'write', 0), 2);
  assert.equal(faultCode(mmu, 0x800000, 'read', 3), 4);
  assert.equal(faultCode(mmu, 0x800000, 'write', 3), 6);
  // Present, supervisor-only page: user accesses fault with P = 1.
  pt.map(0x800000, 0x9000, PTE_W);
  assert.equal(faultCode(mmu, 0x800008, 'read', 3), 5);
  assert.equal(faultCode(mmu, 0x800008, 'write', 3), 7);
  assert.equal(faultCode(mmu, 0x800008, 'write', 0), -1);
  // Present, read-only user page.
  pt.map(0x801000, 0xa000, PTE_U);
  assert.equal(faultCode(mmu, 0x801000, 'read', 3), -1);
  assert.equal(faultCode(mmu, 0x801ff8, 'write', 3), 7);
  // Supervisor writes to read-only pages fault only with CR0.WP = 1.
  assert.equal(faultCode(mmu, 0x801000, 'write', 0), -1);
  mmu.regs.cr0 |= CR0_WP;
  mmu.flush();
  assert.equal(faultCode(mmu, 0x801000, 'write', 0), 3);
  // A user page under a supervisor-only page directory is not user-accessible.
  pt.map(0x40000000, 0xb000, PTE_U | PTE_W, { tableFlags: 0x3 });
  assert.equal(faultCode(mmu, 0x40000000, 'read', 3), 5);
});

test('NX: instruction fetches fault with I = 1 when EFER.NXE = 1; XD is reserved otherwise', () => {
  const { mmu, pt } = setup();
  pt.map(0x600000, 0xc000, PTE_U, { nx: true });
  pt.map(0x601000, 0xd000, PTE_U);
  // NXE = 0: bit 63 is reserved -> P | RSVD.
  assert.equal(faultCode(mmu, 0x600000, 'read', 0), 1 | 8);
  mmu.regs.efer = EFER_NXE;
  assert.equal(faultCode(mmu, 0x600000, 'read', 3), -1);
  assert.equal(faultCode(mmu, 0x600000, 'execute', 3), 0x15);
  assert.equal(faultCode(mmu, 0x600000, 'execute', 0), 0x11);
  assert.equal(faultCode(mmu, 0x601000, 'execute', 3), -1);
  assert.equal(faultCode(mmu, 0x602000, 'execute', 0), 0x10); // not present fetch
});

test('accessed bits on every level, dirty bit on the leaf only on writes', () => {
  const { mem, mmu, pt } = setup();
  pt.map(0x200000, 0xe000, PTE_W);
  const leaf = pt.entryAddress(0x200000);
  const levels = [0, 1, 2].map((l) => pt.entryAddress(0x200000, l));
  mmu.translate(0x200000, 'read', 0);
  for (const at of [...levels, leaf]) assert.equal(mem.read32(at) & PTE_A, PTE_A);
  assert.equal(mem.read32(leaf) & PTE_D, 0);
  for (const at of levels) assert.equal(mem.read32(at) & PTE_D, 0);
  // The TLB entry has D clear: the first write must walk again and set D.
  const walks = mmu.walks;
  mmu.translate(0x200004, 'write', 0);
  assert.equal(mmu.walks, walks + 1);
  assert.equal(mem.read32(leaf) & PTE_D, PTE_D);
  mmu.translate(0x200008, 'write', 0);
  assert.equal(mmu.walks, walks + 1); // now a TLB hit
  // A faulting access sets no bits.
  pt.map(0x201000, 0xf000, 0);
  mmu.translate(0x201000, 'read', 0);
  const leaf2 = pt.entryAddress(0x201000);
  mem.write32(leaf2, mem.read32(leaf2) & ~PTE_A);
  mmu.flush();
  assert.equal(faultCode(mmu, 0x201000, 'read', 3), 5);
  assert.equal(mem.read32(leaf2) & PTE_A, 0);
});

test('2 MiB and 1 GiB pages; reserved bits in a large-page entry', () => {
  const { mem, mmu, pt } = setup();
  pt.map(0x40000000, 0x200000, PTE_W, { size: 2 ** 21 });
  assert.equal(mmu.translate(0x40012345, 'read', 0), 0x212345);
  assert.equal(mmu.translate(0x401fffff, 'write', 0), 0x3fffff);
  pt.map(0x8000000000, 0, PTE_W, { size: 2 ** 30 }); // 1 GiB at 512 GiB -> physical 0
  assert.equal(mmu.translate(0x8000000000 + 0x3ffff000, 'read', 0), 0x3ffff000);
  // Bit 13 of a 2 MiB entry is reserved.
  pt.map(0x80000000, 0x202000, PTE_W, { size: 2 ** 21 });
  assert.equal(faultCode(mmu, 0x80000000, 'read', 0), 9);
  // PS in a PML4 entry is reserved.
  const pml4e = pt.entryAddress(0x8000000000, 0);
  mem.write32(pml4e, mem.read32(pml4e) | 0x80);
  mmu.flush();
  assert.equal(faultCode(mmu, 0x8000000000, 'read', 0), 9);
});

test('the TLB caches until invlpg or a CR3 write', () => {
  const { mem, mmu, pt } = setup();
  pt.map(0x300000, 0x10000, PTE_W);
  pt.map(0x301000, 0x11000, PTE_W);
  assert.equal(mmu.translate(0x300000, 'read', 0), 0x10000);
  assert.equal(mmu.translate(0x301000, 'read', 0), 0x11000);
  // Change both mappings behind the TLB's back.
  mem.write32(pt.entryAddress(0x300000), 0x20000 | 3);
  mem.write32(pt.entryAddress(0x301000), 0x21000 | 3);
  assert.equal(mmu.translate(0x300000, 'read', 0), 0x10000); // stale
  mmu.flushPage(0x300000);
  assert.equal(mmu.translate(0x300000, 'read', 0), 0x20000);
  assert.equal(mmu.translate(0x301000, 'read', 0), 0x11000); // still stale
  mmu.flush();
  assert.equal(mmu.translate(0x301000, 'read', 0), 0x21000);
  // probe has no side effects and reports faults as -1.
  assert.equal(mmu.probe(0x999000, 'read', 0), -1);
  assert.equal(mmu.probe(0x300010, 'write', 0), 0x20010);
});

test('switchRoot keeps each root\'s TLB; flushPage and flush reach the kept ones', () => {
  const { mem, mmu, pt } = setup();
  const other = new PageTableBuilder(mem, 0x200000);
  pt.map(0x300000, 0x10000, PTE_W);
  pt.map(0x301000, 0x11000, PTE_W);
  other.map(0x300000, 0x30000, PTE_W);
  assert.equal(mmu.translate(0x300000, 'read', 0), 0x10000);
  assert.equal(mmu.translate(0x301000, 'read', 0), 0x11000);
  mmu.switchRoot(other.root);
  assert.equal(mmu.regs.cr3, other.root);
  assert.equal(mmu.translate(0x300000, 'read', 0), 0x30000); // the other root's own translation
  // Change the first root's mappings behind the TLB's back: its kept TLB still has them.
  mem.write32(pt.entryAddress(0x300000), 0x20000 | 3);
  mem.write32(pt.entryAddress(0x301000), 0x21000 | 3);
  mmu.flushPage(0x300000); // reaches the kept TLB too
  const walks = mmu.walks;
  mmu.switchRoot(pt.root);
  assert.equal(mmu.translate(0x301000, 'read', 0), 0x11000); // kept: stale, no walk
  assert.equal(mmu.walks, walks);
  assert.equal(mmu.translate(0x300000, 'read', 0), 0x20000); // flushed while kept: walked again
  assert.equal(mmu.walks, walks + 1);
  mmu.switchRoot(other.root);
  mmu.flush(); // every TLB, the kept ones too
  mmu.switchRoot(pt.root);
  assert.equal(mmu.translate(0x301000, 'read', 0), 0x21000);
});

// The fuzzer resets its machines in place by putting back every field as it was (src/vmm/fuzz/snapshot.ts).
// switchRoot swaps the current tables with a kept record's: were the records invisible to that reset
// (they once were a #private field), the current tables put back could also be a kept record's,
// and a root switch would then find another root's translations (7 disagreements in 20,000 guests).
test('an MMU put back as it was (the fuzzer\'s reset) keeps no TLB of before: every root translates its own mappings', () => {
  const mem = new PhysicalMemory(4 << 20);
  const roots = [0, 1, 2, 3, 4, 5].map((i) => {
    const pt = new PageTableBuilder(mem, 0x100000 + i * 0x40000);
    pt.map(0x300000, 0x10000 + i * 0x1000, PTE_W);
    return pt.root;
  });
  const mmu = new Mmu(mem, { cr0: CR0_PG, cr2: 0, cr3: roots[0], cr4: 0, efer: 0 });
  const snapshot = new GraphSnapshot(mmu, new Set(), new Set([mem.bytes.buffer]));
  let state = 7;
  for (let round = 0; round < 20; round++) {
    snapshot.restore();
    for (let step = 0; step < 12; step++) {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      const i = state % roots.length;
      mmu.switchRoot(roots[i]);
      assert.equal(mmu.translate(0x300000, 'read', 0), 0x10000 + i * 0x1000, `round ${round} step ${step}: root ${i}`);
    }
  }
});
