// `xk fuzz [--seconds N] [--calls N] [--seed S] [--save FILE] [--replay FILE] [--disk timed|instant]`:
// random system calls against the kernel (src/kernel/fuzz/fuzzer.ts), with the
// oracles checked after every call. Prints the calls made, calls per second, the
// distinct outcomes reached, and every violation with its seed and a minimized
// reproducer (also written to FILE with --save, and replayable with --replay).

import { readFileSync, writeFileSync } from 'node:fs';
import { fuzz, minimize, type FuzzReport } from '../kernel/fuzz/fuzzer.js';
import type { FuzzCall } from '../kernel/fuzz/fuzzGenerate.js';
import { commandUsage, HELP_FLAGS, isOption } from './options.js';
import { fuzzVm } from '../vmm/fuzz/campaign.js';
import { describeGuest } from '../vmm/fuzz/guestGenerator.js';
import { fuzzVmUnderKernel } from './fuzzVmKernel.js';

const USAGE = commandUsage('fuzz');

interface SavedCall extends Omit<FuzzCall, 'writes'> {
  writes: Array<[number, string]>;
}
const save = (calls: FuzzCall[]): SavedCall[] =>
  calls.map((c) => ({ ...c, writes: c.writes.map(([va, b]): [number, string] => [va, Buffer.from(b).toString('base64')]) }));
const load = (calls: SavedCall[]): FuzzCall[] =>
  calls.map((c) => ({ ...c, writes: c.writes.map(([va, b]): [number, Uint8Array] => [va, new Uint8Array(Buffer.from(b, 'base64'))]) }));

export async function fuzzCommand(args: string[]): Promise<number> {
  let seconds: number | undefined;
  let calls: number | undefined;
  let seed = 1;
  let saveFile: string | undefined;
  let replayFile: string | undefined;
  let vm = false;
  let kernel = false;
  let count: number | undefined;
  let disk: 'timed' | 'instant' = 'instant';
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = args[i + 1];
    const number = (what: string): number | string => {
      i++;
      const n = Number(value);
      return value !== undefined && Number.isInteger(n) && n >= 0 ? n : `xk fuzz: ${what} needs a whole number, not '${value ?? ''}'`;
    };
    let r: number | string | undefined;
    if (HELP_FLAGS.includes(a)) { process.stdout.write(USAGE); return 0; }
    if (!isOption('fuzz', a)) {
      process.stderr.write(`xk fuzz: unknown option '${a}'\n${USAGE}`);
      return 2;
    }
    if (a === '--seconds') r = seconds = number('--seconds') as number;
    else if (a === '--calls') r = calls = number('--calls') as number;
    else if (a === '--seed') r = seed = number('--seed') as number;
    else if (a === '--vm') vm = true;
    else if (a === '--kernel') kernel = true;
    else if (a === '--count') r = count = number('--count') as number;
    else if (a === '--save' && value) saveFile = args[++i];
    else if (a === '--replay' && value) replayFile = args[++i];
    else if (a === '--disk') {
      i++;
      if (value === 'timed' || value === 'instant') disk = value;
      else r = `xk fuzz: --disk must be 'timed' or 'instant', not '${value ?? ''}'`;
    }
    else {
      process.stderr.write(`xk fuzz: unknown option '${a}'\n${USAGE}`);
      return 2;
    }
    if (typeof r === 'string') {
      process.stderr.write(r + '\n' + USAGE);
      return 2;
    }
  }
  if (vm || count !== undefined || kernel) {
    const misplaced = !vm ? (kernel ? '--kernel' : '--count') : calls !== undefined ? '--calls' : seconds !== undefined ? '--seconds' : saveFile ? '--save' : replayFile ? '--replay' : disk !== 'instant' ? '--disk' : null;
    if (misplaced !== null) {
      process.stderr.write(`xk fuzz: ${misplaced} ${vm ? 'does not apply to --vm' : 'needs --vm'}\n${USAGE}`);
      return 2;
    }
    return kernel ? fuzzVmKernelCommand(seed, count ?? 100) : fuzzVmCommand(seed, count ?? 2000);
  }
  if (replayFile) {
    let script: FuzzCall[];
    try {
      const saved = JSON.parse(readFileSync(replayFile, 'utf8')) as { seed: number; disk?: 'timed' | 'instant'; calls: SavedCall[] };
      script = load(saved.calls);
      seed = saved.seed;
      disk = saved.disk ?? disk;
    } catch (e) {
      process.stderr.write(`xk fuzz: cannot read the reproducer ${replayFile}: ${(e as Error).message}\n`);
      return 2;
    }
    const report = await fuzz({ seed, script, disk });
    for (const c of script) process.stdout.write(`  ${c.text}\n`);
    if (report.violations.length === 0) process.stdout.write('no violations on replay\n');
    printViolations(report);
    return report.violations.length === 0 ? 0 : 1;
  }
  if (seconds === undefined && calls === undefined) seconds = 10;
  const report = await fuzz({ seed, seconds, calls, disk });
  process.stdout.write(
    `xk fuzz: seed ${seed}: ${report.calls} system calls in ${report.seconds.toFixed(1)} s ` +
      `(${report.callsPerSecond} calls/s), ${report.outcomes} distinct outcomes, ` +
      `${report.lives} fuzzing processes (${report.rescues} killed when everything slept)\n`,
  );
  const a = report.aio;
  process.stdout.write(`  ${disk} disk: ${a.diskInterrupts} disk interrupts; asynchronous I/O: ${a.enqueued} requests, ` +
    `${a.completed} completed, ${a.dropped} dropped at exit, ${a.raised} completion signals raised, ${a.delivered} delivered\n`);
  const counts = [...report.perSyscall].sort((a, b) => b[1] - a[1]).map(([n, c]) => `${n} ${c}`);
  process.stdout.write(`  calls: ${counts.join(', ')}\n`);
  if (report.violations.length === 0) {
    process.stdout.write('  no violations\n');
    return 0;
  }
  printViolations(report);
  const first = report.violations[0];
  const small = await minimize(first, 60, disk);
  process.stdout.write(`minimized reproducer of the first violation (${small.reproduced ? 'reproduces' : 'did NOT reproduce on replay'}; seed ${seed}):\n`);
  for (const c of small.calls) process.stdout.write(`  ${c.text}\n`);
  if (saveFile) {
    writeFileSync(saveFile, JSON.stringify({ seed, disk, violation: first.message, calls: save(small.calls) }, null, 1));
    process.stdout.write(`saved to ${saveFile} (replay: xk fuzz --replay ${saveFile})\n`);
  }
  return 1;
}

