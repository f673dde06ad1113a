// The trap-and-emulate monitor (src/vmm): the guest kernel (guest/) gives the
// same serial output and the same final guest memory on the bare machine and
// under the monitor; every sensitive instruction traps and is emulated to the
// same effect as on the bare machine; escape attempts are contained.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildGuest } from './guestBuild.js';
import { bootImage } from '../src/cli/bootCommand.js';
import { runVm, type RunVmOptions } from '../src/vmm/vmRunner.js';
import { VmHost } from '../src/vmm/host.js';
import { GUEST_START, guestTables, PIC_TIMER_ONLY, setGate } from './guestPrologue.js';

const MiB = 1024 * 1024;
const decoder = new TextDecoder();
const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

function bare(elf: Uint8Array, memoryBytes = 16 * MiB, maxInstructions = 50_000_000) {
  let output = '';
  const result = bootImage(elf, 'image', { memoryBytes, maxInstructions, serialOut: (b) => { output += decoder.decode(b); } });
  return { result, output };
}

function vm(elf: Uint8Array, options: RunVmOptions = {}) {
  let output = '';
  const result = runVm(elf, 'image', { ...options, serialOut: (b) => { output += decoder.decode(b); } });
  return { result, output };
}

let tmp: string | undefined;
/** Assemble and link a tiny kernel (GNU as/ld) at 0x100000. */
function tiny(source: string): Uint8Array {
  tmp ??= fs.mkdtempSync(path.join(os.tmpdir(), 'xk-vmm-'));
  const s = path.join(tmp, 'k.s'), o = path.join(tmp, 'k.o'), e = path.join(tmp, 'k.elf');
  fs.writeFileSync(s, source);
  execFileSync('as', ['--64', s, '-o', o], { stdio: 'pipe' });
  execFileSync('ld', ['-nostdlib', '-static', '-z', 'max-page-size=4096', '-Ttext=0x100000', '-e', '_start', o, '-o', e], { stdio: 'pipe' });
  return new Uint8Array(fs.readFileSync(e));
}

test('the guest kernel: same serial output and guest-memory hash bare and under the monitor (strict)', () => {
  const elf = buildGuest().elf;
  const b = bare(elf);
  assert.equal(b.result.shutdownStatus, 0);
  const v = vm(elf, { strict: true });
  assert.equal(v.result.reason, 'shutdown', v.result.message);
  assert.equal(v.result.status, 0);
  assert.equal(v.output, b.output);
  assert.match(v.output, /timer ticks [1-9]\d*, system calls 28, demand-paging faults 2/);
  assert.equal(sha(v.result.host.machine.memory.bytes.subarray(0, 16 * MiB)), sha(b.result.machine.memory.bytes.subarray(0, 16 * MiB)));
  // It got there by trapping: system calls, timer interrupts, shadow fills, emulated iretq.
  const k = v.result.exitKinds;
  assert.equal(k.get('int'), 28);
  assert.ok((k.get('virtual-interrupt') ?? 0) > 0 && (k.get('shadow-fill') ?? 0) > 0 && (k.get('iretq') ?? 0) > 0);
});

test('the guest kernel also runs unchanged with real x86 semantics (no strict), and with less memory', () => {
  const elf = buildGuest().elf;
  const b = bare(elf, 4 * MiB);
  const v = vm(elf, { memoryMiB: 4 });
  assert.equal(v.result.reason, 'shutdown', v.result.message);
  assert.equal(v.output, b.output);
  assert.equal(sha(v.result.host.machine.memory.bytes.subarray(0, 4 * MiB)), sha(b.result.machine.memory.bytes.subarray(0, 4 * MiB)));
});

