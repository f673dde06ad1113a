// Saving a VM's entire state and resuming it (src/vmm/vmState.ts, `xk vm
// --save-at N STATE` / `xk vm --resume STATE`): for many N, the serial output
// before the save followed by the resumed run's output, and the final guest
// memory, equal an uninterrupted run's byte for byte. Bad state files get a
// clear error.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildGuest, REPO_ROOT } from './guestBuild.js';
import { prepareVm, runVm } from '../src/vmm/vmRunner.js';
import { loadVmState, saveVmState, VmStateError } from '../src/vmm/vmState.js';
import type { VmHost } from '../src/vmm/host.js';

const LIMIT = 50_000_000;

function collector(): { out: (b: Uint8Array) => void; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  return { out: (b) => parts.push(Buffer.from(b)), bytes: () => Buffer.concat(parts) };
}

const guestMemory = (host: VmHost): Buffer => Buffer.from(host.machine.memory.bytes.subarray(0, host.guestBytes));

function reference(elf: Uint8Array): { serial: Buffer; memory: Buffer; clock: number; status: number | undefined } {
  const c = collector();
  const r = runVm(elf, 'guest.elf', { serialOut: c.out });
  assert.equal(r.reason, 'shutdown', r.message);
  return { serial: c.bytes(), memory: guestMemory(r.host), clock: r.guestInstructions, status: r.status };
}

/** Run to N, save, resume the state in a new host, run to the end. */
function splitRun(elf: Uint8Array, n: number): { serial: Buffer; memory: Buffer; status: number | undefined; interrupted: boolean } {
  const before = collector();
  const host = prepareVm(elf, 'guest.elf', { serialOut: before.out });
  const first = host.run(n);
  if (first.reason !== 'limit') return { serial: before.bytes(), memory: guestMemory(host), status: first.status, interrupted: false };
  const state = saveVmState(host);
  const after = collector();
  const resumed = loadVmState(state, after.out);
  const r = resumed.run(LIMIT);
  assert.equal(r.reason, 'shutdown', `${r.message} (saved at ${n})`);
  return { serial: Buffer.concat([before.bytes(), after.bytes()]), memory: guestMemory(resumed), status: r.status, interrupted: true };
}

for (const [name, defines] of [['guest', []], ['guest/high', ['HIGH']]] as const) {
  test(`${name}: save at many N and resume equals the uninterrupted run`, (t) => {
    let elf: Uint8Array;
    try { elf = new Uint8Array(fs.readFileSync(buildGuestFor(name, [...defines]))); } catch (e) { t.skip(`cannot build ${name}: ${(e as Error).message}`); return; }
    const ref = reference(elf);
    const ns = new Set<number>([1, 2, 3, 7, 100, 1000, ref.clock - 1]);
    for (let i = 1; i < 24; i++) ns.add(Math.floor((ref.clock * i) / 24) + (i % 5));
    for (const n of ns) {
      const s = splitRun(elf, n);
      assert.ok(s.interrupted, `saved at ${n}`);
      assert.ok(s.serial.equals(ref.serial), `serial output differs when saved at ${n}`);
      assert.ok(s.memory.equals(ref.memory), `guest memory differs when saved at ${n}`);
      assert.equal(s.status, ref.status);
    }
  });
}

function buildGuestFor(name: string, _defines: string[]): string {
  if (name === 'guest') return buildGuest().elfPath;
  return buildHigh();
}

function buildHigh(): string {
  const dir = path.join(REPO_ROOT, 'guest', 'high');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-high-'));
  const r1 = spawnSync('gcc', ['-c', path.join(dir, 'high.S'), '-o', path.join(out, 'h.o')]);
  if (r1.status !== 0) throw new Error(String(r1.stderr));
  const r2 = spawnSync('ld', ['-nostdlib', '-static', '-z', 'max-page-size=4096', '-T', path.join(dir, 'high.ld'), path.join(out, 'h.o'), '-o', path.join(out, 'high.elf')]);
  if (r2.status !== 0) throw new Error(String(r2.stderr));
  return path.join(out, 'high.elf');
}
