// Grouping trace events into episodes: one trip from user mode into the kernel
// and back (a system call, or an interrupt), from the stub or the interrupted
// instruction to the return to user mode.

import type { TraceEvent } from '../kernel/traceEvents.js';

export interface Episode {
  events: TraceEvent[];
  /** 'sys_open("/small.txt", 0) = 3', or 'interrupt 32'. */
  title: string;
  isSyscall: boolean;
  start: number;
  end: number;
  pid: number;
}

const STARTS = new Set(['stub', 'int', 'syscall-instruction', 'interrupted']);

/** Split events into episodes and the loose events between them (in order). */
export function episodes(events: TraceEvent[]): Array<Episode | TraceEvent> {
  const out: Array<Episode | TraceEvent> = [];
  let current: TraceEvent[] | null = null;
  const close = (): void => {
    if (current) out.push(makeEpisode(current));
    current = null;
  };
  for (const e of events) {
    if (STARTS.has(e.step) && !((e.step === 'int' || e.step === 'syscall-instruction') && current && current[current.length - 1].step === 'stub')) {
      close();
      current = [];
    }
    if (current) {
      current.push(e);
      if (e.step === 'user' || e.step === 'vm-stop') close(); // vm-stop: a VM ended inside its path (src/vmm/vmTrace.ts)
    } else {
      out.push(e);
    }
  }
  close();
  return out;
}

function makeEpisode(events: TraceEvent[]): Episode {
  const sys = events.find((e) => e.step === 'sys');
  const ret = events.find((e) => e.step === 'return');
  const trap = events.find((e) => e.step === 'trap');
  const isSyscall = events.some((e) => e.step === 'syscall');
  let title: string;
  if (sys) title = `${sys.text.replace(/^sys_/, '')}${ret ? ` = ${ret.args?.value}` : ''}`;
  else if (isSyscall) title = events.find((e) => e.step === 'syscall')!.text;
  else title = `interrupt ${trap?.args?.trapno ?? '?'}`;
  return {
    events, title, isSyscall,
    start: events[0].count, end: events[events.length - 1].count, pid: events[0].pid,
  };
}

export function isEpisode(x: Episode | TraceEvent): x is Episode {
  return (x as Episode).events !== undefined;
}