test('direct exits (src/machine/directExits.ts) run the guest exactly as real traps through the host IDT do', () => {
  const elf = buildGuest().elf;
  for (const strict of [true, false]) {
    const direct = vm(elf, { strict });
    const trapped = vm(elf, { strict, beforeRun: (host) => { host.machine.directExits = null; } });
    assert.equal(direct.result.reason, 'shutdown', direct.result.message);
    assert.equal(direct.output, trapped.output);
    assert.equal(direct.result.guestInstructions, trapped.result.guestInstructions);
    assert.equal(direct.result.realInstructions, trapped.result.realInstructions);
    assert.equal(direct.result.exits, trapped.result.exits);
    assert.deepEqual([...direct.result.exitKinds].sort(), [...trapped.result.exitKinds].sort());
    assert.equal(sha(direct.result.host.machine.memory.bytes.subarray(0, 16 * MiB)), sha(trapped.result.host.machine.memory.bytes.subarray(0, 16 * MiB)));
    assert.deepEqual([...direct.result.host.machine.cpu.regs], [...trapped.result.host.machine.cpu.regs]);
  }
});

// A harness for one sensitive instruction at (virtual) CPL 0, paging off: run
// SNIPPET, store rax/rbx/rcx/rdx at 0x9000, power off. Data: a GDT with a TSS
// descriptor at 0x28, an IDT pseudo-descriptor, a scratch area.
function snippet(code: string): Uint8Array {
  return tiny(`
    .text
    .globl _start
_start:
    xor %eax, %eax; xor %ebx, %ebx; xor %ecx, %ecx; xor %edx, %edx
    mov $0x8000, %rsp
    ${code}
    mov %rax, 0x9000
    mov %rbx, 0x9008
    mov %rcx, 0x9010
    mov %rdx, 0x9018
    mov $0xf4, %edx
    mov $7, %al
    out %al, %dx
    hlt
    .data
    .balign 16
gdt:    .quad 0, 0x00209a0000000000, 0x0000920000000000, 0, 0
tssd:   .short 103, 0x2000; .byte 0, 0x89, 0, 0; .long 0, 0
gdt_end:
gdtr:   .short gdt_end - gdt - 1; .quad gdt
idtr:   .short 0xfff; .quad 0x3000
scratch: .quad 0, 0
`);
}

const SENSITIVE: Array<[string, string]> = [
  ['cli', 'cli; pushfq; pop %rax'],
  ['sti', 'sti; pushfq; pop %rax; cli'],
  ['pushf', 'pushfq; pop %rax'],
  ['popf', 'push $0x2d7; popfq; pushfq; pop %rax; cli'],
  ['lgdt', 'lgdt gdtr; sgdt scratch; mov scratch, %rax; mov scratch+8, %rbx'],
  ['lidt', 'lidt idtr; sidt scratch; mov scratch, %rax; mov scratch+8, %rbx'],
  ['sgdt', 'sgdt scratch; mov scratch, %rax; mov scratch+2, %rbx'],
  ['smsw', 'smsw %eax'],
  ['lmsw', 'mov $0x3, %ecx; lmsw %cx; mov %cr0, %rax'],
  ['mov', 'mov %cr0, %rax; mov %cr4, %rbx; mov %cr3, %rcx'],
  ['mov', 'mov $0x5000, %eax; mov %rax, %cr3; mov %cr3, %rbx'],
  ['mov', 'lgdt gdtr; mov $0x10, %eax; mov %eax, %ds; mov %ds, %ebx; mov %cs, %ecx; mov %ss, %edx'],
  ['ltr', 'lgdt gdtr; mov $0x28, %ax; ltr %ax; str %ebx; mov tssd+4, %ecx'],
  ['in', 'mov $0x43, %edx; in %dx, %al; mov $0x3fd, %edx; in %dx, %al; mov %eax, %ebx'],
  ['out', 'mov $1000, %eax; out %eax, $0x40; in $0x40, %eax'],
  ['rdmsr', 'mov $0xc0000080, %ecx; rdmsr'],
  ['wrmsr', 'mov $0xc0000102, %ecx; mov $0x1234, %eax; xor %edx, %edx; wrmsr; swapgs; mov $0xc0000101, %ecx; rdmsr'],
  ['invlpg', 'invlpg 0x9000; mov $5, %eax'],
  ['wrmsr', 'mov $0xc0000101, %ecx; mov $0x9100, %eax; xor %edx, %edx; wrmsr; movq $42, %gs:8; mov 0x9108, %rbx'],
];

