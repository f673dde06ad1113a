// syscall / sysretq / sysretl and their MSRs (src/machine/systemCall.ts), each
// rule checked by a case derived by hand from the Intel SDM's Operation
// sections; and `xk as` byte-identical to GNU as on a file using them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { boot, recorded, setGate, q, LAYOUT, KERNEL_CS, KERNEL_DS } from './systemHelpers.js';
import { EFER_LMA, EFER_LME, EFER_SCE } from '../src/machine/mmu.js';

const D = LAYOUT.data;
const LONG_MODE = EFER_LME | EFER_LMA;

/** Kernel prologue: STAR, LSTAR (= label `entry`), SFMASK, EFER.SCE (if `sce`), then drops to user mode at kstart's iretq. */
function kernelSetup(star: string, sfmask: number, sce = true): string {
  return `
ksetup:
  mov $0xc0000081, %ecx
  xor %eax, %eax
  mov $${star}, %edx
  wrmsr
  mov $0xc0000082, %ecx
  lea entry(%rip), %rax
  xor %edx, %edx
  wrmsr
  mov $0xc0000084, %ecx
  mov $${sfmask}, %eax
  wrmsr
  mov $0xc0000080, %ecx
  rdmsr
  ${sce ? 'or $1, %eax' : 'and $-2, %eax'}
  wrmsr
  jmp kstart
`;
}

test('syscall: RCX <- RIP, R11 <- RFLAGS, RFLAGS &= ~SFMASK, CS/SS from STAR[47:32], RIP <- LSTAR, RSP kept', () => {
  // User RFLAGS = IF | DF | CF | bit 1; SFMASK = IF | DF (0x600): the kernel runs with IF = DF = 0.
  const { m, at } = boot(`
  mov $0x5000, %rsp
after0: syscall
after:
`, kernelSetup('0x00100008', 0x600) + `
entry:
  mov %rcx, ${D + 200}
  mov %r11, ${D + 208}
  mov %rsp, ${D + 216}
  pushfq
  pop %rax
  mov %rax, ${D + 224}
  mov %cs, %eax
  mov %rax, ${D + 232}
  mov %ss, %eax
  mov %rax, ${D + 240}
  hlt
`, 0x603);
  m.cpu.efer = LONG_MODE;
  m.cpu.rip = at('ksetup');
  // IF is set in user mode but no interrupt is pending; DF needs std: set it in the frame instead.
  assert.equal(m.run(300), 'halted');
  assert.equal(q(m, D + 200), BigInt(at('after'))); // RCX: the instruction after syscall
  assert.equal(q(m, D + 208), 0x603n); // R11: RFLAGS as the user had it
  assert.equal(q(m, D + 216), 0x5000n); // no stack switch
  assert.equal(q(m, D + 224) & 0x600n, 0n); // IF and DF masked by SFMASK
  assert.equal(q(m, D + 224) & 1n, 1n); // CF not in SFMASK: kept
  assert.equal(q(m, D + 232), BigInt(KERNEL_CS)); // STAR[47:32] & ~3
  assert.equal(q(m, D + 240), BigInt(KERNEL_DS)); // STAR[47:32] + 8
  assert.equal(m.cpu.cpl, 0);
});

test('syscall with EFER.SCE clear raises #UD (no error code) at the syscall', () => {
  const { m, at } = boot('fault: syscall', kernelSetup('0x00100008', 0, false) + 'entry: hlt');
  m.cpu.efer = LONG_MODE;
  m.cpu.rip = at('ksetup');
  setGate(m, 6, at('record'), 0);
  assert.equal(m.run(300), 'halted');
  const [, rip, cs] = recorded(m);
  assert.equal(rip, BigInt(at('fault')));
  assert.equal(cs & 3n, 3n); // taken in user mode
});

