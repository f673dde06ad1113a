// Debug exceptions in the machine (#DB, vector 1): RFLAGS.TF single-step,
// DR0-DR3/DR6/DR7 instruction and data breakpoints, RF, general detect, the
// DR4/DR5 aliases, int1, and the privilege checks of mov to/from %dbN. Programs
// are assembled by GNU as; every expected address is a label of the program,
// and the expected behaviour is the Intel SDM's (Vol. 3, chapter 18).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot, recorded, setGate, q, LAYOUT } from './systemHelpers.js';
import { assemble as xkAssemble } from '../src/toolchain/assembler/assembler.js';
import { disassemble } from '../src/toolchain/disassembler/listing.js';
import { assemble } from './systemHelpers.js';

const LOG = LAYOUT.data + 0x100; // count, then (rip, dr6) pairs

/** A #DB handler that logs the saved RIP and DR6, clears DR6 and returns (setting RF when `rf`). */
function dbHandler(rf: boolean): string {
  return `
db:
  push %rax
  push %rbx
  mov ${LOG}, %rbx
  shl $4, %rbx
  mov 16(%rsp), %rax
  mov %rax, ${LOG + 16}(%rbx)
  mov %db6, %rax
  mov %rax, ${LOG + 24}(%rbx)
  xor %eax, %eax
  mov %rax, %db6
  incq ${LOG}
  ${rf ? 'orq $0x10000, 32(%rsp)' : ''}
  pop %rbx
  pop %rax
  iretq
plain_iret:
  iretq
`;
}

/** Run kernel code `code` (CPL 0) with the logging #DB handler; the log as [rip, dr6 & 0xe00f][]. */
function runKernel(code: string, rf = false): { log: [number, number][]; at: (l: string) => number; m: ReturnType<typeof boot>['m'] } {
  const { m, at } = boot('', `k0:\n${code}\n${dbHandler(rf)}`);
  setGate(m, 1, at('db'));
  setGate(m, 0x40, at('plain_iret'));
  m.cpu.rip = at('k0');
  assert.equal(m.run(10_000), 'halted', m.stopMessage);
  const n = Number(q(m, LOG));
  const log: [number, number][] = [];
  for (let i = 0; i < n; i++) log.push([Number(q(m, LOG + 16 + 16 * i)), Number(q(m, LOG + 24 + 16 * i)) & 0xe00f]);
  return { log, at, m };
}

const SET_TF = 'pushfq\n  orq $0x100, (%rsp)\n  popfq';
const BS = 0x4000;

test('TF: a trap after each instruction; the popf that sets TF does not trap, the one that clears it does', () => {
  const { log, at } = runKernel(`
  ${SET_TF}
a1: nop
a2: mov $5, %eax
a3: pushfq
a4: andq $-257, (%rsp)
a5: popfq
a6: hlt`);
  assert.deepEqual(log, [[at('a2'), BS], [at('a3'), BS], [at('a4'), BS], [at('a5'), BS], [at('a6'), BS]]);
});

test('TF: int n takes no single-step trap; the handler runs with TF clear and the trap resumes after its iretq', () => {
  const { log, at } = runKernel(`
  ${SET_TF}
b1: int $0x40
b2: pushfq
b3: andq $-257, (%rsp)
b4: popfq
b5: hlt`);
  assert.deepEqual(log.map(([rip]) => rip), [at('b3'), at('b4'), at('b5')]);
});

test('TF: an iretq that clears TF (it was set before) traps once, at the instruction it returns to', () => {
  const { log, at } = runKernel(`
  mov %rsp, %rcx
  ${SET_TF}
j0: pushq $0x10
  push %rcx
  pushq $2
  pushq $0x08
  lea j2(%rip), %rax
  push %rax
j1: iretq
j2: nop
j3: hlt`);
  assert.equal(log.length, 7, JSON.stringify(log)); // after the five pushes and the lea, then after the iretq
  assert.deepEqual(log[0], [at('j0') + 2, BS], 'the first trap is after the instruction after the popf that set TF');
  assert.deepEqual(log.slice(-2), [[at('j1'), BS], [at('j2'), BS]], 'after the push before iretq, then after the iretq (at its target), then none');
});