for (const strict of [true, false]) {
  for (const [mnemonic, code] of SENSITIVE) {
    test(`${mnemonic} traps and is emulated like the bare machine (${strict ? 'strict' : 'patched'}): ${code}`, () => {
      const elf = snippet(code);
      const b = bare(elf, 4 * MiB);
      assert.equal(b.result.shutdownStatus, 7, b.result.message);
      const v = vm(elf, { memoryMiB: 4, strict });
      assert.equal(v.result.reason, 'shutdown', v.result.message);
      assert.equal(v.result.status, 7);
      const regs = (mem: Uint8Array) => Array.from(mem.subarray(0x9000, 0x9020)).join(',');
      assert.equal(regs(v.result.host.machine.memory.bytes), regs(b.result.machine.memory.bytes));
      const kinds = [...v.result.exitKinds.keys()];
      assert.ok(kinds.some((k) => k === mnemonic || k === `patched-${mnemonic}`), `no ${mnemonic} exit: ${kinds.join(' ')}`);
    });
  }
}

// A guest kernel that enables interrupts with popf (not sti) and waits for
// three timer ticks: with real x86 semantics and no patching, its popf cannot
// set IF at CPL 3, no virtual interrupt is ever delivered and it spins until
// the instruction limit; patched or strict, it behaves as on the bare machine.
const POPF_GUEST = `${GUEST_START}${setGate(32, 'timer')}${PIC_TIMER_ONLY}    mov $500, %eax; out %eax, $0x40
    mov $1, %al; out %al, $0x43
    push $0x202
    popfq
1:  cmpl $3, ticks
    jb 1b
    cli
    mov $'o', %al; mov $0x3f8, %dx; out %al, %dx
    mov $'k', %al; out %al, %dx
    mov $0, %al; out %al, $0xf4
    hlt
timer:
    incl ticks
    push %rax
    mov $0x20, %al; out %al, $0x20
    pop %rax
    iretq
${guestTables('ticks:  .long 0')}`;

test('popf under real x86 semantics: the guest never gets its interrupts back unless the monitor patches popf', () => {
  const elf = tiny(POPF_GUEST);
  const b = bare(elf, 4 * MiB);
  assert.equal(b.output, 'ok');
  const broken = vm(elf, { memoryMiB: 4, patch: false, maxInstructions: 200_000 });
  assert.equal(broken.result.reason, 'limit');
  assert.equal(broken.output, '');
  const patched = vm(elf, { memoryMiB: 4 });
  assert.equal(patched.output, 'ok');
  assert.equal(patched.result.exitKinds.get('patched-popf'), 1);
  const strict = vm(elf, { memoryMiB: 4, strict: true });
  assert.equal(strict.output, 'ok');
  assert.equal(strict.result.exitKinds.get('popf'), 1);
});

test('sti; hlt: the virtual interrupt arrives after the hlt, as on the bare machine (sti shadow, idle time)', () => {
  const wait = `    push $0x202
    popfq
1:  cmpl $3, ticks
    jb 1b`;
  assert.ok(POPF_GUEST.includes(wait));
  const elf = tiny(POPF_GUEST.replace(wait, `    cli
1:  sti
    hlt
    cli
    cmpl $3, ticks
    jb 1b`));
  const b = bare(elf, 4 * MiB);
  assert.equal(b.output, 'ok');
  for (const strict of [true, false]) {
    const v = vm(elf, { memoryMiB: 4, strict });
    assert.equal(v.output, 'ok');
    assert.equal(v.result.exitKinds.get('hlt'), 3); // one idle wait per tick (the VM ends at the shutdown port)
    // The frames the interrupts pushed (RIP after hlt) and everything else in memory are the same.
    assert.equal(sha(v.result.host.machine.memory.bytes.subarray(0, 4 * MiB)), sha(b.result.machine.memory.bytes.subarray(0, 4 * MiB)));
  }
});

