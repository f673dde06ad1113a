// Timers that raise signals: alarm(ticks) and setitimer(which, ticks, interval).
//
// Time is counted in timer interrupts (ticks), the kernel's only clock.
//   ITIMER_REAL     counts every tick, whatever the process does; raises SIGALRM.
//   ITIMER_VIRTUAL  counts the ticks that interrupt the process while it runs in
//                   user mode (its user CPU time); raises SIGVTALRM.
// When a timer runs out it raises its signal and reloads from its interval (0: stops).

import type { Kernel } from '../kernel.js';
import type { Proc } from '../proc/proc.js';
import { SIGALRM, SIGVTALRM, existingSignalState, postSignal, signalState, type IntervalTimer } from './signals.js';
import { argInt, traceArgs } from '../syscall/args.js';

export const ITIMER_REAL = 0;
export const ITIMER_VIRTUAL = 1;

/** Processes with a timer running (few: checked on every tick). */
const timed = new WeakMap<Kernel, Set<Proc>>();

function timedSet(k: Kernel): Set<Proc> {
  let set = timed.get(k);
  if (!set) timed.set(k, (set = new Set()));
  return set;
}

/** One timer interrupt. `user` is the process the tick interrupted in user mode, if any. */
export function signalTick(k: Kernel, user: Proc | null): void {
  const set = timed.get(k);
  if (!set || set.size === 0) return;
  for (const p of [...set]) {
    const s = existingSignalState(p);
    if (!s || p.state === 'zombie' || k.procs.byPid(p.pid) !== p) {
      set.delete(p);
      continue;
    }
    if (count(s.real)) postSignal(k, p, SIGALRM);
    if (p === user && count(s.virtual)) postSignal(k, p, SIGVTALRM);
    if (s.real.remaining === 0 && s.virtual.remaining === 0) set.delete(p);
  }
}

/** Count one tick; true when the timer ran out (it reloads from its interval). */
function count(t: IntervalTimer): boolean {
  if (t.remaining === 0) return false;
  t.remaining--;
  if (t.remaining > 0) return false;
  t.remaining = t.interval;
  return true;
}

/** Set a timer; returns the ticks it had left. */
function setTimer(k: Kernel, p: Proc, which: number, value: number, interval: number): number {
  const s = signalState(p);
  const t = which === ITIMER_REAL ? s.real : s.virtual;
  const left = t.remaining;
  t.remaining = value;
  t.interval = value > 0 ? interval : 0;
  if (value > 0) timedSet(k).add(p);
  return left;
}

/** alarm(ticks): SIGALRM after that many ticks (0 cancels); returns the ticks left of the previous alarm. */
export function sysAlarm(k: Kernel, p: Proc): number {
  const ticks = argInt(p, 0);
  traceArgs(k, p, 'alarm', [ticks]);
  if (ticks < 0) return -1;
  return setTimer(k, p, ITIMER_REAL, ticks, 0);
}

/** setitimer(which, ticks, interval): first signal after `ticks`, then every `interval`; returns ticks left before. */
export function sysSetitimer(k: Kernel, p: Proc): number {
  const which = argInt(p, 0);
  const value = argInt(p, 1);
  const interval = argInt(p, 2);
  traceArgs(k, p, 'setitimer', [which, value, interval]);
  if ((which !== ITIMER_REAL && which !== ITIMER_VIRTUAL) || value < 0 || interval < 0) return -1;
  return setTimer(k, p, which, value, interval);
}