test('TF: mov to SS holds the trap back until after the next instruction (one #DB)', () => {
  const { log, at } = runKernel(`
  mov $0x10, %ecx
  ${SET_TF}
c1: mov %ecx, %ss
c2: nop
c3: pushfq
c4: andq $-257, (%rsp)
c5: popfq
c6: hlt`);
  assert.deepEqual(log.map(([rip]) => rip), [at('c3'), at('c4'), at('c5'), at('c6')]);
  assert.equal(log[0][1], BS);
});

test('delivery frame pushes are data writes: a write watch on the slot int n pushes RIP into is a #DB trap at the handler\'s first instruction', () => {
  const { log, at } = runKernel(`
  mov %rsp, %rax
  and $-16, %rax
  sub $40, %rax
  mov %rax, %db0
  mov $${1 | (1 << 16) | (2 << 18)}, %eax
  mov %rax, %db7
f1: int $0x40
f2: nop
  xor %eax, %eax
  mov %rax, %db7
f3: int $0x40
  hlt`);
  // One #DB, after the first delivery (RIP = the handler, DR6.B0); none for the #DB's own frame or after DR7 is cleared.
  assert.deepEqual(log, [[at('plain_iret'), 1]]);
});

test('mov to SS with a data breakpoint on its source: the trap waits for the next instruction; if that is int n, for the handler\'s first instruction', () => {
  const { log, at } = runKernel(`
  lea ssv(%rip), %rax
  mov %rax, %db1
  mov $${4 | (3 << 20) | (1 << 22)}, %eax
  mov %rax, %db7
g1: mov ssv(%rip), %ss
g2: nop
g3: mov ssv(%rip), %ss
g4: int $0x40
g5: hlt
ssv: .short 0x10`);
  assert.deepEqual(log, [[at('g3'), 2], [at('plain_iret'), 2]]);
});

test('an outside debugger\'s write watchpoint on a stack that an interrupt frame is pushed onto stops at the handler', () => {
  const { m, at } = boot('', `k0:
  int $0x40
k1: hlt
${dbHandler(false)}`);
  setGate(m, 1, at('db'));
  setGate(m, 0x40, at('plain_iret'));
  m.cpu.rip = at('k0');
  const rsp = m.cpu.regs[8];
  const d = m.attachDebugger();
  assert.ok(d.insert('watch', Math.floor(rsp / 16) * 16 - 40, 8)); // the RIP slot of the frame
  m.debuggerChanged();
  assert.equal(m.run(1000), 'debug');
  assert.deepEqual(d.event, { kind: 'watch', watch: 'watch', address: Math.floor(rsp / 16) * 16 - 40 });
  assert.equal(m.cpu.rip, at('plain_iret'), 'stopped before the handler\'s first instruction');
  assert.equal(q(m, Math.floor(rsp / 16) * 16 - 40), BigInt(at('k1')), 'with the frame written');
  assert.equal(m.run(1000), 'halted', m.stopMessage);
  assert.equal(m.cpu.rip, at('k1') + 1);
});

test('instruction breakpoint: a fault before the instruction (DR6.B0); RF lets it run once, then the breakpoint holds again', () => {
  const { log, at, m } = runKernel(`
  lea d2(%rip), %rax
  mov %rax, %db0
  mov $1, %eax
  mov %rax, %db7
  mov $2, %ecx
  xor %edx, %edx
d1: nop
d2: inc %edx
  dec %ecx
  jnz d1
  hlt`, true);
  assert.deepEqual(log, [[at('d2'), 1], [at('d2'), 1]]);
  assert.equal(m.cpu.regs[4], 2, 'the instruction ran once per pass');
});

