// Interrupt and exception delivery, run on the emulated machine with programs
// assembled by GNU as: gate DPL checks and their error codes, the stack switch
// to TSS.rsp0, the exact frame, interrupt vs trap gates, #NP/#GP for bad IDT
// entries, double and triple faults.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot, recorded, setGate, LAYOUT, USER_CS, USER_DS, KERNEL_CS, KERNEL_DS } from './systemHelpers.js';

test('int $64 from user mode through a DPL-3 gate: stack switch to TSS.rsp0 and the exact frame', () => {
  const { m, at } = boot('  mov $0x1234, %rsp\n  int $64\nafter: jmp .');
  setGate(m, 64, at('record'), 3);
  assert.equal(m.run(1000), 'halted');
  const [rsp, rip, cs, rflags, oldRsp, ss, , , handlerCs] = recorded(m);
  assert.equal(rsp, BigInt(LAYOUT.kernelStackTop - 40)); // 5 slots, no error code
  assert.equal(rip, BigInt(at('after')));
  assert.equal(cs, BigInt(USER_CS));
  assert.equal(rflags & 0x200n, 0n);
  assert.equal(oldRsp, 0x1234n);
  assert.equal(ss, BigInt(USER_DS));
  assert.equal(handlerCs, BigInt(KERNEL_CS));
  assert.equal(m.cpu.cpl, 0);
  assert.equal(m.cpu.ss, 0); // null SS after a privilege change
});

test('setKernelStack moves TSS.rsp0: the next entry from user mode uses it', async () => {
  const { setKernelStack } = await import('../src/machine/interrupts.js');
  const { m, at } = boot('  int $64');
  setGate(m, 64, at('record'), 3);
  setKernelStack(m, 0x6008);
  assert.equal(m.run(1000), 'halted');
  assert.equal(recorded(m)[0], 0x6000n - 40n);
});

test('int $0x20 from user mode through a DPL-0 gate raises #GP(0x20*8+2) at the int instruction', () => {
  const { m, at } = boot('fault: int $0x20');
  setGate(m, 0x20, at('record'), 0);
  setGate(m, 13, at('record'), 0);
  assert.equal(m.run(1000), 'halted');
  const [rsp, err, rip, cs, , oldRsp, ss] = recorded(m);
  assert.equal(rsp, BigInt(LAYOUT.kernelStackTop - 48)); // 6 slots with the error code
  assert.equal(err, BigInt(0x20 * 8 + 2));
  assert.equal(rip, BigInt(at('fault')));
  assert.equal(cs, BigInt(USER_CS));
  assert.equal(oldRsp, BigInt(LAYOUT.userStackTop));
  assert.equal(ss, BigInt(USER_DS));
});

test('int3 from user mode needs a DPL-3 gate too', () => {
  const { m, at } = boot('fault: int3\nafter: jmp .');
  setGate(m, 3, at('record'), 0);
  setGate(m, 13, at('record'), 0);
  assert.equal(m.run(1000), 'halted');
  assert.equal(recorded(m)[1], BigInt(3 * 8 + 2));
  const b = boot('fault: int3\nafter: jmp .');
  setGate(b.m, 3, b.at('record'), 3);
  assert.equal(b.m.run(1000), 'halted');
  assert.equal(recorded(b.m)[1], BigInt(b.at('after'))); // a trap: RIP after int3
});

test('not-present gate: #NP(vector*8+2); vector beyond the IDT limit: #GP(vector*8+2)', () => {
  const { m, at } = boot('fault: int $64');
  setGate(m, 64, at('record'), 3);
  m.memory.write8(LAYOUT.idt + 64 * 16 + 5, 0x6e); // clear P
  setGate(m, 11, at('record'), 0);
  assert.equal(m.run(1000), 'halted');
  assert.equal(recorded(m)[1], BigInt(64 * 8 + 2));
  assert.equal(recorded(m)[2], BigInt(at('fault')));

  const b = boot('fault: int $64');
  setGate(b.m, 64, b.at('record'), 3);
  setGate(b.m, 13, b.at('record'), 0);
  b.m.cpu.idtrLimit = 64 * 16 - 1; // entry 64 is just past the end
  assert.equal(b.m.run(1000), 'halted');
  assert.equal(recorded(b.m)[1], BigInt(64 * 8 + 2));
});

