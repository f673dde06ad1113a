// Helpers shared by the system-level tests (mmu, interrupts, system, devices, fuzz):
// building page tables in physical memory and assembling test programs with GNU as.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PhysicalMemory } from '../src/machine/memory.js';
import { PTE_P, PTE_PS, PTE_HI_XD } from '../src/machine/mmu.js';

/** Builds 4-level page tables in physical memory, taking table pages from a bump allocator. */
export class PageTableBuilder {
  readonly root: number;
  private next: number;
  constructor(readonly memory: PhysicalMemory, firstFreePage: number) {
    this.next = firstFreePage;
    this.root = this.allocate();
  }
  allocate(): number {
    const page = this.next;
    this.next += 4096;
    for (let i = 0; i < 4096; i++) this.memory.write8(page + i, 0);
    return page;
  }
  /**
   * Map the page at `linear` (signed canonical) to `phys` with low flag bits `flags`
   * (PTE_P is implied), page size 4 KiB, 2 MiB or 1 GiB, optionally no-execute.
   * Intermediate entries get `tableFlags` (default present+writable+user).
   */
  map(linear: number, phys: number, flags: number, opts: { size?: number; nx?: boolean; tableFlags?: number } = {}): void {
    const size = opts.size ?? 4096;
    const tableFlags = opts.tableFlags ?? 0x7;
    const u = linear < 0 ? linear + 2 ** 48 : linear;
    const leafLevel = size === 4096 ? 3 : size === 2 ** 21 ? 2 : 1;
    let table = this.root;
    for (let level = 0; level < leafLevel; level++) {
      const at = table + (Math.floor(u / 2 ** (39 - 9 * level)) & 511) * 8;
      let lo = this.memory.read32(at);
      if ((lo & PTE_P) === 0) {
        lo = this.allocate() | tableFlags;
        this.memory.write64(at, lo >>> 0, 0);
      }
      table = (lo & 0xfffff000) >>> 0;
    }
    const at = table + (Math.floor(u / 2 ** (39 - 9 * leafLevel)) & 511) * 8;
    const lo = (phys % 2 ** 32) | flags | PTE_P | (leafLevel < 3 ? PTE_PS : 0);
    const hi = Math.floor(phys / 2 ** 32) | (opts.nx ? PTE_HI_XD : 0);
    this.memory.write64(at, lo >>> 0, hi >>> 0);
  }
  /** Physical address of the leaf entry for `linear` (4 KiB mappings only). */
  entryAddress(linear: number, level = 3): number {
    const u = linear < 0 ? linear + 2 ** 48 : linear;
    let table = this.root;
    for (let l = 0; l < level; l++) {
      const at = table + (Math.floor(u / 2 ** (39 - 9 * l)) & 511) * 8;
      table = (this.memory.read32(at) & 0xfffff000) >>> 0;
    }
    return table + (Math.floor(u / 2 ** (39 - 9 * level)) & 511) * 8;
  }
}

export interface Assembled {
  bytes: Uint8Array;
  /** Offsets of the labels in .text. */
  symbols: Map<string, number>;
}

