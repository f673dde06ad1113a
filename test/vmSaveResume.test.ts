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
import { buildGuest, guestSymbols, REPO_ROOT } from './guestBuild.js';
import { prepareVm, runVm } from '../src/vmm/vmRunner.js';
import { crc32, loadVmState, saveVmState, VmStateError } from '../src/vmm/vmState.js';
import { deflateSync, inflateSync } from 'node:zlib';
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
    for (let i = 1; i < 12; i++) ns.add(Math.floor((ref.clock * i) / 12) + (i % 5));
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

/**
 * Step the guest one instruction at a time and pick save points of each kind:
 * inside the timer interrupt handler, with a virtual interrupt in service at
 * the PIC (delivered, before its EOI) or requested (IRR), and
 * just before an instruction that traps to the monitor (the save falls between
 * the guest's trap and its emulation: the next run starts with that trap).
 */
function interestingPoints(elf: Uint8Array, inHandler: (rip: number) => boolean): { handler: number[]; pending: number[]; trapping: number[] } {
  const host = prepareVm(elf, 'guest.elf', {});
  const handler: number[] = [], pending: number[] = [], trapping: number[] = [];
  let exits = 0;
  for (let n = 0; ; n++) {
    const clock = host.guestClock();
    const rip = host.machine.cpu.rip;
    const pic = host.vm.devices.pic.irr | host.vm.devices.pic.isr;
    const r = host.run(1);
    if (r.reason !== 'limit') break;
    if (inHandler(rip) && handler.length < 40) handler.push(clock);
    if (pic !== 0 && pending.length < 400) pending.push(clock);
    if (r.exits !== exits && trapping.length < 400) trapping.push(clock);
    exits = r.exits;
  }
  const spread = (xs: number[], k: number): number[] => xs.filter((_, i) => i % Math.max(1, Math.floor(xs.length / k)) === 0).slice(0, k);
  return { handler: spread(handler, 6), pending: spread(pending, 6), trapping: spread(trapping, 12) };
}

test('guest: saves inside the timer handler, with an interrupt in service at the PIC, and at trapping instructions resume exactly', () => {
  const build = buildGuest();
  const sym = guestSymbols(build);
  const lo = sym.get('timer_interrupt')!, hi = sym.get('kill_current')!, v32 = sym.get('vector32')!;
  assert.ok(lo < hi);
  const ref = reference(build.elf);
  const points = interestingPoints(build.elf, (rip) => (rip >= lo && rip < hi) || (rip >= v32 && rip < v32 + 6));
  assert.ok(points.handler.length >= 3, `save points in the timer handler: ${points.handler.length}`);
  assert.ok(points.pending.length >= 3, `save points with an interrupt at the PIC: ${points.pending.length}`);
  assert.ok(points.trapping.length >= 10, `trapping save points: ${points.trapping.length}`);
  for (const n of [...points.handler, ...points.pending, ...points.trapping]) {
    const s = splitRun(build.elf, n);
    assert.ok(s.interrupted, `saved at ${n}`);
    assert.ok(s.serial.equals(ref.serial), `serial output differs when saved at ${n}`);
    assert.ok(s.memory.equals(ref.memory), `guest memory differs when saved at ${n}`);
  }
});

test('a resumed state saved again (a chain of saves) still ends like the uninterrupted run', () => {
  const elf = buildGuest().elf;
  const ref = reference(elf);
  const out = collector();
  let host = prepareVm(elf, 'guest.elf', { serialOut: out.out });
  for (const step of [5000, 20000, 333, 40000]) {
    assert.equal(host.run(step).reason, 'limit');
    host = loadVmState(saveVmState(host), out.out);
  }
  assert.equal(host.run(LIMIT).reason, 'shutdown');
  assert.ok(out.bytes().equals(ref.serial));
  assert.ok(guestMemory(host).equals(ref.memory));
});

