// The system instructions on the emulated machine (programs assembled by GNU as):
// iretq's checks, popfq and cli at CPL 3, privileged instructions, MSRs,
// descriptor-table registers, ltr, segment loads, and TLB flushes by mov to CR3.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot, recorded, setGate, q, LAYOUT, USER_CS, USER_DS, KERNEL_CS, KERNEL_DS, TSS_SEL } from './systemHelpers.js';

const D = LAYOUT.data;

/** Kernel code that iretqs with the given frame; #GP goes to `record`. Returns the error code or 'ok'. */
function iretq(cs: number, ss: number, rip = 'target', rflags = 0x2): { result: bigint | 'ok'; cpl: number } {
  const ripCode = rip === 'target' ? 'lea target(%rip), %rax' : `movabs $${rip}, %rax`;
  const { m, at } = boot('', `
kiret:
  mov $0x7000, %rsp
  pushq $${ss}
  pushq $0x5000
  pushq $${rflags}
  pushq $${cs}
  ${ripCode}
  push %rax
  iretq
target:
  jmp .
`);
  m.cpu.rip = at('kiret');
  setGate(m, 13, at('record'), 0);
  const stop = m.run(200);
  if (stop === 'halted') return { result: recorded(m)[1], cpl: m.cpu.cpl };
  assert.equal(m.cpu.rip, at('target'));
  return { result: 'ok', cpl: m.cpu.cpl };
}

test('iretq: checks on CS, SS and RIP, with #GP(selector) error codes', () => {
  assert.deepEqual(iretq(USER_CS, USER_DS), { result: 'ok', cpl: 3 });
  assert.deepEqual(iretq(KERNEL_CS, KERNEL_DS), { result: 'ok', cpl: 0 });
  assert.deepEqual(iretq(KERNEL_CS, 0), { result: 'ok', cpl: 0 }); // null SS allowed at CPL 0
  assert.equal(iretq(KERNEL_DS, KERNEL_DS).result, BigInt(KERNEL_DS)); // CS is a data segment
  assert.equal(iretq(0x18, KERNEL_DS).result, 0x18n); // user code with RPL 0: DPL 3 != RPL 0
  assert.equal(iretq(USER_CS, KERNEL_DS).result, 0x10n); // SS.RPL 0 != new CPL 3
  assert.equal(iretq(USER_CS, USER_CS).result, 0x18n); // SS is a code segment
  assert.equal(iretq(USER_CS, 0x3).result, 0n); // null SS returning to CPL 3
  assert.equal(iretq(0x80, KERNEL_DS).result, 0x80n); // beyond the GDT limit
  assert.equal(iretq(0, KERNEL_DS).result, 0n); // null CS
  assert.equal(iretq(KERNEL_CS, KERNEL_DS, '0x0000800000000000').result, 0n); // non-canonical RIP
  assert.equal(iretq(USER_CS, USER_DS, '0x00007ffffffff000').cpl, 0); // canonical but unmapped: iretq itself works
});

test('iretq from user mode cannot raise the privilege level', () => {
  const { m, at } = boot(`
  lea 1f(%rip), %rax
  pushq $${KERNEL_DS}
  pushq %rsp
  pushfq
  pushq $${KERNEL_CS}
  push %rax
fault: iretq
1: jmp .
`);
  setGate(m, 13, at('record'), 0);
  assert.equal(m.run(200), 'halted');
  const [, err, rip, cs] = recorded(m);
  assert.equal(err, BigInt(KERNEL_CS));
  assert.equal(rip, BigInt(at('fault')));
  assert.equal(cs, BigInt(USER_CS));
});

test('iretq restores RFLAGS: IOPL and IF at CPL 0; at CPL 3 IOPL is kept and IF needs CPL <= IOPL', () => {
  // CPL 0 -> CPL 3 with IOPL 3 and IF 1.
  const a = boot('  pushfq\n  pop %rax\n  mov %rax, ' + D + '\n  int $64', '', 0x3202);
  setGate(a.m, 64, a.at('record'), 3);
  assert.equal(a.m.run(200), 'halted');
  assert.equal(q(a.m, D) & 0x3200n, 0x3200n);
  // At CPL 3 (IOPL 0), an iretq to CPL 3 whose image has IOPL 3 and IF 0 changes neither.
  const b = boot(`
  lea 1f(%rip), %rax
  pushq $${USER_DS}
  pushq %rsp
  pushq $0x3002
  pushq $${USER_CS}
  push %rax
  iretq
1: pushfq
  pop %rax
  mov %rax, ${D + 200}
  int $64
`, '', 0x202);
  setGate(b.m, 64, b.at('record'), 3);
  assert.equal(b.m.run(200), 'halted');
  assert.equal(q(b.m, D + 200) & 0x3200n, 0x200n);
});