test('int n through an empty gate of the guest IDT gives the guest #GP(n*8+2), as on the bare machine', () => {
  // A CPL 0 kernel whose int $0x30 hits an empty gate: #GP(0x182)
  // is delivered to the #GP handler, which powers off with the error code.
  const elf = tiny(POPF_GUEST.replace('    push $0x202\n    popfq\n', `${setGate(13, 'np')}    int $0x30
`).replace('timer:', `np: pop %rax
    out %al, $0xf4
timer:`));
  const b = bare(elf, 4 * MiB);
  assert.equal(b.result.shutdownStatus, 0x82);
  const v = vm(elf, { memoryMiB: 4, strict: true });
  assert.equal(v.result.status, 0x82, v.result.message);
});

// Page tables for the escape tests: identity-map the first 2 MiB (4 KiB pages),
// plus one extra PTE for 0x200000 that the test fills in.
function pagingGuest(extraPte: string, access: string): Uint8Array {
  return tiny(`
    .text
    .globl _start
_start:
    mov $0x8000, %rsp
    lea pt(%rip), %rdi
    mov $3, %eax
    mov $512, %ecx
1:  mov %rax, (%rdi)
    add $0x1000, %rax
    add $8, %rdi
    loop 1b
    movq $${extraPte}, pt2
    lea pml4(%rip), %rax
    mov %rax, %cr3
    mov %cr0, %rax
    or $0x80000001, %eax            # PG needs PE (without it the bare machine raises #GP)
    mov %rax, %cr0
    ${access}
    mov $0xf4, %edx
    mov $9, %al
    out %al, %dx
    hlt
    .data
    .balign 4096
pml4:   .quad pdpt + 3
    .fill 511, 8, 0
pdpt:   .quad pd + 3
    .fill 511, 8, 0
pd:     .quad pt + 3, pt2 + 3
    .fill 510, 8, 0
pt:     .fill 512, 8, 0
pt2:    .fill 512, 8, 0
`);
}

// What the bare machine does, as the monitor reports it: the stop reason and status, and the guest's memory.
function bareOutcome(elf: Uint8Array, maxInstructions = 1_000_000) {
  const b = bare(elf, 4 * MiB, maxInstructions);
  const reason = b.result.shutdownStatus !== undefined ? 'shutdown' : b.result.reason;
  return { reason, status: b.result.shutdownStatus, memory: sha(b.result.machine.memory.bytes.subarray(0, 4 * MiB)) };
}

function assertSameAsBare(elf: Uint8Array, strict = false) {
  const b = bareOutcome(elf);
  const v = vm(elf, { memoryMiB: 4, maxInstructions: 1_000_000, strict });
  assert.equal(v.result.reason, b.reason, v.result.message);
  assert.equal(v.result.status, b.status);
  assert.equal(sha(v.result.host.machine.memory.bytes.subarray(0, 4 * MiB)), b.memory);
  // The monitor's own pages (GDT, IDT, TSS) are exactly as a fresh host builds them.
  const monitorPages = (m: Uint8Array) => sha(m.subarray(4 * MiB, 4 * MiB + 0x3000));
  assert.equal(monitorPages(v.result.host.machine.memory.bytes), monitorPages(new VmHost({ guestBytes: 4 * MiB }).machine.memory.bytes));
  return v;
}

