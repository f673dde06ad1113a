// Debug registers and #DB under the monitor (xk vm): a guest kernel that uses
// DR0-DR7 itself (an instruction breakpoint with RF, a data watchpoint, TF
// single-step across instructions the monitor emulates, an I/O breakpoint, a
// watchpoint in a rep stos, int1, DR7.GD) gets the same #DBs at the same
// places with the same DR6 as on the bare machine. Its mov to/from %dbN traps
// to the monitor and runs on the guest's processor; its breakpoints fire on the
// real CPU and the monitor reflects the #DB through the guest's IDT.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bootImage, prepareBoot } from '../src/cli/bootCommand.js';
import { MachineTarget } from '../src/gdb/machineTarget.js';
import { VmTarget } from '../src/gdb/vmTarget.js';
import { prepareVm, runVm } from '../src/vmm/vmRunner.js';
import { loadVmState, saveVmState } from '../src/vmm/vmState.js';
import { C_PROTOTYPES, runInitToEnd } from './kernelHelpers.js';
import { GUEST_START, guestTables, setGate } from './guestPrologue.js';
import { MONITOR_LINEAR } from '../src/vmm/host.js';
import { assembleKernelText } from '../src/kernel/trap/kernelText.js';
import { KERNEL_TEXT_PHYS, p2v } from '../src/kernel/mem/kernelLayout.js';

const MiB = 1024 * 1024;

const GUEST = `${GUEST_START}${setGate(1, 'db')}    # 1. DR0: instruction breakpoint on b1; DR1: write watch, 4 bytes at var.
    lea b1(%rip), %rax
    mov %rax, %db0
    lea var(%rip), %rax
    mov %rax, %db1
    mov $(1 | 4 | (1 << 20) | (3 << 22)), %eax
    mov %rax, %db7
b0: nop
b1: movl $5, var(%rip)
b2: nop
    # 2. TF across a nop, out and in (emulated), pushf and popf (patched or strict).
    xor %eax, %eax
    mov %rax, %db7
    pushfq
    orq $0x100, (%rsp)
    popfq
t1: nop
t2: out %al, $0x80
t3: mov $0x3fd, %dx
t4: in %dx, %al
t5: pushfq
t6: andq $-257, (%rsp)
t7: popfq
t8: nop
    # 3. An I/O breakpoint (CR4.DE): DR2 = port 0x80.
    mov %cr4, %rax
    or $8, %rax
    mov %rax, %cr4
    mov $0x80, %eax
    mov %rax, %db2
    mov $(0x10 | (2 << 24)), %eax
    mov %rax, %db7
i1: out %al, $0x80
i2: nop
    # 4. DR3: a write watch on buf+2 in a rep stosb.
    lea 2+buf(%rip), %rax
    mov %rax, %db3
    mov $(0x40 | (1 << 28)), %eax
    mov %rax, %db7
    lea buf(%rip), %rdi
    mov $4, %ecx
    xor %eax, %eax
r1: rep stosb
r2: xor %eax, %eax
    mov %rax, %db7
    # 5. int1, then DR7.GD: the next mov from a debug register is a #DB fault.
n1: int1
n2: mov $0x2400, %eax
    mov %rax, %db7
g1: mov %db0, %rax
    # 6. mov to SS (at real CPL 3 the guest kernel's SS traps: the monitor runs it) with TF: one #DB,
    #    after the next instruction. A read watch on its source, then int: the #DB at the handler's
    #    first instruction. A write watch on the slot int pushes RIP into: the same.
${setGate(0x41, 'h41')}    mov $0x10, %ecx
    pushfq
    orq $0x100, (%rsp)
    popfq
m1: mov %ecx, %ss
m2: nop
m3: pushfq
m4: andq $-257, (%rsp)
m5: popfq
m6: lea ssv(%rip), %rax
    mov %rax, %db0
    mov $(1 | (3 << 16) | (1 << 18)), %eax
    mov %rax, %db7
m7: mov ssv(%rip), %ss
m8: int $0x41
    mov %rsp, %rax
    and $-16, %rax
    sub $40, %rax
    mov %rax, %db1
    mov $(4 | (1 << 20) | (2 << 22)), %eax
    mov %rax, %db7
m9: int $0x41
    xor %eax, %eax
    mov %rax, %db7
    # Print the log in hex on the serial port (so that every host can be compared), then power off.
    mov $log, %esi
    mov log, %rcx
    imul $24, %rcx
    add $8, %rcx
    mov $0x3f8, %dx
3:  movzbl (%rsi), %eax
    mov %eax, %ebx
    shr $4, %eax
    movzbl hex(,%rax,1), %eax
    out %al, %dx
    and $15, %ebx
    movzbl hex(,%rbx,1), %eax
    out %al, %dx
    inc %rsi
    dec %rcx
    jnz 3b
    mov $'\n', %al
    out %al, %dx
    mov $0, %al
    out %al, $0xf4
    hlt

# Log (saved RIP, DR6 & 0xe00f, RCX) per #DB; clear DR6; set RF after an instruction breakpoint.
db: push %rax
    push %rbx
    mov log, %rbx
    imul $24, %rbx
    mov 16(%rsp), %rax
    mov %rax, log+8(%rbx)
    mov %db6, %rax
    and $0xe00f, %eax
    mov %rax, log+16(%rbx)
    mov %rcx, log+24(%rbx)
    incq log
    test $1, %al
    jz 1f
    orq $0x10000, 32(%rsp)
1:  xor %eax, %eax
    mov %rax, %db6
    pop %rbx
    pop %rax
    iretq
h41: iretq

${guestTables(`var:    .long 0
ssv:    .short 0x10
buf:    .quad 0
hex:    .ascii "0123456789abcdef"
    .balign 16