/** Assemble AT&T source with GNU as: the bytes of its .text section and its labels (from nm). */
export function assemble(source: string): Assembled {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-sys-'));
  try {
    const s = path.join(dir, 't.s');
    const o = path.join(dir, 't.o');
    const bin = path.join(dir, 't.bin');
    fs.writeFileSync(s, source + '\n');
    execFileSync('as', ['--64', '-o', o, s]);
    execFileSync('objcopy', ['-O', 'binary', '--only-section=.text', o, bin]);
    const symbols = new Map<string, number>();
    for (const line of execFileSync('nm', ['-a', o], { encoding: 'utf8' }).split('\n')) {
      const m = line.match(/^([0-9a-f]+) [tT] (\S+)$/);
      if (m) symbols.set(m[2], parseInt(m[1], 16));
    }
    return { bytes: new Uint8Array(fs.readFileSync(bin)), symbols };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// A small machine for the system tests, wired the way the machine contract
// describes (Cpu + Mmu + PhysicalMemory + InterruptController + PortBus +
// devices), with the standard descriptor tables of an xk-like kernel.

import { Machine, MachineOptions } from '../src/machine/machine.js';
import {
  codeSegment64, dataSegment, interruptGate, nullDescriptor, tssDescriptor, writeTss, TSS_SIZE,
} from '../src/machine/descriptors.js';

/** The machine the system tests run on (1 MiB of memory unless told otherwise). */
export class SysMachine extends Machine {
  constructor(options: Partial<MachineOptions> = {}) {
    super({ memoryBytes: 1 << 20, ...options });
  }
}

/** Physical layout used by the system tests. */
export const LAYOUT = {
  gdt: 0x1000,
  idt: 0x2000,
  tss: 0x3000,
  kernelStackTop: 0x8000,
  userStackTop: 0xc000,
  code: 0x10000,
  data: 0x20000, // scratch for results
  pageTables: 0x40000,
};
export const KERNEL_CS = 0x08, KERNEL_DS = 0x10, USER_CS = 0x1b, USER_DS = 0x23, TSS_SEL = 0x28;

/**
 * GDT [null, kernel code, kernel data, user code, user data, TSS], an empty
 * IDT of 256 entries, a TSS with rsp0 = kernelStackTop, and the CPU in the
 * state a kernel would have after loading them (CPL 0, flat 64-bit, paging off).
 */
export function standardTables(m: SysMachine): void {
  const { memory, cpu } = m;
  const gdt = [nullDescriptor(), codeSegment64(0), dataSegment(0), codeSegment64(3), dataSegment(3)];
  gdt.forEach((d, i) => memory.load(LAYOUT.gdt + 8 * i, d));
  memory.load(LAYOUT.gdt + 40, tssDescriptor(LAYOUT.tss));
  writeTss(memory, LAYOUT.tss, LAYOUT.kernelStackTop);
  cpu.gdtrBase = LAYOUT.gdt;
  cpu.gdtrLimit = 7 * 8 - 1;
  cpu.idtrBase = LAYOUT.idt;
  cpu.idtrLimit = 256 * 16 - 1;
  cpu.tssBase = LAYOUT.tss;
  cpu.tssLimit = TSS_SIZE - 1;
  cpu.trSelector = TSS_SEL;
  cpu.cs = KERNEL_CS;
  cpu.ss = KERNEL_DS;
  cpu.cpl = 0;
  cpu.regs[8] = LAYOUT.kernelStackTop;
}

/** Load an assembled program at LAYOUT.code and return a function giving label addresses. */
export function loadProgram(m: SysMachine, source: string): (label: string) => number {
  const { bytes, symbols } = assemble(source);
  m.memory.load(LAYOUT.code, bytes);
  m.cpu.invalidateDecodeCache();
  return (label: string) => {
    const off = symbols.get(label);
    if (off === undefined) throw new Error(`test program has no label ${label}`);
    return LAYOUT.code + off;
  };
}

/** Point IDT entry `vector` at `handler`. */
export function setGate(m: SysMachine, vector: number, handler: number, dpl = 0, trap = false): void {
  const g = interruptGate(handler, KERNEL_CS, dpl);
  if (trap) g[5] = (g[5] & 0xf0) | 0xf;
  m.memory.load(LAYOUT.idt + 16 * vector, g);
}

/** Read the 64-bit value at physical `phys` as a bigint. */
export function q(m: SysMachine, phys: number): bigint {
  return (BigInt(m.memory.read32(phys + 4)) << 32n) | BigInt(m.memory.read32(phys));
}

const D = LAYOUT.data;

/**
 * A test program: `kstart` drops to user mode at `user` (RFLAGS = userFlags)
 * where `userCode` runs; `record` is a handler that stores RSP, the six stack
 * slots above it, its own RFLAGS, CS and CR2 into the data area and halts.
 */
export function program(userCode: string, kernelExtra = '', userFlags = 0x2): string {
  return `
kstart:
  pushq $${USER_DS}
  pushq $${LAYOUT.userStackTop}
  pushq $${userFlags}
  pushq $${USER_CS}
  lea user(%rip), %rax
  push %rax
  iretq
user:
${userCode}
  jmp .
record:
  mov %rsp, ${D}
  mov 0(%rsp), %rax
  mov %rax, ${D + 8}
  mov 8(%rsp), %rax
  mov %rax, ${D + 16}
  mov 16(%rsp), %rax
  mov %rax, ${D + 24}
  mov 24(%rsp), %rax
  mov %rax, ${D + 32}
  mov 32(%rsp), %rax
  mov %rax, ${D + 40}
  mov 40(%rsp), %rax
  mov %rax, ${D + 48}
  pushfq
  pop %rax
  mov %rax, ${D + 56}
  mov %cs, %eax
  mov %rax, ${D + 64}
  mov %cr2, %rax
  mov %rax, ${D + 72}
  hlt
${kernelExtra}
`;
}

export function boot(userCode: string, kernelExtra = '', userFlags = 0x2, options: Partial<MachineOptions> = {}): { m: SysMachine; at: (l: string) => number } {
  const m = new SysMachine(options);
  standardTables(m);
  const at = loadProgram(m, program(userCode, kernelExtra, userFlags));
  m.cpu.rip = at('kstart');
  return { m, at };
}

/** What `record` stored: [rsp at entry, slot0..slot5, rflags in handler, cs in handler, cr2]. */
export function recorded(m: SysMachine): bigint[] {
  return [0, 8, 16, 24, 32, 40, 48, 56, 64, 72].map((o) => q(m, D + o));
}
