// How the JIT tier goes from one translation to the next (src/machine/jit/,
// Cpu.runSlice): a region entered at any of its blocks, and the chaining of
// translations. Each program runs in lockstep on the JIT (regions of up to 8
// blocks and single blocks), the block tier and the interpreter, stopped after
// every slice of a few instructions (the deadline lands at every place of a
// chain): registers, flags, RIP and count must be the same at every stop.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../src/machine/machine.js';
import { jitStats } from '../src/machine/jit/translate.js';
import { have } from './helpers/tools.js';
import { assembleText as asm } from './helpers/gnuAs.js';
import { identityPaging } from './helpers/identityPaging.js';

const CODE = 0x10000;

function state(m: Machine): string {
  return JSON.stringify({ regs: [...m.cpu.regs], rip: m.cpu.rip, flags: m.cpu.getRflags(), count: m.cpu.instructionCount, halted: m.cpu.halted });
}

/** JIT regions, JIT single blocks (translated after 3 runs), the block tier alone, the interpreter alone. */
function machines(setup: (m: Machine) => void): Machine[] {
  return ([[true, true, 8], [true, true, 1], [true, false, 1], [false, false, 1]] as const).map(([blocks, jit, region]) => {
    const m = new Machine({ memoryBytes: 4 << 20 });
    setup(m);
    m.cpu.interruptCheck = false; // (runSlice returns after the first instruction that finds it set)
    m.cpu.blocksEnabled = blocks;
    m.cpu.blockThreshold = 1;
    m.cpu.jitEnabled = jit;
    m.cpu.jitThreshold = 3;
    m.cpu.jitRegionBlocks = region;
    return m;
  });
}

const NAMES = ['jit regions', 'jit blocks', 'blocks'];

/**
 * Run all in slices of `chunk` instructions (Cpu.runSlice: a fault is thrown, not delivered) until
 * the interpreter halts or faults; compare after each slice. `between` runs after each slice on each
 * (with the count so far).
 * Returns the interpreter's last outcome.
 */
function lockstep(ms: Machine[], chunk: number, max: number, between: (m: Machine, done: number) => void = () => {}): string {
  let last = '';
  // (A slice may end early: a store into code, hlt.)
  for (let done = 0; done < max && !ms[3].cpu.halted; done = ms[3].cpu.instructionCount) {
    const out = ms.map((m) => {
      try { m.cpu.runSlice(m.cpu.instructionCount + chunk); m.cpu.interruptCheck = false; return 'ok'; } catch (e) {
        const f = e as { vector?: number; errorCode?: number; message: string };
        return `fault ${f.vector}/${f.errorCode} ${f.message}`;
      }
    });
    const s = ms.map((m, i) => `${out[i]} ${state(m)} cr2=${m.cpu.cr2}`);
    for (let i = 0; i < 3; i++) assert.equal(s[i], s[3], `${NAMES[i]} vs interpreter after ${ms[3].cpu.instructionCount} instructions (slices of ${chunk})`);
    last = out[3];
    if (last !== 'ok') return last;
    ms.forEach((m) => between(m, m.cpu.instructionCount));
  }
  assert.ok(ms[3].cpu.halted, 'the program ran to its end');
  return 'halted';
}

/** How many translations covered more than one block so far. */
function regionCount(): number {
  return jitStats.blocks - jitStats.compiled;
}

test('jit chain: a loop region entered in its middle block (every other round) runs in lockstep with the interpreter', (t) => {
  if (!have('as') || !have('objcopy')) { t.skip('GNU as not installed'); return; }
  const code = asm(`
    mov $300, %r8d
  outer:
    mov $9, %ecx
    test $1, %r8d
    jne mid              # odd rounds enter the loop at its second block
  top:
    add %rcx, %rax
    imul $3, %rax, %rdx
    cmp $4, %ecx
    jb mid
    xor %rdx, %rax
  mid:
    add $5, %rbx
    sub %rax, %rbx
    dec %ecx
    jne top
    dec %r8d
    jne outer
    hlt`);
  for (const chunk of [5, 7, 13, 997]) {
    const before = regionCount();
    lockstep(machines((m) => { m.loadPhysical(CODE, code); m.cpu.rip = CODE; }), chunk, 40_000);
    assert.ok(regionCount() > before, 'a translation covered more than one block');
  }
});