log:    .fill 1024, 1, 0`)}`;

function build(source = GUEST): { elf: Uint8Array; sym: (name: string) => number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-debugvm-'));
  const s = path.join(dir, 'k.s'), o = path.join(dir, 'k.o'), e = path.join(dir, 'k.elf');
  fs.writeFileSync(s, source);
  execFileSync('as', ['--64', s, '-o', o], { stdio: 'pipe' });
  execFileSync('ld', ['-nostdlib', '-static', '-z', 'max-page-size=4096', '-Ttext=0x100000', '-e', '_start', o, '-o', e], { stdio: 'pipe' });
  const symbols = new Map<string, number>();
  for (const line of execFileSync('nm', [e], { encoding: 'utf8' }).split('\n')) {
    const [addr, , name] = line.trim().split(/\s+/);
    if (name !== undefined) symbols.set(name, parseInt(addr, 16));
  }
  const elf = new Uint8Array(fs.readFileSync(e));
  fs.rmSync(dir, { recursive: true, force: true });
  return { elf, sym: (n) => { const v = symbols.get(n); if (v === undefined) throw new Error(`no symbol ${n}`); return v; } };
}

type Entry = [number, number, number];
function readLog(bytes: Uint8Array, at: number): Entry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const q = (a: number) => Number(view.getBigUint64(a, true));
  const out: Entry[] = [];
  for (let i = 0, n = q(at); i < n && i < 40; i++) out.push([q(at + 8 + 24 * i), q(at + 16 + 24 * i), q(at + 24 + 24 * i)]);
  return out;
}

test('a guest kernel\'s own debug registers and #DB: the same #DBs under xk vm (strict and patched) as on the bare machine', () => {
  const { elf, sym } = build();
  let serial = '';
  const bare = bootImage(elf, 'dbg', { memoryBytes: 4 * MiB, maxInstructions: 100_000, serialOut: (b) => { serial += Buffer.from(b).toString('latin1'); } });
  assert.equal(bare.shutdownStatus, 0, bare.message);
  const log = readLog(bare.machine.memory.bytes, sym('log'));
  const BS = 0x4000;
  // What the bare machine does, by the SDM (debugExceptions.test.ts checks each rule on its own).
  assert.deepEqual(log.map(([rip, dr6]) => [rip, dr6]), [
    [sym('b1'), 1], [sym('b2'), 2],
    [sym('t2'), BS], [sym('t3'), BS], [sym('t4'), BS], [sym('t5'), BS], [sym('t6'), BS], [sym('t7'), BS], [sym('t8'), BS],
    [sym('i2'), 4],
    [sym('r1'), 8],
    [sym('n2'), 0],
    [sym('g1'), 0x2000],
    [sym('m3'), BS], [sym('m4'), BS], [sym('m5'), BS], [sym('m6'), BS],
    [sym('h41'), 1], [sym('h41'), 2],
  ]);
  assert.equal(log[10][2], 1, 'the rep stosb stopped after its third iteration');
  for (const strict of [true, false]) {
    const v = runVm(elf, 'dbg', { memoryMiB: 4, strict, maxInstructions: 100_000 });
    assert.equal(v.reason, 'shutdown', v.message);
    assert.deepEqual(readLog(v.host.machine.memory.bytes, sym('log')), log, strict ? 'strict' : 'patched');
    // From the real CPU: the breakpoints at b1 and b2, the steps after the nop, mov and the two andq, the rep stosb's watch, int1.
    // The others (after out, in, pushf, popf, the I/O breakpoint, DR7.GD, mov to SS and the nop after it,
    // the two int $0x41) the guest's processor raised while emulating.
    assert.equal(v.exitKinds.get('debug'), 8);
  }
  assert.equal(serial.length, 2 * (8 + 24 * log.length) + 1, 'the guest printed its log');
  bareSerial = serial;
  guestElf = elf;
  // Saved with a data watchpoint armed (in the rep stosb section) and resumed: the same log.
  const host = prepareVm(elf, 'dbg', { memoryMiB: 4 });
  while (host.guestClock() < 100_000 && (host.vcpu.dr7 & 0x40) === 0) host.run(1);
  assert.notEqual(host.vcpu.dr7 & 0x40, 0, 'reached the rep stosb section');
  let out = '';
  const resumed = loadVmState(saveVmState(host), (b) => { out += Buffer.from(b).toString('latin1'); });
  const r = resumed.run(100_000);
  assert.equal(r.reason, 'shutdown', r.message);
  assert.equal(out, serial, 'resumed from a saved state');
});