test('syscall outside long mode (EFER.LMA = 0) raises #UD', () => {
  const { m, at } = boot('', `
kstart2:
fault: syscall
`);
  m.cpu.efer = EFER_SCE; // SCE set, LMA clear
  m.cpu.rip = at('kstart2');
  setGate(m, 6, at('record'), 0);
  assert.equal(m.run(100), 'halted');
  assert.equal(recorded(m)[1], BigInt(at('fault')));
});

/** Kernel code that runs sysretq/sysretl with RCX = `rcx`, R11 = `r11`, STAR[63:48] = `base`; #GP -> record. */
function sysret(op: 'sysretq' | 'sysretl', rcx: string, r11: number, base: number, sce = true) {
  const { m, at } = boot('', `
ksys:
  mov $0xc0000081, %ecx
  xor %eax, %eax
  mov $${(base << 16) | KERNEL_CS}, %edx
  wrmsr
  mov $0xc0000080, %ecx
  rdmsr
  ${sce ? 'or $1, %eax' : 'and $-2, %eax'}
  wrmsr
  ${rcx === 'spin' ? 'lea spin(%rip), %rcx' : `movabs $${rcx}, %rcx`}
  mov $${r11}, %r11
  mov $0x6000, %rsp
fault: ${op}
spin: jmp spin
`);
  m.cpu.efer = LONG_MODE;
  m.cpu.rip = at('ksys');
  setGate(m, 13, at('record'), 0);
  setGate(m, 6, at('record'), 0);
  m.run(100);
  return { m, at };
}

test('sysretq: RIP <- RCX, CS = STAR[63:48]+16 | 3, SS = STAR[63:48]+8 | 3, RFLAGS = (R11 & 3C7FD7H) | 2, CPL 3', () => {
  // R11 = every bit 0..21 but TF (which would single-step the spin loop into #DB):
  // the reserved bits 3, 5, 15 and RF (16), VM (17) are cleared, bit 1 set.
  const { m, at } = sysret('sysretq', 'spin', 0x3ffeff, 0x10);
  assert.equal(m.cpu.rip, at('spin'));
  assert.equal(m.cpu.cpl, 3);
  assert.equal(m.cpu.cs, 0x23);
  assert.equal(m.cpu.ss, 0x1b);
  assert.equal(m.cpu.getRflags() & ~0x10000 & 0x3fffff, 0x3c7ed7 | 2); // RF may be set by the machine on a later fault: ignore it
  assert.equal(m.cpu.regs[8], 0x6000); // RSP untouched
});

test('sysretl: CS = STAR[63:48] | 3 (a return to 32-bit code), SS = STAR[63:48]+8 | 3', () => {
  const { m, at } = sysret('sysretl', 'spin', 0x2, 0x10);
  assert.equal(m.cpu.rip, at('spin'));
  assert.equal(m.cpu.cs, 0x13);
  assert.equal(m.cpu.ss, 0x1b);
  assert.equal(m.cpu.cpl, 3);
});

test('sysretq to a non-canonical RCX: #GP(0) at CPL 0 (Intel), with the RSP the kernel loaded', () => {
  const { m, at } = sysret('sysretq', '0x0000800000000000', 0x2, 0x10);
  const [rsp, err, rip, cs] = recorded(m);
  assert.equal(err, 0n);
  assert.equal(rip, BigInt(at('fault')));
  assert.equal(cs, BigInt(KERNEL_CS)); // still in the kernel
  assert.equal(rsp, 0x6000n - 48n); // the frame was pushed on the stack the kernel had loaded (no stack switch at CPL 0)
});

test('sysretq with EFER.SCE clear: #UD before the CPL check', () => {
  const { m, at } = sysret('sysretq', '0x10000', 0x2, 0x10, false);
  const [, rip, cs] = recorded(m);
  assert.equal(rip, BigInt(at('fault'))); // #UD has no error code: slot 0 is RIP
  assert.equal(cs, BigInt(KERNEL_CS));
});

