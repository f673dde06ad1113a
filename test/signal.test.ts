// Signals on xk (docs/signals.md): gcc-built C programs in user/tests/sig*.c and
// user/examples run on the kernel; each test program exits 0 and prints
// "NAME: PASS"; these assertions also check what the programs and the kernel print.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CFLAGS, LDFLAGS, USER_DIR, compileAll } from './helpers/userBuild.js';
import { runToCompletion } from '../src/kernel/session.js';
import type { TraceEvent } from '../src/trace/events.js';

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
void CFLAGS;

const testSources = fs.readdirSync(path.join(USER_DIR, 'tests')).filter((f) => /^sig.*\.c$/.test(f)).sort().map((f) => `tests/${f}`);
const exampleSources = fs.existsSync(path.join(USER_DIR, 'examples'))
  ? fs.readdirSync(path.join(USER_DIR, 'examples')).filter((f) => f.endsWith('.c')).sort().map((f) => `examples/${f}`)
  : [];
const programs = build([...testSources, ...exampleSources]);

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
