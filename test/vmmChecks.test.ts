// The monitor's checks are the bare machine's (issue 11, item 1): small guest
// kernels each make one privileged instruction or event delivery go wrong
// (non-canonical iretq RIP, bad selectors, reserved CR bits, non-canonical
// IDT gates, user-mode privilege...) and record what their exception handler
// saw: vector, error code, the pushed RIP/CS/RFLAGS/RSP/SS, CR2. Each runs on
// the bare machine and under the monitor (patched and strict); the stop
// reason, the shutdown status, the guest's clock and every byte of guest
// memory must be equal. The oracle is the bare machine (src/machine), which
// the host-CPU and GNU-as tests check against real hardware and tools.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bootImage } from '../src/cli/bootCommand.js';
import { runVm } from '../src/vmm/vmRunner.js';
import { buildUserPrograms } from '../src/build/userPrograms.js';
import { runProgram } from './kernelHelpers.js';
import { buildGuest } from './guestBuild.js';

const MiB = 1024 * 1024;
const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-vmm-checks-'));
/** Assemble and link a guest kernel with GNU as/ld at 0x100000. */
function link(source: string): Uint8Array {
  const s = path.join(tmp, 'k.s'), o = path.join(tmp, 'k.o'), e = path.join(tmp, 'k.elf');
  fs.writeFileSync(s, source);
  execFileSync('as', ['--64', s, '-o', o], { stdio: 'pipe' });
  execFileSync('ld', ['-nostdlib', '-static', '-z', 'max-page-size=4096', '-Ttext=0x100000', '-e', '_start', o, '-o', e], { stdio: 'pipe' });
  return new Uint8Array(fs.readFileSync(e));
}

/** Enter CPL 3 at the next instruction (user code 0x23, user data 0x1b, stack 0x5000) with RFLAGS `flags`. */
const toUser = (flags = '0x2') => `
    push $0x1b; push $0x5000; push $${flags}; push $0x23
    lea 9f(%rip), %rax; push %rax
    iretq
9:`;

/**
 * The harness: a GDT (kernel and user segments, a TSS at 0x7000, not-present
 * segments), an IDT at 0x3000 whose 32 gates lead to stubs that record the
 * exception frame at 0x9000 and power off with the vector as status; then SNIPPET; then
 * power off with status 0xaa.
 */
export function checkGuest(snippet: string): Uint8Array {
  return link(`
    .text
    .globl _start
_start:
    mov $0x8000, %rsp
    lea stubs(%rip), %rsi
    mov $0x3000, %rdi
    xor %ecx, %ecx
1:  mov %rsi, %rax
    mov %ax, (%rdi)
    movw $0x08, 2(%rdi)
    movw $0x8e00, 4(%rdi)
    shr $16, %rax
    mov %ax, 6(%rdi)
    movq $0, 8(%rdi)
    add $16, %rsi
    add $16, %rdi
    inc %ecx
    cmp $32, %ecx
    jb 1b
    movq $0x6000, 0x7004          # TSS.rsp0
    lgdt gdtr
    lidt idtr
    mov $0x28, %ax
    ltr %ax
    xor %eax, %eax; xor %ebx, %ebx; xor %ecx, %ecx; xor %edx, %edx
${snippet}
    mov $0xaa, %al
    out %al, $0xf4
    hlt

common:
    pop %rax; mov %rax, 0x9000
    pop %rax; mov %rax, 0x9008
    pop %rax; mov %rax, 0x9010
    pop %rax; mov %rax, 0x9018
    pop %rax; mov %rax, 0x9020
    pop %rax; mov %rax, 0x9028
    pop %rax; mov %rax, 0x9030
    mov %cr2, %rax; mov %rax, 0x9038
    mov %rbx, 0x9040; mov %rcx, 0x9048; mov %r11, 0x9050
    mov 0x9000, %al
    out %al, $0xf4
    hlt

    .balign 16
stubs:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .balign 16
    .if (\\v == 8) || ((\\v >= 10) && (\\v <= 14)) || (\\v == 17)
    .else
    push $0xdead
    .endif
    push $\\v
    jmp common
    .endr

    .data
    .balign 16
gdt:    .quad 0
        .quad 0x00209a0000000000      # 0x08 kernel code
        .quad 0x0000920000000000      # 0x10 kernel data
        .quad 0x0000f20000000000      # 0x18 user data
        .quad 0x0020fa0000000000      # 0x20 user code
        .short 0x67, 0x7000; .byte 0, 0x89, 0, 0; .long 0, 0   # 0x28 TSS
        .quad 0x00201a0000000000      # 0x38 kernel code, not present
        .quad 0x0000120000000000      # 0x40 kernel data, not present
        .quad 0x0000b20000000000      # 0x48 data DPL 1
gdt_end:
gdtr:   .short gdt_end - gdt - 1; .quad gdt
idtr:   .short 32 * 16 - 1; .quad 0x3000
small:  .short 14 * 16 - 1; .quad 0x3000
zero:   .short 0; .quad 0
noncanon: .short 0xfff; .quad 0x0000800000000000
`);
}