test('sysretq at CPL 3 (SCE set): #GP(0)', () => {
  const { m, at } = boot('fault: sysretq', '');
  m.cpu.efer = LONG_MODE | EFER_SCE;
  setGate(m, 13, at('record'), 0);
  assert.equal(m.run(100), 'halted');
  const [, err, rip] = recorded(m);
  assert.equal(err, 0n);
  assert.equal(rip, BigInt(at('fault')));
});

test('syscall MSRs: STAR/LSTAR/SFMASK read back; non-canonical LSTAR and SFMASK[63:32] raise #GP(0)', () => {
  const run = (body: string) => {
    const { m, at } = boot('', `kmsr:\n${body}\n  hlt`);
    m.cpu.efer = LONG_MODE;
    m.cpu.rip = at('kmsr');
    setGate(m, 13, at('record'), 0);
    assert.equal(m.run(200), 'halted');
    return { m, at };
  };
  const { m } = run(`
  mov $0xc0000081, %ecx
  mov $0x89abcdef, %eax
  mov $0x00230008, %edx
  wrmsr
  xor %eax, %eax
  xor %edx, %edx
  rdmsr
  mov %eax, ${D + 300}
  mov %edx, ${D + 304}
  mov $0xc0000082, %ecx
  mov $0x12345678, %eax
  mov $0xffff8000, %edx
  wrmsr
  xor %eax, %eax
  rdmsr
  mov %eax, ${D + 308}
  mov %edx, ${D + 312}
  mov $0xc0000084, %ecx
  mov $0x47700, %eax
  xor %edx, %edx
  wrmsr
  rdmsr
  mov %eax, ${D + 316}`);
  assert.equal(m.memory.read32(D + 300), 0x89abcdef);
  assert.equal(m.memory.read32(D + 304), 0x00230008);
  assert.equal(m.memory.read32(D + 308), 0x12345678);
  assert.equal(m.memory.read32(D + 312), 0xffff8000);
  assert.equal(m.memory.read32(D + 316), 0x47700);
  for (const [ecx, edx] of [[0xc0000082, 0x00008000], [0xc0000083, 0x12345678], [0xc0000084, 1]]) {
    const r = run(`  mov $${ecx}, %ecx\n  xor %eax, %eax\n  mov $${edx}, %edx\nfault: wrmsr`);
    assert.equal(recorded(r.m)[1], 0n);
    assert.equal(recorded(r.m)[2], BigInt(r.at('fault')), `wrmsr ${ecx.toString(16)}`);
  }
});

test('xk as assembles syscall/sysret/rdmsr/wrmsr/swapgs byte-identically to GNU as; xk objdump prints what GNU objdump prints', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-syscall-'));
  try {
    const s = path.join(dir, 't.s');
    fs.writeFileSync(s, 'entry:\n  swapgs\n  syscall\n  sysretq\n  sysretl\n  sysret\n  rdmsr\n  wrmsr\n  swapgs\n');
    const gnu = path.join(dir, 'gnu.o'), ours = path.join(dir, 'xk.o');
    execFileSync('as', ['--64', '-o', gnu, s], { stdio: 'pipe' });
    execFileSync(process.execPath, [path.resolve('bin/xk.js'), 'as', s, '-o', ours]);
    const text = (o: string) => {
      const bin = o + '.bin';
      execFileSync('objcopy', ['-O', 'binary', '--only-section=.text', o, bin]);
      return fs.readFileSync(bin);
    };
    assert.deepEqual(text(ours), text(gnu));
    const listing = (out: string) => out.split('\n').filter((l) => /^\s+[0-9a-f]+:\t/.test(l)).map((l) => l.trim().replace(/\s+/g, ' '));
    const gnuDump = listing(execFileSync('objdump', ['-d', gnu], { encoding: 'utf8' }));
    const xkDump = listing(execFileSync(process.execPath, [path.resolve('bin/xk.js'), 'objdump', '-d', gnu], { encoding: 'utf8' }));
    assert.equal(gnuDump.length, 8);
    assert.deepEqual(xkDump, gnuDump);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
