// A VM saved in the middle of an exception loop (src/machine/exceptionLoop.ts)
// and resumed stops at the same delivery as the run that was never
// interrupted: the deliveries in a row so far are part of the saved state
// (vmState.ts: the whole host's watch, and the portable `loopDeliveries`).
// The guest's #UD handler lies beyond its memory (the fetch reads all ones:
// #UD again), so every delivery pushes one more frame below the last on its
// stack: the final memory shows how many deliveries there were.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildTinyGuest, REPO_ROOT } from './guestBuild.js';
import { GUEST_START, guestTables, setGate } from './guestPrologue.js';
import { prepareVm } from '../src/vmm/vmRunner.js';
import { loadVmState, savePortableState, saveVmState } from '../src/vmm/vmState.js';
import type { VmHost } from '../src/vmm/host.js';
import { bootImage } from '../src/cli/bootCommand.js';
import type { KernelVmEnd } from '../src/vmm/kernelProcess.js';
import { runVmUnderKernel } from './kernelHelpers.js';

const LIMIT = 50_000_000;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const LOOP_GUEST = `${GUEST_START}${setGate(6, 'ud')}
    movw $0x0300, idt+6*16+6        # the #UD handler's offset: 0x0300.... (beyond 16 MiB)
    mov $0x3f0000, %rsp
    mov $0x3f8, %dx
    mov $'u', %al; out %al, %dx
    ud2
ud: hlt
${guestTables()}`;

interface End { reason: string; message: string; clock: number; deliveries: number; memory: string }

const end = (host: VmHost, r: { reason: string; message: string; guestInstructions: number }): End => ({
  reason: r.reason, message: r.message, clock: r.guestInstructions,
  deliveries: host.vm.exits.get('reflected-6') ?? 0, memory: sha(host.machine.memory.bytes.subarray(0, host.guestBytes)),
});

test('saved inside an exception loop at many N, resumed: it stops at the same delivery as the uninterrupted run', () => {
  const elf = buildTinyGuest('loop', LOOP_GUEST);
  const whole = prepareVm(elf, 'loop.elf', { memoryMiB: 4 });
  const ref = end(whole, whole.run(LIMIT));
  assert.equal(ref.reason, 'limit');
  assert.match(ref.message, /^exception loop: 10000 exceptions delivered in a row/);
  // The loop starts after the prologue: its guest clock does not move while it runs.
  const start = ref.clock;
  assert.ok(start > 10 && start < 100, `clock ${start}`);
  // Saves before the loop, at its first delivery, inside it, just before its end, and after it ended.
  for (const n of [start - 1, start + 1, start + 2_500, start + 9_999, start + 30_000]) {
    for (const portable of [false, true]) {
      const host = prepareVm(elf, 'loop.elf', { memoryMiB: 4 });
      const first = host.run(n);
      assert.equal(first.reason, 'limit', `N = ${n}`);
      const state = portable ? savePortableState(host.portableParts()) : saveVmState(host);
      const resumed = loadVmState(state);
      const r = resumed.run(LIMIT - resumed.guestClock());
      const label = `N = ${n}, ${portable ? 'portable' : 'whole host'}`;
      assert.equal(r.reason, 'limit', label);
      assert.equal(r.message, ref.message, label);
      assert.equal(r.guestInstructions, ref.clock, label);
      assert.equal(sha(resumed.machine.memory.bytes.subarray(0, resumed.guestBytes)), ref.memory, `${label}: the same frames, so the same number of deliveries`);
      if (!portable) assert.equal(end(resumed, r).deliveries, ref.deliveries, label); // the exit counts travel with the whole host
    }
  }
});

