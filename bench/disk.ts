// npm run bench, the disk (issue 19):
//  1. Two processes, one computing and one reading a large file, on the instant
//     disk and on the timed disk: the machine's utilisation (instructions
//     retired / machine time, where machine time also counts the time the CPU
//     skipped in hlt), the disk's busy time, and the wall-clock cost of the
//     timed disk model on the emulator. The reader alone shows what the
//     overlap buys.
//  2. user/examples/aioread.c, traced: the instructions the process ran while
//     each of its asynchronous reads was in flight, against a blocking read,
//     during which it runs none (it sleeps).
// No test asserts these numbers; they are measured in this run.

import { programImage, defaultUserPrograms } from '../src/cli/programImage.js';
import { runToCompletion, startSession, type Session } from '../src/kernel/boot/session.js';
import type { TraceEvent } from '../src/kernel/traceEvents.js';
import { buildCProgram, C_PROTOTYPES } from '../test/kernelHelpers.js';
import { kernelMonitor } from '../src/vmm/kernelProcess.js';
import { have } from '../test/cpuProgramSupport.js';

const RUNS = 3;
/** The file aioread reads (16 chunks of 4 KiB: 8 blocking, 8 asynchronous). */
const AIO_FILE = 64 * 1024;
const FILE_SIZE = 512 * 1024;
const file = Uint8Array.from({ length: FILE_SIZE }, (_, i) => (i * 31 + (i >> 10)) & 0xff);

const TWO = C_PROTOTYPES + `
static char buf[8192];
int main(int argc, char **argv) {
  int compute = argv[1][0] == 'c';
  int pid = compute ? fork() : 1;
  if (pid == 0) {                                 /* computes */
    volatile unsigned x = 0;
    for (int i = 0; i < 150000; i++) x += i;
    exit();
  }
  int fd = open("big", 0), n; unsigned sum = 0;   /* reads the large file */
  while ((n = read(fd, buf, sizeof buf)) > 0) for (int i = 0; i < n; i += 64) sum += (unsigned char)buf[i];
  if (compute) wait();
  puts("sum "); putint(sum); puts("\\n");
  return 0;
}`;

interface Figures { wall: number; instructions: number; clock: number; diskBusy: number; commands: number; status: number | null }

async function runTwo(image: Uint8Array, disk: 'timed' | 'instant', mode: string): Promise<Figures> {
  let best: Figures | null = null;
  for (let run = 0; run < RUNS; run++) {
    const t0 = process.hrtime.bigint();
    const { status, session } = await runToCompletion({
      program: { path: 'two', image, argv: ['two', mode] },
      memoryBytes: 16 * 1024 * 1024, monitor: kernelMonitor, output: () => {}, disk,
      programs: new Map([['big', file]]),
    });
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const m = session.machine;
    const instructions = m.cpu.instructionCount;
    const f = {
      wall, instructions, clock: instructions + m.interrupts.idleTicks, status,
      diskBusy: m.devices.disk?.busyTime ?? 0, commands: m.devices.disk?.completed ?? 0,
    };
    if (!best || f.wall < best.wall) best = f;
  }
  return best!;
}

function show(label: string, f: Figures): void {
  const util = (100 * f.instructions / f.clock).toFixed(1);
  console.log(`  ${label.padEnd(30)} machine time ${String(f.clock).padStart(9)}, instructions ${String(f.instructions).padStart(9)}: ` +
    `utilisation ${util.padStart(5)}%; disk busy ${f.diskBusy} (${f.commands} commands); ${f.wall.toFixed(2)} s wall${f.status === 0 ? '' : ` (status ${f.status})`}`);
}

