// The CPU core's behaviour that the host-CPU oracle cannot show: faults and
// their rollback (nothing half-applied), canonical-address checks, the
// decoded-instruction cache and self-modifying code, the host-call gate,
// cpuid/rdtsc, interruptible rep strings, and the Machine's run loop.
// Snippets are assembled with GNU as (the oracle for encodings).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../src/machine/machine.js';
import { CpuFault } from '../src/machine/exceptions.js';
import { formatAddress, toSignedLinear, isCanonical } from '../src/machine/address.js';
import { have } from './helpers/tools.js';
import { assembleText } from './helpers/gnuAs.js';

const HAVE_AS = have('as') && have('objcopy');

/** Assembles AT&T text with GNU as into raw bytes (the .text section). */
const asm = assembleText;

const CODE = 0x10000;

/** A flat-mode machine (no paging) with `text` at CODE, RSP at 0x80000. */
function machineWith(text: string, memoryBytes = 1 << 20): Machine {
  const m = new Machine({ memoryBytes });
  m.loadPhysical(CODE, asm(text));
  m.cpu.rip = CODE;
  m.cpu.setReg64(4, 0x80000n);
  return m;
}

/** Step until a CpuFault is thrown; returns it. */
function stepUntilFault(m: Machine, max = 1000): CpuFault {
  for (let i = 0; i < max; i++) {
    try { m.cpu.step(); } catch (e) { if (e instanceof CpuFault) return e; throw e; }
  }
  throw new Error('no fault');
}

/** Identity-map the first 2 MiB with 4 KiB pages; `readOnly`/`absent` pages get R/W = 0 / P = 0. */
function enablePaging(m: Machine, opts: { readOnly?: number[]; absent?: number[] } = {}): void {
  const { cpu, memory } = m;
  const PML4 = 0xf0000, PDPT = 0xf1000, PD = 0xf2000, PT = 0xf3000;
  memory.write32(PML4, PDPT | 7);
  memory.write32(PDPT, PD | 7);
  memory.write32(PD, PT | 7);
  for (let i = 0; i < 512; i++) {
    const page = i * 4096;
    let flags = 7;
    if (opts.readOnly?.includes(page)) flags &= ~2;
    if (opts.absent?.includes(page)) flags = 0;
    memory.write32(PT + 8 * i, page | flags);
  }
  cpu.cr3 = PML4; cpu.cr4 = 1 << 5; cpu.efer = (1 << 8) | (1 << 10);
  cpu.cr0 = 0x80010001; // PG, WP, PE
  m.mmu.flush();
}

test('address helpers: signed canonical numbers', () => {
  assert.equal(toSignedLinear(0, 0xffff8000), -(2 ** 47));
  assert.equal(formatAddress(-(2 ** 47)), '0xffff800000000000');
  assert.equal(isCanonical(0, 0x00008000), false);
  assert.equal(isCanonical(0xffffffff, 0x00007fff), true);
});

test('#DE on divide by zero and quotient overflow: RIP at the div, nothing changed', (t) => {
  if (!HAVE_AS) { t.skip('GNU as not installed'); return; }
  for (const text of ['xor %ecx, %ecx\n div %ecx', 'mov $2, %edx\n mov $1, %ecx\n div %ecx', 'mov $-1, %rax\n mov $0x8000000000000000, %rax\n cqo\n mov $-1, %rcx\n idiv %rcx']) {
    const m = machineWith(text);
    let before = m.cpu.regs.slice();
    let flags = m.cpu.getRflags();
    let fault: CpuFault | null = null;
    while (!fault) {
      before = m.cpu.regs.slice();
      flags = m.cpu.getRflags();
      try { m.cpu.step(); } catch (e) { if (!(e instanceof CpuFault)) throw e; fault = e; }
    }
    assert.equal(fault.vector, 0, text);
    const d = m.cpu.decodeCache.fetch(m.cpu, m.cpu.rip).d;
    assert.match(d.form!.mnemonic, /div/, 'RIP points at the divide');
    assert.deepEqual(m.cpu.regs, before, 'registers unchanged by the faulting divide');
    assert.equal(m.cpu.getRflags(), flags, 'flags unchanged');
  }
});

