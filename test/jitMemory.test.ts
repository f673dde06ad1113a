// The JIT's memory fast path (src/machine/jit/pieces.ts: Ops.probe, the probe
// caches of each base register) against the interpreter: sequences of
// accesses that share a cached probe, run in lockstep on JIT single blocks,
// JIT regions and the interpreter (registers, flags, RIP, count, CR2, the
// memory words that matter, data-breakpoint hits after every slice), with the
// cases where a cached page must not be used: a data-TLB entry evicted by a
// slow-path access or by an instruction of the interpreter's (the walk after
// it sets the accessed bit again, or faults on a page table changed without
// invlpg), a read-only page whose reads were cached, an access crossing into
// a page mapped to another frame, a store into the page of the running code,
// a #PF at each access of a sequence, and data breakpoints; and for the caches a
// translation keeps across calls, what changes between two calls: an eviction
// by another page, invlpg, CR3, the CPL, a page getting decoded code.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Machine } from '../src/machine/machine.js';
import { have } from './helpers/tools.js';
import { assembleText } from './helpers/gnuAs.js';
import { TIERS, identityPaging, machines, pageWalkLoop, runChunk } from './helpers/jitLockstep.js';

const CODE = 0x10000;
const PT = 0xf3000; // identityPaging's page table: the entry of page n at PT + 8 * (n >>> 12)
const noAs = !have('as') || !have('objcopy');

function load(code: Uint8Array): (m: Machine) => void {
  return (m) => { m.loadPhysical(CODE, code); m.cpu.rip = CODE; m.cpu.setReg64(4, 0x7f000n); };
}

/**
 * Run `code` on JIT blocks, JIT regions and the interpreter in slices of 5, 7, 13 and 997 instructions,
 * comparing the state, the physical words at `watch` and the data-breakpoint hits after each slice;
 * `setup` prepares each machine, `between` runs on each after each slice. Returns the interpreter's last outcome.
 */
function lockstep(code: Uint8Array, setup: (m: Machine) => void, watch: number[] = [], between: (m: Machine) => void = () => {}): string[] {
  const outcomes: string[] = [];
  for (const chunk of [5, 7, 13, 997]) {
    const ms = machines([TIERS.jit, TIERS.regions, TIERS.interpreter], (m) => { load(code)(m); setup(m); m.cpu.interruptCheck = false; });
    let last = '';
    for (let i = 0; i < 20000 && !ms[2].cpu.halted; i++) {
      const out = ms.map((m) => `${runChunk(m, chunk)} ${watch.map((a) => m.memory.read32(a).toString(16)).join(',')} hits=${m.cpu.dataHits}`);
      assert.equal(out[0], out[2], `jit blocks vs interpreter (slices of ${chunk})`);
      assert.equal(out[1], out[2], `jit regions vs interpreter (slices of ${chunk})`);
      last = out[2];
      if (last.startsWith('fault')) break;
      ms.forEach(between);
    }
    outcomes.push(last);
  }
  return outcomes;
}

/**
 * A loop of 40 rounds (%edx counts down) that reads and writes page P (linear 0x40000, in %rbx), runs
 * `change` in round 30 (%rdi: P's page-table entry, %rcx: linear 0x40000000), then `rest` in every round;
 * `after` follows the hlt.
 */
function roundThirty(change: string, rest = '', after = ''): string {
  return `
    mov $0x40000, %ebx
    mov $0x40000000, %ecx
    mov $${PT + 8 * 0x40}, %edi
    xor %eax, %eax
    mov $40, %edx
  1: add (%rbx), %eax
    add 8(%rbx), %eax
    addl %eax, 40(%rbx)
    cmp $30, %edx
    jne 2f
    ${change}
  2: ${rest}
    dec %edx
    jne 1b
    hlt
    ${after}`;
}