test('data breakpoints: write-only and read/write, lengths 2, 4 and 8 aligned down, a trap after the access (DR6.Bn)', () => {
  const { log, at } = runKernel(`
  lea var(%rip), %rax
  mov %rax, %db1
  lea 3+var2(%rip), %rax
  mov %rax, %db2
  lea 6+var(%rip), %rax
  mov %rax, %db3
  mov $${(1 << 2) | (1 << 4) | (1 << 6) | (1 << 20) | (3 << 22) | (3 << 24) | (2 << 26) | (3 << 28) | (1 << 30)}, %eax
  mov %rax, %db7
e1: movl $1, var(%rip)
e2: mov var(%rip), %eax
e3: movw $2, 2+var(%rip)
e4: movl $3, 8+var(%rip)
e5: mov var2(%rip), %rax
e6: mov 7+var2(%rip), %al
e7: mov 8+var2(%rip), %al
e8: movb $1, 7+var(%rip)
e9: hlt
  .balign 16
var: .quad 0, 0
var2: .quad 0, 0`);
  // DR1: write, 4 bytes at var. DR2: read/write, 8 bytes at var2+3 (covers var2..var2+7). DR3: read/write, 2 bytes at var+6.
  assert.deepEqual(log, [[at('e2'), 2], [at('e4'), 2], [at('e6'), 4], [at('e7'), 4], [at('e9'), 8]]);
});

test('general detect: with DR7.GD a mov to/from a debug register is a #DB fault (DR6.BD) and GD is cleared', () => {
  const { m, at } = boot('', `
k0:
  mov $${(1 << 13) | 0x400}, %eax
  mov %rax, %db7
g1: mov %db0, %rax
  hlt
${dbHandler(false)}`);
  setGate(m, 1, at('db'));
  m.cpu.rip = at('k0');
  assert.equal(m.run(10_000), 'halted');
  assert.equal(Number(q(m, LOG)), 1);
  assert.equal(Number(q(m, LOG + 16)), at('g1'), 'a fault: RIP at the mov');
  assert.equal(Number(q(m, LOG + 24)) & 0x2000, 0x2000);
  assert.equal(m.cpu.debugRegisters.dr7 & (1 << 13), 0);
});

test('DR6/DR7 fixed bits; DR4/DR5 alias DR6/DR7 with CR4.DE clear and are #UD with it set; high bits of DR7 are #GP', () => {
  const { m, at } = boot('', `
k0:
  xor %eax, %eax
  mov %rax, %db6
  mov %db6, %rbx
  mov %rax, %db7
  mov %db5, %rcx
  mov $0x4000, %eax
  mov %rax, %db4
  mov %db6, %rdx
  mov %cr4, %rax
  or $8, %rax
  mov %rax, %cr4
u1: mov %db4, %rax
  hlt
ud:
  mov %rsp, %rsi
  movabs $0x100000000, %rax
g1: mov %rax, %db7
  hlt
${dbHandler(false)}`);
  setGate(m, 6, at('ud'));
  setGate(m, 13, at('record'));
  m.cpu.rip = at('k0');
  assert.equal(m.run(10_000), 'halted');
  assert.equal(m.cpu.getReg64(3), 0xffff0ff0n, 'DR6 after writing 0');
  assert.equal(m.cpu.getReg64(1), 0x400n, 'DR7 (read as DR5) after writing 0');
  assert.equal(m.cpu.getReg64(2), 0xffff4ff0n, 'DR4 wrote DR6');
  assert.equal(q(m, Number(m.cpu.getReg64(6))), BigInt(at('u1')), '#UD at the mov from DR4');
  const [, err, rip] = recorded(m);
  assert.equal(err, 0n);
  assert.equal(rip, BigInt(at('g1')), '#GP(0) for DR7 bits 63..32');
});

test('mov to or from a debug register at CPL 3 is #GP(0); int1 is a #DB trap that ignores the gate DPL', () => {
  const a = boot('fault: mov %db7, %rax');
  setGate(a.m, 13, a.at('record'));
  assert.equal(a.m.run(1000), 'halted');
  assert.deepEqual(recorded(a.m).slice(1, 3), [0n, BigInt(a.at('fault'))]);

  const b = boot('  int1\nafter: jmp .');
  setGate(b.m, 1, b.at('record'), 0);
  assert.equal(b.m.run(1000), 'halted');
  assert.equal(recorded(b.m)[1], BigInt(b.at('after')));
});

