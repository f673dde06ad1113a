// Benchmark of the trap-and-emulate monitor: the guest kernel (guest/) and two
// workloads built from it (a compute loop, a system-call loop), each booted on
// the bare machine and under the monitor (strict mode), best of several runs
// each after one untimed run;
// prints the slowdown (monitor time / bare time) and the monitor's exits per
// 1000 guest instructions. The times are the main thread's CPU time where the
// host reports it (threadTime.ts: steady on a loaded host), else wall time.
// Run: node dist/bench/vmm.js (after tsc).

import { pathToFileURL } from 'node:url';
import { buildGuest } from '../test/guestBuild.js';
import { bootImage } from '../src/cli/bootCommand.js';
import { runVm } from '../src/vmm/vmRunner.js';
import { fuzzVm } from '../src/vmm/fuzz/campaign.js';
import { mainThreadSeconds } from './threadTime.js';



/** The guest kernel as it is, and two workloads built from it (defines in guest/user.S), with their runs (the short kernel's best needs more). */
const WORKLOADS: [string, string[], number][] = [
  ['guest kernel', [], 15],
  ['compute loop', ['BENCH_COMPUTE'], 5], // process 1 spins 2,000,000 iterations between its lines
  ['syscall loop', ['BENCH_SYSCALLS'], 5], // process 2 makes 20,000 getpid() calls first
];

export function vmmBench(): void {
  for (const [name, defines, runs] of WORKLOADS) {
    const elf = buildGuest(defines).elf;
    let bare = Infinity, monitored = Infinity, guestInstructions = 0, exits = 0;
    // One untimed run of each first: the short guest kernel would otherwise be timed while V8 still compiles xk.
    bootImage(elf, 'guest.elf', {});
    runVm(elf, 'guest.elf', { strict: true });
    for (let run = 0; run < runs; run++) {
      bare = Math.min(bare, mainThreadSeconds(() => { bootImage(elf, 'guest.elf', {}); }));
      monitored = Math.min(monitored, mainThreadSeconds(() => {
        const r = runVm(elf, 'guest.elf', { strict: true });
        guestInstructions = r.guestInstructions;
        exits = r.exits;
      }));
    }
    console.log(`vmm ${name}: bare ${(bare * 1000).toFixed(0)} ms, under the monitor ${(monitored * 1000).toFixed(0)} ms: ` +
      `${(monitored / bare).toFixed(2)}x; ${exits} exits for ${guestInstructions} guest instructions = ` +
      `${(exits / guestInstructions * 1000).toFixed(2)} exits per 1000 guest instructions`);
  }
  // The differential monitor fuzzer (xk fuzz --vm): guests checked per second on reused machines.
  const fuzz = fuzzVm({ seed: 1, count: 1000 });
  console.log(`vmm fuzz: ${fuzz.guests} guests (${fuzz.runs} monitor runs) in ${fuzz.seconds.toFixed(1)} s = ${fuzz.guestsPerSecond} guests/s, ` +
    `${fuzz.findings.length} disagreements; 20,000 guests take ~${Math.round(20000 / fuzz.guestsPerSecond)} s`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) vmmBench();
