// The lecture's VM path on screen (src/vmm/vmTrace.ts; `xk vm IMAGE --trace`,
// `xk trace` of the kernel's vm program): the order of the slide's steps in
// every guest system call, and counts checked against what the guest itself
// reports and what the monitor counted, not against fixed text.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildGuest, REPO_ROOT } from './guestBuild.js';
import { prepareVm } from '../src/vmm/vmRunner.js';
import { virtualClock } from '../src/vmm/monitor.js';
import { VmPathTracer } from '../src/vmm/vmTrace.js';
import type { TraceEvent } from '../src/kernel/traceEvents.js';
import { episodes, isEpisode, type Episode } from '../src/trace/episodes.js';

const XK = path.join(REPO_ROOT, 'bin', 'xk.js');

/** The slide's steps of a guest system call that returns to a guest application, in order. */
const SLIDE = ['int', 'gate', 'trap', 'emulate', 'deliver', 'syscall', 'guest-iretq', 'gate', 'trap', 'emulate', 'user'];
/** The steps that describe exits on the way (not the slide's own). */
const ON_THE_WAY = new Set(['vm-exit', 'vm-deliver']);

function tracedRun(elf: Uint8Array, traced: boolean) {
  let serial = '';
  const host = prepareVm(elf, 'guest.elf', { serialOut: (b) => { serial += Buffer.from(b).toString('latin1'); } });
  const events: TraceEvent[] = [];
  const tracer = new VmPathTracer((e) => events.push(e), { host: 'vmhost', count: virtualClock, guestClock: virtualClock, pid: () => 1 });
  if (traced) host.vm.onEvent = tracer.listener;
  const result = host.run(50_000_000);
  assert.equal(result.reason, 'shutdown', result.message);
  tracer.stopped(host.vm, result.message);
  return { serial, events, tracer, result, memory: Buffer.from(host.machine.memory.bytes.subarray(0, host.guestBytes)) };
}

/** The system calls the guest kernel says it served ("system calls N" in its summary line). */
function guestSyscalls(serial: string): number {
  const m = /system calls (\d+)/.exec(serial);
  assert.ok(m, serial);
  return Number(m[1]);
}

/**
 * The slide's steps, with a virtual interrupt taken at the boundary right after the
 * guest kernel's iretq (before the app's first instruction, as on the hardware) folded:
 * its handler's own iretq repeats the last four steps.
 */
function folded(steps: string[]): string[] {
  const out = [...steps];
  const block = ['guest-iretq', 'gate', 'trap', 'emulate'];
  for (let i = out.indexOf('guest-iretq'); i >= 0 && out.slice(i + 4, i + 8).join() === block.join(); ) out.splice(i + 4, 4);
  return out;
}

function checkSyscallEpisodes(eps: Episode[], k: number): void {
  assert.equal(eps.length, k, 'one episode per guest system call');
  eps.forEach((ep, i) => {
    const all = ep.events.map((e) => e.step).filter((s) => !ON_THE_WAY.has(s));
    const steps = folded(all);
    if (all.length !== steps.length) assert.ok(ep.events.some((e) => e.step === 'vm-deliver'), 'an interrupt came in between');
    // The last system call powers the guest off: its path ends in the guest kernel.
    if (i === eps.length - 1) assert.deepEqual(steps, [...SLIDE.slice(0, 6), 'vm-stop'], `episode ${i}`);
    else assert.deepEqual(steps, SLIDE, `episode ${i}: ${ep.title}`);
    const counts = ep.events.map((e) => e.count);
    assert.deepEqual(counts, [...counts].sort((a, b) => a - b), 'instruction counts only grow along the path');
    const at = (step: string, n = 0) => ep.events.filter((e) => e.step === step)[n];
    const int = at('int'), deliver = at('deliver'), syscall = at('syscall');
    assert.equal(deliver.args?.vector, 64);
    assert.equal(syscall.args?.handler, deliver.args?.handler);
    // The monitor saved the app's rip (after the 2-byte int $64) and rsp on the guest kernel stack from TSS.rsp0.
    assert.equal(BigInt(deliver.args!.savedRip as string), BigInt(int.args!.rip as string) + 2n);
    assert.equal(deliver.args?.savedRsp, int.args?.rsp);
    assert.ok(BigInt(deliver.args!.rsp as string) < BigInt(deliver.args!.rsp0 as string), 'the frame is below the guest TSS.rsp0');
    if (steps.length === SLIDE.length) {
      // The emulated iretq restored exactly the rip and rsp the guest app runs on.
      const iret = ep.events.filter((e) => e.step === 'emulate').at(-1)!, user = at('user');
      assert.equal(iret.args?.mnemonic, 'iretq');
      assert.equal(iret.args?.nextCpl, 3);
      assert.equal(iret.args?.next, user.args?.rip);
      if (all.length === steps.length) assert.equal(at('guest-iretq').args?.exits, ep.events.filter((e) => e.step === 'vm-exit').length);
    }
  });
}

