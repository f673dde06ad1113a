// A small driver for the JIT tier alone: the gcc -O2 program of bench/run.ts
// (test/oracle/program.c, compute() 300 times, or REPEAT) run on xk with the JIT,
// timed by the process's CPU time and by the wall clock, with the JIT's
// statistics. For profiling: node --cpu-prof dist/bench/jitProgram.js
// (XK_JIT=0 runs the interpreter and blocks alone; CHUNK=n prints the time of each n instructions).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Machine } from '../src/machine/machine.js';
import { buildProgram, loadElf } from '../test/cpuProgramSupport.js';
import { jitStats } from '../src/machine/jit/translate.js';

/** CPU seconds of the main thread alone (Linux: /proc; V8's compiler threads excluded), or NaN. */
function mainThreadSeconds(): number {
  try {
    const f = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-jit-'));
try {
  const { xk } = buildProgram(dir, 'O2', Number(process.env.REPEAT ?? 300));
  const image = new Uint8Array(fs.readFileSync(xk));
  const runs = Number(process.env.RUNS ?? 1);
  let best = Infinity, count = 0;
  for (let i = 0; i < runs; i++) {
    const machine = new Machine({ memoryBytes: 8 << 20 });
    machine.cpu.rip = loadElf(machine, image);
    const c0 = process.cpuUsage(), t0 = process.hrtime.bigint(), m0 = mainThreadSeconds();
    // CHUNK=n: report the main thread's time per n instructions (warm-up against steady state).
    const chunk = Number(process.env.CHUNK ?? 0);
    let stop = machine.run(chunk > 0 ? chunk : 1e10);
    if (chunk > 0) {
      const times: string[] = [];
      let last = m0;
      for (;;) {
        const now = mainThreadSeconds();
        times.push((now - last).toFixed(2));
        last = now;
        if (machine.cpu.halted) break;
        stop = machine.run(chunk);
      }
      console.log(`seconds per ${chunk} instructions: ${times.join(' ')}`);
    }
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0), cpu = (c.user + c.system) / 1e6, main = mainThreadSeconds() - m0;
    const n = machine.cpu.instructionCount;
    best = Math.min(best, main); count = n;
    console.log(`${stop}: ${n} instructions, rax ${machine.cpu.getReg64(0).toString(16)}; cpu ${cpu.toFixed(2)} s = ${(n / cpu / 1e6).toFixed(1)} M/s, main thread ${main.toFixed(2)} s = ${(n / main / 1e6).toFixed(1)} M/s, wall ${wall.toFixed(2)} s = ${(n / wall / 1e6).toFixed(1)} M/s`);
  }
  if (runs > 1) console.log(`best of ${runs}: main thread ${best.toFixed(2)} s = ${(count / best / 1e6).toFixed(1)} M/s`);
  console.log(`jit: ${JSON.stringify(jitStats)}`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