test('#UD: ud2 and bytes that are no instruction', () => {
  for (const bytes of [[0x0f, 0x0b], [0x0f, 0xff], [0xf0, 0x90]]) {
    const m = new Machine({ memoryBytes: 1 << 20 });
    m.loadPhysical(CODE, Uint8Array.from(bytes));
    m.cpu.rip = CODE;
    const fault = stepUntilFault(m);
    assert.equal(fault.vector, 6, bytes.join(','));
    assert.equal(m.cpu.rip, CODE);
    assert.equal(m.cpu.instructionCount, 0);
  }
});

test('non-canonical addresses: #GP(0) for data, #SS(0) for the stack, #GP(0) for a branch', (t) => {
  if (!HAVE_AS) { t.skip('GNU as not installed'); return; }
  const cases: [string, number][] = [
    ['mov $0x0000800000000000, %rbx\n mov (%rbx), %eax', 13],
    ['mov $0x0000800000000000, %rbp\n mov 8(%rbp), %eax', 12],
    ['mov $0x0000800000000008, %rsp\n push %rax', 12],
    ['mov $0x0000800000000000, %rbx\n jmp *%rbx', 13],
    ['mov $0x00007ffffffffff0, %rbx\n movabs %al, 0x0000800000000000', 13],
  ];
  for (const [text, vector] of cases) {
    const m = machineWith(text);
    const fault = stepUntilFault(m);
    assert.equal(fault.vector, vector, text);
    assert.equal(fault.errorCode, 0, text);
  }
});

test('page faults: CR2 set, RIP at the instruction, no half-applied effects', (t) => {
  if (!HAVE_AS) { t.skip('GNU as not installed'); return; }
  // Page 0x40000 is read-only, page 0x50000 absent.
  const setup = (text: string) => {
    const m = machineWith(text);
    enablePaging(m, { readOnly: [0x40000], absent: [0x50000] });
    return m;
  };
  {
    // add to a read-only page: flags and memory unchanged.
    const m = setup('mov $0x40010, %rbx\n stc\n add %eax, (%rbx)');
    const fault = stepUntilFault(m);
    assert.equal(fault.vector, 14);
    assert.equal(fault.errorCode, 3, 'present + write');
    assert.equal(m.cpu.cr2, 0x40010);
    assert.equal(m.cpu.getRflags() & 1, 1, 'CF from stc survives');
  }
  {
    // A push into an absent page leaves RSP alone.
    const m = setup('mov $0x50008, %rsp\n push %rax');
    stepUntilFault(m);
    assert.equal(m.cpu.getReg64(4), 0x50008n);
  }
  {
    // xchg with memory faults before the register changes.
    const m = setup('mov $0x40020, %rbx\n mov $77, %eax\n xchg %eax, (%rbx)');
    stepUntilFault(m);
    assert.equal(m.cpu.getReg64(0), 77n);
  }
  {
    // An 8-byte store straddling into the absent page writes nothing.
    const m = setup('mov $0x4fffc, %rbx\n mov $-1, %rax\n mov %rax, (%rbx)');
    const fault = stepUntilFault(m);
    assert.equal(fault.vector, 14);
    assert.equal(m.cpu.cr2, 0x50000);
    assert.equal(m.memory.read32(0x4fffc), 0, 'first page untouched');
  }
  {
    // rep movsb stops at the fault with RCX/RSI/RDI describing the progress.
    const m = setup('mov $0x30000, %rsi\n mov $0x4fff0, %rdi\n mov $100, %ecx\n cld\n rep movsb');
    m.memory.bytes.fill(0xab, 0x30000, 0x30100);
    stepUntilFault(m);
    assert.equal(m.cpu.getReg64(1), 100n - 16n);
    assert.equal(m.cpu.getReg64(7), 0x50000n);
    assert.equal(m.memory.read8(0x4ffff), 0xab);
    const d = m.cpu.decodeCache.fetch(m.cpu, m.cpu.rip).d;
    assert.equal(d.form!.mnemonic, 'movsb');
  }
});