test('xk vm --save-at N inside the exception loop, then --resume: the same stop and the same deliveries as one run', () => {
  const elf = buildTinyGuest('loop', LOOP_GUEST);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-vmloop-'));
  try {
    const image = path.join(dir, 'loop.elf'), state = path.join(dir, 'loop.state');
    fs.writeFileSync(image, elf);
    const xk = (...args: string[]) => spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'xk.js'), 'vm', ...args], { encoding: 'latin1' });
    const deliveries = (stderr: string): string => stderr.match(/^ {2}reflected-6 +\d+$/m)?.[0] ?? stderr;
    const full = xk(image, '--memory', '4', '--stats');
    assert.equal(full.status, 1);
    assert.match(full.stderr, /the VM was stopped \(limit\): exception loop: 10000 exceptions/);
    const saved = xk(image, '--memory', '4', '--save-at', '5000', state);
    assert.equal(saved.status, 0, saved.stderr);
    assert.match(saved.stderr, /saved the VM after \d+ guest instructions/);
    const resumed = xk('--resume', state, '--stats');
    assert.equal(resumed.status, 1, resumed.stderr);
    assert.equal(saved.stdout + resumed.stdout, full.stdout);
    // The exit counts are part of the whole host's state: the resumed run's are the whole run's.
    assert.equal(deliveries(resumed.stderr), deliveries(full.stderr));
    assert.equal(resumed.stderr.split('\n').at(-2), full.stderr.split('\n').at(-2));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('under the xk kernel the exception loop ends that VM as on the bare machine and under xk vm; a save inside it carries its deliveries', async () => {
  const elf = buildTinyGuest('loop', LOOP_GUEST);
  const MiB = 1024 * 1024;
  const bare = bootImage(elf, 'loop.elf', { memoryBytes: 16 * MiB, maxInstructions: LIMIT });
  assert.equal(bare.reason, 'limit');
  assert.match(bare.message, /^exception loop: 10000 exceptions delivered in a row/);
  const bareMemory = sha(bare.machine.memory.bytes.subarray(0, 16 * MiB));
  const vm = prepareVm(elf, 'loop.elf', { memoryMiB: 16 });
  const ref = end(vm, vm.run(LIMIT));
  assert.deepEqual([ref.reason, ref.message, ref.clock, ref.memory], [bare.reason, bare.message, bare.instructions, bareMemory]);
  let stop: KernelVmEnd | undefined;
  const run = await runVmUnderKernel(new Map([['loop.elf', elf]]), 'loop.elf', { onStop: (e) => { stop = e; } }, 30_000_000);
  assert.ok(stop, run.console);
  assert.equal(stop.outcome.reason, 'limit');
  assert.equal(stop.outcome.message, bare.message);
  assert.equal(stop.clock, bare.instructions);
  assert.equal(sha(stop.memory), bareMemory, 'the same frames: the same number of deliveries');
  assert.equal(stop.exits.get('reflected-6'), ref.deliveries);
  assert.match(run.console, /pid \d+ \(loop\.elf\): vm stopped: exception loop: 10000 exceptions delivered in a row/);
  assert.equal(run.serial, 'u');
  // Saved by the kernel where the loop runs (the first trap at its clock: the loop's first
  // deliveries count already), resumed by xk vm: it stops at the same delivery.
  let state: Uint8Array | undefined;
  const saving = await runVmUnderKernel(new Map([['loop.elf', elf]]), 'loop.elf', { saveAt: { instructions: ref.clock, write: (b) => { state = b; } } }, 30_000_000);
  assert.ok(state, saving.console);
  const resumed = loadVmState(state);
  const r = resumed.run(LIMIT);
  assert.equal(r.reason, 'limit');
  assert.equal(r.message, bare.message);
  assert.equal(sha(resumed.machine.memory.bytes.subarray(0, resumed.guestBytes)), bareMemory);
  // Saved by xk vm after the loop ran its course, resumed by the kernel: it ends at once, the same stop, no further delivery.
  const ended = prepareVm(elf, 'loop.elf', { memoryMiB: 16 });
  assert.equal(ended.run(LIMIT).reason, 'limit');
  let again: KernelVmEnd | undefined;
  const late = await runVmUnderKernel(new Map([['loop.state', savePortableState(ended.portableParts())]]), 'loop.state', { onStop: (e) => { again = e; } }, 30_000_000);
  assert.ok(again, late.console);
  assert.deepEqual([again.outcome.reason, again.outcome.message, again.clock], ['limit', bare.message, bare.instructions]);
  assert.equal(sha(again.memory), bareMemory);
});
