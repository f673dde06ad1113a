// Forward rep movs/stos in page runs (executeStrings.ts, pageRun: the elements
// inside one page at once when the data TLB holds the pages) against the same
// instructions one element at a time (the CPU's readMem/writeMem replaced by
// forwarding wrappers, which turns page runs off, as data-breakpoint watches
// do), on the interpreter, the block tier and JIT regions, in lockstep after
// every slice of 1, 3 and 1000 instructions: registers, RIP, flags, count,
// the fault with CR2, the data pages, the code page and the page table (its
// accessed and dirty bits). The cases: every element size, counts 0, 1 and
// more than a chunk (the instruction stops after 65536 elements and runs
// again), source and destination crossing pages, an element straddling a page
// end, overlapping moves, a store into the page of the running code, an
// absent page and a read-only page in the middle of a run, an fs source, DF
// set. Where a mutation could hide behind a TLB miss (pageRun then does
// nothing), the program first reads or writes the pages involved.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Machine } from '../src/machine/machine.js';
import type { Cpu } from '../src/machine/cpu.js';
import { have } from './helpers/tools.js';
import { assembleText } from './helpers/gnuAs.js';
import { TIERS, identityPaging, machines, runChunk } from './helpers/jitLockstep.js';

const CODE = 0x10000;
const PT = 0xf3000;
const noAs = !have('as') || !have('objcopy');

/** One element at a time: readMem/writeMem as own forwarding functions (pageRun runs only with the plain ones). */
function elementPath(m: Machine): void {
  const proto = Object.getPrototypeOf(m.cpu) as Cpu;
  m.cpu.readMem = function (this: Cpu, addr, size, access) { return proto.readMem.call(this, addr, size, access); };
  m.cpu.writeMem = function (this: Cpu, addr, size, lo, hi) { proto.writeMem.call(this, addr, size, lo, hi); };
}

/** A hash of the physical words in [from, to). */
function hash(m: Machine, from: number, to: number): string {
  let h = 0x811c9dc5;
  for (let a = from; a < to; a += 4) h = Math.imul(h ^ m.memory.read32(a), 16777619);
  return (h >>> 0).toString(16);
}

function observe(m: Machine, out: string): string {
  return `${out} data=${hash(m, 0x30000, 0x58000)} big=${hash(m, 0x100000, 0x112000)} code=${hash(m, CODE, CODE + 0x1000)} pt=${hash(m, PT, PT + 0x1000)}`;
}

interface Case { name: string; asm: string; absent?: number[]; readOnly?: number[] }

const CASES: Case[] = [
  { name: 'movsb across both pages', asm: 'mov $0x30ffd, %rsi; mov $0x50ff0, %rdi; mov $40, %ecx; rep movsb' },
  { name: 'movsw, movsl, movsq in one page and across', asm: 'mov $0x30f00, %rsi; mov $0x50e00, %rdi; mov $300, %ecx; rep movsw; mov $300, %ecx; rep movsl; mov $300, %ecx; rep movsq' },
  { name: 'movsq with elements straddling the source and the destination page ends', asm: 'mov $0x30ffc, %rsi; mov $0x51ffa, %rdi; mov $600, %ecx; rep movsq' },
  { name: 'overlapping movsb and movsq (destination above the source)', asm: 'mov $0x30100, %rsi; mov $0x30101, %rdi; mov $300, %ecx; rep movsb; mov $0x32000, %rsi; mov $0x32003, %rdi; mov $700, %ecx; rep movsq; mov $0x33010, %rsi; mov $0x33000, %rdi; mov $900, %ecx; rep movsl' },
  { name: 'counts 0 and 1', asm: 'mov $0x30000, %rsi; mov $0x50000, %rdi; xor %ecx, %ecx; rep movsq; rep stosq; mov $1, %ecx; rep movsq; mov $1, %ecx; rep stosb; mov $1, %ecx; rep stosq' },
  { name: 'stos of every size across pages', asm: 'mov $0x50ff3, %rdi; mov $5000, %ecx; rep stosb; mov $3000, %ecx; rep stosw; mov $2000, %ecx; rep stosl; mov $0x52ff8, %rdi; mov $1000, %ecx; rep stosq' },
  { name: 'stosb over more than one chunk', asm: 'mov $0x100000, %rdi; mov $70000, %ecx; rep stosb; mov $0x100001, %rdi; mov $9000, %ecx; rep stosq' },
  { name: 'movsb over more than one chunk', asm: 'mov $0x100000, %rsi; mov $0x108000, %rdi; mov $66000, %ecx; rep movsb' },
  { name: 'movsq into the page of the running code', asm: 'mov $0x30000, %rsi; lea 0x800(%rip), %rdi; mov $100, %ecx; rep movsq; mov $0x30000, %rdi; mov $100, %ecx; rep stosq' },
  // The first store puts the code page into the write TLB (and drops its decoded code); the `nop`s then run
  // (decoded again), and the copy over them hits the TLB (the cmp put the source into the read TLB): it must still drop them (the second round runs `mov $7, %eax`).
  { name: 'movsb over decoded instructions', asm: 'movabs $0x90909000000007b8, %rbx; mov %rbx, 0x30000; mov %rbx, 0x30008; movb $0x90, 2f(%rip); cmp 0x30000, %rbx; xor %edx, %edx; jmp 2f; 1: mov $0x30000, %rsi; lea 2f(%rip), %rdi; mov $16, %ecx; rep movsb; 2: .fill 16, 1, 0x90; inc %edx; cmp $2, %edx; jne 1b' },
  { name: 'stosq into an absent page (#PF mid-way)', asm: 'mov $0x50f00, %rdi; mov $3000, %ecx; rep stosq', absent: [0x53000] },
  { name: 'movsl from an absent page (#PF mid-way)', asm: 'mov $0x52f00, %rsi; mov $0x40000, %rdi; mov $3000, %ecx; rep movsl', absent: [0x54000] },
  { name: 'movsb into a read-only page (#PF mid-way)', asm: 'mov $0x30000, %rsi; mov $0x44ff0, %rdi; mov $9000, %ecx; rep movsb', readOnly: [0x46000] },
  { name: 'movs with an fs source (fs base 0x2f00; both pages in the read TLB)', asm: 'mov 0x30000, %ebx; mov 0x32000, %ebx; mov $0x30000, %rsi; mov $0x50000, %rdi; mov $900, %ecx; rep movsl %fs:(%rsi), %es:(%rdi)' },
  { name: 'DF set (one element at a time in every tier)', asm: 'mov $0x31008, %rsi; mov $0x51010, %rdi; mov $700, %ecx; std; rep movsq; mov $300, %ecx; rep stosl; cld' },
  { name: 'a loop of short movs and stos (the translations call them)', asm: 'mov $50, %edx; 1: mov $0x30000, %rsi; mov $0x50000, %rdi; mov %edx, %ecx; rep movsq; mov %edx, %ecx; rep stosq; dec %edx; jne 1b' },
];