test('popfq at CPL 3 silently keeps IF and IOPL; with IOPL 3 it may change IF but not IOPL', () => {
  const code = `
  pushq $0x0802
  popfq
  pushfq
  pop %rax
  mov %rax, ${D + 200}
  int $64
`;
  const a = boot(code, '', 0x202);
  setGate(a.m, 64, a.at('record'), 3);
  assert.equal(a.m.run(200), 'halted');
  assert.equal(q(a.m, D + 200) & 0x3a00n, 0x0a00n); // OF set, IF kept, IOPL 0
  const b = boot(code, '', 0x3202);
  setGate(b.m, 64, b.at('record'), 3);
  assert.equal(b.m.run(200), 'halted');
  assert.equal(q(b.m, D + 200) & 0x3a00n, 0x3800n); // IF cleared, IOPL kept at 3
});

test('cli, sti, in and out at CPL 3 > IOPL raise #GP(0); with IOPL 3 they work', () => {
  for (const insn of ['cli', 'sti', 'inb $0x21, %al', 'outb %al, $0x80', 'inl (%dx), %eax']) {
    const { m, at } = boot(`fault: ${insn}\n  int $64`);
    setGate(m, 13, at('record'), 0);
    setGate(m, 64, at('record'), 3);
    assert.equal(m.run(200), 'halted');
    const [, err, rip] = recorded(m);
    assert.equal(err, 0n, insn);
    assert.equal(rip, BigInt(at('fault')), insn);
  }
  const { m, at } = boot('  cli\n  inb $0x21, %al\nafter: int $64', '', 0x3202);
  setGate(m, 13, at('record'), 0);
  setGate(m, 64, at('record'), 3);
  assert.equal(m.run(200), 'halted');
  assert.equal(recorded(m)[1], BigInt(at('after') + 2)); // the int $64 frame: RIP after it
  assert.equal(recorded(m)[3] & 0x200n, 0n); // cli worked
});

test('privileged instructions at CPL 3 raise #GP(0)', () => {
  const insns = ['hlt', 'mov %cr3, %rax', 'mov %rax, %cr0', 'lgdt (%rsp)', 'lidt (%rsp)', 'invlpg (%rsp)', 'wrmsr', 'rdmsr',
    'swapgs', 'ltr %ax', 'lmsw %ax'];
  for (const insn of insns) {
    const { m, at } = boot(`fault: ${insn}\n  int $64`);
    setGate(m, 13, at('record'), 0);
    assert.equal(m.run(200), 'halted', insn);
    const [, err, rip] = recorded(m);
    assert.equal(err, 0n, insn);
    assert.equal(rip, BigInt(at('fault')), insn);
  }
  // sgdt, sidt, smsw and str are not privileged (no UMIP).
  const { m, at } = boot(`  sgdt ${D + 300}\n  sidt ${D + 320}\n  smsw %eax\n  str %ebx\n  int $64`);
  setGate(m, 64, at('record'), 3);
  assert.equal(m.run(200), 'halted');
  assert.equal(m.memory.read16(D + 300), 7 * 8 - 1);
  assert.equal(q(m, D + 302), BigInt(LAYOUT.gdt));
  assert.equal(m.memory.read16(D + 320), 4095);
  assert.equal(q(m, D + 322), BigInt(LAYOUT.idt));
  assert.equal(m.cpu.regs[6], TSS_SEL); // rbx
});