test('kernel-mode exception: no stack switch, RSP aligned down to 16, error code pushed', () => {
  const { m, at } = boot('', `
kfault:
  mov $0x7008, %rsp
  ud2
`);
  m.cpu.rip = at('kfault');
  setGate(m, 6, at('record'), 0);
  assert.equal(m.run(1000), 'halted');
  const [rsp, rip, cs, , oldRsp, ss] = recorded(m);
  assert.equal(rsp, 0x7000n - 40n);
  assert.equal(rip, BigInt(at('kfault') + 7)); // #UD is a fault: RIP at ud2
  assert.equal(cs, BigInt(KERNEL_CS));
  assert.equal(oldRsp, 0x7008n);
  assert.equal(ss, BigInt(KERNEL_DS));
});

test('interrupt gates clear IF, trap gates keep it; TF is cleared', () => {
  for (const trap of [false, true]) {
    const { m, at } = boot('', `
kint:
  pushq $0x302
  popfq
  int $50
`);
    m.cpu.rip = at('kint');
    setGate(m, 50, at('record'), 0, trap);
    // With a trap gate IF stays 1, but no device is programmed to interrupt: the machine halts either way.
    assert.equal(m.run(100), 'halted');
    const handlerFlags = recorded(m)[7];
    assert.equal(handlerFlags & 0x200n, trap ? 0x200n : 0n);
    assert.equal(handlerFlags & 0x100n, 0n);
    assert.equal(recorded(m)[3] & 0x300n, 0x300n); // the pushed RFLAGS has IF and TF
  }
});

test('double fault: #NP while delivering #GP becomes #DF(0); a fault delivering #DF is a triple fault', () => {
  const { m, at } = boot('fault: int $0x20');
  setGate(m, 0x20, at('record'), 0); // DPL 0: user int raises #GP
  setGate(m, 13, at('record'), 0);
  m.memory.write8(LAYOUT.idt + 13 * 16 + 5, 0x0e); // #GP gate not present -> #NP while delivering #GP
  setGate(m, 8, at('record'), 0);
  assert.equal(m.run(1000), 'halted');
  const [rsp, err, rip] = recorded(m);
  assert.equal(rsp, BigInt(LAYOUT.kernelStackTop - 48));
  assert.equal(err, 0n);
  assert.equal(rip, BigInt(at('fault')));

  const b = boot('fault: int $0x20');
  setGate(b.m, 0x20, b.at('record'), 0);
  b.m.memory.write8(LAYOUT.idt + 13 * 16 + 5, 0); // nothing at 13 or 8
  assert.equal(b.m.run(1000), 'triple-fault');
});

test('#PF while delivering #PF (unmapped kernel stack) is a double fault on an IST stack', async () => {
  const { PageTableBuilder } = await import('./systemHelpers.js');
  const { CR0_PG, CR0_PE, PTE_W, PTE_U } = await import('../src/machine/mmu.js');
  const { TSS_IST1 } = await import('../src/machine/descriptors.js');
  const { m, at } = boot('  movq $1, 0x900000\n');
  const pt = new PageTableBuilder(m.memory, LAYOUT.pageTables);
  for (let a = 0; a < 0x40000; a += 4096) pt.map(a, a, PTE_W | PTE_U);
  m.memory.write32(pt.entryAddress(LAYOUT.kernelStackTop - 8), 0); // the kernel stack page is not present
  m.cpu.cr3 = pt.root;
  m.cpu.cr0 = CR0_PG | CR0_PE;
  setGate(m, 14, at('record'), 0);
  setGate(m, 8, at('record'), 0);
  m.memory.write8(LAYOUT.idt + 8 * 16 + 4, 1); // #DF uses IST1
  m.memory.write32(LAYOUT.tss + TSS_IST1, 0x6000);
  assert.equal(m.run(1000), 'halted');
  const [rsp, err] = recorded(m);
  assert.equal(rsp, 0x6000n - 48n);
  assert.equal(err, 0n);
  assert.equal(m.cpu.cr2, LAYOUT.kernelStackTop - 8); // the last #PF: pushing the first frame
});
