// The time the benchmarks' ratios are taken in: the CPU time of the main
// thread alone, which other processes on a loaded host do not stretch the way
// they stretch the wall clock, and which leaves out V8's background compiler
// and collector threads (they make a process's own CPU time exceed its wall
// time). Linux gives it in nanoseconds (/proc/self/task/<pid>/schedstat,
// first field); elsewhere the wall clock is the fallback.

import { readFileSync } from 'node:fs';

const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;

function schedstatSeconds(): number {
  try {
    return Number(readFileSync(SCHEDSTAT, 'utf8').split(' ')[0]) / 1e9;
  } catch {
    return NaN;
  }
}

/** Does this host report the main thread's CPU time? */
export const mainThreadTimed = !Number.isNaN(schedstatSeconds());

/** Seconds `f` takes: the main thread's CPU time where the host reports it, else wall time. */
export function mainThreadSeconds(f: () => void): number {
  if (!mainThreadTimed) {
    const t0 = process.hrtime.bigint();
    f();
    return Number(process.hrtime.bigint() - t0) / 1e9;
  }
  const t0 = schedstatSeconds();
  f();
  return schedstatSeconds() - t0;
}
