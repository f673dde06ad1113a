// The differential harness for xk cc against gcc, built for many programs at
// once: gcc builds run natively (in parallel, each build done once a run),
// and xk cc builds run on xk in batches, one boot for up to BATCH programs (a
// runner program, test/cc/harness/runner.c, forks and execs each one in
// turn). A program may come with a partner source that gcc compiles for both
// builds (-c, freestanding) and that is linked in: then the xk build mixes xk
// cc and gcc objects, and the System V calling convention is what is tested.

import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { startSession } from '../../src/kernel/boot/session.js';
import { GEN_CFLAGS } from '../../src/build/gcc.js';
import { linkWithLibrary, type ObjectInput, type UserLibrary } from '../../src/build/userBuild.js';
import { REPO_ROOT } from './userBuild.js';
import { xkccObject } from './xkccBuild.js';
import type { Outcome } from './ccOracle.js';
import type { BatchPredicate } from './ccReduce.js';

const run = promisify(execFile);

/** test/cc: cctest.h (printf from the host's libc or from xk's) and the corpus. */
export const CORPUS = path.join(REPO_ROOT, 'test', 'cc');
const RUNNER = path.join(CORPUS, 'harness', 'runner.c');
/** Programs per boot of xk. */
const BATCH = 48;
/** Instructions for one program of a batch before it counts as hung. */
const STEPS_PER_PROGRAM = 40_000_000;

export interface CProgram {
  /** Where it comes from, for messages: "features/structs.c:nested" or "random seed 17". */
  name: string;
  source: string;
  /** C compiled by gcc -c into both builds (callees and callers across the two compilers). */
  partner?: string;
}

export interface Disagreement {
  program: CProgram;
  optimize: number;
  expected: Outcome;
  got: Outcome;
  /** The first differing line, or the status, in words. */
  difference: string;
}

/** Rewrites xk cc's assembly before it is assembled (a test injects a codegen bug with it). */
export type AssemblyRewrite = (assembly: string) => string;

function key(p: CProgram): string {
  return createHash('sha1').update(p.source).update('\0').update(p.partner ?? '').digest('hex');
}

const nativeCache = new Map<string, Promise<Outcome>>();
let tmpDir: string | undefined;

function scratch(): string {
  if (tmpDir === undefined) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-ccdiff-'));
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    tmpDir = dir;
  }
  return tmpDir;
}

