// Moving a VM between hosts (issue 11 item 5, the slide's "transparent hardware
// upgrade"): a portable state (src/vmm/vmState.ts) saved by xk vm resumes under
// the xk kernel's vm program, and one saved under the xk kernel resumes under
// xk vm. The resumed guest's output, after what it printed before the save,
// equals an uninterrupted run's.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildGuest, REPO_ROOT } from './guestBuild.js';
import { prepareVm, runVm } from '../src/vmm/vmRunner.js';
import { loadVmState, savePortableState, saveVmState, VmStateError } from '../src/vmm/vmState.js';
import { spawnVm, type SpawnVmOptions } from '../src/vmm/kernelProcess.js';
import { vmStateCodec } from '../src/vmm/vmStateCodec.js';
import { startSession } from '../src/kernel/boot/session.js';
import { buildUserPrograms } from '../src/build/userPrograms.js';

const MiB = 1024 * 1024;
const XK = path.join(REPO_ROOT, 'bin', 'xk.js');

function uninterrupted(elf: Uint8Array): { serial: string; memory: Buffer } {
  let serial = '';
  const r = runVm(elf, 'guest.elf', { serialOut: (b) => { serial += Buffer.from(b).toString('latin1'); } });
  assert.equal(r.reason, 'shutdown', r.message);
  return { serial, memory: Buffer.from(r.host.machine.memory.bytes.subarray(0, r.host.guestBytes)) };
}

/**
 * Under the xk kernel the guest's virtual timer fires at the first trap after its deadline
 * (test/vmmProcess.test.ts), so after the move the guest's processes interleave differently
 * and its tick and switch counts differ: the lines as a multiset, those two counts masked.
 */
const lines = (text: string): string[] => text.split('\n').map((l) => l.replace(/(?<=(ticks|switches) )\d+/g, 'N')).sort();

/** Boot xk with the vm program running `file` (an image or a state) under a monitor with `options`. */
async function underKernel(files: Map<string, Uint8Array>, file: string, options: Omit<SpawnVmOptions, 'parent'>): Promise<{ console: string; serial: string }> {
  let console = '', serial = '';
  const programs = new Map(buildUserPrograms());
  for (const [n, b] of files) programs.set(n, b);
  const session = await startSession({
    program: { path: 'vm', image: programs.get('vm')!, argv: ['vm', file] },
    programs,
    memoryBytes: 64 * MiB,
    monitor: (memory) => ({ spawn: (k, elf, name, parent) => spawnVm(k, memory, elf, name, { ...options, parent, states: vmStateCodec, memoryMiB: 16, serialOut: (b) => { serial += Buffer.from(b).toString('latin1'); } }) }),
    output: (b) => { console += Buffer.from(b).toString('latin1'); },
  });
  try {
    let ran = 0;
    while (!session.run(1_000_000)) {
      ran += 1_000_000;
      assert.ok(ran < 200_000_000, `still running: ${console}`);
    }
    return { console, serial };
  } finally {
    session.close();
  }
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
    const run = await underKernel(new Map([['vm.state', state]]), 'vm.state', {});
    assert.match(run.console, /vm: vm\.state powered off with status 0\n$/);
    assert.ok((before + run.serial).endsWith('[guest] shutdown\n'), run.serial);
    assert.deepEqual(lines(before + run.serial), lines(ref.serial), `N = ${n}`);
  }
  // xk vm's whole-host state is not portable: the kernel refuses it, and nothing breaks.
  const host = prepareVm(elf, 'guest.elf', {});
  host.run(1000);
  const run = await underKernel(new Map([['full.state', saveVmState(host)]]), 'full.state', {});
  assert.match(run.console, /vm: cannot boot full\.state/);
  // A damaged portable state is refused with a reason, by either host.
  const good = savePortableState(host.portableParts());
  assert.throws(() => loadVmState(good.subarray(0, good.length - 9)), (e: Error) => e instanceof VmStateError && /truncated/.test(e.message));
  const flipped = Uint8Array.from(good); flipped[good.length - 20] ^= 0x10;
  assert.throws(() => loadVmState(flipped), (e: Error) => e instanceof VmStateError && /CRC-32/.test(e.message));
  const bad = await underKernel(new Map([['bad.state', flipped]]), 'bad.state', {});
  assert.match(bad.console, /vm: cannot boot bad\.state/);
});

test('saved under the xk kernel, resumed by xk vm (and by the kernel again): the same guest output', async () => {
  const elf = buildGuest().elf;
  const ref = uninterrupted(elf);
  for (const n of [100_000]) {
    let state: Uint8Array | undefined;
    const first = await underKernel(new Map([['guest.elf', elf]]), 'guest.elf', { saveAt: { instructions: n, write: (b) => { state = b; } } });
    assert.ok(state, first.console);
    assert.match(first.console, /vm saved after \d+ guest instructions/);
    assert.match(first.console, /vm: guest\.elf powered off with status 0\n$/);
    let after = '';
    const host = loadVmState(state, (b) => { after += Buffer.from(b).toString('latin1'); });
    assert.ok(host.guestClock() >= n);
    const r = host.run(50_000_000);
    assert.equal(r.reason, 'shutdown', r.message);
    assert.deepEqual(lines(first.serial + after), lines(ref.serial), `N = ${n}`);
    const again = await underKernel(new Map([['vm.state', state]]), 'vm.state', {});
    assert.deepEqual(lines(first.serial + again.serial), lines(ref.serial), `kernel -> kernel, N = ${n}`);
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
    assert.deepEqual(lines(a.stdout + b.stdout.slice(0, -tail.length)), lines(full.stdout));
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
    assert.deepEqual(lines(d.stdout.slice(0, -ktail.length).replace(saved[0], '') + e.stdout), lines(full.stdout));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