async function utilisation(): Promise<void> {
  if (!have('gcc')) { console.log('disk: gcc not installed: skipping the utilisation figures'); return; }
  const image = buildCProgram(TWO);
  console.log(`disk: one process computing, one reading a ${FILE_SIZE / 1024} KiB file (best of ${RUNS} by wall time):`);
  const instant = await runTwo(image, 'instant', 'c');
  const timed = await runTwo(image, 'timed', 'c');
  const alone = await runTwo(image, 'timed', 'r');
  show('instant disk, both', instant);
  show('timed disk, both', timed);
  show('timed disk, reader alone', alone);
  const extra = timed.wall - instant.wall;
  console.log(`  the timed disk model costs ${extra.toFixed(2)} s of wall time (${((timed.wall / instant.wall - 1) * 100).toFixed(0)}%)` +
    (timed.commands > 0 ? `, ${(extra / timed.commands * 1e6).toFixed(1)} us per disk command` : ''));
}

async function aioread(): Promise<void> {
  const image = programImage('xk bench', 'user/examples/aioread.c');
  if (typeof image === 'string') { console.log(`aioread: ${image}`); return; }
  // Each event with the machine's time (retired instructions + time skipped in hlt) when it happened.
  const events: Array<TraceEvent & { clock: number }> = [];
  let output = '';
  let session: Session | null = null;
  const clock = (): number => (session ? session.machine.cpu.instructionCount + session.machine.interrupts.idleTicks : 0);
  const programs = defaultUserPrograms('xk bench');
  programs.set('data', file.subarray(0, AIO_FILE));
  session = await startSession({
    program: { path: 'aioread', image, argv: ['aioread', 'data'] },
    memoryBytes: 16 * 1024 * 1024, monitor: kernelMonitor, programs,
    output: (b) => { output += Buffer.from(b).toString('latin1'); }, trace: (e) => events.push({ ...e, clock: clock() }),
  });
  try {
    for (let ran = 0; !session.run(1_000_000) && ran < 200_000_000; ran += 1_000_000);
  } finally {
    session.close();
  }
  const pid = events.find((e) => e.step === 'aio-enqueue')?.pid ?? 1;
  // Asynchronous reads: from the enqueue to the completion, the process keeps running.
  const enqueued = new Map<string, number>();
  const inFlight: number[] = [];
  // Blocking reads: from the sleep in sys_read to the wakeup, it runs nothing; the CPU idles.
  const blocked: number[] = [];
  const blockedTime: number[] = [];
  let sleptAt = -1, sleptClock = 0;
  for (const e of events) {
    if (e.pid !== pid) continue;
    const id = /request (\d+)/.exec(e.text)?.[1];
    if (e.step === 'aio-enqueue' && id) enqueued.set(id, e.count);
    else if (e.step === 'aio-complete' && id && enqueued.has(id)) inFlight.push(e.count - enqueued.get(id)!);
    else if (e.step === 'sleep' && /sys_read/.test(e.text)) { sleptAt = e.count; sleptClock = e.clock; }
    else if (e.step === 'wakeup' && sleptAt >= 0) { blocked.push(e.count - sleptAt); blockedTime.push(e.clock - sleptClock); sleptAt = -1; }
  }
  const avg = (a: number[]) => (a.length ? Math.round(a.reduce((s, x) => s + x, 0) / a.length) : 0);
  console.log('aioread (user/examples/aioread.c, timed disk):');
  for (const line of output.trim().split('\n')) console.log(`  ${line}`);
  const sum = (a: number[]) => a.reduce((s, x) => s + x, 0);
  console.log(`  blocking read(): ${blocked.length} sleeps on the disk, ${avg(blockedTime)} machine time each (${sum(blockedTime)} in all) ` +
    `in which ${avg(blocked)} instructions retired (interrupt entry only: the process runs none of its own, the CPU idles in hlt)`);
  console.log(`  aio_read(): ${inFlight.length} reads; the process kept running: ${avg(inFlight)} instructions retired per read while it was in flight ` +
    `(${sum(inFlight)} in all): instructions saved = time it did not wait`);
}

export async function diskBench(): Promise<void> {
  await utilisation();
  await aioread();
}
