// The guest's virtual timer interrupt arrives at its deadline's instruction on
// every host: the bare machine, xk vm (host.ts stops each run there), and a VM
// process of the xk kernel (guestTimer.ts sets the kernel's timer for the
// guest's next event). A guest that counts in a loop that never traps prints,
// at each interrupt, how far it got and where it was interrupted: the same
// numbers on all three hosts, as is the guest's final clock and memory. The
// same for an interrupt held back by cli and taken right after sti's shadow,
// and for the whole guest kernel of guest/ (its processes interleave the same).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { bootImage } from '../src/cli/bootCommand.js';
import { runVm } from '../src/vmm/vmRunner.js';
import type { KernelVmEnd } from '../src/vmm/kernelProcess.js';
import { runVmUnderKernel } from './kernelHelpers.js';
import { buildGuest, buildTinyGuest } from './guestBuild.js';
import { GUEST_START, guestTables, PIC_TIMER_ONLY, setGate } from './guestPrologue.js';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

// At each tick the handler prints "t<rbx> <interrupted rip>" in hex. Four ticks interrupt a
// loop that never traps; the fifth is held back by cli across a deadline and comes right after
// the instruction in sti's shadow (rbx + 1); the sixth wakes a hlt.
const TIMER_GUEST = `${GUEST_START}${setGate(32, 'timer')}${PIC_TIMER_ONLY}
    mov $701, %eax; out %eax, $0x40
    mov $1, %al; out %al, $0x43
    xor %ebx, %ebx
    sti
1:  inc %rbx
    cmpl $4, ticks
    jb 1b
    cli
    mov $1500, %ecx
2:  dec %ecx
    jnz 2b
    sti
    inc %rbx
    inc %rbx
    inc %rbx
3:  hlt
    cmpl $6, ticks
    jb 3b
    cli
    mov $0x3f8, %dx
    mov $'.', %al; out %al, %dx
    mov $0, %al; out %al, $0xf4
    hlt
timer:
    push %rax
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    incl ticks
    mov $0x3f8, %dx
    mov $'t', %al; out %al, %dx
    mov %ebx, %esi
    call hex32
    mov $' ', %al; out %al, %dx
    mov 40(%rsp), %esi
    call hex32
    mov $'\\n', %al; out %al, %dx
    mov $0x20, %al; out %al, $0x20
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rax
    iretq
hex32:                              # %esi as 8 hex digits to the port in %dx
    lea digits(%rip), %rdi
    mov $8, %ecx
4:  rol $4, %esi
    mov %esi, %eax
    and $15, %eax
    mov (%rdi,%rax), %al
    out %al, %dx
    dec %ecx
    jnz 4b
    ret
${guestTables(`ticks:  .long 0
digits: .ascii "0123456789abcdef"`)}`;

interface HostRun { serial: string; clock: number; memory: string }

function onBare(elf: Uint8Array): HostRun {
  let serial = '';
  const r = bootImage(elf, 'guest.elf', { memoryBytes: 4 * MiB, maxInstructions: 50_000_000, serialOut: (b) => { serial += Buffer.from(b).toString('latin1'); } });
  assert.equal(r.shutdownStatus, 0, r.message);
  // The guest's clock counts idle time too (the instructions a hlt waited for the timer).
  return { serial, clock: r.instructions + r.machine.interrupts.idleTicks, memory: sha(r.machine.memory.bytes.subarray(0, 4 * MiB)) };
}

function onXkVm(elf: Uint8Array, strict: boolean): HostRun {
  let serial = '';
  const r = runVm(elf, 'guest.elf', { memoryMiB: 4, strict, serialOut: (b) => { serial += Buffer.from(b).toString('latin1'); } });
  assert.equal(r.reason, 'shutdown', r.message);
  const memory = r.host.machine.memory.bytes.slice(0, 4 * MiB);
  for (const [at, original] of r.host.vm.patches) if (memory[at] === 0xcc) memory[at] = original[0];
  return { serial, clock: r.guestInstructions, memory: sha(memory) };
}

/** The guest as a process of the xk kernel (its vm program). */
async function onKernel(elf: Uint8Array): Promise<HostRun> {
  let end: KernelVmEnd | undefined;
  const run = await runVmUnderKernel(new Map([['guest.elf', elf]]), 'guest.elf', { onStop: (e) => { end = e; } });
  assert.ok(end !== undefined && end.outcome.reason === 'shutdown', run.console);
  return { serial: run.serial, clock: end.clock, memory: sha(end.memory.subarray(0, 4 * MiB)) };
}

test('a timer guest: the same interrupt instruction counts, clock and memory on the bare machine, xk vm and the xk kernel', async () => {
  const elf = buildTinyGuest('timer', TIMER_GUEST);
  const bare = onBare(elf);
  const ticks = bare.serial.split('\n').filter((l) => l.startsWith('t'));
  assert.equal(ticks.length, 6, bare.serial);
  // The loop counted on between ticks; the held-back tick came right after sti's shadow
  // instruction (rbx: the 4th tick came before an inc, that inc, then the one in the shadow).
  const counts = ticks.map((l) => parseInt(l.slice(1, 9), 16));
  assert.ok(counts[0] > 100 && counts[1] > counts[0] && counts[3] > counts[2], bare.serial);
  assert.equal(counts[4], counts[3] + 2, bare.serial);
  assert.deepEqual(onXkVm(elf, true), bare, 'xk vm --strict');
  assert.deepEqual(onXkVm(elf, false), bare, 'xk vm');
  assert.deepEqual(await onKernel(elf), bare, 'under the xk kernel');
});

test('the guest kernel of guest/ under the xk kernel: exactly the bare machine\'s output, ticks and context switches included', async () => {
  const elf = buildGuest().elf;
  let serial = '';
  const r = bootImage(elf, 'guest.elf', { memoryBytes: 4 * MiB, maxInstructions: 50_000_000, serialOut: (b) => { serial += Buffer.from(b).toString('latin1'); } });
  assert.equal(r.shutdownStatus, 0);
  const kernel = await onKernel(elf);
  assert.equal(kernel.serial, serial);
  assert.equal(kernel.clock, r.instructions + r.machine.interrupts.idleTicks);
});
