// Robustness: random bytes executed as code, at CPL 0 and at CPL 3 (under
// paging, with the system tables out of user reach), must only ever produce
// architectural results — faults delivered through the IDT, halts, triple
// faults — and never a host exception. Seeded, so failures reproduce.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SysMachine, standardTables, setGate, PageTableBuilder, assemble, USER_CS, USER_DS } from './systemHelpers.js';
import { CR0_PE, CR0_PG, PTE_U, PTE_W } from '../src/machine/mmu.js';
import { seededRandom } from './helpers/random.js';


// Every vector goes to a handler that acknowledges the interrupt controller and
// returns one byte past the saved RIP, so execution goes on somewhere new.
const HANDLER = 0x5000;
const handler = assemble(`
noerror:
  incq (%rsp)
  push %rax
  mov $0x20, %al
  outb %al, $0x20
  pop %rax
  iretq
witherror:
  add $8, %rsp
  jmp noerror
`);
const WITH_ERROR = new Set([8, 10, 11, 12, 13, 14, 17]);
const RANDOM = 0x10000; // 64 KiB of random bytes
const OUTCOMES = new Set(['limit', 'halted', 'triple-fault', 'stopped']);

function round(seed: number, user: boolean): string {
  const rand = seededRandom(seed);
  const m = new SysMachine({ timerInterval: 1 + Math.floor(rand() * 500), serialIn: 'fuzz' });
  standardTables(m);
  m.memory.load(HANDLER, handler.bytes);
  for (let v = 0; v < 256; v++) {
    const entry = HANDLER + handler.symbols.get(WITH_ERROR.has(v) ? 'witherror' : 'noerror')!;
    setGate(m, v, entry, v === 64 || v === 3 ? 3 : 0, v === 3);
  }
  const code = new Uint8Array(0x10000);
  for (let i = 0; i < code.length; i++) code[i] = Math.floor(rand() * 256);
  // Bias towards interesting opcodes now and then: system instructions, prefixes.
  const interesting = [0x0f, 0xcd, 0xcf, 0x48, 0x66, 0xf3, 0xfa, 0xfb, 0x9c, 0x9d, 0xe4, 0xe6, 0xec, 0xee, 0x8e];
  for (let i = 0; i < 2000; i++) code[Math.floor(rand() * code.length)] = interesting[Math.floor(rand() * interesting.length)];
  m.memory.load(RANDOM, code);
  const pt = new PageTableBuilder(m.memory, 0x40000);
  for (let a = 0; a < 0x40000; a += 4096) {
    const userPage = a >= RANDOM && a < RANDOM + 0x20000;
    pt.map(a, a, PTE_W | (userPage ? PTE_U : 0), { nx: false });
  }
  const cpu = m.cpu;
  if (rand() < 0.7) { cpu.cr3 = pt.root; cpu.cr0 = CR0_PG | CR0_PE; }
  if (user) {
    cpu.cr3 = pt.root;
    cpu.cr0 = CR0_PG | CR0_PE;
    cpu.cs = USER_CS;
    cpu.ss = USER_DS;
    cpu.cpl = 3;
    cpu.setRflags(0x202);
  }
  for (let r = 0; r < 16; r++) cpu.regs[r] = rand() < 0.5 ? Math.floor(rand() * 2 ** 32) : RANDOM + Math.floor(rand() * 0x10000);
  cpu.regs[8] = RANDOM + 0x18000; // rsp
  cpu.regs[9] = 0;
  cpu.rip = RANDOM + Math.floor(rand() * 0xff00);
  const tables = m.memory.slice(0x1000, 0x3000); // GDT, IDT, TSS: out of user reach
  const outcome = m.run(3000);
  if (user) assert.deepEqual(m.memory.slice(0x1000, 0x3000), tables, `seed ${seed}: user code changed the system tables`);
  assert.ok(OUTCOMES.has(outcome), `seed ${seed}: outcome ${outcome}`);
  assert.ok(cpu.cpl === 0 || cpu.cpl === 3);
  return outcome;
}

for (const user of [false, true]) {
  test(`random code at CPL ${user ? 3 : 0} never raises a host exception`, () => {
    const counts = new Map<string, number>();
    for (let seed = 1; seed <= 150; seed++) {
      let outcome: string;
      try {
        outcome = round(seed * 7919 + (user ? 1 : 0), user);
      } catch (e) {
        throw new Error(`seed ${seed * 7919 + (user ? 1 : 0)} (CPL ${user ? 3 : 0}): host exception: ${(e as Error).stack}`);
      }
      counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    }
    if (process.env.XK_FUZZ_STATS) console.log(JSON.stringify([...counts]));
    assert.ok((counts.get('limit') ?? 0) > 0, JSON.stringify([...counts]));
  });
}