test('xk assembles and disassembles mov to/from %dbN as GNU as and objdump do', () => {
  const source = 'mov %db7,%rax\nmov %rax,%db0\nmov %dr6,%rcx\nmov %r9,%db3\nmov %db4,%r15\nint1\n';
  const gnu = assemble(source).bytes;
  const ours = xkAssemble(source, { fileName: 'dr.s' }).model.sections.find((s) => s.name === '.text')!.data;
  assert.deepEqual([...ours], [...gnu]);
  const text = disassemble(gnu, 0).map((l) => l.text);
  assert.deepEqual(text, ['mov    %db7,%rax', 'mov    %rax,%db0', 'mov    %db6,%rcx', 'mov    %r9,%db3', 'mov    %db4,%r15', 'int1']);
});

test('setting and removing a data breakpoint keeps the Cpu object\'s own properties (its shape) unchanged', () => {
  const { m } = boot('', 'k0:\n hlt\n');
  const before = Object.getOwnPropertyNames(m.cpu);
  m.cpu.debugRegisters.set(0, 'write', LAYOUT.data + 0x900, 8);
  m.cpu.debugChanged();
  assert.deepEqual(Object.getOwnPropertyNames(m.cpu), before);
  assert.notEqual(m.cpu.readMem, Object.getPrototypeOf(m.cpu).readMem, 'accesses are watched while the breakpoint is set');
  m.cpu.debugRegisters.clear(0);
  m.cpu.debugChanged();
  assert.deepEqual(Object.getOwnPropertyNames(m.cpu), before);
  assert.equal(m.cpu.readMem, Object.getPrototypeOf(m.cpu).readMem);
});

test('I/O breakpoints (DR7 R/W = 10, CR4.DE set): a trap after the in/out that touches the port range (DR6.Bn)', () => {
  // DR0: port 0x80, one byte. DR1: port 0x71, two bytes (aligned down: 0x70-0x71). DR2: a memory write breakpoint at 0x80 (ports are not memory).
  const dr7 = (1 << 0) | (1 << 2) | (1 << 4) | (2 << 16) | (2 << 20) | (1 << 22) | (1 << 24) | (3 << 26);
  const { log, at } = runKernel(`
  mov %cr4, %rax
  or $8, %rax
  mov %rax, %cr4
  mov $0x80, %eax
  mov %rax, %db0
  mov %rax, %db2
  mov $0x71, %eax
  mov %rax, %db1
  mov $${dr7}, %eax
  mov %rax, %db7
i1: out %al, $0x80
i2: in $0x81, %al
i3: mov $0x70, %dx
i4: in (%dx), %al
i5: out %ax, $0x7f
i6: inl $0x6e, %eax
i7: in $0x72, %al
i8: hlt`);
  assert.deepEqual(log, [[at('i2'), 1], [at('i5'), 2], [at('i6'), 1], [at('i7'), 2]], 'i1, i4, i5 (0x7f-0x80), i6 (0x6e-0x71); not i2, i7 or the memory breakpoint');
});

/** A #DB handler that logs (saved RIP, DR6, RCX, RDI, saved RFLAGS) per #DB, clears DR6, and sets RF for an instruction breakpoint (DR6.B0). */
const REP_LOG = LAYOUT.data + 0x800;
const repHandler = `
db:
  push %rax
  push %rbx
  mov ${REP_LOG}, %rbx
  imul $40, %rbx, %rbx
  mov 16(%rsp), %rax
  mov %rax, ${REP_LOG + 8}(%rbx)
  mov %db6, %rax
  and $0xe00f, %eax
  mov %rax, ${REP_LOG + 16}(%rbx)
  mov %rcx, ${REP_LOG + 24}(%rbx)
  mov %rdi, ${REP_LOG + 32}(%rbx)
  mov 32(%rsp), %rax
  mov %rax, ${REP_LOG + 40}(%rbx)
  incq ${REP_LOG}
  mov %db6, %rax
  test $1, %al
  jz 1f
  orq $0x10000, 32(%rsp)
1:
  xor %eax, %eax
  mov %rax, %db6
  pop %rbx
  pop %rax
  iretq
`;

