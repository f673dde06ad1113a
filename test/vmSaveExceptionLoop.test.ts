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

const LIMIT = 50_000_000;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const LOOP_GUEST = `${GUEST_START}${setGate(6, 'ud')}
    movw $0x00eb, idt+6*16+6        # the #UD handler's offset: 0x00eb.... (beyond the 4 MiB)
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
