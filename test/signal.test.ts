// Signals on xk (docs/signals.md): gcc-built C programs in user/tests/sig*.c and
// user/examples run on the kernel; each test program exits 0 and prints
// "NAME: PASS"; these assertions also check what the programs and the kernel print.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LDFLAGS, USER_DIR, compileAll } from './helpers/userBuild.js';
import { runToCompletion, startSession } from '../src/kernel/boot/session.js';
import type { TraceEvent } from '../src/kernel/traceEvents.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-signal-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

/** Builds the user library and the given C programs (paths relative to user/) with gcc + GNU ld. */
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

const testSources = fs.readdirSync(path.join(USER_DIR, 'tests', 'signals')).filter((f) => f.endsWith('.c') && f !== 'sigconsole.c').sort().map((f) => `tests/signals/${f}`);
const exampleSources = fs.existsSync(path.join(USER_DIR, 'examples'))
  ? fs.readdirSync(path.join(USER_DIR, 'examples')).filter((f) => f.endsWith('.c')).sort().map((f) => `examples/${f}`)
  : [];
const programs = build([...testSources, 'tests/signals/sigconsole.c', ...exampleSources]);

async function run(name: string, options: { trace?: boolean; input?: string } = {}): Promise<{ status: number | null; output: string; message: string; events: TraceEvent[] }> {
  let output = '';
  const events: TraceEvent[] = [];
  const r = await runToCompletion({
    program: { path: name, image: programs.get(name)!, argv: [name] },
    programs,
    assembler: 'gnu',
    memoryBytes: 32 * 1024 * 1024,
    output: (b) => { output += Buffer.from(b).toString('latin1'); },
    trace: options.trace ? (e) => { events.push(e); } : undefined,
    input: options.input,
  }, 100_000_000);
  return { status: r.status, output, message: r.message, events };
}

async function passes(name: string): Promise<string> {
  const r = await run(name);
  assert.equal(r.status, 0, `${name}: ${r.message}\n${r.output}`);
  assert.match(r.output, new RegExp(`${name}: PASS`));
  return r.output;
}

test('sigalarm: a periodic handler runs >= 12 times, registers intact, slow handler not re-entered', async () => {
  const out = await passes('sigalarm');
  const n = Number(/sigalarm: (\d+) deliveries, registers intact/.exec(out)?.[1]);
  assert.ok(n >= 12, out);
  assert.match(out, /slow handler ran \d+ times, never re-entered/);
});

test('sigmask: blocking, pending, nesting, SA_NODEFER, SA_RESETHAND, SIGKILL, SIGSTOP/SIGCONT', async () => {
  const out = await passes('sigmask');
  assert.match(out, /pid \d+ \(sigmask\): killed by SIGUSR2/); // SIG_DFL after SA_RESETHAND
  assert.match(out, /stopped child wrote [012] bytes while stopped/);
});

test('sigintr: -EINTR without SA_RESTART, restart with it, data already there is returned, a partial write returns its count', async () => {
  await passes('sigintr');
});

test('sigoverflow: a stack overflow past the 10 growable pages is SIGSEGV in the guard gap, handled on the alternate stack', async () => {
  const out = await passes('sigoverflow');
  assert.match(out, /sigoverflow: SIGSEGV at 7fff5[0-9a-f]{3} after \d+ frames/);
});

test('sigfault: SIGSEGV with si_addr (repaired by sbrk), SIGFPE, SIGILL, SIGTRAP; unhandled faults still kill', async () => {
  const out = await passes('sigfault');
  assert.match(out, /SIGSEGV at 0x[0-9a-f]+ repaired/);
  assert.match(out, /trap 14 err \d+ on cpu 0 rip 0x[0-9a-f]+ addr 0x10 -- kill proc/);
});

test('sigstack: SA_ONSTACK uses the alternate stack; overflowing it kills with SIGSEGV', async () => {
  const out = await passes('sigstack');
  assert.match(out, /killed by SIGSEGV \(no room for the SIGUSR2 frame\)/);
});

