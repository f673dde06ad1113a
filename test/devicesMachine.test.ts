// Devices driven by guest code on the emulated machine: timer interrupts
// (delivery, masking by IF, EOI, guest programming, waking from hlt), the sti
// interrupt shadow, and the serial console in both directions.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot, recorded, setGate, q, LAYOUT, USER_CS, USER_DS } from './systemHelpers.js';
import type { MachineOptions } from '../src/machine/machine.js';

const D = LAYOUT.data;

function kernel(body: string, handlers: string, options: Partial<MachineOptions> = {}) {
  const b = boot('', `
kmain:
  mov $0x7000, %rsp
${body}
${handlers}
`, 0x2, options);
  b.m.cpu.rip = b.at('kmain');
  return b;
}

const TICK_WITH_EOI = `
tick:
  incq ${D}
  push %rax
  mov $0x20, %al
  outb %al, $0x20
  pop %rax
  iretq
`;

test('timer: IRQ 0 (vector 32) every N instructions while IF = 1, deterministically', () => {
  const results: bigint[] = [];
  for (let i = 0; i < 2; i++) {
    const { m, at } = kernel('  sti\n1: incq ' + (D + 8) + '\n  jmp 1b', TICK_WITH_EOI, { timerInterval: 100 });
    setGate(m, 32, at('tick'));
    assert.equal(m.run(2000), 'limit');
    results.push(q(m, D), q(m, D + 8));
  }
  assert.ok(results[0] >= 15n && results[0] <= 20n, `ticks ${results[0]}`);
  assert.deepEqual(results.slice(0, 2), results.slice(2));
});

test('timer: masked by IF = 0; without EOI the IRQ is not delivered again', () => {
  const a = kernel('1: incq ' + (D + 8) + '\n  jmp 1b', TICK_WITH_EOI, { timerInterval: 100 });
  setGate(a.m, 32, a.at('tick'));
  a.m.run(2000);
  assert.equal(q(a.m, D), 0n);
  const b = kernel('  sti\n1: jmp 1b', 'tick: incq ' + D + '\n  iretq', { timerInterval: 100 });
  setGate(b.m, 32, b.at('tick'));
  b.m.run(2000);
  assert.equal(q(b.m, D), 1n);
  assert.equal(b.m.interrupts.pic.isr, 1);
});

test('timer programmed by the guest through ports 0x40 and 0x43; hlt sleeps until the next tick', () => {
  const { m, at } = kernel(`
  mov $1000, %eax
  outl %eax, $0x40
  mov $1, %al
  outb %al, $0x43
  sti
1: hlt
  incq ${D + 8}
  cmpq $5, ${D}
  jne 1b
  cli
  hlt
`, TICK_WITH_EOI);
  setGate(m, 32, at('tick'));
  assert.equal(m.run(10000), 'halted');
  assert.equal(q(m, D), 5n);
  assert.equal(q(m, D + 8), 5n);
  assert.ok(m.interrupts.clock() >= 5000);
});

test('sti: the interrupt waits until after the next instruction', () => {
  const { m, at } = kernel(`
  sti
  movq $1, ${D + 16}
  movq $2, ${D + 16}
  jmp .
`, `
irq:
  mov ${D + 16}, %rax
  mov %rax, ${D + 24}
  hlt
`);
  setGate(m, 32, at('irq'));
  m.interrupts.raiseIrq(0);
  assert.equal(m.run(100), 'halted');
  assert.equal(q(m, D + 24), 1n);
});

test('serial: polled output to the host; interrupt-driven input (IRQ 4, vector 36)', () => {
  const out: number[] = [];
  const { m, at } = kernel(`
  lea msg(%rip), %rsi
  mov $0x3f8, %dx
1: movb (%rsi), %bl
  test %bl, %bl
  jz 3f
2: add $5, %dx
  inb (%dx), %al
  sub $5, %dx
  test $0x20, %al
  jz 2b
  mov %bl, %al
  outb %al, (%dx)
  inc %rsi
  jmp 1b
3: mov $0x3f9, %dx
  mov $1, %al
  outb %al, (%dx)
  sti
4: cmpq $3, ${D}
  jne 4b
  cli
  hlt
msg: .asciz "hello, xk\\n"
`, `
rx:
  push %rax
  push %rdx
  mov $0x3f8, %dx
  inb (%dx), %al
  mov ${D}, %rdx
  mov %al, ${D + 32}(%rdx)
  incq ${D}
  mov $0x20, %al
  outb %al, $0x20
  pop %rdx
  pop %rax
  iretq
`, { serialOut: (b) => out.push(...b), serialIn: 'abc' });
  setGate(m, 36, at('rx'));
  assert.equal(m.run(5000), 'halted');
  assert.equal(String.fromCharCode(...out), 'hello, xk\n');
  assert.equal(String.fromCharCode(...m.memory.slice(D + 32, 3)), 'abc');
});

test('timer interrupt in user mode: the gate DPL of 0 does not matter, the stack switches to TSS.rsp0', () => {
  const { m, at } = boot('1: inc %rbx\n  jmp 1b', '', 0x202, { timerInterval: 50 });
  setGate(m, 32, at('record'), 0);
  assert.equal(m.run(1000), 'halted');
  const [rsp, rip, cs, rflags, oldRsp, ss] = recorded(m);
  assert.equal(rsp, BigInt(LAYOUT.kernelStackTop - 40));
  assert.ok(rip === BigInt(at('user')) || rip === BigInt(at('user') + 3));
  assert.deepEqual([cs, rflags & 0x200n, oldRsp, ss], [BigInt(USER_CS), 0x200n, BigInt(LAYOUT.userStackTop), BigInt(USER_DS)]);
  assert.equal(m.cpu.instructionCount, 50 + 21); // the tick after 50 instructions, then the 21 of record (with hlt)
});
