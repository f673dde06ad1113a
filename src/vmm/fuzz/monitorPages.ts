// The host memory a fuzz guest may not touch under `xk vm` (issue 11 item 2:
// "the host must never touch memory outside the VM"). The machine's memory
// beyond the guest's RAM is the monitor's own (host.ts): its GDT, IDT and TSS,
// its stack, the page tables that map those pages, and the pool of shadow page
// tables. After each guest the pages a run wrote there must be the monitor's
// working structures only (its stack, the shadow pool), and its tables must
// hold exactly what the monitor puts there for where it sits now (it moves
// them when the guest wants their PML4 slot: relocation rewrites the GDT's TSS
// base and the IDT's gates, legitimately); the page tables may differ only in
// the accessed and dirty bits the MMU sets, and the real CPU's table registers
// must name those tables. Anything else is a disagreement, printed with the
// guest's seed like the others.

import { interruptGate, writeTss } from '../../machine/descriptors.js';
import { PhysicalMemory } from '../../machine/memory.js';
import { HOST_AREA_BYTES, MONITOR_PAGES, type VmHost } from '../host.js';
import { HOST_CS, HOST_TSS, VM_GDT_LIMIT, writeVmGdt } from '../vmGdt.js';

const PAGE = 4096;
const { GDT, IDT, TSS, STACK_TOP, PDPT, PD, PT, POOL, HANDLERS } = MONITOR_PAGES;
/** The MMU's accessed (bit 5) and dirty (bit 6) bits: the only change allowed in the monitor's page tables. */
const ACCESSED_DIRTY = 0x60;

/** What the monitor's fixed pages hold while it sits at linear `linear` (offsets from the end of guest memory). */
function expectedTables(linear: number, base: number): Map<number, Uint8Array> {
  const gdt = new Uint8Array(PAGE);
  writeVmGdt(gdt, 0, linear + TSS);
  const idt = new Uint8Array(PAGE);
  for (let v = 0; v < 256; v++) idt.set(interruptGate(linear + HANDLERS + v, HOST_CS, 0), 16 * v);
  const tss = new PhysicalMemory(PAGE);
  writeTss(tss, 0, linear + STACK_TOP);
  const entry = (page: Uint8Array, at: number, phys: number): void => new DataView(page.buffer).setUint32(at, phys | 3, true);
  const pdpt = new Uint8Array(PAGE), pd = new Uint8Array(PAGE), pt = new Uint8Array(PAGE);
  entry(pdpt, 0, base + PD);
  entry(pd, 0, base + PT);
  for (let i = 0; i < 8; i++) entry(pt, 8 * i, base + PAGE * i);
  return new Map<number, Uint8Array>([[GDT, gdt], [IDT, idt], [TSS, tss.bytes], [PDPT, pdpt], [PD, pd], [PT, pt]]);
}

const NAMES = new Map<number, string>([[GDT, 'GDT'], [IDT, 'IDT'], [TSS, 'TSS'], [PDPT, 'PDPT'], [PD, 'page directory'], [PT, 'page table']]);

/** Is the page at offset `at` (from the end of guest memory) one the monitor writes as it works (its stack, the shadow pool)? */
const workingPage = (at: number): boolean => (at >= STACK_TOP - 2 * PAGE && at < STACK_TOP) || (at >= POOL && at < HOST_AREA_BYTES);

/** Checks one host's pages after each run; the expected tables are made once per place the monitor sits. */
export class MonitorPagesCheck {
  private readonly expected = new Map<number, Map<number, Uint8Array>>();

  /** After a run: null if the host's memory beyond the guest's is as it must be, else what is wrong. `written`: the run's page marks (writtenPages.ts), if known. */
  check(host: VmHost, written: Uint8Array | null): string | null {
    const cpu = host.machine.cpu;
    const bytes = host.machine.memory.bytes;
    const base = host.guestBytes;
    const linear = cpu.gdtrBase - GDT;
    if (cpu.idtrBase !== linear + IDT || cpu.tssBase !== linear + TSS || cpu.gdtrLimit !== VM_GDT_LIMIT || cpu.idtrLimit !== 256 * 16 - 1 || cpu.trSelector !== HOST_TSS) {
      return `host memory: the real CPU's table registers changed (GDTR 0x${cpu.gdtrBase.toString(16)}/${cpu.gdtrLimit}, IDTR 0x${cpu.idtrBase.toString(16)}/${cpu.idtrLimit}, TR 0x${cpu.trSelector.toString(16)} at 0x${cpu.tssBase.toString(16)})`;
    }
    if (written !== null) {
      for (let p = base / PAGE; p < written.length; p++) {
        const at = p * PAGE - base;
        if (written[p] !== 0 && !workingPage(at) && !NAMES.has(at)) return `host memory: page 0x${(p * PAGE).toString(16)} (monitor +0x${at.toString(16)}) was written, not one of the monitor's structures`;
      }
    }
    let tables = this.expected.get(linear);
    if (tables === undefined) { tables = expectedTables(linear, base); this.expected.set(linear, tables); }
    for (const [at, want] of tables) {
      const got = bytes.subarray(base + at, base + at + PAGE);
      if (Buffer.from(got.buffer, got.byteOffset, PAGE).equals(want)) continue;
      const pageTable = at === PDPT || at === PD || at === PT;
      for (let i = 0; i < PAGE; i++) {
        const diff = got[i] ^ want[i];
        if (diff === 0 || (pageTable && i % 8 === 0 && (diff & ~ACCESSED_DIRTY) === 0)) continue;
        return `host memory: the monitor's ${NAMES.get(at)} changed at 0x${(base + at + i).toString(16)} (0x${want[i].toString(16)} -> 0x${got[i].toString(16)})`;
      }
    }
    return null;
  }
}