test('sigforge: forged sigreturn frames are refused with SIGSEGV and the kernel keeps running', async () => {
  const out = await passes('sigforge');
  for (const reason of [
    /cs 0x8 is not the user code selector 0x23/,
    /ss 0x10 is not the user data selector 0x1b/,
    /rflags 0x3[0-9a-f]{3} has IOPL 3/,
    /rflags 0x[0-9a-f]+ has IF clear/,
    /rip 0x800000000000 is not a user address/,
    /rip 0xffff800000010000 is not a user address/,
    /rsp 0x8000000000000000 is not a user address/,
    /ucontext 0xffff800000100000 is not readable user memory/,
    /ucontext 0x10000000 is not readable user memory/,
  ]) assert.match(out, new RegExp(`killed by SIGSEGV \\(sigreturn refused: ${reason.source}`), reason.source);
  assert.equal(out.match(/-> status 139/g)?.length, 10);
  assert.match(out, /landed via an edited frame/);
});

test('sigthreads: three user-level threads on SIGALRM make progress; the mutex keeps the counter exact', async () => {
  const out = await passes('sigthreads');
  assert.match(out, /counter 9000/);
});

test('sigio: O_ASYNC on a pipe raises SIGIO in the owner when data arrives', async () => {
  await passes('sigio');
});

test('sigconsole: O_ASYNC on the console raises SIGIO when a line is typed', async () => {
  let output = '';
  const session = await startSession({
    program: { path: 'sigconsole', image: programs.get('sigconsole')!, argv: ['sigconsole'] },
    assembler: 'gnu',
    memoryBytes: 32 * 1024 * 1024,
    output: (b) => { output += Buffer.from(b).toString('latin1'); },
  });
  try {
    let done = false;
    for (let i = 0; i < 50 && !done && !output.includes('ready'); i++) done = session.run(100_000);
    assert.match(output, /sigconsole: ready/);
    session.machine.devices.serial.feed('typed\n');
    for (let i = 0; i < 100 && !done; i++) done = session.run(1_000_000);
    assert.ok(done, output);
    assert.equal(session.kernel.exitStatus, 0, output);
    assert.match(output, /sigconsole: PASS/);
  } finally {
    session.close();
  }
});

test('example asyncio: SIGIO tells the computing consumer when to read', async () => {
  const r = await run('asyncio');
  assert.equal(r.status, 0, r.output);
  for (let i = 1; i <= 3; i++) assert.match(r.output, new RegExp(`SIGIO -> read "message ${i}"`));
});

test('example segvsave: the SIGSEGV handler saves the work to a file, then exits', async () => {
  const r = await run('segvsave');
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /SIGSEGV at address 0xdead000: saved 39 bytes to rescue.txt/);
  assert.match(r.output, /exited with status 1; rescue.txt holds:\nfirst line of unsaved work\nsecond line\n/);
});

test('example timerthreads: three threads interleave under SIGALRM without yielding', async () => {
  const r = await run('timerthreads');
  assert.equal(r.status, 0, r.output);
  const steps = [...r.output.matchAll(/thread ([ABC]): step (\d)/g)].map((m) => m[1]);
  assert.equal(steps.length, 12);
  // Interleaved: some thread prints before another has finished all its steps.
  assert.notDeepEqual(steps, ['A', 'A', 'A', 'A', 'B', 'B', 'B', 'B', 'C', 'C', 'C', 'C']);
});

test('xk trace shows delivery like an interrupt and sigreturn like iretq', async () => {
  const r = await run('sigio', { trace: true });
  assert.equal(r.status, 0, r.output);
  const texts = r.events.map((e) => e.text);
  assert.ok(texts.some((t) => /raise SIGIO \(29\) in pid 1: pending, like an interrupt request line/.test(t)));
  assert.ok(texts.some((t) => /deliver SIGIO \(29\) ~ interrupt vector 29: handler 0x[0-9a-f]+ ~ IDT entry 29/.test(t)));
  assert.ok(texts.some((t) => /signal frame at 0x[0-9a-f]+ on the user stack ~ kernel stack \(TSS.rsp0\).*-> sigreturn ~ iretq/.test(t)));
  assert.ok(texts.some((t) => /^sigreturn ~ iretq: checked frame at 0x[0-9a-f]+, back to rip/.test(t)));
});