// Containment: the guest's processor (src/vmm/guestCpu.ts) sees exactly the
// guest's memory; a guest-physical address beyond it is the bare machine's
// unbacked bus (reads all ones, writes dropped), never host memory.
test('a guest page table that maps memory beyond the guest size: as on the bare machine; host memory is untouched', () => {
  // 4 MiB guest; the PTE points at 4 MiB + 0x1000, where the monitor keeps its IDT.
  const v = assertSameAsBare(pagingGuest('0x401003', 'movabs $0x4141414141414141, %rax; mov %rax, 0x200000'));
  assert.equal(v.result.status, 9);
  assert.ok((v.result.exitKinds.get('unshadowed-access') ?? 0) > 0);
});

test('a forged page-table pointer (a PD entry outside guest memory): as on the bare machine', () => {
  assertSameAsBare(pagingGuest('0x3', 'movq $0x501003, pd+16; mov 0x400000, %rax; mov %rax, 0x9000'));
});

test('the monitor region is out of reach: a store there is the bare machine\'s; a host-address lidt leaves the host IDT alone', () => {
  const direct = assertSameAsBare(tiny(`
    .globl _start
_start: movabs $0xffffff8000001000, %rbx
    movq $0x4141, (%rbx)
    mov (%rbx), %rax
    mov %rax, 0x9000
    mov $0xf4, %edx
    out %al, %dx
`));
  assert.equal(direct.result.status, 0xff); // the unbacked bus read all ones
  const lidt = vm(LIDT_HOST_ADDRESS_GUEST(), { memoryMiB: 4 });
  // The host's own IDT still sends every vector to the monitor.
  assert.equal(lidt.result.host.machine.cpu.idtrBase, -(2 ** 39) + 0x1000);
});

/** A guest that points its IDT at the address where the host keeps its IDT, then traps. */
function LIDT_HOST_ADDRESS_GUEST(): Uint8Array {
  return tiny(`
    .globl _start
_start: lidt idtr
    int3
    hlt
    .data
idtr: .short 0xfff; .quad 0xffffff8000001000
`);
}

// What is right is what the bare machine does with the same guest: a triple
// fault (the IDT it reads there, on the unbacked bus, holds no usable gate).
test('a host-address lidt ends the guest exactly as on the bare machine', () => {
  const elf = LIDT_HOST_ADDRESS_GUEST();
  const b = bare(elf, 4 * MiB, 100_000);
  assert.equal(b.result.reason, 'triple-fault', b.result.message);
  const v = vm(elf, { memoryMiB: 4 });
  assert.equal(v.result.reason, b.result.reason, v.result.message);
});

test('a misbehaving guest is stopped: triple fault, runaway loop', () => {
  const triple = vm(tiny(`
    .globl _start
_start: lidt idtr
    ud2
    .data
idtr: .short 0; .quad 0
`), { memoryMiB: 4 });
  assert.equal(triple.result.reason, 'triple-fault', triple.result.message);
  const loop = vm(tiny(`
    .globl _start
_start: jmp _start
`), { memoryMiB: 4, maxInstructions: 100_000 });
  assert.equal(loop.result.reason, 'limit');
  assert.equal(loop.result.guestInstructions, 100_000);
});

test('xk vm: the CLI runs the guest kernel and exits with its shutdown status; bad options are named', () => {
  const { elfPath, elf } = buildGuest();
  const xk = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'bin', 'xk.js');
  const run = spawnSync(process.execPath, [xk, 'vm', elfPath, '--strict'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, bare(elf).output);
  const badMemory = spawnSync(process.execPath, [xk, 'vm', elfPath, '--memory', '64'], { encoding: 'utf8' });
  assert.equal(badMemory.status, 2);
  assert.match(badMemory.stderr, /--memory needs an integer from 4 to 16, got '64'/);
  const missing = spawnSync(process.execPath, [xk, 'vm', '/nonexistent.elf'], { encoding: 'utf8' });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /cannot read '\/nonexistent.elf': ENOENT/);
});
