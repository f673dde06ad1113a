// Issue 19, the rest: the --disk flag of `xk run`/`xk trace`, the disk path
// as `xk trace --all` prints it (each step with its [pid N]), and processes
// that exit or are killed with disk commands in flight.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers/userBuild.js';
import { parseRunArguments } from '../src/cli/runCommand.js';
import { buildCProgram, C_PROTOTYPES } from './kernelHelpers.js';
import { runToCompletion } from '../src/kernel/boot/session.js';
import { aioStatistics } from '../src/kernel/syscall/sysaio.js';
import type { TraceEvent } from '../src/kernel/traceEvents.js';
import { kernelMonitor } from '../src/vmm/kernelProcess.js';

const XK = join(REPO_ROOT, 'bin', 'xk.js');
const xk = (...args: string[]) => spawnSync(process.execPath, [XK, ...args], { cwd: REPO_ROOT, encoding: 'utf8', input: '' });

test('--disk timed|instant: parsed for run and trace; a bad value is a clear error (exit 2)', () => {
  for (const name of ['run', 'trace'] as const) {
    for (const disk of ['timed', 'instant'] as const) {
      const parsed = parseRunArguments(name, ['--disk', disk]);
      assert.ok(typeof parsed === 'object' && 'options' in parsed, String(parsed));
      assert.equal(parsed.options.disk, disk);
    }
    assert.equal(parseRunArguments(name, ['--disk', 'fast']), `xk ${name}: --disk must be 'timed' or 'instant', not 'fast'`);
    assert.equal(parseRunArguments(name, ['--disk']), `xk ${name}: --disk needs a value`);
  }
  const bad = xk('run', '--disk', 'slow');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /xk run: --disk must be 'timed' or 'instant', not 'slow'/);
  assert.match(xk('run', '--help').stdout, /--disk timed\|instant/);
});

/** Index of the first line at or after `from` that matches. */
function find(lines: string[], from: number, re: RegExp): number {
  for (let i = Math.max(from, 0); i < lines.length; i++) if (re.test(lines[i])) return i;
  return -1;
}

test('xk trace --all: enqueue -> disk command -> completion interrupt -> wakeup -> signal, each with [pid N]; --disk instant has no disk interrupt', () => {
  const timed = xk('trace', '--all', 'user/examples/aioread.c');
  assert.equal(timed.status, 0, timed.stderr);
  const lines = timed.stdout.split('\n');
  const steps: Array<[string, RegExp]> = [
    ['the enqueue system call', /^pid 1: aio_read\(3, \d+, 0x[0-9a-f]+, 4096, 10\) = 1 /],
    ['the disk command', /kernel {2}disk request: read block \d+ \(tag \d\) {3}\[pid 1\]$/],
    ['the enqueue', /kernel {2}aio_read: request 1 enqueued \(4096 bytes at offset \d+\); completion raises SIGUSR1 {3}\[pid 1\]$/],
    ['the waiting process sleeps', /kernel {2}sys_aio_waitany sleeps {3}\[pid 1\]$/],
    ['the completion interrupt', /kernel {2}disk interrupt \(IRQ 14\) {3}\[pid \d+(, idle)?\]$/],
    ['the disk completion', /kernel {2}disk: read of block \d+ done {3}\[pid 1\]$/],
    ['the request completes', /kernel {2}aio: request 1 \(read\) completes: 4096; raise SIGUSR1 with si_code SI_ASYNCIO.* {3}\[pid 1\]$/],
    ['the wakeup', /kernel {2}wakeup: pid 1 \(aioread\) is runnable \(channel: aio completion\) {3}\[pid 1\]$/],
    ['the signal delivery', /kernel {2}deliver SIGUSR1 \(10\) .*handler 0x[0-9a-f]+.* {3}\[pid 1\]$/],
  ];
  let at = 0;
  for (const [what, re] of steps) {
    const i = find(lines, at, re);
    assert.ok(i >= 0, `${what} (${re}) after line ${at + 1}`);
    at = i;
  }
  // The blocking reads of the first half: the disk wakes the sleeping reader.
  assert.ok(find(lines, 0, /wakeup: pid 1 \(aioread\) is runnable \(channel: disk block \d+\) {3}\[pid 1\]$/) >= 0);

  const instant = xk('trace', '--all', '--disk', 'instant', 'user/examples/aioread.c');
  assert.equal(instant.status, 0, instant.stderr);
  assert.equal(instant.stdout.split('\n')[0], lines[0], 'same file, same hashes');
  assert.doesNotMatch(instant.stdout, /disk interrupt \(IRQ 14\)|disk request:/);
  assert.match(instant.stdout, /aio: request 1 \(read\) completes: 4096.* {3}\[pid 1\]/);
});