test('self-modifying code: a store into a decoded page is seen by the next fetch', (t) => {
  if (!HAVE_AS) { t.skip('GNU as not installed'); return; }
  const m = machineWith(`
    xor %ecx, %ecx
  2:
  1: mov $7, %eax
    movl $42, 1b+1(%rip)
    inc %ecx
    cmp $2, %ecx
    jne 2b
    hlt`);
  assert.equal(m.run(1000), 'halted');
  assert.equal(m.cpu.getReg64(0), 42n);
});

test('remapping a code or data page and flushing the TLB is seen by the next fetch and load', () => {
  // The CPU remembers the translation of the current code page and of recent data
  // pages (and links decoded instructions to each other); a TLB flush must drop them.
  const m = new Machine({ memoryBytes: 1 << 20 });
  const DATA = 0x30000, OTHER_CODE = 0x20000, OTHER_DATA = 0x40000;
  // mov 0x30000, %eax (absolute disp32); hlt   -- and the same with %ebx at the other frame
  m.loadPhysical(CODE, Uint8Array.from([0x8b, 0x04, 0x25, 0x00, 0x00, 0x03, 0x00, 0xf4]));
  m.loadPhysical(OTHER_CODE, Uint8Array.from([0x8b, 0x1c, 0x25, 0x00, 0x00, 0x03, 0x00, 0xf4]));
  m.memory.write32(DATA, 1111);
  m.memory.write32(OTHER_DATA, 2222);
  enablePaging(m);
  const run = () => { m.cpu.rip = CODE; m.cpu.halted = false; assert.equal(m.run(100), 'halted'); };
  run();
  assert.equal(m.cpu.getReg64(0), 1111n);
  // Point the code page and the data page at the other frames, then flush as a kernel would.
  const PT = 0xf3000;
  m.memory.write32(PT + 8 * (CODE >>> 12), OTHER_CODE | 7);
  m.memory.write32(PT + 8 * (DATA >>> 12), OTHER_DATA | 7);
  m.mmu.flushPage(CODE);
  m.mmu.flushPage(DATA);
  run();
  assert.equal(m.cpu.getReg64(3), 2222n);
  assert.equal(m.cpu.getReg64(0), 1111n);
});

test('loading code with loadPhysical replaces decoded instructions', () => {
  const m = new Machine({ memoryBytes: 1 << 20 });
  m.loadPhysical(CODE, Uint8Array.from([0xb8, 1, 0, 0, 0, 0xf4])); // mov $1,%eax; hlt
  m.cpu.rip = CODE;
  m.run(10);
  m.loadPhysical(CODE, Uint8Array.from([0xb8, 2, 0, 0, 0, 0xf4]));
  m.cpu.rip = CODE;
  m.cpu.halted = false;
  m.run(10);
  assert.equal(m.cpu.getReg64(0), 2n);
});

test('host-call gate: the function runs instead of the instruction at CPL 0', (t) => {
  if (!HAVE_AS) { t.skip('GNU as not installed'); return; }
  const m = machineWith('mov $5, %edi\n call 1f\n hlt\n1: ud2');
  const target = CODE + 5 + 5 + 1;
  const calls: bigint[] = [];
  m.cpu.hostCalls.set(target, (cpu) => {
    calls.push(cpu.getReg64(7));
    cpu.setReg64(0, 99n);
    const [lo, hi] = cpu.pop64(); // emulate ret
    cpu.rip = toSignedLinear(lo, hi);
  });
  assert.equal(m.run(100), 'halted');
  assert.deepEqual(calls, [5n]);
  assert.equal(m.cpu.getReg64(0), 99n);
});

test('machine.stop() from a host call ends run() with "stopped"', () => {
  const m = new Machine({ memoryBytes: 1 << 20 });
  m.loadPhysical(CODE, Uint8Array.from([0xeb, 0xfe])); // jmp .
  m.cpu.rip = CODE;
  assert.equal(m.run(1000), 'limit');
  m.cpu.hostCalls.set(CODE, () => m.stop('stopped', 'done'));
  assert.equal(m.run(1000), 'stopped');
  assert.equal(m.stopMessage, 'done');
});