test('xk vm --trace: every guest system call shows the slide, k calls = k deliver/iretq pairs, exit counts = the monitor\'s', () => {
  for (const defines of [[], ['BENCH_SYSCALLS']]) {
    const elf = buildGuest(defines).elf;
    const { serial, events, tracer, result, memory } = tracedRun(elf, true);
    const k = guestSyscalls(serial);
    const eps = episodes(events).filter(isEpisode).filter((e) => e.isSyscall);
    checkSyscallEpisodes(eps, k);
    const [summary] = tracer.summaries();
    assert.equal(summary.syscalls, k);
    assert.equal(summary.exits, result.exits, 'every exit of the VM is in the trace');
    assert.equal([...summary.byReason.values()].reduce((a, b) => a + b, 0), result.exits, 'each exit has one reason');
    assert.equal(summary.byReason.get('int'), k);
    assert.equal(summary.byReason.get('iretq'), result.exitKinds.get('iretq'));
    for (const kind of ['out', 'in', 'shadow-fill', 'lgdt', 'lidt', 'ltr']) assert.equal(summary.byReason.get(kind), result.exitKinds.get(kind), kind);
    if (defines.length === 0) {
      // Watching changes nothing: the same output, memory and clock as an untraced run.
      const plain = tracedRun(elf, false);
      assert.equal(serial, plain.serial);
      assert.equal(result.guestInstructions, plain.result.guestInstructions);
      assert.ok(memory.equals(plain.memory));
    } else {
      assert.ok(k > 20000, `${k}`);
    }
  }
});

/** The Chrome-trace JSON's episodes: each 'X' slice with the instants after it, of one pid. */
function jsonEpisodes(file: string, pid: number): Array<{ name: string; cat: string; steps: string[] }> {
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { traceEvents: Array<{ ph: string; name: string; cat?: string; pid: number; args?: Record<string, unknown> }> };
  const out: Array<{ name: string; cat: string; steps: string[] }> = [];
  let current: { name: string; cat: string; steps: string[] } | null = null;
  for (const e of json.traceEvents) {
    if (e.ph === 'X') { current = e.pid === pid ? { name: e.name, cat: e.cat ?? '', steps: [] } : null; if (current) out.push(current); }
    else if (e.ph === 'i' && current && e.pid === pid) {
      current.steps.push(e.name);
      if (e.name === 'user' || e.name === 'vm-stop') current = null; // loose events follow
    }
  }
  return out;
}

test('xk vm --trace and xk trace of the kernel\'s vm program show the same path for every guest system call', () => {
  const build = buildGuest();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-vmtrace-'));
  try {
    const vmJson = path.join(dir, 'vm.json'), kJson = path.join(dir, 'k.json');
    const vm = spawnSync(process.execPath, [XK, 'vm', build.elfPath, '--trace', '--trace-json', vmJson], { encoding: 'latin1' });
    assert.equal(vm.status, 0, vm.stderr);
    const k = guestSyscalls(vm.stdout);
    assert.equal((vm.stdout.match(/^vm: guest system call/gm) ?? []).length, k);
    assert.match(vm.stdout, new RegExp(`^vm: \\d+ exits, ${k} guest system calls; exits by reason:$`, 'm'));
    fs.mkdirSync(path.join(dir, 'fs'));
    fs.copyFileSync(build.elfPath, path.join(dir, 'fs', 'guest.elf'));
    const kt = spawnSync(process.execPath, [XK, 'trace', '--trace-json', kJson, '--fs', path.join(dir, 'fs'), path.join(REPO_ROOT, 'user', 'programs', 'vm.c'), 'guest.elf'],
      { encoding: 'latin1' });
    assert.equal(kt.status, 0, kt.stderr);
    assert.equal(guestSyscalls(kt.stdout), k);
    const vmPid = Number(/vmrun: pid (\d+) boots guest\.elf/.exec(kt.stdout)?.[1]);
    assert.ok(vmPid > 1, kt.stdout.slice(0, 2000));
    assert.equal((kt.stdout.match(new RegExp(`^pid ${vmPid}: guest system call`, 'gm')) ?? []).length, k);
    const skeleton = (steps: string[]): string[] => steps.filter((s) => !ON_THE_WAY.has(s));
    const a = jsonEpisodes(vmJson, 1).filter((e) => e.cat === 'syscall');
    const b = jsonEpisodes(kJson, vmPid).filter((e) => e.cat === 'syscall');
    assert.equal(a.length, k);
    assert.equal(b.length, k);
    // The same system calls (number, handler) in the same order (the guest's timer interrupts
    // come at their instruction on both hosts: src/vmm/guestTimer.ts), each with the slide's steps.
    assert.deepEqual(b.map((e) => e.name), a.map((e) => e.name));
    for (const e of [...a.slice(0, -1), ...b.slice(0, -1)]) assert.deepEqual(folded(skeleton(e.steps)), SLIDE, e.name);
    assert.deepEqual(skeleton(b[b.length - 1].steps), [...SLIDE.slice(0, 6), 'vm-stop']);
    assert.deepEqual(skeleton(a[a.length - 1].steps), [...SLIDE.slice(0, 6), 'vm-stop']);
    // The host's trap differs as it should: a #GP from the monitor's DPL 0 gate under xk vm, the kernel's vector 64 under xk.
    assert.match(vm.stdout, /monitor's IDT\[13\] #GP, error 0x202/);
    assert.match(kt.stdout, /host kernel's IDT\[64\] vector 64/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