let bareSerial = '', guestElf: Uint8Array | undefined;

test('the same guest as a process of the xk kernel (vmrun): the same #DBs; the kernel takes the guest\'s breakpoints off the CPU when it leaves', async () => {
  assert.ok(guestElf !== undefined && bareSerial !== '');
  const init = C_PROTOTYPES + `
int vmrun(const char *path);
int main(void) { int v = vmrun("dbg.elf"); int s; if (v < 0) return 9; waitstatus(&s); puts("vm done\\n"); return s; }
`;
  await runInitToEnd(init, new Map([['dbg.elf', guestElf]]), 50_000_000, (output, session) => {
    assert.ok(output.includes(bareSerial + 'vm done\n'), output);
    assert.equal(session.kernel.cpu.debugRegisters.dr7 & 0xff, 0, 'no guest breakpoint left on the CPU');
  });
});

test('gdb\'s stepi under xk vm is one guest instruction, as on the bare machine: the monitor\'s exits (emulated instructions, shadow fills, reflected #DBs) never show', () => {
  const { elf } = build();
  const { machine, shutdown } = prepareBoot(elf, 'dbg', { memoryBytes: 4 * MiB });
  const bare = new MachineTarget(machine, {
    ended: (reason, m) => (shutdown.status !== undefined ? { kind: 'exited', status: shutdown.status } : { kind: 'ended', message: m.stopMessage || reason }),
  }); // as xk boot --gdb's
  const vm = new VmTarget(prepareVm(elf, 'dbg', { memoryMiB: 4 }));
  const state = (t: MachineTarget): string => [...Array(18).keys()].map((n) => Buffer.from(t.readRegister(n)).toString('hex')).join(' ');
  let steps = 0;
  for (; steps < 10_000; steps++) {
    assert.equal(state(vm), state(bare), `after ${steps} steps`);
    const b = bare.step(), v = vm.step();
    assert.deepEqual(v, b, `step ${steps + 1}`);
    if (b === null || b.kind !== 'signal') break;
  }
  assert.ok(steps > 300 && steps < 10_000, `${steps} steps to the guest's power-off`);
});

/** A guest that points DR0 at `address` (DR7 `dr7`), then traps to the monitor (out) and powers off; it has no IDT, so a #DB would triple-fault it. */
const hostBreakpointGuest = (address: bigint, dr7: number): string => `
    .text
    .globl _start
_start:
    mov $0x8000, %rsp
    movabs $0x${address.toString(16)}, %rax
    mov %rax, %db0
    mov $${dr7}, %eax
    mov %rax, %db7
    out %al, $0x80
    nop
    xor %eax, %eax
    mov %rax, %db7
    mov $0, %al
    out %al, $0xf4
    hlt
`;

test('a guest\'s breakpoint on the host\'s own addresses stays off the real CPU: on the monitor\'s stack (xk vm), on the kernel\'s alltraps (a VM process); the guest runs to its end', async () => {
  // A write watch on the monitor's stack, where the CPU pushes the frame of the out's #GP.
  const stack = BigInt.asUintN(64, BigInt(MONITOR_LINEAR + 0x5000 - 8));
  const v = runVm(build(hostBreakpointGuest(stack, 1 | (1 << 16) | (2 << 18))).elf, 'hostbp', { memoryMiB: 4, maxInstructions: 10_000 });
  assert.equal(v.reason, 'shutdown', v.message);
  // An instruction breakpoint on the kernel's alltraps, which every trap from the guest runs through.
  const text = await assembleKernelText();
  const alltraps = BigInt.asUintN(64, BigInt(p2v(KERNEL_TEXT_PHYS) + text.symbols.get('alltraps')!));
  const init = C_PROTOTYPES + `
int vmrun(const char *path);
int main(void) { int v = vmrun("hostbp.elf"); int s; if (v < 0) return 9; waitstatus(&s); puts("vm done\\n"); return s; }
`;
  await runInitToEnd(init, new Map([['hostbp.elf', build(hostBreakpointGuest(alltraps, 1)).elf]]), 20_000_000, (output) => {
    assert.ok(output.includes('vm done\n'), output);
  });
});