test('cpuid reports the documented fixed processor; rdtsc counts instructions', (t) => {
  if (!HAVE_AS) { t.skip('GNU as not installed'); return; }
  const m = machineWith('xor %eax, %eax\n cpuid\n mov %ebx, %r8d\n mov %edx, %r9d\n mov %ecx, %r10d\n mov $1, %eax\n cpuid\n mov %edx, %r11d\n nop\n nop\n rdtsc\n hlt');
  m.run(100);
  const text = (v: bigint) => Buffer.from(new Uint32Array([Number(v)]).buffer).toString('latin1');
  assert.equal(text(m.cpu.getReg64(8)) + text(m.cpu.getReg64(9)) + text(m.cpu.getReg64(10)), 'xkMachineCPU');
  const edx1 = Number(m.cpu.getReg64(11));
  assert.equal(edx1 & (1 << 25), 0, 'no SSE');
  assert.equal(edx1 & 1, 0, 'no FPU');
  assert.equal(m.cpu.getReg64(0), 10n, 'rdtsc = instructions retired before it');
  assert.equal(m.cpu.getReg64(2), 0n);
});

test('a long rep stosb runs in interruptible chunks and completes', (t) => {
  if (!HAVE_AS) { t.skip('GNU as not installed'); return; }
  const m = machineWith('mov $0x100000, %rdi\n mov $200000, %ecx\n mov $0x5a, %al\n cld\n rep stosb\n hlt', 2 << 20);
  assert.equal(m.run(1000), 'halted');
  assert.equal(m.memory.read8(0x100000), 0x5a);
  assert.equal(m.memory.read8(0x100000 + 199999), 0x5a);
  assert.equal(m.memory.read8(0x100000 + 200000), 0);
  assert.equal(m.cpu.getReg64(1), 0n);
});

test('32-bit cmov zero-extends even when the condition is false; bsf of 0 leaves the destination', (t) => {
  if (!HAVE_AS) { t.skip('GNU as not installed'); return; }
  const m = machineWith('mov $-1, %rax\n mov $-1, %rbx\n xor %ecx, %ecx\n cmp %ecx, %ecx\n cmovne %ecx, %eax\n bsf %rcx, %rbx\n hlt');
  m.run(100);
  assert.equal(m.cpu.getReg64(0), 0xffffffffn);
  assert.equal(m.cpu.getReg64(3), 0xffffffffffffffffn);
  assert.equal(m.cpu.getRflags() & 0x40, 0x40, 'ZF');
});

test('fs/gs segment bases and 32-bit addressing (67 prefix)', (t) => {
  if (!HAVE_AS) { t.skip('GNU as not installed'); return; }
  const m = machineWith('mov %fs:8, %rax\n mov %gs:(%rbx), %rcx\n mov $0x100003000, %rdx\n mov (%edx), %esi\n hlt');
  m.cpu.fsBase = 0x2000;
  m.cpu.gsBase = 0x2ff8;
  m.cpu.setReg64(3, 0x10n);
  m.memory.write32(0x2008, 0x11223344);
  m.memory.write32(0x3008, 0x55667788);
  m.memory.write32(0x3000, 0x99aabbcc);
  m.run(100);
  assert.equal(m.cpu.getReg64(0), 0x11223344n);
  assert.equal(m.cpu.getReg64(1), 0x55667788n);
  assert.equal(m.cpu.getReg64(6), 0x99aabbccn, 'the address wraps to 32 bits');
});

test('an instruction that straddles into an absent page faults with CR2 at that page', () => {
  const m = new Machine({ memoryBytes: 1 << 20 });
  // mov $0x12345678, %eax: b8 at 0x4fffe, the immediate runs into page 0x50000.
  m.loadPhysical(0x4fffc, Uint8Array.from([0x90, 0x90, 0xb8, 0x78]));
  enablePaging(m, { absent: [0x50000] });
  m.cpu.rip = 0x4fffc;
  const fault = stepUntilFault(m);
  assert.equal(fault.vector, 14);
  assert.equal(m.cpu.cr2, 0x50000);
  assert.equal(m.cpu.rip, 0x4fffe);
  assert.equal(fault.errorCode! & 1, 0, 'not present');
});