/** An iretq frame at CPL 0: RIP, CS, RFLAGS, RSP, SS (values or registers as immediates). */
const iretq = (rip: string, cs = '$0x08', rsp = '$0x7f00', ss = '$0x10', flags = '$2') => `
    push ${ss}; push ${rsp}; push ${flags}; push ${cs}
    movabs ${rip}, %rax; push %rax
    iretq`;

/** Make IDT gate `v`'s handler offset non-canonical (bits 63..32 = 0x00008000). */
const nonCanonicalGate = (v: number) => `    movl $0x00008000, 0x3000 + ${v} * 16 + 8`;

export const CHECKS: Array<[string, string]> = [
  ['iretq to a non-canonical RIP: #GP(0)', iretq('$0x0000800000000000')],
  ['iretq to a non-canonical RSP, then a push: #SS(0)', '    movabs $0x0000800000000000, %rbx' + iretq('$9f', '$0x08', '%rbx').replace('iretq', 'iretq\n9:  push %rax')],
  ['a push below address 0 (the top of the address space, paging off)', '    xor %esp, %esp; push %rax; mov (%rsp), %rbx'],
  ['iretq to a null CS: #GP(0)', iretq('$9f', '$0').replace('iretq', 'iretq\n9:')],
  ['iretq to a data segment as CS: #GP(0x10)', iretq('$9f', '$0x10').replace('iretq', 'iretq\n9:')],
  ['iretq to a CS beyond the GDT limit: #GP(0x80)', iretq('$9f', '$0x80').replace('iretq', 'iretq\n9:')],
  ['iretq to a not-present CS: #NP(0x38)', iretq('$9f', '$0x38').replace('iretq', 'iretq\n9:')],
  ['iretq to CPL 3 with a null SS: #GP(0)', iretq('$9f', '$0x23', '$0x5000', '$0').replace('iretq', 'iretq\n9:')],
  ['iretq to CPL 3 with a kernel SS: #GP(0x10)', iretq('$9f', '$0x23', '$0x5000', '$0x13').replace('iretq', 'iretq\n9:')],
  ['lidt with a non-canonical base: #GP(0)', '    lidt noncanon'],
  ['lgdt with a non-canonical base: #GP(0)', '    lgdt noncanon'],
  ['mov to CR4 with a reserved bit: #GP(0)', '    mov $0x800000, %eax; mov %rax, %cr4'],
  ['mov to CR0: PG without PE: #GP(0)', '    mov $0x80000000, %eax; mov %rax, %cr0'],
  ['mov to CR3 with bits above 51: #GP(0)', '    movabs $0x0010000000000000, %rax; mov %rax, %cr3'],
  ['mov to CR7: #UD', '    .byte 0x0f, 0x22, 0xf8'],
  ['wrmsr to an unknown MSR: #GP(0)', '    mov $0x1234, %ecx; wrmsr'],
  ['wrmsr EFER with a reserved bit: #GP(0)', '    mov $0xc0000080, %ecx; mov $0x2, %eax; wrmsr'],
  ['wrmsr FS_BASE non-canonical: #GP(0)', '    mov $0xc0000100, %ecx; xor %eax, %eax; mov $0x8000, %edx; wrmsr'],
  ['mov to DS beyond the GDT: #GP(0x80)', '    mov $0x80, %eax; mov %eax, %ds'],
  ['mov to DS not present: #NP(0x40)', '    mov $0x40, %eax; mov %eax, %ds'],
  ['mov to SS with a DPL 1 segment: #GP(0x48)', '    mov $0x48, %eax; mov %eax, %ss'],
  ['ltr of a data segment: #GP(0x10)', '    mov $0x10, %ax; ltr %ax'],
  ['ltr of a busy TSS: #GP(0x28)', '    mov $0x28, %ax; ltr %ax'],
  ['int n beyond the IDT limit: #GP(n*8+2)', '    lidt small; int $0x20'],
  ['int n through a non-canonical gate: #GP(0)', `${nonCanonicalGate(0x1f)}\n    int $0x1f`],
  ['an exception through a non-canonical gate: #GP(EXT)', `${nonCanonicalGate(6)}\n    ud2`],
  ['iretq to a non-canonical RIP with a non-canonical #GP gate: #DF', `${nonCanonicalGate(13)}\n${iretq('$0x0000800000000000')}`],
  ['iretq to a non-canonical RIP, every gate non-canonical: triple fault', `${[8, 13].map(nonCanonicalGate).join('\n')}\n${iretq('$0x0000800000000000')}`],
  ['iretq to a non-canonical RIP with no IDT: triple fault', `    lidt zero\n${iretq('$0x0000800000000000')}`],
  ['a page fault: error code and CR2', `
    movq $0xb003, 0xa000; movq $0xc003, 0xb000; movq $0x83, 0xc000   # 0..2 MiB, one large page
    mov $0xa000, %eax; mov %rax, %cr3
    mov %cr0, %rax; or $0x80000001, %eax; mov %rax, %cr0
    movq $1, 0x400000`],
  ['syscall with EFER.SCE = 0: #UD', '    syscall'],
  ['syscall with EFER.SCE = 1 outside long mode (EFER.LMA = 0): #UD', `
    mov $0xc0000080, %ecx; rdmsr; or $1, %eax; wrmsr
    mov $0xc0000081, %ecx; xor %eax, %eax; mov $0x00100008, %edx; wrmsr
    mov $0xc0000082, %ecx; lea 9f(%rip), %rax; xor %edx, %edx; wrmsr
    mov $0x1234, %ebx
    syscall
    hlt
9:  mov %cs, %rbx; mov %ss, %rdx; mov %rcx, 0x9048; mov %r11, 0x9050; mov %rbx, 0x9040; mov %rdx, 0x9058`],
  ['CPL 3: cli is #GP(0)', `${toUser()}\n    cli`],
  ['CPL 3: hlt is #GP(0)', `${toUser()}\n    hlt`],
  ['CPL 3: in is #GP(0) at IOPL 0', `${toUser()}\n    in $0x40, %al`],
  ['CPL 3: in and cli are allowed at IOPL 3', `${toUser('0x3002')}\n    in $0x43, %al; cli; mov $0xab, %al; out %al, $0xf4`],
  ['CPL 3: int n through a DPL 0 gate: #GP(n*8+2), on the TSS stack', `${toUser()}\n    int $0x1e`],
  ['CPL 3: mov to CR3 is #GP(0)', `${toUser()}\n    mov %rax, %cr3`],
  ['CPL 3: iretq to CPL 0: #GP(0x08)', `${toUser()}\n${iretq('$9f').replace('iretq', 'iretq\n9:')}`],
  ['a divide error', '    xor %ecx, %ecx; div %ecx'],
  ['a non-canonical data access: #GP(0)', '    movabs $0x0000800000000000, %rbx; mov (%rbx), %rax'],
  ['a non-canonical stack: #SS(0)', '    movabs $0x0000800000000010, %rsp; push %rax'],
  // Found by the monitor fuzzer (src/vmm/fuzz): the real CPU's debug traps were re-run as instructions.
  ['single-step: popfq sets TF, #DB after the next instruction', '    push $0x102; popfq; nop; nop'],
  ['single-step over an emulated instruction (out): #DB after it', '    push $0x102; popfq; mov $0x80, %dx; out %al, %dx; nop'],
  ['icebp (int1): #DB with RIP after it', '    .byte 0xf1; nop'],
  ['CPL 3: iretq sets TF: #DB after the first user instruction', `${toUser('0x102')}\n    nop; nop`],
  // Also found by the fuzzer: the guest's hardware breakpoints never fired under the monitor.
  ['a data breakpoint (DR0 write, 4 bytes): #DB after the store', '    mov $0x9800, %eax; mov %rax, %dr0; mov $0xd0001, %eax; mov %rax, %dr7; movl $1, 0x9800; nop'],
  ['an instruction breakpoint (DR0 execute): #DB at the instruction', '    lea 9f(%rip), %rax; mov %rax, %dr0; mov $1, %eax; mov %rax, %dr7; nop\n9:  nop'],
  ['a data breakpoint on the stack slot an emulated pushfq writes', '    mov $0x7ff8, %eax; mov %rax, %dr0; mov $0x90001, %eax; mov %rax, %dr7; pushfq; nop'],
];

