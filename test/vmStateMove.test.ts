// Moving a VM between hosts (issue 11 item 5, the slide's "transparent hardware
// upgrade"): a portable state (src/vmm/vmState.ts) saved by xk vm resumes under
// the xk kernel's vm program, and one saved under the xk kernel resumes under
// xk vm. The resumed guest's output, after what it printed before the save,
// equals an uninterrupted run's, byte for byte: the guest kernel of guest/ with
// its timer too (its interrupts come at their instruction on both hosts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildGuest, buildTinyGuest, REPO_ROOT } from './guestBuild.js';
import { prepareVm, runVm } from '../src/vmm/vmRunner.js';
import { loadVmState, savePortableState, saveVmState, VmStateError } from '../src/vmm/vmState.js';
import { virtualClock } from '../src/vmm/monitor.js';
import { runVmUnderKernel } from './kernelHelpers.js';
import { GUEST_START, guestTables, setGate } from './guestPrologue.js';

const XK = path.join(REPO_ROOT, 'bin', 'xk.js');

function uninterrupted(elf: Uint8Array): { serial: string; memory: Buffer } {
  let serial = '';
  const r = runVm(elf, 'guest.elf', { serialOut: (b) => { serial += Buffer.from(b).toString('latin1'); } });
  assert.equal(r.reason, 'shutdown', r.message);
  return { serial, memory: Buffer.from(r.host.machine.memory.bytes.subarray(0, r.host.guestBytes)) };
}

test('a portable state resumes under xk vm byte for byte, for many N', () => {
  const elf = buildGuest().elf;
  const ref = uninterrupted(elf);
  for (const n of [1, 10_559, 10_560, 10_611, 77_777, 136_000]) {
    let before = '', after = '';
    const host = prepareVm(elf, 'guest.elf', { serialOut: (b) => { before += Buffer.from(b).toString('latin1'); } });
    assert.equal(host.run(n).reason, 'limit');
    const state = savePortableState(host.portableParts());
    const resumed = loadVmState(state, (b) => { after += Buffer.from(b).toString('latin1'); });
    assert.equal(resumed.guestClock(), n);
    const r = resumed.run(50_000_000);
    assert.equal(r.reason, 'shutdown', r.message);
    assert.equal(before + after, ref.serial, `N = ${n}`);
    assert.ok(Buffer.from(resumed.machine.memory.bytes.subarray(0, resumed.guestBytes)).equals(ref.memory), `memory, N = ${n}`);
  }
});

test('saved by xk vm, resumed by the xk kernel\'s vm program: the same guest output', async () => {
  const elf = buildGuest().elf;
  const ref = uninterrupted(elf);
  for (const n of [40_000]) {
    let before = '';
    const host = prepareVm(elf, 'guest.elf', { serialOut: (b) => { before += Buffer.from(b).toString('latin1'); } });
    assert.equal(host.run(n).reason, 'limit');
    const state = savePortableState(host.portableParts());
    const run = await runVmUnderKernel(new Map([['vm.state', state]]), 'vm.state', {});
    assert.match(run.console, /vm: vm\.state powered off with status 0\n$/);
    assert.ok((before + run.serial).endsWith('[guest] shutdown\n'), run.serial);
    assert.equal(before + run.serial, ref.serial, `N = ${n}`);
  }
  // xk vm's whole-host state is not portable: the kernel refuses it, and nothing breaks.
  const host = prepareVm(elf, 'guest.elf', {});
  host.run(1000);
  const run = await runVmUnderKernel(new Map([['full.state', saveVmState(host)]]), 'full.state', {});
  assert.match(run.console, /vm: cannot boot full\.state/);
  // A damaged portable state is refused with a reason, by either host.
  const good = savePortableState(host.portableParts());
  assert.throws(() => loadVmState(good.subarray(0, good.length - 9)), (e: Error) => e instanceof VmStateError && /truncated/.test(e.message));
  const flipped = Uint8Array.from(good); flipped[good.length - 20] ^= 0x10;
  assert.throws(() => loadVmState(flipped), (e: Error) => e instanceof VmStateError && /CRC-32/.test(e.message));
  const bad = await runVmUnderKernel(new Map([['bad.state', flipped]]), 'bad.state', {});
  assert.match(bad.console, /vm: cannot boot bad\.state/);
});

test('saved under the xk kernel, resumed by xk vm (and by the kernel again): the same guest output', async () => {
  const elf = buildGuest().elf;
  const ref = uninterrupted(elf);
  for (const n of [100_000]) {
    let state: Uint8Array | undefined;
    const first = await runVmUnderKernel(new Map([['guest.elf', elf]]), 'guest.elf', { saveAt: { instructions: n, write: (b) => { state = b; } } });
    assert.ok(state, first.console);
    assert.match(first.console, /vm saved after \d+ guest instructions/);
    assert.match(first.console, /vm: guest\.elf powered off with status 0\n$/);
    let after = '';
    const host = loadVmState(state, (b) => { after += Buffer.from(b).toString('latin1'); });
    assert.ok(host.guestClock() >= n);
    const r = host.run(50_000_000);
    assert.equal(r.reason, 'shutdown', r.message);
    assert.equal(first.serial + after, ref.serial, `N = ${n}`);
    const again = await runVmUnderKernel(new Map([['vm.state', state]]), 'vm.state', {});
    assert.equal(first.serial + again.serial, ref.serial, `kernel -> kernel, N = ${n}`);
  }
});

