// A run of the differential monitor fuzzer (`xk fuzz --vm`, test/vmmFuzz.test.ts):
// guests of seeds seed, seed+1, ... checked on the bare machine and under the
// monitor; each disagreement keeps its seed, and the first few are minimized
// (minimize.ts) so that they can be printed as small guests.

import { DifferentialRunner, type Disagreement, type MonitorHook } from './differential.js';
import { generateGuest, type FuzzGuest } from './guestGenerator.js';
import { minimizeGuest } from './minimize.js';

export interface VmFuzzOptions {
  /** Seed of the first guest (guest i has seed seed + i). */
  seed: number;
  /** Guests to check. */
  count: number;
  /** Disagreements to minimize (the rest are only listed). Default 1. */
  minimize?: number;
  /** Injected into the monitor before each run (tests). */
  hook?: MonitorHook;
}

export interface VmFuzzFinding extends Disagreement {
  seed: number;
  /** The smallest guest found that still disagrees the same way, and how (absent if not minimized). */
  minimized?: FuzzGuest;
  minimizedDifference?: string;
}

export interface VmFuzzReport {
  guests: number;
  /** Monitor runs (a guest runs strict, and patched as well when it can). */
  runs: number;
  seconds: number;
  guestsPerSecond: number;
  /** How the guests ended on the bare machine, most frequent first. */
  outcomes: Array<[string, number]>;
  findings: VmFuzzFinding[];
}

/** The kind of a difference ('strict guest memory'), which the minimizer keeps while it shrinks. */
export function differenceKind(d: Disagreement): string {
  return `${d.mode} ${d.difference.split(':')[0].replace(/ at 0x[0-9a-f]+$/, '')}`;
}

/** The smallest guest found from `g` that disagrees as `d` does (on `runner`). */
export function minimizeDisagreement(runner: DifferentialRunner, g: FuzzGuest, d: Disagreement): { guest: FuzzGuest; difference: Disagreement } {
  const kind = differenceKind(d);
  const guest = minimizeGuest(g, (c) => {
    const e = runner.check(c);
    return e !== null && differenceKind(e) === kind;
  });
  return { guest, difference: runner.check(guest) ?? d };
}

export function fuzzVm(options: VmFuzzOptions): VmFuzzReport {
  const runner = new DifferentialRunner({ hook: options.hook });
  const findings: VmFuzzFinding[] = [];
  const started = performance.now();
  for (let i = 0; i < options.count; i++) {
    const seed = (options.seed + i) >>> 0;
    const d = runner.check(generateGuest(seed));
    if (d !== null) findings.push({ seed, ...d });
  }
  const seconds = (performance.now() - started) / 1000;
  const guests = runner.guests, runs = runner.runs;
  const outcomes = [...runner.outcomes].sort((a, b) => b[1] - a[1]);
  for (const f of findings.slice(0, options.minimize ?? 1)) {
    const m = minimizeDisagreement(runner, generateGuest(f.seed), f);
    f.minimized = m.guest;
    f.minimizedDifference = `${m.difference.mode}: ${m.difference.difference}`;
  }
  return { guests, runs, seconds, guestsPerSecond: Math.round(guests / Math.max(seconds, 1e-6)), outcomes, findings };
}