function bare(elf: Uint8Array) {
  const r = bootImage(elf, 'check', { memoryBytes: 4 * MiB, maxInstructions: 200_000 });
  const reason = r.shutdownStatus !== undefined ? 'shutdown' : r.reason;
  return { reason, status: r.shutdownStatus, clock: r.instructions, memory: r.machine.memory.bytes.subarray(0, 4 * MiB) };
}

function monitored(elf: Uint8Array, strict: boolean) {
  const r = runVm(elf, 'check', { memoryMiB: 4, maxInstructions: 200_000, strict });
  // Guest memory as the guest wrote it: where the loader planted an int3 (patcher.ts), its original byte.
  const memory = r.host.machine.memory.bytes.slice(0, 4 * MiB);
  for (const [at, original] of r.host.vm.patches) memory[at] = original[0];
  return { reason: r.reason, status: r.status, clock: r.guestInstructions, memory, message: r.message };
}

const record = (m: Uint8Array): string => Array.from(new BigUint64Array(m.slice(0x9000, 0x9060).buffer), (v) => v.toString(16)).join(' ');

for (const [name, snippet] of CHECKS) {
  test(`bare and monitor agree: ${name}`, () => {
    const elf = checkGuest(snippet);
    const b = bare(elf);
    assert.notEqual(b.reason, 'limit', 'the check guest must end by itself');
    for (const strict of [false, true]) {
      const v = monitored(elf, strict);
      assert.equal(v.reason, b.reason, `${strict ? 'strict' : 'patched'}: ${v.message}`);
      assert.equal(v.status, b.status);
      assert.equal(record(v.memory), record(b.memory), 'vector, error code, frame, CR2 as recorded by the handler');
      assert.equal(v.clock, b.clock, 'the same guest instruction');
      assert.equal(sha(v.memory), sha(b.memory));
    }
  });
}