test('saved under the xk kernel at many N, inside the guest\'s timer handler too: each save ends, at exactly N, and resumes to the uninterrupted output', async () => {
  const elf = buildGuest().elf;
  // The guest kernel's timer interrupts (vector 32), from an uninterrupted xk vm run.
  const deliveries: number[] = [];
  let ref = '';
  const host = prepareVm(elf, 'guest.elf', {
    serialOut: (b) => { ref += Buffer.from(b).toString('latin1'); },
    beforeRun: (h) => { h.vm.onEvent = (e, vm) => { if (e.kind === 'deliver' && e.vector === 32) deliveries.push(virtualClock(vm)); }; },
  });
  assert.equal(host.run(50_000_000).reason, 'shutdown');
  const total = host.guestClock();
  assert.ok(deliveries.length >= 6, `timer interrupts at ${deliveries}`);
  const [tick] = deliveries;
  // At the interrupt, in its handler, a few instructions before a later one; 70000 once kept the
  // kernel's monitor firing its own clock interrupt on the kernel's way in, for ever.
  for (const n of [1, tick - 1, tick, tick + 1, tick + 3, tick + 10, deliveries[5] - 2, 69_986, 70_000, total - 1]) {
    let state: Uint8Array | undefined;
    const first = await runVmUnderKernel(new Map([['guest.elf', elf]]), 'guest.elf', { saveAt: { instructions: n, write: (b) => { state = b; } } }, 30_000_000);
    assert.ok(state, `N = ${n}: ${first.console}`);
    assert.match(first.console, new RegExp(`vm saved after ${n} guest instructions`), `N = ${n}`);
    let after = '';
    const resumed = loadVmState(state, (b) => { after += Buffer.from(b).toString('latin1'); });
    assert.equal(resumed.run(50_000_000).reason, 'shutdown', `N = ${n}`);
    assert.equal(first.serial + after, ref, `N = ${n}`);
  }
});

