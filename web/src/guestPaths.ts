// The VM path of the lecture, from the monitor's own events (src/vmm/monitor.ts
// VmEvent, stamped with the machine's instruction count by the worker): a guest
// application's system call leaves the real CPU (int $64 through the xk
// kernel's gate: the host's trap), the monitor runs the int on the guest's
// processor and delivers it through the guest's IDT, the guest kernel runs
// (trapping again whenever it needs the monitor), its iretq traps, the monitor
// emulates it, and the guest application runs again.

import type { VmEvent } from '../../src/vmm/monitor.js';
import type { PathPicture, PathStep } from './protocol.js';

/** A monitor event with the machine's instruction count when it happened. */
export type StampedVmEvent = VmEvent & { count: number; code?: string };

/** The guest's system call vector (guest/defs.h: the guest kernel's int $64). */
const T_SYSCALL = 64;
/** A path longer than this is not drawn (the guest kernel waited for a device, say). */
const MAX_STEPS = 80;

const hex = (n: bigint): string => '0x' + BigInt.asUintN(64, n).toString(16);
const lane = (cpl: number): PathStep['layer'] => (cpl === 3 ? 'guest-app' : 'guest-kernel');
const who = (cpl: number): string => (cpl === 3 ? 'guest app' : 'guest kernel');

/** One step of the picture for one monitor event (exactly one each: the test counts them). */
export function vmStep(e: StampedVmEvent): PathStep {
  switch (e.kind) {
    case 'exit': {
      const what = e.trapno === T_SYSCALL ? 'int $64 through the host kernel\'s gate' : `trap ${e.trapno} (err ${hex(BigInt(e.err))})`;
      return { count: e.count, layer: 'host', step: 'exit', text: `exit: ${who(e.cpl)} at ${hex(e.rip)}: ${what} -> alltraps -> trap() -> monitor`, code: e.code ?? '' };
    }
    case 'emulate':
      return {
        count: e.count, layer: 'monitor', step: 'emulate',
        text: `emulate ${e.mnemonic} at ${hex(e.rip)} on the guest's processor (cpl ${e.cpl} -> ${e.nextCpl}, next ${hex(e.nextRip)}, ${e.instructions} instruction${e.instructions === 1 ? '' : 's'})`,
        code: e.code ?? '',
      };
    case 'deliver':
      return {
        count: e.count, layer: 'monitor', step: 'deliver',
        text: `deliver ${e.external ? 'virtual interrupt' : 'vector'} ${e.vector} through the guest's IDT -> ${hex(e.rip)} (cpl ${e.cpl})`,
        code: e.code ?? '',
      };
    case 'resume':
      return { count: e.count, layer: lane(e.cpl), step: 'resume', text: `${who(e.cpl)} runs at ${hex(e.rip)}`, code: e.code ?? '' };
  }
}

/**
 * The pictures of a guest's system calls: each from the exit of an `int $64`
 * in the guest application to the first resume of the guest application after
 * it (the guest kernel's iretq, emulated by the monitor). At most `limit`.
 */
export function guestPaths(events: StampedVmEvent[], limit = 8): PathPicture[] {
  const out: PathPicture[] = [];
  for (let i = 0; i < events.length && out.length < limit; i++) {
    const e = events[i];
    if (e.kind !== 'exit' || e.trapno !== T_SYSCALL || e.cpl !== 3) continue;
    let end = -1;
    for (let j = i + 1; j < events.length && j - i < MAX_STEPS; j++) {
      const f = events[j];
      if (f.kind === 'resume' && f.cpl === 3) { end = j; break; }
    }
    if (end < 0) continue;
    const trip = events.slice(i, end + 1);
    const emulated = trip.filter((f) => f.kind === 'emulate').length;
    out.push({
      kind: 'vm', pid: 0, steps: trip.map(vmStep),
      title: `guest system call at ${hex(e.rip)}: ${trip.filter((f) => f.kind === 'exit').length} exits, ${emulated} emulated`,
    });
    i = end;
  }
  return out;
}

/** The monitor's events as text, one a line (below the picture). */
export function vmEventsText(events: StampedVmEvent[]): string {
  return events.map((e) => { const s = vmStep(e); return `${String(s.count).padStart(10)}  ${s.layer.padEnd(12)} ${s.text}`; }).join('\n') + '\n';
}

/** The monitor's events as Chrome trace JSON (Perfetto opens it): instant events on one track per lane. */
export function vmChromeTrace(events: StampedVmEvent[]): string {
  const tids: Record<string, number> = { 'guest-app': 1, host: 2, monitor: 3, 'guest-kernel': 4 };
  const traceEvents: object[] = Object.entries(tids).map(([name, tid]) => ({ ph: 'M', name: 'thread_name', pid: 1, tid, args: { name } }));
  for (const e of events) {
    const s = vmStep(e);
    traceEvents.push({ ph: 'i', s: 't', name: s.step, pid: 1, tid: tids[s.layer], ts: s.count, args: { text: s.text } });
  }
  return JSON.stringify({ traceEvents, displayTimeUnit: 'ns', otherData: { clock: 'instructions retired' } });
}