// The region: the block at outer (hot first), the one at inner, the one after it. inner's branch back to
// itself is the `continue` of a loop around its case, its way out the `break` into the next case; the
// slices end at every place of the inner rounds.
test('jit chain: a block of a region looping on itself (its own loop inside its case), falling through to the next block, stops at every deadline', (t) => {
  if (!have('as') || !have('objcopy')) { t.skip('GNU as not installed'); return; }
  const code = asm(`
    mov $200, %r8d
  outer:
    mov %r8d, %ecx
    and $7, %ecx
    inc %ecx
  inner:
    add %rcx, %rax
    rol $3, %rax
    dec %ecx
    jne inner
    xor %rax, %rbx
    dec %r8d
    jne outer
    hlt`);
  for (const chunk of [1, 2, 3, 5, 7, 13, 997]) {
    const before = regionCount();
    lockstep(machines((m) => { m.loadPhysical(CODE, code); m.cpu.rip = CODE; }), chunk, 20_000);
    // (Slices shorter than a block run no block.)
    if (chunk >= 7) assert.ok(regionCount() > before, `a translation covered more than one block (slices of ${chunk})`);
  }
});

test('jit chain: a loop whose blocks straddle a page boundary (exits from one page chained to the next) runs in lockstep', (t) => {
  if (!have('as') || !have('objcopy')) { t.skip('GNU as not installed'); return; }
  // The loop starts 16 bytes before the page boundary at CODE + 0x1000, so its blocks lie in two pages.
  const code = asm(`
    mov $3000, %ecx
    xor %eax, %eax
    jmp top
    .org 0xff0, 0x90
  top:
    add %rcx, %rax
    imul $7, %rax, %rdx
    xor %rdx, %rbx
    cmp $5, %ecx
    jb 1f
    add $3, %rbx
    ror $3, %rbx
  1:
    shr $1, %rdx
    add %rdx, %rax
    dec %ecx
    jne top
    hlt`);
  const before = jitStats.compiled;
  for (const chunk of [5, 7, 13, 997]) lockstep(machines((m) => { m.loadPhysical(CODE, code); m.cpu.rip = CODE; }), chunk, 40_000);
  assert.ok(jitStats.compiled > before, 'the loop was translated');
});

test('jit chain: a chained block rewritten by a store of the block before it, and by the host between slices, runs its new code at once', (t) => {
  if (!have('as') || !have('objcopy')) { t.skip('GNU as not installed'); return; }
  // Every 16th round the first block stores into the immediate of the second block's add (same page);
  // the second block jumps back. The host also rewrites the other add's immediate about every 50 instructions.
  const code = asm(`
    mov $600, %ecx
  top:
    lea 7(%rcx), %eax
    and $0x3f, %eax
    imul $5, %rcx, %rdx
    test $15, %ecx
    jne next
    movb %al, patch+2(%rip)   # the imm8 of the add below
    jmp next
    .org 0x200, 0x90
  next:
    add %rdx, %rbx
  patch:
    add $1, %ebx
  host:
    add $1, %esi              # its imm8 (at host+2) changed by the host
    dec %ecx
    jne top
    hlt`);
  // add $1, %esi is 83 c6 01: the host's byte is the third.
  const hostImm = code.findIndex((v, i) => v === 0x83 && code[i + 1] === 0xc6 && code[i + 2] === 1) + 2;
  assert.ok(hostImm > 0x200, 'add $imm8, %esi found');
  const before = jitStats.compiled;
  for (const chunk of [5, 7, 13, 997]) {
    lockstep(machines((m) => { m.loadPhysical(CODE, code); m.cpu.rip = CODE; }), chunk, 100_000, (m, done) => {
      if (done % 50 < chunk) m.loadPhysical(CODE + hostImm, Uint8Array.of(Math.floor(done / 50) & 0x7f));
    });
  }
  assert.ok(jitStats.compiled > before + 4, 'the blocks were translated (again after each write)');
});