test('the checks cover what they claim (the bare machine\'s vectors and error codes)', () => {
  const seen = new Map<string, string>();
  for (const [name, snippet] of CHECKS) {
    const b = bare(checkGuest(snippet));
    const m = new BigUint64Array(b.memory.slice(0x9000, 0x9010).buffer);
    seen.set(name, b.reason === 'shutdown' ? `${b.status} ${m[1].toString(16)}` : b.reason);
  }
  assert.equal(seen.get('iretq to a non-canonical RIP: #GP(0)'), '13 0');
  assert.equal(seen.get('iretq to a not-present CS: #NP(0x38)'), '11 38');
  assert.equal(seen.get('int n beyond the IDT limit: #GP(n*8+2)'), '13 102');
  assert.equal(seen.get('an exception through a non-canonical gate: #GP(EXT)'), '13 1');
  assert.equal(seen.get('iretq to a non-canonical RIP with a non-canonical #GP gate: #DF'), '8 0');
  assert.equal(seen.get('iretq to a non-canonical RIP, every gate non-canonical: triple fault'), 'triple-fault');
  assert.equal(seen.get('iretq to a non-canonical RIP with no IDT: triple fault'), 'triple-fault');
  assert.equal(seen.get('CPL 3: int n through a DPL 0 gate: #GP(n*8+2), on the TSS stack'), '13 f2');
  assert.equal(seen.get('CPL 3: in and cli are allowed at IOPL 3'), '171 0');
  assert.equal(seen.get('syscall with EFER.SCE = 0: #UD'), '6 dead');
  assert.equal(seen.get('single-step: popfq sets TF, #DB after the next instruction'), '1 dead');
  assert.equal(seen.get('icebp (int1): #DB with RIP after it'), '1 dead');
  for (const bp of ['a data breakpoint (DR0 write, 4 bytes): #DB after the store', 'an instruction breakpoint (DR0 execute): #DB at the instruction',
    'a data breakpoint on the stack slot an emulated pushfq writes']) assert.equal(seen.get(bp), '1 dead', bp);
});

