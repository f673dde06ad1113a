// npm run bench: how fast is the emulated CPU?
//
//  1. Instructions per second on a tight compute loop (hand-written machine code).
//  2. The gcc-built integer program of the CPU oracle (test/oracle/program.c,
//     -O2, compute() run 1600 times, ~525 M instructions): wall time on xk divided by wall time natively;
//     the JIT's line also in CPU time (process.cpuUsage), the code cache's size
//     and bound, and the same binary under qemu-x86_64 when it is on PATH.
//  3. The kernel: a user program calling getpid() in a loop under xk, entering by
//     int $64 and by syscall, in system calls per second and instructions per call.
//  4. fork + exit of a process with a 4 MiB heap: eager copy vs copy-on-write (fork.ts).
//  5. One compute(), stepped an instruction at a time, with and without the
//     decoded-instruction cache: what decoding once per address buys.
//  6. xk cc: compile speed, and xk cc vs gcc code on xk (cc.ts).
//  7. The disk (disk.ts): utilisation on the instant vs the timed disk, the timed
//     model's wall-clock cost, and aioread's instructions run while reads are in flight.
//  8. The VM path trace (vmTrace.ts): xk vm traced vs untraced; a VM's state, whole-host vs portable.
// All numbers are measured side by side in this one run; no test asserts a time.
// Each emulator measurement is the best of RUNS runs: on a shared machine the
// fastest run is the one least disturbed by other processes.

import { vmmBench } from './vmm.js';
import { vmTraceBench } from './vmTrace.js';
import { forkBench } from './fork.js';
import { ccBench } from './cc.js';
import { diskBench } from './disk.js';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Machine } from '../src/machine/machine.js';
import { buildProgram, have, loadElf } from '../test/cpuProgramSupport.js';
import { buildAsmProgram } from '../test/kernelHelpers.js';
import { startSession } from '../src/kernel/boot/session.js';
import { jitStats, MAX_REGION_BLOCKS, MAX_REGION_INSTRUCTIONS } from '../src/machine/jit/translate.js';
import { MAX_BLOCKS } from '../src/machine/blocks.js';

const RUNS = 3;

function seconds(f: () => void): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function computeLoop(): void {
  // mov $N,%ecx; xor %eax,%eax; xor %edx,%edx
  // 1: add %rcx,%rax; imul $3,%rax,%rdx; xor %rdx,%rax; shr $1,%rdx; dec %rcx; jnz 1b; hlt
  const code = [
    0xb9, 0x00, 0x2d, 0x31, 0x01, // mov $0x01312d00 (20,000,000), %ecx
    0x31, 0xc0, 0x31, 0xd2,
    0x48, 0x01, 0xc8, // add %rcx,%rax
    0x48, 0x6b, 0xd0, 0x03, // imul $3,%rax,%rdx
    0x48, 0x31, 0xd0, // xor %rdx,%rax
    0x48, 0xd1, 0xea, // shr %rdx
    0x48, 0xff, 0xc9, // dec %rcx
    0x75, 0xee, // jnz -18
    0xf4,
  ];
  let t = Infinity, n = 0, stop = '';
  for (let run = 0; run < RUNS; run++) {
    const machine = new Machine({ memoryBytes: 1 << 20 });
    machine.loadPhysical(0x1000, Uint8Array.from(code));
    machine.cpu.rip = 0x1000;
    t = Math.min(t, seconds(() => { stop = machine.run(1e9); }));
    n = machine.cpu.instructionCount;
  }
  console.log(`compute loop: ${n} instructions in ${t.toFixed(2)} s = ${(n / t / 1e6).toFixed(1)} M instructions/s (${stop})`);
}

