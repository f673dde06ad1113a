// `xk trace --trace-json FILE`: Chrome trace-event JSON (load it in Perfetto or
// chrome://tracing). Time is the instruction count, shown as microseconds. Each
// system call is a slice on its process's track; each step is an instant event
// on the track of its layer (user, cpu, entry, kernel).

import type { TraceEvent, TraceLayer } from '../kernel/traceEvents.js';
import { episodes, isEpisode } from './episodes.js';

const LAYERS: TraceLayer[] = ['user', 'cpu', 'entry', 'kernel', 'guest', 'vmm'];

interface ChromeEvent {
  name: string;
  ph: string;
  ts: number;
  pid: number;
  tid: number;
  cat?: string;
  dur?: number;
  s?: string;
  args?: Record<string, unknown>;
}

/** `processName`: the name of a pid's track (default 'pid N', 'idle' for 0). */
export function renderChromeTrace(events: TraceEvent[], processName?: (pid: number) => string): string {
  const out: ChromeEvent[] = [];
  const pids = new Set<number>();
  for (const item of episodes(events)) {
    if (isEpisode(item)) {
      pids.add(item.pid);
      out.push({
        name: item.title, cat: item.isSyscall ? 'syscall' : 'interrupt', ph: 'X',
        ts: item.start, dur: Math.max(1, item.end - item.start), pid: item.pid, tid: 0,
      });
      for (const e of item.events) out.push(instant(e, item.pid));
    } else {
      pids.add(item.pid);
      out.push(instant(item, item.pid));
    }
  }
  for (const pid of pids) {
    out.push({ name: 'process_name', ph: 'M', ts: 0, pid, tid: 0, args: { name: processName?.(pid) ?? (pid === 0 ? 'idle' : `pid ${pid}`) } });
    out.push({ name: 'thread_name', ph: 'M', ts: 0, pid, tid: 0, args: { name: 'system calls' } });
    LAYERS.forEach((layer, i) => out.push({ name: 'thread_name', ph: 'M', ts: 0, pid, tid: i + 1, args: { name: layer } }));
  }
  return JSON.stringify({ traceEvents: out, displayTimeUnit: 'ns' }, null, 1) + '\n';
}

function instant(e: TraceEvent, pid: number): ChromeEvent {
  return {
    name: e.step, cat: e.layer, ph: 'i', s: 't', ts: e.count, pid, tid: LAYERS.indexOf(e.layer) + 1,
    args: { text: e.text, ...e.args },
  };
}