// Crash: rounds of a victim that enqueues asynchronous reads and then sleeps in
// a blocking read (disk commands in flight), and is killed (odd rounds) or
// exits by itself (even rounds) at that moment. A bystander reads and sums
// another file meanwhile.
const BIG = 16 * 20480;
const big = Uint8Array.from({ length: BIG }, (_, i) => (i * 7 + (i >> 9)) & 0xff);
const other = Uint8Array.from({ length: 24 * 1024 }, (_, i) => (i * 13 + 5) & 0xff);
const otherSum = other.reduce((s, b) => (s * 31 + b) >>> 0, 0);

const CRASH = C_PROTOTYPES + `
int aio_read(int fd, int offset, void *buf, int n, int sig);
static char bufs[4][4096];
static char tail[8192];
static char obuf[4096];
int main(int argc, char **argv) {
  int rounds = argv[1][0] - '0';
  int by = fork();
  if (by == 0) {                       /* the bystander */
    int fd = open("other", 0), n; unsigned sum = 0;
    while ((n = read(fd, obuf, sizeof obuf)) > 0) for (int i = 0; i < n; i++) sum = sum * 31 + (unsigned char)obuf[i];
    puts("bystander sum "); putint(sum); puts("\\n");
    exit();
  }
  for (int r = 0; r < rounds; r++) {
    int p[2]; pipe(p);
    int pid = fork();
    if (pid == 0) {                    /* the victim */
      int fd = open("big", 0);
      int base = r * 20480;
      for (int i = 0; i < 4; i++) if (aio_read(fd, base + i * 4096, bufs[i], 4096, 0) <= 0) puts("enqueue failed\\n");
      write(p[1], "x", 1);
      if (r % 2 == 0) exit();          /* exits with its reads in flight */
      read(fd, tail, sizeof tail);     /* sleeps on the disk: killed there */
      puts("victim survived\\n");
      exit();
    }
    char c; read(p[0], &c, 1);
    if (r % 2 == 1) kill(pid);
    wait();
    close(p[0]); close(p[1]);
  }
  wait();
  puts("parent done\\n");
  return 0;
}`;

async function crash(rounds: number) {
  let output = '';
  const events: TraceEvent[] = [];
  const { status, message, session } = await runToCompletion({
    program: { path: 'crash', image: buildCProgram(CRASH), argv: ['crash', String(rounds)] },
    memoryBytes: 16 * 1024 * 1024,
    monitor: kernelMonitor,
    output: (b) => { output += Buffer.from(b).toString('latin1'); },
    programs: new Map([['big', big], ['other', other]]),
    trace: (e) => events.push(e),
  });
  const k = session.kernel;
  return { rounds, status, message, output, freePages: k.allocator.freePages, disk: k.disk?.outstanding ?? -1, aio: aioStatistics(k), events, live: k.procs.live().length };
}

test('crash: processes that exit or are killed with disk commands in flight leak nothing; no panic; the bystander is unaffected', async () => {
  const one = await crash(2);
  const many = await crash(6);
  for (const r of [one, many]) {
    assert.equal(r.status, 0, r.message + r.output);
    assert.doesNotMatch(r.message, /panic|error/i);
    assert.match(r.output, new RegExp(`bystander sum ${otherSum}\\n`));
    assert.match(r.output, /parent done\n/);
    assert.doesNotMatch(r.output, /victim survived|enqueue failed|panic/);
    assert.equal(r.aio.requests, 0, 'no request outlives its process');
    assert.equal(r.disk, 0, 'no disk request left in the driver');
    // The crashes happened with the disk busy: requests dropped at completion, victims killed asleep on the disk.
    const drops = r.events.filter((e) => e.step === 'aio-drop');
    assert.ok(drops.length >= r.rounds, `requests of gone processes dropped (${drops.length})`);
    const kills = r.events.flatMap((e, i) => {
      const m = e.step === 'sys' ? /^sys_kill\((\d+)\)/.exec(e.text) : null;
      return m ? [{ i, victim: Number(m[1]) }] : [];
    });
    assert.equal(kills.length, r.rounds / 2, 'one kill per odd round');
    for (const { i, victim } of kills) {
      const last = r.events.slice(0, i).reverse().find((e) => e.pid === victim)!;
      assert.match(last.step, /^(sleep|disk-wait)$/, `pid ${victim} is killed asleep on the disk (${last.text})`);
    }
  }
  assert.equal(many.freePages, one.freePages, 'four more rounds of crashes cost no pages');
  assert.equal(many.live, one.live, 'no process left behind');
});