/** At most `limit` of the jobs at a time (the host's cores). */
function pool(limit: number): <T>(job: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(job: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await job();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
const gccSlot = pool(Math.max(1, os.availableParallelism()));

async function buildAndRunNative(p: CProgram, id: string): Promise<Outcome> {
  const dir = scratch();
  const c = path.join(dir, `${id}.c`);
  const exe = path.join(dir, id);
  fs.writeFileSync(c, p.source);
  const sources = [c];
  if (p.partner !== undefined) {
    fs.writeFileSync(path.join(dir, `${id}-partner.c`), p.partner);
    sources.push(path.join(dir, `${id}-partner.c`));
  }
  try {
    await gccSlot(() => run('gcc', ['-w', '-O0', '-I', CORPUS, '-o', exe, ...sources]));
  } catch (e) {
    return { output: `gcc failed: ${(e as { stderr?: string }).stderr ?? e}`, status: -1 };
  }
  const r = spawnSync(exe, [], { encoding: 'latin1', timeout: 3_000 });
  fs.rmSync(exe, { force: true });
  return { output: r.stdout, status: r.status };
}

/** The gcc build of each program run natively; a program's result is kept for the rest of the run. */
export function nativeOutcomes(programs: CProgram[]): Promise<Outcome[]> {
  return Promise.all(programs.map((p) => {
    const k = key(p);
    let outcome = nativeCache.get(k);
    if (outcome === undefined) {
      outcome = buildAndRunNative(p, k.slice(0, 16));
      nativeCache.set(k, outcome);
    }
    return outcome;
  }));
}

const partnerCache = new Map<string, ObjectInput>();

/** The partner source compiled by gcc -c as xk's user programs are (no libc, no SSE). */
function partnerObject(source: string): ObjectInput {
  const k = createHash('sha1').update(source).digest('hex');
  let o = partnerCache.get(k);
  if (o === undefined) {
    const c = path.join(scratch(), `partner-${k.slice(0, 16)}.c`);
    fs.writeFileSync(c, source);
    const flags = GEN_CFLAGS.filter((f) => !/^-W/.test(f));
    spawnSync('gcc', [...flags, '-w', '-DXK', '-I', CORPUS, '-I', path.join(REPO_ROOT, 'user', 'include'), '-c', '-o', c + '.o', c]);
    o = { name: 'partner.o', bytes: new Uint8Array(fs.readFileSync(c + '.o')) };
    partnerCache.set(k, o);
  }
  return o;
}

const runners = new WeakMap<UserLibrary, Uint8Array>();

function runnerFor(library: UserLibrary): Uint8Array {
  let image = runners.get(library);
  if (image === undefined) {
    image = linkWithLibrary([xkccObject(fs.readFileSync(RUNNER, 'utf8'), RUNNER, 1)], library);
    runners.set(library, image);
  }
  return image;
}

type Built = { image: Uint8Array } | { failure: string };

function buildForXk(p: CProgram, library: UserLibrary, optimize: number, rewrite?: AssemblyRewrite): Built {
  try {
    const objects = [xkccObject(p.source, path.join(CORPUS, 'program.c'), optimize, { XK: '1' }, [], rewrite)];
    if (p.partner !== undefined) objects.push(partnerObject(p.partner));
    return { image: linkWithLibrary(objects, library) };
  } catch (e) {
    return { failure: (e as Error).message.split('\n').slice(0, 4).join('\n') };
  }
}

/** Boots xk once for `images` (at most BATCH); the outcomes of the programs that finished. */
async function runBatch(images: Uint8Array[], library: UserLibrary): Promise<Outcome[]> {
  const programs = new Map<string, Uint8Array>(images.map((image, i) => [`p${i}`, image]));
  let console = '';
  let finished = 0;
  const session = await startSession({
    program: { path: 'runner', image: runnerFor(library), argv: ['runner', String(images.length)] },
    programs, memoryBytes: 16 * 1024 * 1024, disk: 'instant',
    output: (b) => {
      const text = Buffer.from(b).toString('latin1');
      console += text;
      for (const c of text) if (c === '\x03') finished++;
    },
  });
  try {
    // each program gets STEPS_PER_PROGRAM instructions from the end of the one before
    let since = 0;
    let seen = 0;
    while (!session.run(1_000_000)) {
      since = finished === seen ? since + 1_000_000 : 0;
      seen = finished;
      if (since >= STEPS_PER_PROGRAM) break;
    }
  } finally {
    session.close();
  }
  const outcomes: Outcome[] = [];
  const pattern = /\x01(\d+)\x02([^]*?)\x03(-?\d+)\x04/g;
  for (let m = pattern.exec(console); m !== null; m = pattern.exec(console)) {
    outcomes[Number(m[1])] = { output: m[2], status: Number(m[3]) & 0xff };
  }
  // the program that was running when the batch ran out of instructions
  const last = console.lastIndexOf('\x01');
  if (last >= 0 && console.indexOf('\x03', last) < 0) {
    const i = Number(/^\x01(\d+)\x02/.exec(console.slice(last))![1]);
    outcomes[i] = { output: console.slice(console.indexOf('\x02', last) + 1), status: null };
    outcomes.length = i + 1;
  }
  return outcomes;
}

/** Each program built by xk cc at `optimize` and run on xk; a build failure is an outcome (status -1). */
export async function xkOutcomes(programs: CProgram[], library: UserLibrary, optimize: number, rewrite?: AssemblyRewrite): Promise<Outcome[]> {
  const built = programs.map((p) => buildForXk(p, library, optimize, rewrite));
  const outcomes: Outcome[] = built.map((b) => ('failure' in b ? { output: b.failure, status: -1 } : { output: '', status: null }));
  const runnable = built.flatMap((b, i) => ('image' in b ? [i] : []));
  for (let at = 0; at < runnable.length;) {
    const batch = runnable.slice(at, at + BATCH);
    const got = await runBatch(batch.map((i) => (built[i] as { image: Uint8Array }).image), library);
    // up to and including a hung program; the rest go in the next batch
    const done = Math.max(1, got.length);
    for (let k = 0; k < done; k++) outcomes[batch[k]] = got[k] ?? { output: 'no output: the batch did not start it', status: null };
    at += done;
  }
  return outcomes;
}

/** How two outcomes differ, in words; null when they agree. */
export function difference(expected: Outcome, got: Outcome): string | null {
  if (got.status === -1) return `xk cc's build failed: ${got.output}`;
  const want = expected.output.split('\n');
  const have = got.output.split('\n');
  const i = want.findIndex((l, k) => l !== have[k]);
  if (i >= 0) return `line ${i + 1}: gcc '${want[i]}', xk cc '${have[i] ?? '(end of output)'}'`;
  if (have.length > want.length) return `line ${want.length + 1}: gcc (end of output), xk cc '${have[want.length]}'`;
  if (got.status !== expected.status) return `exit status: gcc ${expected.status}, xk cc ${got.status}`;
  return null;
}

/** Every program at every level in `levels`, against gcc natively. */
export async function disagreements(programs: CProgram[], library: UserLibrary, levels: number[] = [0, 1], rewrite?: AssemblyRewrite): Promise<Disagreement[]> {
  const expected = await nativeOutcomes(programs);
  const out: Disagreement[] = [];
  for (const optimize of levels) {
    const got = await xkOutcomes(programs, library, optimize, rewrite);
    programs.forEach((program, i) => {
      const d = difference(expected[i], got[i]);
      if (d !== null) out.push({ program, optimize, expected: expected[i], got: got[i], difference: d });
    });
  }
  return out;
}

/**
 * The reducer's test (ccReduce.ts) for a disagreement: gcc's build still
 * builds and exits normally, and xk cc's build at the same level still differs from it in the
 * same way (a different output or status, or the same first compile error).
 */
export function stillDisagrees(found: Disagreement, library: UserLibrary, rewrite?: AssemblyRewrite): BatchPredicate {
  const buildError = (o: Outcome): string => o.output.replace(/^xk cc rejected[^\n]*\n/, '').split('\n')[0].replace(/^[^ ]*:\d+:\d+: /, '');
  const failed = found.got.status === -1 ? buildError(found.got) : null;
  return async (texts) => {
    const programs = texts.map((source) => ({ ...found.program, source }));
    const expected = await nativeOutcomes(programs);
    const got = await xkOutcomes(programs, library, found.optimize, rewrite);
    return programs.map((_, i) => {
      if (expected[i].status === null || expected[i].status === -1) return false; // gcc's build fails or crashes
      if (failed !== null) return got[i].status === -1 && buildError(got[i]) === failed;
      return got[i].status !== -1 && difference(expected[i], got[i]) !== null;
    });
  };
}