test('jit chain: a #PF in a chained successor block leaves registers, flags, RIP, CR2 and count as the interpreter does', (t) => {
  if (!have('as') || !have('objcopy')) { t.skip('GNU as not installed'); return; }
  // The first block chains to the second, whose load (then store, then push and pop) walks %rdi up
  // through the pages in steps of 0x180 until it reaches the absent page 0x34000.
  const bodies = ['movl (%rdi), %esi\n add %rsi, %rbp', 'mov %rbp, -8(%rdi,%rdx,2)\n sub %rdx, %rbp', 'push %rbp\n lea 0x80(%rdi), %rsp\n pop %rcx'];
  for (const body of bodies) {
    const code = asm(`
      mov $0x31000, %edi
      mov $0x7f000, %esp
      mov $3, %edx
    1: imul $5, %rdx, %rax
      add %rdi, %rax
      test $1, %edx
      jne 2f
      xor %rax, %rbp
    2: ${body}
      add $0x180, %rdi
      inc %edx
      cmp $400, %edx
      jne 1b
      hlt`);
    for (const chunk of [5, 7, 13, 997]) {
      const out = lockstep(machines((m) => { m.loadPhysical(CODE, code); m.cpu.rip = CODE; identityPaging(m, 0x34000); }), chunk, 100_000);
      assert.match(out, /^fault 14\//, `a page fault (${body}, slices of ${chunk})`);
    }
  }
});

test('jit chain: 64-bit carries out of the low half, and pending flag records carried across blocks through inc/dec/imul, match the interpreter', (t) => {
  if (!have('as') || !have('objcopy')) { t.skip('GNU as not installed'); return; }
  // add/sub/inc/dec/neg cross the 2^32 boundary of their low half within the first rounds (the
  // translations take the carry from comparisons of the halves). The record of a writer that replaces the
  // whole record (add) is pending when the block ends and is chained through writers that keep part of
  // it (inc, imul, dec) in the next block: those keep their own flag locals. Flags are compared at every
  // slice end, so at every point of the chain.
  const code = asm(`
    mov $300, %r8d
    mov $0xfffffff0, %eax
    mov $1, %ebx
    mov $0x100000007, %r12
    mov $0xfffffff4, %r11d
    mov $0x100000000, %r13
    mov $0x100000001, %r9
  top:
    mov %r8d, %r14d
    and $1, %r14d
    add %rbx, %rax
    inc %r11
    jmp 3f
  3:
    imul $3, %r11, %rsi
    dec %r9
    test %r14d, %r14d
    jne 1f
    sub %rbx, %r12
    dec %r12
    jmp 2f
  1:
    neg %r13
    inc %r13
    add %r9, %r10
  2:
    dec %r8d
    jne top
    hlt`);
  const before = jitStats.compiled;
  for (const chunk of [1, 2, 3, 5, 7, 13, 997]) lockstep(machines((m) => { m.loadPhysical(CODE, code); m.cpu.rip = CODE; }), chunk, 20_000);
  assert.ok(jitStats.compiled > before, 'the loop was translated');
});

test('jit chain: a straight run of 150 instructions is one block (one translation); deadlines and a #PF inside it match the interpreter', (t) => {
  if (!have('as') || !have('objcopy')) { t.skip('GNU as not installed'); return; }
  // 30 groups of 5 straight instructions (ALU, a load and a store through %rdi in the 16th group), then
  // %rdi steps up by 0x180 per round until the load reaches the absent page 0x34000: the fault lands
  // at instruction 77 of the block, the deadlines of the slices at every place of it.
  const group = (k: number): string => (k === 15
    ? 'movl (%rdi), %esi\n mov %rbp, 8(%rdi)\n add %rsi, %rbp\n imul $3, %rbp, %rdx\n xor %rdx, %rbx'
    : `add %rcx, %rax\n imul $${k + 3}, %rax, %rdx\n xor %rdx, %rbx\n sub %rbx, %rbp\n rol $${k + 1}, %rbp`);
  const code = asm(`
    mov $0x31000, %edi
    mov $0x7f000, %esp
    mov $400, %ecx
  top:
    ${Array.from({ length: 30 }, (_, k) => group(k)).join('\n    ')}
    add $0x180, %rdi
    dec %ecx
    jne top
    hlt`);
  for (const chunk of [5, 7, 13, 160, 997, 50_000]) {
    const ms = machines((m) => { m.loadPhysical(CODE, code); m.cpu.rip = CODE; identityPaging(m, 0x34000); });
    const out = lockstep(ms, chunk, 100_000);
    assert.match(out, /^fault 14\//, `a page fault (slices of ${chunk})`);
    // The loop's body (from top, after the three movs: 5 + 5 + 5 bytes) is one block of 30 * 5 + 3 instructions.
    const top = ms[0].cpu.decodeCache.cachedEntry(ms[0].cpu, CODE + 15);
    assert.equal(top?.block?.entries.length, 153, `one block for the whole straight run (slices of ${chunk})`);
    // (A block runs only when it fits whole in the slice.)
    if (chunk >= 997) assert.ok(top?.block?.translated, `translated (slices of ${chunk})`);
  }
});
