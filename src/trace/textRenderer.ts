// `xk trace` as text: each system call's path, the lecture's slide, one line per
// step, with the instruction count at which it happened.

import type { TraceEvent } from '../kernel/traceEvents.js';
import { episodes, isEpisode } from './episodes.js';

export interface TextOptions {
  /** Also show interrupts (timer, serial) and scheduler events. */
  all?: boolean;
  /** How an episode's header names its process (default 'pid N'). */
  processName?: (pid: number) => string;
}

/**
 * The steps of the disk path (issue 19) that name their process with --all:
 * the request, the interrupt, the completion, the wakeup, the signal. Pid 0
 * is no process (the interrupt came while the CPU idled in hlt).
 */
const PID_STEPS = new Set(['disk-request', 'disk-wait', 'disk-irq', 'disk-done', 'sleep', 'wakeup',
  'aio-enqueue', 'aio-complete', 'aio-drop', 'aio-cancel', 'signal-raise', 'signal-deliver']);

function line(e: TraceEvent, all = false): string {
  const who = all && PID_STEPS.has(e.step) ? `   [pid ${e.pid}${e.pid === 0 ? ', idle' : ''}]` : '';
  return `${String(e.count).padStart(10)}  ${e.layer.padEnd(6)}  ${e.text}${who}`;
}

export function renderText(events: TraceEvent[], options: TextOptions = {}): string {
  const lines: string[] = [];
  for (const item of episodes(events)) {
    if (isEpisode(item)) {
      if (!item.isSyscall && !options.all) continue;
      lines.push('', `${options.processName?.(item.pid) ?? `pid ${item.pid}`}: ${item.title}   [instructions ${item.start}..${item.end}, ${item.end - item.start} on this path]`);
      for (const e of item.events) lines.push(line(e, options.all));
    } else if (options.all || item.step === 'exit' || item.step === 'op') {
      lines.push(line(item, options.all));
    }
  }
  return lines.join('\n').replace(/^\n/, '') + '\n';
}