function runRep(code: string): { log: { rip: number; dr6: number; rcx: number; rdi: number; rf: boolean }[]; at: (l: string) => number; m: ReturnType<typeof boot>['m'] } {
  const { m, at } = boot('', `k0:\n${code}\n${repHandler}`);
  setGate(m, 1, at('db'));
  m.cpu.rip = at('k0');
  assert.equal(m.run(10_000), 'halted', m.stopMessage);
  const log = [];
  for (let i = 0, n = Number(q(m, REP_LOG)); i < n; i++) {
    const e = (k: number) => Number(q(m, REP_LOG + 8 + 40 * i + 8 * k));
    log.push({ rip: e(0), dr6: e(1), rcx: e(2), rdi: e(3), rf: (e(4) & 0x10000) !== 0 });
  }
  return { log, at, m };
}

test('rep movs/stos: a data breakpoint traps after the iteration that touched it (RCX/RDI count the done iterations, RIP at the instruction, RF saved set)', () => {
  // DR0: instruction breakpoint on the rep movsb. DR1: write, 1 byte at dst+5. DR2: read/write, 1 byte at src+8. DR3: write, 8 bytes at the last quadword of the stosq.
  const dr7 = 0xff | (1 << 20) | (3 << 24) | (1 << 28) | (2 << 30);
  const { log, at, m } = runRep(`
  lea r1(%rip), %rax
  mov %rax, %db0
  lea 5+dst(%rip), %rax
  mov %rax, %db1
  lea 8+src(%rip), %rax
  mov %rax, %db2
  lea 24+qd(%rip), %rax
  mov %rax, %db3
  mov $${dr7}, %eax
  mov %rax, %db7
  lea src(%rip), %rsi
  lea dst(%rip), %rdi
  mov $10, %ecx
  cld
r1: rep movsb
r2: lea qd(%rip), %rdi
  mov $4, %ecx
  mov $-1, %rax
r3: rep stosq
r4: hlt
  .balign 16
src: .ascii "0123456789"
  .balign 16
dst: .quad 0, 0
qd: .quad 0, 0, 0, 0`);
  const dst = at('dst');
  assert.deepEqual(log, [
    { rip: at('r1'), dr6: 1, rcx: 10, rdi: dst, rf: false }, // the instruction breakpoint: a fault before the first iteration
    { rip: at('r1'), dr6: 2, rcx: 4, rdi: dst + 6, rf: true }, // after the 6th byte (dst+5) was written
    { rip: at('r1'), dr6: 4, rcx: 1, rdi: dst + 9, rf: true }, // after the 9th byte (src+8) was read
    { rip: at('r4'), dr6: 8, rcx: 0, rdi: at('qd') + 32, rf: false }, // the last iteration: a trap after the instruction
  ]);
  assert.equal(Buffer.from(m.memory.bytes.subarray(dst, dst + 10)).toString(), '0123456789', 'the copy completed');
});

test('TF over rep stosb: one single-step trap per iteration (RIP stays at it until the last)', () => {
  const { log, at } = runRep(`
  lea buf(%rip), %rdi
  mov $3, %ecx
  xor %eax, %eax
  ${SET_TF}
s1: rep stosb
s2: pushfq
  andq $-257, (%rsp)
  popfq
  hlt
buf: .quad 0`);
  const buf = at('buf');
  assert.deepEqual(log.slice(0, 3), [
    { rip: at('s1'), dr6: BS, rcx: 2, rdi: buf + 1, rf: true },
    { rip: at('s1'), dr6: BS, rcx: 1, rdi: buf + 2, rf: true },
    { rip: at('s2'), dr6: BS, rcx: 0, rdi: buf + 3, rf: false },
  ]);
});
