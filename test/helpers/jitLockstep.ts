// Machines for comparing the JIT tier with the interpreter: the same program
// on several machines that differ only in the tiers they run (JIT single
// blocks, JIT regions, block tier, interpreter alone), and their state.

import { Machine } from '../../src/machine/machine.js';

/** A tier setting: JIT translations of `region` blocks at most (0: no JIT), the block tier on or off. */
export interface Tier { jit: boolean; blocks: boolean; region: number }

export const TIERS: Record<string, Tier> = {
  jit: { jit: true, blocks: true, region: 1 },
  regions: { jit: true, blocks: true, region: 8 },
  blocks: { jit: false, blocks: true, region: 1 },
  interpreter: { jit: false, blocks: false, region: 1 },
};

/** A machine per tier, made by `setup`; every block is built and translated at its first run. */
export function machines(tiers: Tier[], setup: (m: Machine) => void, memoryBytes = 8 << 20): Machine[] {
  return tiers.map((t) => {
    const m = new Machine({ memoryBytes });
    setup(m);
    m.cpu.blocksEnabled = t.blocks;
    m.cpu.blockThreshold = 1;
    m.cpu.jitEnabled = t.jit;
    m.cpu.jitThreshold = 1;
    m.cpu.jitRegionBlocks = t.region;
    return m;
  });
}

/** Registers, RIP, RFLAGS, the retired-instruction count and halted, as one string. */
export function machineState(m: Machine): string {
  return JSON.stringify({ regs: [...m.cpu.regs], rip: m.cpu.rip, flags: m.cpu.getRflags(), count: m.cpu.instructionCount, halted: m.cpu.halted });
}

/** Run a slice of `chunk` instructions; the state after it, or the fault (vector, error code, CR2) and the state. */
export function runChunk(m: Machine, chunk: number): string {
  try {
    m.cpu.runSlice(m.cpu.instructionCount + chunk);
  } catch (e) {
    const f = e as { vector?: number; errorCode?: number; message: string };
    return `fault ${f.vector}/${f.errorCode} ${f.message} cr2=${m.cpu.cr2} ${machineState(m)}`;
  }
  m.cpu.interruptCheck = false;
  return machineState(m);
}

/**
 * Identity-map the first 2 MiB with 4 KiB pages and turn on long-mode paging (CR0.WP set):
 * the pages in `absent` not present, those in `readOnly` present but not writable.
 */
export function identityPaging(m: Machine, absent: number[], readOnly: number[] = []): void {
  const PML4 = 0xf0000, PDPT = 0xf1000, PD = 0xf2000, PT = 0xf3000;
  m.memory.write32(PML4, PDPT | 7);
  m.memory.write32(PDPT, PD | 7);
  m.memory.write32(PD, PT | 7);
  for (let i = 0; i < 512; i++) {
    const page = i * 4096;
    m.memory.write32(PT + 8 * i, absent.includes(page) ? 0 : page | (readOnly.includes(page) ? 5 : 7));
  }
  m.cpu.cr3 = PML4; m.cpu.cr4 = 1 << 5; m.cpu.efer = (1 << 8) | (1 << 10);
  m.cpu.cr0 = 0x80010001;
  m.mmu.flush();
}

/**
 * A loop that runs `body` with %rbx walking up by 0x300 from 0x30000, so that it reaches page
 * 0x34000 some rounds in (absent or read-only there: the body's access faults); %ecx counts to 7
 * through a branch (two blocks), %eax and the flags change before the body.
 */
export function pageWalkLoop(body: string): string {
  return `
    mov $0x30000, %ebx
    mov $0x80000, %esp
    xor %ecx, %ecx
    mov $5, %eax
  1: add $3, %eax
    cmp $7, %ecx
    je 2f
    inc %ecx
  2: ${body}
    lea 0x300(%rbx), %rbx
    sub $1, %eax
    cmp $100000, %eax
    jne 1b
    hlt`;
}