test('MSRs: EFER, FS/GS bases (used by %fs: and %gs: operands), swapgs; unknown MSR -> #GP(0)', () => {
  const { m, at } = boot('', `
kmsr:
  movq $0x1122334455667788, %rax
  mov %rax, ${D + 0x108}
  mov $0xc0000100, %ecx
  mov $${D + 0x100}, %eax
  xor %edx, %edx
  wrmsr
  mov %fs:8, %rbx
  mov %rbx, ${D + 400}
  mov $0xc0000102, %ecx
  mov $${D}, %eax
  wrmsr
  swapgs
  mov $0xc0000101, %ecx
  rdmsr
  mov %eax, ${D + 408}
  mov $0xc0000080, %ecx
  rdmsr
  or $0x800, %eax
  wrmsr
  rdmsr
  mov %eax, ${D + 416}
  mov $0x12345, %ecx
fault: rdmsr
`);
  m.cpu.rip = at('kmsr');
  setGate(m, 13, at('record'), 0);
  assert.equal(m.run(200), 'halted');
  assert.equal(q(m, D + 400), 0x1122334455667788n);
  assert.equal(m.memory.read32(D + 408), D);
  assert.equal(m.memory.read32(D + 416) & 0x800, 0x800);
  assert.equal(m.cpu.efer & 0x800, 0x800);
  assert.equal(recorded(m)[1], 0n);
  assert.equal(recorded(m)[2], BigInt(at('fault')));
});

test('ltr loads the TSS and marks its descriptor busy; loading a busy TSS raises #GP(selector)', () => {
  const { m, at } = boot('', `
kltr:
  mov $${TSS_SEL}, %ax
  ltr %ax
  str %rbx
fault: ltr %ax
`);
  m.cpu.rip = at('kltr');
  m.cpu.tssBase = 0;
  m.cpu.trSelector = 0;
  setGate(m, 13, at('record'), 0);
  assert.equal(m.run(200), 'halted');
  assert.equal(m.cpu.tssBase, LAYOUT.tss);
  assert.equal(m.cpu.tssLimit, 103);
  assert.equal(m.cpu.regs[6], TSS_SEL);
  assert.equal(m.memory.read8(LAYOUT.gdt + TSS_SEL + 5) & 0xf, 0xb);
  assert.equal(recorded(m)[1], BigInt(TSS_SEL));
});

test('segment loads: privilege checks on mov to DS and SS', () => {
  const { m, at } = boot(`
  mov $${USER_DS}, %ax
  mov %ax, %ds
  mov %ax, %ss
  mov %ds, %rbx
  mov $${KERNEL_DS}, %ax
fault: mov %ax, %es
`);
  setGate(m, 13, at('record'), 0);
  assert.equal(m.run(200), 'halted');
  assert.equal(m.cpu.regs[6], USER_DS);
  assert.equal(recorded(m)[1], BigInt(KERNEL_DS));
  assert.equal(recorded(m)[2], BigInt(at('fault')));
});

test('mov to CR3 flushes the TLB; invlpg flushes one page', async () => {
  const { PageTableBuilder } = await import('./systemHelpers.js');
  const { CR0_PG, CR0_PE, PTE_W } = await import('../src/machine/mmu.js');
  const { m, at } = boot('', `
ktlb:
  mov 0x400000, %rax        # through the old mapping: 0x30000
  mov %rax, ${D + 500}
  movl $0x31003, (%rbx)     # remap 0x400000 -> 0x31000 behind the TLB's back
  mov 0x400000, %rax        # stale
  mov %rax, ${D + 508}
  invlpg 0x400000
  mov 0x400000, %rax        # fresh
  mov %rax, ${D + 516}
  movl $0x32003, (%rbx)
  mov %cr3, %rcx
  mov %rcx, %cr3
  mov 0x400000, %rax
  mov %rax, ${D + 524}
  hlt
`);
  const pt = new PageTableBuilder(m.memory, LAYOUT.pageTables);
  for (let a = 0; a < 0x80000; a += 4096) pt.map(a, a, PTE_W);
  pt.map(0x400000, 0x30000, PTE_W);
  for (const [p, v] of [[0x30000, 0xaa], [0x31000, 0xbb], [0x32000, 0xcc]]) m.memory.write8(p, v);
  m.cpu.regs[6] = pt.entryAddress(0x400000); // rbx
  m.cpu.cr3 = pt.root;
  m.cpu.cr0 = CR0_PG | CR0_PE;
  m.cpu.rip = at('ktlb');
  assert.equal(m.run(200), 'halted');
  assert.deepEqual([500, 508, 516, 524].map((o) => m.memory.read8(D + o)), [0xaa, 0xaa, 0xbb, 0xcc]);
});
