// `xk trace` as text: each system call's path, the lecture's slide, one line per
// step, with the instruction count at which it happened.

import type { TraceEvent } from '../kernel/traceEvents.js';
import { episodes, isEpisode } from './episodes.js';

export interface TextOptions {
  /** Also show interrupts (timer, serial) and scheduler events. */
  all?: boolean;
}

function line(e: TraceEvent): string {
  return `${String(e.count).padStart(10)}  ${e.layer.padEnd(6)}  ${e.text}`;
}

export function renderText(events: TraceEvent[], options: TextOptions = {}): string {
  const lines: string[] = [];
  for (const item of episodes(events)) {
    if (isEpisode(item)) {
      if (!item.isSyscall && !options.all) continue;
      lines.push('', `pid ${item.pid}: ${item.title}   [instructions ${item.start}..${item.end}, ${item.end - item.start} on this path]`);
      for (const e of item.events) lines.push(line(e));
    } else if (options.all || item.step === 'exit' || item.step === 'op') {
      lines.push(line(item));
    }
  }
  return lines.join('\n').replace(/^\n/, '') + '\n';
}