function printViolations(report: FuzzReport): void {
  for (const v of report.violations) {
    process.stdout.write(`VIOLATION (seed ${v.seed}) ${v.kind}: ${v.message}${v.call ? `\n  during ${v.call}` : ''}\n`);
  }
}

/** `xk fuzz --vm --kernel`: COUNT guests from seed SEED as processes of the xk kernel, each against the bare machine. */
async function fuzzVmKernelCommand(seed: number, count: number): Promise<number> {
  const start = Date.now();
  const report = await fuzzVmUnderKernel(seed, count);
  process.stdout.write(
    `xk fuzz --vm --kernel: ${report.guests} guests (patchable, ending by themselves; ${report.seedsTried} seeds from ${seed}) ` +
      `in ${report.sessions} shell sessions, ${((Date.now() - start) / 1000).toFixed(1)} s, ${report.findings.length} disagreements\n`,
  );
  for (const f of report.findings) {
    process.stdout.write(`DISAGREEMENT (seed ${f.seed}) xk kernel: ${f.difference}\n`);
    if (f.guest !== null) process.stdout.write(`guest of seed ${f.seed} (rerun: xk fuzz --vm --kernel --seed ${f.seed} --count 1):\n${describeGuest(f.guest)}\n`);
  }
  return report.findings.length === 0 ? 0 : 1;
}

/** Disagreements `xk fuzz --vm` minimizes and prints as guests (the others: their seed and how to rerun it). */
const VM_MINIMIZED = 10;

/** `xk fuzz --vm`: COUNT guests from seed SEED; each disagreement with its seed and a minimized guest. */
function fuzzVmCommand(seed: number, count: number): number {
  const report = fuzzVm({ seed, count, minimize: VM_MINIMIZED });
  process.stdout.write(
    `xk fuzz --vm: seeds ${seed}..${seed + count - 1}: ${report.guests} guests (${report.runs} monitor runs) in ${report.seconds.toFixed(1)} s ` +
      `(${report.guestsPerSecond} guests/s), ${report.findings.length} disagreements\n`,
  );
  process.stdout.write(`  bare outcomes: ${report.outcomes.map(([o, n]) => `${o} ${n}`).join(', ')}\n`);
  for (const f of report.findings) process.stdout.write(`DISAGREEMENT (seed ${f.seed}) ${f.mode}: ${f.difference}\n`);
  for (const f of report.findings) {
    const rerun = `rerun: xk fuzz --vm --seed ${f.seed} --count 1`;
    if (f.minimized === undefined) { process.stdout.write(`seed ${f.seed}: not minimized here (${rerun})\n`); continue; }
    process.stdout.write(`minimized guest of seed ${f.seed} (${f.minimizedDifference}; ${rerun}):\n`);
    process.stdout.write(describeGuest(f.minimized) + '\n');
  }
  return report.findings.length === 0 ? 0 : 1;
}