function program(): void {
  if (!have('gcc')) { console.log('gcc not installed: skipping the native comparison'); return; }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-bench-'));
  try {
    // compute() 1600 times: about 525 M instructions, so that the JIT's warm-up (the first ~10 M) is not most of it.
    const { native, xk } = buildProgram(dir, 'O2', 1600);
    execFileSync(native); // warm the page cache
    let nativeTime = Infinity;
    for (let i = 0; i < 5; i++) nativeTime = Math.min(nativeTime, seconds(() => execFileSync(native)));
    const image = new Uint8Array(fs.readFileSync(xk));
    const run = (jit = false) => {
      const machine = new Machine({ memoryBytes: 8 << 20 });
      machine.cpu.rip = loadElf(machine, image);
      machine.cpu.jitEnabled = jit;
      let stop = '';
      const c0 = process.cpuUsage();
      const t = seconds(() => { stop = machine.run(1e10); });
      const c = process.cpuUsage(c0);
      // CPU time of the whole process: V8's compiler threads included (on a loaded machine wall time misleads).
      return { t, cpu: (c.user + c.system) / 1e6, n: machine.cpu.instructionCount, stop, blocks: machine.cpu.decodeCache.blocks };
    };
    let emu = run();
    for (let i = 1; i < RUNS; i++) {
      const again = run();
      if (again.t < emu.t) emu = again;
    }
    console.log(`gcc -O2 program: native ${(nativeTime * 1000).toFixed(1)} ms (process included), xk ${(emu.t * 1000).toFixed(0)} ms for ${emu.n} instructions (${(emu.n / emu.t / 1e6).toFixed(1)} M instructions/s)`);
    // The same program with the JIT tier (src/machine/jit/) on, side by side.
    const s0 = { ...jitStats };
    let jit = run(true);
    for (let i = 1; i < RUNS; i++) {
      const again = run(true);
      if (again.t < jit.t) jit = again;
    }
    const per = (k: 'compiled' | 'sourceBytes' | 'compileMs') => (jitStats[k] - s0[k]) / RUNS;
    console.log(`gcc -O2 program, xk-JIT: ${(jit.t * 1000).toFixed(0)} ms wall, ${(jit.cpu * 1000).toFixed(0)} ms CPU for ${jit.n} instructions ` +
      `(${(jit.n / jit.t / 1e6).toFixed(1)} M instructions/s wall, ${(jit.n / jit.cpu / 1e6).toFixed(1)} M/s CPU; interpreter+blocks ${(emu.n / emu.cpu / 1e6).toFixed(1)} M/s CPU; ` +
      `${(emu.t / jit.t).toFixed(2)}x the interpreter+blocks in wall time; ${jit.n === emu.n ? 'same' : 'DIFFERENT'} count); ` +
      `per run ${per('compiled')} translations, ${(per('sourceBytes') / 1024).toFixed(1)} KiB of source, ${per('compileMs').toFixed(1)} ms compiling`);
    console.log(`code cache: ${jit.blocks} blocks alive at the end (bound: ${MAX_BLOCKS} blocks, then the decode cache is flushed; ` +
      `a translation covers at most ${MAX_REGION_BLOCKS} blocks / ${MAX_REGION_INSTRUCTIONS} instructions)`);
    console.log(`ratio xk / native: ${(emu.t / nativeTime).toFixed(0)}x, xk-JIT / native: ${(jit.t / nativeTime).toFixed(0)}x`);
    if (have('qemu-x86_64')) {
      // The same native binary under QEMU's user-mode TCG, timed as the native run is (process included).
      execFileSync('qemu-x86_64', [native]);
      let qemuTime = Infinity;
      for (let i = 0; i < RUNS; i++) qemuTime = Math.min(qemuTime, seconds(() => execFileSync('qemu-x86_64', [native])));
      console.log(`gcc -O2 program, qemu-x86_64: ${(qemuTime * 1000).toFixed(1)} ms (${(jit.n / qemuTime / 1e6).toFixed(0)} M instructions/s, ` +
        `${(qemuTime / nativeTime).toFixed(1)}x native; xk-JIT is ${(jit.t / qemuTime).toFixed(1)}x qemu)`);
    } else {
      console.log('qemu-x86_64 not on PATH: no QEMU column');
    }
    const slice = buildProgram(dir, 'O2', false);
    const small = new Uint8Array(fs.readFileSync(slice.xk));
    // Both runs step one instruction per run() call, so they differ only in the cache.
    const once = (cached: boolean) => {
      const machine = new Machine({ memoryBytes: 8 << 20 });
      machine.cpu.rip = loadElf(machine, small);
      return seconds(() => {
        for (;;) {
          if (!cached) machine.cpu.invalidateDecodeCache(Math.floor(machine.cpu.rip / 4096)); // flat mode: linear = physical
          if (machine.run(1) !== 'limit') break;
        }
      });
    };
    const withCache = once(true), without = once(false);
    console.log(`decode cache: one compute() stepped one instruction at a time: ${(withCache * 1000).toFixed(0)} ms cached vs ${(without * 1000).toFixed(0)} ms decoding every instruction (${(without / withCache).toFixed(1)}x)`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** One null system call (getpid) CALLS times, entering by `enter` ('int $64' or 'syscall'). */
async function nullSyscalls(enter: string, calls: number): Promise<{ t: number; n: number; status: number | null }> {
  const image = buildAsmProgram(`
  .text
  .globl _start
_start:
  mov $${calls}, %r12d
1: mov $11, %eax
  ${enter}
  dec %r12d
  jnz 1b
  xor %edi, %edi
  call exitstatus
`);
  let t = Infinity, n = 0, status: number | null = null;
  for (let run = 0; run < RUNS; run++) {
    const session = await startSession({ program: { path: 'getpid', image, argv: ['getpid'] }, output: () => {} });
    try {
      const start = session.machine.cpu.instructionCount;
      let finished = false;
      t = Math.min(t, seconds(() => { while (!finished) finished = session.run(10_000_000); }));
      n = session.machine.cpu.instructionCount - start;
      status = session.kernel.exitStatus;
    } finally {
      session.close();
    }
  }
  return { t, n, status };
}

async function kernelSyscalls(): Promise<void> {
  if (!have('as')) { console.log('GNU as not installed: skipping the kernel benchmark'); return; }
  const calls = 200_000;
  const viaInt = await nullSyscalls('int $64', calls);
  const viaSyscall = await nullSyscalls('syscall', calls);
  for (const [name, r] of [['int $64', viaInt], ['syscall', viaSyscall]] as const) {
    console.log(`kernel, ${name}: ${calls} getpid() calls in ${r.t.toFixed(2)} s = ${(calls / r.t / 1000).toFixed(0)} k system calls/s, ` +
      `${(r.n / calls).toFixed(1)} instructions per call (status ${r.status})`);
  }
  console.log(`null system call, int $64 / syscall: ${(viaInt.t / viaSyscall.t).toFixed(2)}x the time, ` +
    `${(viaInt.n / viaSyscall.n).toFixed(2)}x the instructions (the TypeScript kernel's own work is not counted as instructions)`);
}

computeLoop();
program();
await kernelSyscalls();
await forkBench();
vmmBench();
vmTraceBench();
await ccBench();
await diskBench();
