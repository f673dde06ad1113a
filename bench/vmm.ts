// Benchmark of the trap-and-emulate monitor: the guest kernel (guest/) booted
// on the bare machine and under the monitor (strict mode), best of RUNS runs
// each; prints the slowdown (monitor time / bare time) and the monitor's exits
// per 1000 guest instructions. Run: node dist/bench/vmm.js (after tsc).

import { pathToFileURL } from 'node:url';
import { buildGuest } from '../test/guestBuild.js';
import { bootImage } from '../src/cli/bootCommand.js';
import { runVm } from '../src/vmm/vmRunner.js';

const RUNS = 3;

function seconds(f: () => void): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export function vmmBench(): void {
  const elf = buildGuest().elf;
  let bare = Infinity, monitored = Infinity, guestInstructions = 0, exits = 0;
  for (let run = 0; run < RUNS; run++) {
    bare = Math.min(bare, seconds(() => { bootImage(elf, 'guest.elf', {}); }));
    monitored = Math.min(monitored, seconds(() => {
      const r = runVm(elf, 'guest.elf', { strict: true });
      guestInstructions = r.guestInstructions;
      exits = r.exits;
    }));
  }
  console.log(`vmm: guest kernel bare ${(bare * 1000).toFixed(0)} ms, under the monitor ${(monitored * 1000).toFixed(0)} ms: ` +
    `${(monitored / bare).toFixed(2)}x; ${exits} exits for ${guestInstructions} guest instructions = ` +
    `${(exits / guestInstructions * 1000).toFixed(1)} exits per 1000 guest instructions`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) vmmBench();