test('the CLI: xk vm --save-at N STATE --portable, then vm STATE in xk; its stdout continues the guest\'s', () => {
  const build = buildGuest();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-vmmove-'));
  try {
    const full = { stdout: uninterrupted(build.elf).serial };
    fs.mkdirSync(path.join(dir, 'fs'));
    const state = path.join(dir, 'fs', 'vm.state');
    const a = spawnSync(process.execPath, [XK, 'vm', build.elfPath, '--save-at', '60000', state, '--portable'], { encoding: 'latin1' });
    assert.equal(a.status, 0, a.stderr);
    assert.match(a.stderr, /saved the VM after 60000 guest instructions/);
    const b = spawnSync(process.execPath, [XK, 'run', '--fs', path.join(dir, 'fs'), path.join(REPO_ROOT, 'user', 'programs', 'vm.c'), 'vm.state'], { encoding: 'latin1' });
    assert.equal(b.status, 0, b.stderr);
    const tail = 'vm: vm.state powered off with status 0\n';
    assert.ok(b.stdout.endsWith(tail), b.stdout);
    assert.equal(a.stdout + b.stdout.slice(0, -tail.length), full.stdout);
    // The other way: xk run --vm-save-at N:STATE saves the VM the kernel runs; xk vm --resume continues it.
    fs.copyFileSync(build.elfPath, path.join(dir, 'fs', 'guest.elf'));
    const kstate = path.join(dir, 'k.state');
    const d = spawnSync(process.execPath, [XK, 'run', '--vm-save-at', `70000:${kstate}`, '--fs', path.join(dir, 'fs'), path.join(REPO_ROOT, 'user', 'programs', 'vm.c'), 'guest.elf'], { encoding: 'latin1' });
    assert.equal(d.status, 0, d.stderr);
    const saved = /pid \d+ \(guest\.elf\): vm saved after (\d+) guest instructions\n/.exec(d.stdout);
    assert.ok(saved && Number(saved[1]) >= 70000, d.stdout);
    const ktail = 'vm: guest.elf powered off with status 0\n';
    assert.ok(d.stdout.endsWith(ktail), d.stdout);
    const e = spawnSync(process.execPath, [XK, 'vm', '--resume', kstate], { encoding: 'latin1' });
    assert.equal(e.status, 0, e.stderr);
    assert.match(e.stderr, new RegExp(`resuming .* at guest instruction ${saved[1]}`));
    assert.equal(d.stdout.slice(0, -ktail.length).replace(saved[0], '') + e.stdout, full.stdout);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// A guest with armed hardware breakpoints (its DR0-DR7, vcpu.ts) and patched instructions:
// DR0 an instruction breakpoint, DR1 a write watch on var, 40 times round a loop with a pushfq/popfq
// pair (patched into int3s). Its #DB handler prints 'b' + DR6's B0-B3 bits and sets RF after an
// instruction breakpoint; at the end it prints var's low byte as a letter. No timer: the output is
// exact on every host.
const DEBUG_GUEST = `${GUEST_START}${setGate(1, 'db')}        lea target(%rip), %rax
        mov %rax, %db0
        lea var(%rip), %rax
        mov %rax, %db1
        mov $(1 | 4 | (1 << 20) | (3 << 22)), %eax
        mov %rax, %db7
        mov $40, %ecx
2:      pushfq
        popfq
target: incl var(%rip)
        dec %ecx
        jnz 2b
        mov $0x3f8, %dx
        movzbl var(%rip), %eax
        add $'A', %al
        out %al, (%dx)
        mov $'\\n', %al
        out %al, (%dx)
        mov $0, %al
        out %al, $0xf4
        hlt
db:     push %rax
        push %rdx
        mov %db6, %rax
        and $15, %eax
        mov %eax, %edx
        add $'b', %al
        push %rdx
        mov $0x3f8, %dx
        out %al, (%dx)
        pop %rdx
        test $1, %dl
        jz 3f
        orq $0x10000, 32(%rsp)
3:      xor %eax, %eax
        mov %rax, %db6
        pop %rdx
        pop %rax
        iretq
${guestTables('var:    .long 0')}`;

/** A portable state's guest-visible parts, with what differs between hosts masked (the real segments the guest runs on, the trap that last left). */
function guestView(state: Uint8Array): { clock: number; vcpu: string; devices: string; regs: string; memory: Buffer } {
  const host = loadVmState(state);
  const p = host.portableParts();
  const regs = { ...p.regs, cs: 0n, ss: 0n, trapno: 0n, err: 0n };
  const json = (x: unknown): string => JSON.stringify(x, (_, v) => typeof v === 'bigint' ? v.toString(16) : typeof v === 'function' ? undefined : v);
  return { clock: p.clock, vcpu: json(p.vcpu), devices: json({ pic: p.devices.pic, timer: p.devices.timer }), regs: json(regs), memory: Buffer.from(p.memory) };
}

test('armed breakpoints move with the VM: saved at any N by xk vm and by the xk kernel, the same state, resumed by either', async () => {
  const elf = buildTinyGuest('dbgmove', DEBUG_GUEST);
  const ref = uninterrupted(elf);
  // Each round: the instruction breakpoint (B0: 'c') before the incl, the write watch (B1: 'd') after it.
  assert.equal(ref.serial, 'cd'.repeat(40) + 'i\n');
  const total = prepareVm(elf, 'dbg', {}).run(1_000_000).guestInstructions;
  // xk vm -> xk vm, every 13th N: with the breakpoints not yet armed, armed, in the #DB handler, after.
  for (let n = 1; n < total; n += 13) {
    let before = '', after = '';
    const host = prepareVm(elf, 'dbg', { memoryMiB: 4, serialOut: (b) => { before += Buffer.from(b).toString('latin1'); } });
    assert.equal(host.run(n).reason, 'limit');
    const resumed = loadVmState(savePortableState(host.portableParts()), (b) => { after += Buffer.from(b).toString('latin1'); });
    assert.equal(resumed.run(1_000_000).reason, 'shutdown', `N = ${n}`);
    assert.equal(before + after, ref.serial, `N = ${n}`);
  }
  // Between the hosts, at N with DR7 armed: the kernel stops the guest at exactly N too, in the same state.
  for (const n of [150, Math.floor(total / 2) + 1]) {
    const host = prepareVm(elf, 'dbg', {});
    host.run(n);
    assert.notEqual(host.vcpu.dr7 & 0xff, 0, `N = ${n}: breakpoints armed`);
    const byVm = savePortableState(host.portableParts());
    let byKernel: Uint8Array | undefined;
    const first = await runVmUnderKernel(new Map([['dbg.elf', elf]]), 'dbg.elf', { saveAt: { instructions: n, write: (b) => { byKernel = b; } } });
    assert.ok(byKernel, first.console);
    assert.match(first.console, new RegExp(`vm saved after ${n} guest instructions`));
    const a = guestView(byVm), b = guestView(byKernel);
    assert.equal(b.clock, a.clock);
    assert.equal(b.vcpu, a.vcpu);
    assert.equal(b.devices, a.devices);
    assert.equal(b.regs, a.regs);
    assert.ok(b.memory.equals(a.memory), `N = ${n}: guest memory`);
    // Resumed by the other host: the rest of the output, exactly.
    const onKernel = await runVmUnderKernel(new Map([['vm.state', byVm]]), 'vm.state', {});
    assert.equal(ref.serial.slice(0, ref.serial.length - onKernel.serial.length) + onKernel.serial, ref.serial, `xk vm -> kernel, N = ${n}`);
    let after = '';
    assert.equal(loadVmState(byKernel, (x) => { after += Buffer.from(x).toString('latin1'); }).run(1_000_000).reason, 'shutdown');
    assert.equal(first.serial + after, ref.serial, `kernel -> xk vm, N = ${n}`);
  }
});