test('truncated, corrupted, foreign and future-version state files are refused with a clear error', () => {
  const elf = buildGuest().elf;
  const host = prepareVm(elf, 'guest.elf', {});
  host.run(30000);
  const good = saveVmState(host);
  const refuse = (file: Uint8Array, pattern: RegExp): void => {
    assert.throws(() => loadVmState(file), (e: unknown) => e instanceof VmStateError && pattern.test(e.message));
  };
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926); // the IEEE check value
  refuse(new Uint8Array(0), /truncated: 0 bytes/);
  refuse(good.subarray(0, 10), /truncated: 10 bytes, shorter than the 28-byte header/);
  for (const cut of [28, 100, good.length - 1]) refuse(good.subarray(0, cut), /truncated: the payload is \d+ bytes, the file has/);
  refuse(elf, /not an xk VM state file \(it begins 7f 45 4c 46/);
  refuse(new TextEncoder().encode('hello, this is not a saved virtual machine at all'), /not an xk VM state file/);
  const future = good.slice(); future[8] = 3;
  refuse(future, /state file version 3; this xk reads version 2/);
  const older = good.slice(); older[8] = 1; // before the exception-loop count
  refuse(older, /state file version 1; this xk reads version 2/);
  for (const at of [40, Math.floor(good.length / 2), good.length - 1]) {
    const bad = good.slice(); bad[at] ^= 0x10;
    refuse(bad, /corrupted: CRC-32 of the payload is 0x[0-9a-f]{8}, the header says/);
  }
  const crcByte = good.slice(); crcByte[16] ^= 1;
  refuse(crcByte, /corrupted: CRC-32/);
  const longer = new Uint8Array(good.length + 3); longer.set(good);
  refuse(longer, /corrupted: 3 bytes after the/);
  // A well-formed file (right CRC) whose tree is not this xk's VM: a field it does not have, a memory of another size.
  refuse(reshape(good, (j) => j.replace('"vcpu":{"$o":{"cpl"', '"vcpu":{"$o":{"nonsense":1,"cpl"')), /does not fit this xk's VM at vm\.vcpu\.nonsense: no such field/);
  refuse(reshape(good, (j) => j.replace(/("regs":\{"\$t":"Uint32Array","o":\d+,"n":)128/, '$164')), /does not fit this xk's VM at vm\.machine\.mmu\.regs\.regs: typed array of 64 bytes, the VM has 128/);
  // A good file still loads.
  assert.equal(loadVmState(good).guestClock(), host.guestClock());
});

/** `file` with its JSON tree rewritten by `edit`, re-packed with a correct length and CRC. */
function reshape(file: Uint8Array, edit: (json: string) => string): Uint8Array {
  const raw = inflateSync(file.subarray(28));
  const n = raw.readUInt32LE(0);
  const json = Buffer.from(edit(raw.subarray(4, 4 + n).toString()));
  assert.notEqual(json.length, n, 'the edit changed the tree');
  const head = Buffer.alloc(4); head.writeUInt32LE(json.length, 0);
  const payload = deflateSync(Buffer.concat([head, json, raw.subarray(4 + n)]));
  const out = Buffer.concat([Buffer.from(file.subarray(0, 28)), payload]);
  out.writeUInt32LE(payload.length, 12);
  out.writeUInt32LE(crc32(payload), 16);
  return new Uint8Array(out);
}

test('xk vm --save-at N STATE then xk vm --resume STATE: the stdouts concatenated are the uninterrupted stdout', () => {
  const build = buildGuest();
  const xk = path.join(REPO_ROOT, 'bin', 'xk.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-vmstate-'));
  const state = path.join(dir, 'vm.state');
  const full = spawnSync(process.execPath, [xk, 'vm', build.elfPath]);
  assert.equal(full.status, 0, String(full.stderr));
  const first = spawnSync(process.execPath, [xk, 'vm', build.elfPath, '--save-at', '60000', state]);
  assert.equal(first.status, 0, String(first.stderr));
  assert.match(String(first.stderr), /saved the VM after 60000 guest instructions/);
  const second = spawnSync(process.execPath, [xk, 'vm', '--resume', state]);
  assert.equal(second.status, 0, String(second.stderr));
  assert.match(String(second.stderr), /resuming .* at guest instruction 60000/);
  assert.ok(Buffer.concat([first.stdout, second.stdout]).equals(full.stdout));
  assert.ok(first.stdout.length > 0 && second.stdout.length > 0);
  const foreign = spawnSync(process.execPath, [xk, 'vm', '--resume', build.elfPath]);
  assert.equal(foreign.status, 2);
  assert.match(String(foreign.stderr), /cannot resume .*not an xk VM state file/);
  assert.equal(foreign.stdout.length, 0);
});
