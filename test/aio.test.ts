// Asynchronous I/O (issue 19, src/kernel/syscall/sysaio.ts): gcc-built C programs
// in user/tests/aio/ run on the kernel with the file "big" in the file system;
// each exits 0 and prints "NAME: PASS". These assertions also check what the
// kernel traced: completions come from interrupts, out of order, and requests
// of a process that is gone are dropped without a copy.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LDFLAGS, USER_DIR, compileAll } from './helpers/userBuild.js';
import { runToCompletion } from '../src/kernel/boot/session.js';
import type { TraceEvent } from '../src/kernel/traceEvents.js';
import { fetchRecorder, setFetchRecorder, type FetchObserver, type UserSpace } from '../src/kernel/mem/copyin.js';
import { FetchChecker } from '../src/kernel/mem/fetchChecker.js';
import { fuzz } from '../src/kernel/fuzz/fuzzer.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-aio-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

/** The user library and the given C programs (paths relative to user/), built with gcc + GNU ld. */
function build(sources: string[]): Map<string, Uint8Array> {
  const obj = path.join(tmp, 'obj');
  fs.mkdirSync(obj, { recursive: true });
  const lib = path.join(USER_DIR, 'lib');
  const libC = fs.readdirSync(lib).filter((f) => f.endsWith('.c')).sort().map((f) => path.join(lib, f));
  const [crt0, ...libObjs] = compileAll([path.join(lib, 'crt0.S'), path.join(USER_DIR, 'usys.S'), ...libC], obj);
  const archive = path.join(obj, 'libulib.a');
  execFileSync('ar', ['rcs', archive, ...libObjs]);
  const objects = compileAll(sources.map((s) => path.join(USER_DIR, s)), obj);
  const out = new Map<string, Uint8Array>();
  sources.forEach((s, i) => {
    const name = path.basename(s, '.c');
    const exe = path.join(tmp, name);
    execFileSync('ld', [...LDFLAGS, '-o', exe, crt0, objects[i], archive]);
    out.set(name, new Uint8Array(fs.readFileSync(exe)));
  });
  return out;
}

/** "big": 40 KiB, byte i = (i*131 + (i>>8)) & 0xff, as the C programs expect. */
const BIG = Uint8Array.from({ length: 40 * 1024 }, (_, i) => (i * 131 + (i >> 8)) & 0xff);
const sources = fs.readdirSync(path.join(USER_DIR, 'tests', 'aio')).filter((f) => f.endsWith('.c')).sort().map((f) => `tests/aio/${f}`);
const programs = build([...sources, 'examples/aioread.c']);
programs.set('big', BIG);
/** For the example: 128 KiB whose two halves are equal, so both ways must hash the same. */
programs.set('periodic', Uint8Array.from({ length: 128 * 1024 }, (_, i) => (i * 131) & 0xff));

/** The trace steps the assertions look at (a whole trace of these runs would not fit in memory). */
const KEPT = new Set(['trap', 'aio-complete', 'aio-drop', 'disk-request', 'disk-irq']);

interface Run { status: number | null; output: string; message: string; events: TraceEvent[] }

async function run(name: string, disk: 'timed' | 'instant' = 'timed', argv: string[] = [name]): Promise<Run> {
  let output = '';
  const events: TraceEvent[] = [];
  const r = await runToCompletion({
    program: { path: name, image: programs.get(name)!, argv },
    programs,
    assembler: 'gnu',
    memoryBytes: 32 * 1024 * 1024,
    disk,
    output: (b) => { output += Buffer.from(b).toString('latin1'); },
    trace: (e) => { if (KEPT.has(e.step)) events.push(e); },
  }, 200_000_000);
  return { status: r.status, output, message: r.message, events };
}

function passes(name: string, r: Run): void {
  assert.equal(r.status, 0, `${name}: ${r.message}\n${r.output}`);
  assert.match(r.output, new RegExp(`${name}: PASS`));
}

test('aiobasic: reads in flight together, out of order as the disk serves them, signal with SI_ASYNCIO, status/return/waitany/cancel/limit', async () => {
  const r = await run('aiobasic');
  passes('aiobasic', r);
  const order = /4 signals, completion order ([\d ]+) \(enqueued 1 2 3 4\)(, out of order)?/.exec(r.output);
  assert.ok(order, `one completion per disk interrupt, one signal each: ${r.output}`);
  assert.deepEqual(order[1].trim().split(' ').map(Number).sort(), [1, 2, 3, 4]);
  assert.ok(order[2], `the disk's shortest-seek-first order differs from the enqueue order: ${order[1]}`);
  // Every completion is made in an interrupt handler: the disk's (IRQ 14) or the clock's, never in the enqueue call.
  const completions = r.events.map((e, i) => [e, i] as const).filter(([e]) => e.step === 'aio-complete' && !/-125/.test(e.text));
  assert.ok(completions.length >= 4 + 1 + AIO_MAX + 1, `${completions.length} completions`);
  for (const [e, i] of completions) {
    let j = i - 1;
    while (j >= 0 && r.events[j].step !== 'trap') j--;
    assert.match(r.events[j].text, /trapno (32|46)$/, `${e.text}: made in the handler of IRQ 0 or IRQ 14`);
  }
  // The first four reads took time: the disk was asked before they completed.
  const firstDone = completions[0][1];
  assert.ok(r.events.slice(0, firstDone).some((e) => e.step === 'disk-request'), 'a disk request before the first completion');
});
const AIO_MAX = 16;