test('under the xk kernel (the vm program) the same guests end the same way, each only as its own process', async () => {
  const cases: Array<[string, string]> = [
    ['iretq to a non-canonical RIP with no IDT: triple fault', 'triple'],
    ['iretq to a non-canonical RIP, every gate non-canonical: triple fault', 'triple'],
    ['iretq to a non-canonical RIP: #GP(0)', 'status 13'],
    ['an exception through a non-canonical gate: #GP(EXT)', 'status 13'],
    ['iretq to a not-present CS: #NP(0x38)', 'status 11'],
    ['syscall with EFER.SCE = 0: #UD', 'status 6'],
    ['CPL 3: in and cli are allowed at IOPL 3', 'status 171'],
    ['single-step: popfq sets TF, #DB after the next instruction', 'status 1'],
    ['icebp (int1): #DB with RIP after it', 'status 1'],
    ['a data breakpoint (DR0 write, 4 bytes): #DB after the store', 'status 1'],
    ['an instruction breakpoint (DR0 execute): #DB at the instruction', 'status 1'],
    ['a data breakpoint on the stack slot an emulated pushfq writes', 'status 1'],
  ];
  const programs = new Map(buildUserPrograms());
  let input = '';
  cases.forEach(([name], i) => {
    const snippet = CHECKS.find(([n]) => n === name)?.[1];
    assert.ok(snippet !== undefined, name);
    const elf = checkGuest(snippet);
    const b = bare(elf);
    assert.equal(b.reason === 'shutdown' ? `status ${b.status}` : 'triple', cases[i][1], `bare: ${name}`);
    programs.set(`g${i}.elf`, elf);
    input += `vm g${i}.elf\n`;
  });
  const run = await runProgram(programs.get('sh')!, ['sh'], {
    programs, input: input + 'echo host alive\n', inputEnds: true, trace: () => {}, memoryBytes: 64 * MiB,
  });
  assert.equal(run.status, 0, run.output);
  assert.doesNotMatch(run.output, /kernel panic/);
  assert.match(run.output, /host alive\n/);
  cases.forEach(([name, expected], i) => {
    if (expected === 'triple') {
      assert.match(run.output, new RegExp(`\\(g${i}\\.elf\\): vm stopped: triple fault`), name);
      assert.match(run.output, new RegExp(`vm: g${i}\\.elf powered off with status -1\n`), name);
    } else assert.match(run.output, new RegExp(`vm: g${i}\\.elf powered off with ${expected}\n`), name);
  });
});

test('the guest kernel\'s system-call workload: same serial output and the same guest instruction count as bare', () => {
  // 20,000 int $64 system calls: each retires once, on bare and under the monitor (an int whose
  // real delivery faulted must not count twice), and a slice that ends right after such a
  // trap was delivered to the monitor must not hand the monitor's address to the guest.
  const elf = buildGuest(['BENCH_SYSCALLS']).elf;
  let bareOut = '';
  const b = bootImage(elf, 'guest.elf', { serialOut: (x) => { bareOut += Buffer.from(x).toString('latin1'); } });
  assert.equal(b.shutdownStatus, 0);
  for (const strict of [true, false]) {
    let out = '';
    const v = runVm(elf, 'guest.elf', { strict, serialOut: (x) => { out += Buffer.from(x).toString('latin1'); } });
    assert.equal(v.reason, 'shutdown', v.message);
    assert.equal(out, bareOut);
    assert.equal(v.guestInstructions, b.instructions);
  }
});

// Found by the monitor fuzzer (seed 40084): an exception handler in unbacked memory (the fetch
// reads all ones: #UD) takes #UD after #UD, each delivered without an instruction retiring, so no
// instruction budget ends the run. The bare machine stops such an exception loop after 10,000
// deliveries in a row (src/machine/exceptionLoop.ts) and the monitor counts the guest's the same way.
test('an exception loop (#UD handler beyond memory) ends the run the same way on bare and under the monitor', () => {
  const gate6 = '    movw $0x00eb, 0x3000 + 6 * 16 + 6   # handler offset 0x00eb....: unbacked';
  // [name, snippet, how the bare machine ends]
  const loops: Array<[string, string, string]> = [
    ['on an IST stack (the same frame again and again)', `${gate6}\n    movb $1, 0x3000 + 6 * 16 + 4; movq $0x6800, 0x7024\n    ud2`, 'limit'],
    // Each frame is pushed below the last: they reach the IDT and overwrite gate 6, and the loop ends.
    ['on the kernel stack (frames descend through memory and the IDT)', `${gate6}\n    ud2`, 'triple-fault'],
    ['from CPL 3, through the TSS stack', `${gate6}\n    movb $1, 0x3000 + 6 * 16 + 4; movq $0x6800, 0x7024\n${toUser()}\n    ud2`, 'limit'],
  ];
  for (const [name, snippet, end] of loops) {
    const elf = checkGuest(snippet);
    const b = bootImage(elf, 'check', { memoryBytes: 4 * MiB, maxInstructions: 200_000 });
    assert.equal(b.reason, end, name);
    if (end === 'limit') assert.match(b.machine.stopMessage, /^exception loop: 10000 exceptions delivered in a row/, name);
    for (const strict of [false, true]) {
      const v = monitored(elf, strict);
      assert.equal(v.reason, end, `${name}, ${strict ? 'strict' : 'patched'}: ${v.message}`);
      if (end === 'limit') assert.match(v.message, /^exception loop/, name);
      assert.equal(v.clock, b.instructions, name);
      assert.equal(sha(v.memory), sha(b.machine.memory.bytes.subarray(0, 4 * MiB)), name);
    }
  }
});