test('jit memory: a cached page whose TLB entry a slow-path access or an interpreter instruction evicted is walked again (accessed bit, #PF)', (t) => {
  if (noAs) { t.skip('GNU as not installed'); return; }
  // Page P (linear 0x40000) and page Q (linear 0x40000000, mapped through a second PDPT entry to the same
  // tables: physical page 0) share the slot of the CPU's data TLB (64 entries by page number) and of the
  // MMU's (4096, page number folded). Each round reads P (its probe cached), in round 30 changes P's
  // page-table entry without invlpg (both TLBs still hold P, in every tier), reads P again (a TLB hit), then
  // Q (`evict`: a slow-path access, or the interpreter's adc), which evicts P from both: the next access
  // to P walks the page table, setting the accessed and dirty bits again or faulting, as the interpreter's does.
  // With `call evict` the access to Q is on another page, between two calls of the loop's translations, which
  // keep their probe caches across calls (pieces.ts probeCaches): only the data-TLB fill of Q, replacing P,
  // tells them that their saved cache of P is gone.
  for (const evict of ['add (%rcx), %eax', 'adc (%rcx), %eax', 'addl %eax, 4(%rcx)', 'call evict']) {
    for (const [pte, outcome] of [['$0', /^fault 14\//], ['$0x40007', /^halted|^\{/]] as const) {
      const code = assembleText(roundThirty(`movq ${pte}, (%rdi)`, `add 16(%rbx), %eax
        ${evict}
        add 24(%rbx), %eax
        addl %eax, 32(%rbx)`, `.balign 4096
      evict: add (%rcx), %eax
        ret`));
      const setup = (m: Machine): void => { identityPaging(m, []); m.memory.write32(0xf1008, 0xf2000 | 7); m.mmu.flush(); };
      const out = lockstep(code, setup, [PT + 8 * 0x40, 0x40020, 0x40028]);
      for (const o of out) assert.match(o, outcome, `${evict}, page-table entry ${pte}`);
    }
  }
});

test('jit memory: a store to a read-only page whose reads were cached faults, as the interpreter', (t) => {
  if (noAs) { t.skip('GNU as not installed'); return; }
  const code = assembleText(pageWalkLoop('mov (%rbx), %esi\n add 8(%rbx), %esi\n mov %esi, 16(%rbx)\n add 24(%rbx), %esi'));
  for (const o of lockstep(code, (m) => identityPaging(m, [], [0x34000]), [0x33f10])) assert.match(o, /^fault 14\/3 /);
});

test('jit memory: accesses crossing from a cached page into one mapped to another frame read and write both frames', (t) => {
  if (noAs) { t.skip('GNU as not installed'); return; }
  // Linear 0x41000 maps to frame 0x90000; the loop reads and writes at the end of 0x40000 with each size.
  const code = assembleText(`
    mov $0x40000, %ebx
    mov $300, %ecx
  1: mov (%rbx), %rax
    mov 4094(%rbx), %esi
    add 4093(%rbx), %rax
    movzwl 4095(%rbx), %edx
    add 4089(%rbx), %rdx
    add %rdx, %rax
    mov %rax, 4092(%rbx)
    mov %ax, 4095(%rbx)
    mov %esi, 4090(%rbx)
    add %ecx, 8(%rbx)
    dec %ecx
    jne 1b
    hlt`);
  const setup = (m: Machine): void => {
    identityPaging(m, []);
    m.memory.write32(PT + 8 * 0x41, 0x90000 | 7);
    for (let i = 0; i < 16; i++) { m.memory.write8(0x40ff8 + i, 0x11 * i + 3); m.memory.write8(0x90000 + i, 0x35 + 7 * i); }
  };
  for (const o of lockstep(code, setup, [0x40ff8, 0x40ffc, 0x90000, 0x90004, 0x41000, 0x40008])) assert.match(o, /"halted":true/);
});

test('jit memory: stores into the page of the running code are never cached (each one invalidates)', (t) => {
  if (noAs) { t.skip('GNU as not installed'); return; }
  // Two stores through %rdi, the second into the immediate of an add of the loop: the new value runs at once.
  const code = assembleText(`
    lea data(%rip), %rdi
    mov $500, %ecx
  1: mov %ecx, (%rdi)
    lea 1(%rcx), %eax
    and $0x3f, %eax
    movb %al, 7(%rdi)
    add %eax, %ebx
  data: .byte 0x90, 0x90, 0x90, 0x90, 0x90
    add $1, %ebx
    dec %ecx
    jne 1b
    hlt`);
  for (const o of lockstep(code, () => {})) assert.match(o, /"halted":true/);
});

test('jit memory: a #PF at each access of a sequence sharing one probe leaves the interpreter\'s state', (t) => {
  if (noAs) { t.skip('GNU as not installed'); return; }
  // %rbx walks into the absent page 0x34000; the access with the largest offset reaches it first.
  const forms = ['mov $OFF(%rbx), %esi', 'add %esi, $OFF(%rbx)', 'addl $3, $OFF(%rbx)', 'add $OFF(%rbx), %rsi', 'push %rsi\n lea $OFF(%rbx), %rsp\n pop %rdx'];
  for (let first = 0; first < forms.length; first++) {
    const body = forms.map((f, i) => f.replace('$OFF', String(i === first ? 0x2f0 : 8 * i))).join('\n');
    for (const o of lockstep(assembleText(pageWalkLoop(body)), (m) => identityPaging(m, [0x34000]))) {
      assert.match(o, /^fault 14\//, `the ${first}th access faults`);
    }
  }
});

test('jit memory: a data breakpoint set between slices is hit by translated stack accesses as in the interpreter', (t) => {
  if (noAs) { t.skip('GNU as not installed'); return; }
  const code = assembleText(`
    mov $2000, %ecx
  1: push %rcx
    mov %rcx, 16(%rsp)
    mov 16(%rsp), %rax
    add 8(%rsp), %rax
    pop %rdx
    add %rax, %rbx
    dec %ecx
    jne 1b
    hlt`);
  // A write breakpoint on the slot of 16(%rsp) after 3000 instructions, an access breakpoint on 8(%rsp) after 6000.
  const stage = new WeakMap<Machine, number>();
  const between = (m: Machine): void => {
    const n = stage.get(m) ?? 0, r = m.cpu.debugRegisters;
    if (n === 0 && m.cpu.instructionCount >= 3000) { r.set(0, 'write', 0x7f008, 8); m.cpu.debugChanged(); m.cpu.interruptCheck = false; stage.set(m, 1); }
    if (n === 1 && m.cpu.instructionCount >= 6000) { r.set(1, 'access', 0x7f000, 8); m.cpu.debugChanged(); m.cpu.interruptCheck = false; stage.set(m, 2); }
  };
  const out = lockstep(code, () => {}, [0x7f008], between);
  for (const o of out) assert.match(o, /"halted":true/);
});

/**
 * identityPaging, and linear 0xffe00000-0xffffffff (below 4 GiB) mapped to the first 2 MiB too, linear
 * 0x100000000 on (above 4 GiB) to physical 0x100000 on: accesses and RSP move across the 4 GiB boundary,
 * where the high half of an address changes; an address that missed a carry (0x0000xxxx) or a borrow
 * (0x1ffffxxxx: not present) reads other memory or faults.
 */
function aroundFourGiB(m: Machine): void {
  identityPaging(m, []);
  m.memory.write32(0xf1000 + 8 * 3, 0xf2000 | 7); // PDPT[3]: the identity PD, whose entry 511 is the identity page table
  m.memory.write32(0xf2000 + 8 * 511, PT | 7);
  m.memory.write32(0xf1000 + 8 * 4, 0xf4000 | 7); // PDPT[4] -> PD 0xf4000 -> page table 0xf5000 -> 0x100000 on
  m.memory.write32(0xf4000, 0xf5000 | 7);
  for (let i = 0; i < 16; i++) m.memory.write32(0xf5000 + 8 * i, (0x100000 + 4096 * i) | 7);
  for (let i = 0; i < 64; i++) { m.memory.write32(0x1fff00 + 4 * i, 0x1000193 * (i + 1)); m.memory.write32(0x100000 + 4 * i, 0x2000195 * (i + 7)); }
  m.mmu.flush();
}

/** `lines` in blocks of at most 3 instructions and a jmp, so that the JIT runs each of them in slices of 5. */
function shortBlocks(lines: string[]): string {
  return lines.map((l, i) => (i % 3 === 2 ? `${l}\n jmp 9f\n9:` : l)).join('\n');
}

test('jit memory: RSP moved across a 4 GiB boundary by push, pop, call and ret carries into its high half as the interpreter', (t) => {
  if (noAs) { t.skip('GNU as not installed'); return; }
  // Each round starts 8 bytes lower (from 0x100000030 down to below 0xffffff00), so the boundary falls at
  // every push, pop, call, ret and ret imm16 of the round, downwards and upwards.
  const code = assembleText(`
    mov $40, %r8d
    movabs $0x100000030, %r9
  1: ${shortBlocks(['mov %r9, %rsp', 'push %r8', 'push %r9', 'pushq $-5'])}
    call 2f
    ${shortBlocks(['pop %rax', 'pop %rbx', 'pop %rdx', 'add %rax, %rbx', 'sub $8, %r9'])}
    dec %r8d
    jne 1b
    hlt
  2: ${shortBlocks(['push %rax', 'pop %rsi', 'push %r8'])}
    call 3f
    add %rsi, %rcx
    ret
  3: mov (%rsp), %rdi
    ret $8`);
  const out = lockstep(code, aroundFourGiB, [0x1ffff0, 0x1ffff8, 0x100000, 0x100008, 0x100010, 0x100018, 0x100020]);
  for (const o of out) assert.match(o, /"halted":true/);
});

test('jit memory: lea and indexed addresses carry and borrow between the halves as the interpreter (negative displacements, scale 8)', (t) => {
  if (noAs) { t.skip('GNU as not installed'); return; }
  // The base registers count up across 2^32 (the low half wrapping), the index's low half times 8 carries 0 to 7
  // into the high half, with the base's carry and a displacement's carry or borrow up to 9 or down by 1; the
  // high half of an index times the scale wraps (a negative index). The loads and stores at indexed addresses
  // run across 4 GiB (aroundFourGiB), so the values read and the words written show the address.
  const body = [
    'lea -0x10(%rdi), %rdx', 'lea 0x7fffffff(%rax), %r10', 'lea 8(%rax), %r11', 'lea (%rax,%rbx,8), %r12',
    'lea -0x80000000(%rax,%rsi,8), %r13', 'lea 0x7fffffff(%rax,%rsi,8), %r14', 'lea -1(,%rbx,4), %r15',
    'lea (%rsi,%rsi,2), %rbp', 'lea -0x80000000(,%rdi,8), %rdx', 'lea 3(%rax,%rbx,2), %r9d', 'lea -0x20(%rdi,%rax), %r10d',
    'lea 0x7ffffff0(%rdi), %r11d', 'lea -0x7fffffff(%rax), %rax', 'lea 0x7fffffff(%rax), %rax', 'add %rdx, %r12',
    'mov -0x40(%rdi,%r8,1), %r10', 'add 0x10(,%rcx,8), %r11', 'mov %r12d, -0x20(%rdi,%r8,4)', 'addl %r8d, 8(%rax,%r8,2)',
    'movzbl -0x8(%rax,%r8), %edx', 'mov %r8, %r15', 'not %r15', 'mov 0x100(%rax,%r15,8), %r15',
    'inc %rax', 'inc %rbx', 'inc %rsi', 'inc %rdi', 'inc %rcx',
  ];
  const code = assembleText(`
    xor %r8d, %r8d
    movabs $0xffffffe0, %rax
    movabs $0x1ffffffc, %rbx
    movabs $0x80000001ffffffe8, %rsi
    movabs $0xffffffe8, %rdi
    movabs $0x1ffffff8, %rcx
  1: ${shortBlocks(body)}
    inc %r8d
    cmp $48, %r8d
    jne 1b
    hlt`);
  const words = [...Array(16).keys()].flatMap((i) => [0x1fffc0 + 4 * i, 0x100000 + 4 * i]);
  const out = lockstep(code, aroundFourGiB, words);
  for (const o of out) assert.match(o, /"halted":true/);
});

// The probe caches a translation keeps from one call to the next (pieces.ts probeCaches): saved at its exit
// with Cpu.probeEpoch and the CPL, used at the next call only if neither changed. Each test changes, between
// two calls of the translation that cached page P, one thing the caches depend on; a stale cache would read
// or write P's old frame, miss a fault or a decoded-code invalidation.

test('jit memory: probe caches kept across calls are dropped after invlpg and after a CR3 write', (t) => {
  if (noAs) { t.skip('GNU as not installed'); return; }
  // In round 30 P (linear 0x40000) is mapped to frame 0x90000, by its page-table entry and invlpg, or by
  // switching CR3 to a second set of tables that map it there; the loop's next read of P must read that frame.
  const change = {
    invlpg: `movq $0x90007, (%rdi)\n invlpg (%rbx)`,
    cr3: 'mov $0xf6000, %esi\n mov %rsi, %cr3',
  };
  for (const [name, how] of Object.entries(change)) {
    const code = assembleText(roundThirty(how));
    const setup = (m: Machine): void => {
      identityPaging(m, []);
      // The second tables (CR3 0xf6000): the identity map but for P.
      m.memory.write32(0xf6000, 0xf7000 | 7);
      m.memory.write32(0xf7000, 0xf8000 | 7);
      m.memory.write32(0xf8000, 0xf9000 | 7);
      for (let i = 0; i < 512; i++) m.memory.write32(0xf9000 + 8 * i, i === 0x40 ? 0x90007 : (i * 4096) | 7);
      for (let i = 0; i < 16; i++) { m.memory.write32(0x40000 + 4 * i, 0x1234567 * (i + 1)); m.memory.write32(0x90000 + 4 * i, 0x7654321 * (i + 3)); }
    };
    const out = lockstep(code, setup, [0x40028, 0x90028]);
    for (const o of out) assert.match(o, /"halted":true/, name);
  }
});

test('jit memory: probe caches kept across calls are not used at another CPL', (t) => {
  if (noAs) { t.skip('GNU as not installed'); return; }
  // P is a supervisor page; after 300 instructions the CPL becomes 3 (between slices): the loop's next read of
  // P faults (#PF, a user read of a present page), as the interpreter's does, though the translation cached P.
  const code = assembleText(`
    mov $0x40000, %ebx
    xor %eax, %eax
    mov $100000, %edx
  1: add (%rbx), %eax
    add 8(%rbx), %eax
    dec %edx
    jne 1b
    hlt`);
  const between = (m: Machine): void => { if (m.cpu.instructionCount >= 300) m.cpu.cpl = 3; };
  const out = lockstep(code, (m) => { identityPaging(m, []); m.memory.write32(PT + 8 * 0x40, 0x40003); }, [], between);
  for (const o of out) assert.match(o, /^fault 14\/5 /);
});

test('jit memory: a store cached across calls goes the slow way once its page has decoded code', (t) => {
  if (noAs) { t.skip('GNU as not installed'); return; }
  // Each round stores the round number into the immediate of `add $imm, %esi` on another page, and from
  // round 50 on calls it: that first call decodes the page (it gets code), so the loop's next store must
  // invalidate the decoded add (Cpu.writeMem), though its translation cached the page for writes in the rounds
  // before: the add runs each new value.
  const code = assembleText(`
    lea imm(%rip), %rdi
    xor %esi, %esi
    mov $60, %edx
  1: mov %edx, (%rdi)
    add %edx, %eax
    cmp $50, %edx
    ja 2f
    call routine
  2: dec %edx
    jne 1b
    hlt
    .balign 4096
  routine: .byte 0x81, 0xc6
  imm: .long 0
    ret`);
  for (const o of lockstep(code, () => {})) assert.match(o, /"halted":true/);
});