test('aiobasic on the instant disk: the same calls, completing at the next clock tick', async () => {
  const r = await run('aiobasic', 'instant');
  passes('aiobasic', r);
  assert.ok(!r.events.some((e) => e.step === 'disk-irq'));
  assert.ok(r.events.some((e) => e.step === 'aio-complete'));
});

test('aiofault: a buffer unmapped or shrunk before completion gives -EFAULT and nothing is touched; close does not end a request', async () => {
  passes('aiofault', await run('aiofault'));
});

test('aioexit: exit, kill and exec with reads in flight never write into memory that is no longer the process\'s', async () => {
  const r = await run('aioexit');
  passes('aioexit', r);
  const drops = r.events.filter((e) => e.step === 'aio-drop');
  assert.ok(drops.length >= 8, `requests of gone processes are dropped (${drops.length})`);
  const victims = new Set(drops.map((e) => e.pid));
  assert.equal(victims.size, 3, 'one victim each for exit, kill and exec');
});

/** Records every user fetch with the space it was made for, and passes it on to a strict checker. */
class FetchLog implements FetchObserver {
  readonly strict = new FetchChecker(undefined, false);
  readonly fetches: Array<{ syscall: string; addr: number; len: number; fromSyscall: boolean }> = [];
  private calls = new WeakMap<object, string>();
  begin(syscall: string, space?: UserSpace): void {
    if (space) this.calls.set(space, syscall);
    this.strict.begin(syscall, space);
  }
  record(addr: number, len: number, space?: UserSpace): void {
    const syscall = space ? this.calls.get(space) : undefined;
    if (syscall) this.fetches.push({ syscall, addr, len, fromSyscall: 'pid' in (space as object) });
    this.strict.record(addr, len, space);
  }
  recordWrite(addr: number, len: number, space?: UserSpace): void {
    this.strict.recordWrite(addr, len, space);
  }
  end(space: UserSpace): void {
    this.calls.delete(space);
    this.strict.end(space);
  }
}

test('aiofetch: a write whose buffer changes after enqueue writes the bytes at completion, fetched once, at completion', async () => {
  const previous = fetchRecorder();
  const log = new FetchLog();
  setFetchRecorder(log);
  let r: Run;
  try {
    r = await run('aiofetch');
  } finally {
    setFetchRecorder(previous);
  }
  passes('aiofetch', r);
  const m = /buffer at 0x([0-9a-f]+), (\d+) bytes/.exec(r.output)!;
  const buf = parseInt(m[1], 16);
  const len = Number(m[2]);
  const ofBuffer = log.fetches.filter((f) => f.addr < buf + len && buf < f.addr + f.len);
  assert.equal(ofBuffer.length, 1, JSON.stringify(ofBuffer));
  assert.deepEqual(ofBuffer[0], { syscall: 'aio_write', addr: buf, len, fromSyscall: false }, 'one fetch, by the completion, not by the enqueue call');
  assert.equal(log.strict.doubleFetches.length, 0);
});

test('the syscall fuzzer calls 40-45 and plays enqueue-then-unmap and enqueue-then-exit: no violation', async () => {
  const report = await fuzz({ seed: 19, calls: 30_000, maxViolations: 5 });
  assert.deepEqual(report.violations.map((v) => `${v.kind}: ${v.message} (${v.call})`), []);
  for (const name of ['aio_read', 'aio_write', 'aio_status', 'aio_return', 'aio_waitany', 'aio_cancel']) {
    assert.ok((report.perSyscall.get(name) ?? 0) > 20, `${name} called ${report.perSyscall.get(name)} times`);
  }
  assert.ok(report.scenarios >= 10 && report.scenarioSteps >= 5 * report.scenarios, `${report.scenarios} scenarios, ${report.scenarioSteps} steps`);
});

test('example aioread: computing while the disk reads saves machine time over blocking reads, same data', async () => {
  const r = await run('aioread', 'timed', ['aioread', 'periodic']);
  assert.equal(r.status, 0, r.message + r.output);
  const hashes = /2 x 65536 bytes in 4096-byte chunks \(hashes ([0-9a-f]+) ([0-9a-f]+)\)/.exec(r.output);
  assert.ok(hashes && hashes[1] === hashes[2], r.output);
  const m = /blocking reads: (\d+) ticks; asynchronous reads: (\d+) ticks \(16 completion signals\)/.exec(r.output);
  assert.ok(m, r.output);
  assert.ok(Number(m[2]) < Number(m[1]), `asynchronous (${m[2]} ticks) beats blocking (${m[1]} ticks)`);
  assert.match(r.output, /saved \d+ ticks = about \d+ instructions/);
});