test('rep movs/stos in page runs leave the state, memory, page-table bits and faults of one element at a time', (t) => {
  if (noAs) { t.skip('GNU as not installed'); return; }
  for (const c of CASES) {
    const code = assembleText(`mov $0x1122334455667788, %rax\n cld\n ${c.asm.replaceAll('; ', '\n ')}\n hlt`);
    for (const chunk of [1, 3, 1000]) {
      const setup = (m: Machine): void => {
        m.loadPhysical(CODE, code);
        for (let a = 0x30000; a < 0x58000; a += 4) m.memory.write32(a, Math.imul(a, 0x9e3779b1) >>> 0);
        for (let a = 0x100000; a < 0x112000; a += 4) m.memory.write32(a, Math.imul(a, 0x85ebca6b) >>> 0);
        identityPaging(m, c.absent ?? [], c.readOnly ?? []);
        m.cpu.rip = CODE; m.cpu.setReg64(4, 0x7f000n); m.cpu.fsBase = 0x2f00;
        m.cpu.interruptCheck = false;
      };
      const ms = machines([TIERS.interpreter, TIERS.interpreter, TIERS.blocks, TIERS.regions], setup);
      elementPath(ms[0]);
      let rounds = 0;
      for (; rounds < 100000 && !ms[0].cpu.halted; rounds++) {
        const out = ms.map((m) => observe(m, runChunk(m, chunk)));
        assert.equal(out[1], out[0], `${c.name}: interpreter with page runs vs one element at a time (slices of ${chunk})`);
        assert.equal(out[2], out[0], `${c.name}: block tier (slices of ${chunk})`);
        assert.equal(out[3], out[0], `${c.name}: jit regions (slices of ${chunk})`);
        if (out[0].startsWith('fault')) break;
      }
      assert.ok(rounds < 100000, c.name);
    }
  }
});

test('rep movs/stos under a data breakpoint watch (the watching readMem/writeMem) take every element through it', (t) => {
  if (noAs) { t.skip('GNU as not installed'); return; }
  // runSlice directly (Machine.run would go through debugInstruction): the watches only record their hits.
  const code = assembleText('mov $0x30000, %rsi\n mov $0x50000, %rdi\n mov $0x400, %ecx\n cld\n rep movsb\n mov $0x400, %ecx\n rep stosq\n hlt');
  for (const tier of [TIERS.interpreter, TIERS.blocks, TIERS.regions]) {
    const [m] = machines([tier], (m) => {
      m.loadPhysical(CODE, code); identityPaging(m, []);
      m.cpu.rip = CODE; m.cpu.setReg64(4, 0x7f000n);
      m.cpu.debugRegisters.set(0, 'access', 0x30200, 4);
      m.cpu.debugRegisters.set(1, 'write', 0x50100, 8);
      m.cpu.debugRegisters.set(2, 'write', 0x51008, 8);
      m.cpu.debugChanged();
      m.cpu.interruptCheck = false;
    });
    for (let i = 0; i < 100 && !m.cpu.halted; i++) runChunk(m, 1000);
    assert.ok(m.cpu.halted);
    assert.equal(m.cpu.dataHits, 7, 'DR0 (read by movsb), DR1 (written by movsb), DR2 (written by stosq)');
  }
});
