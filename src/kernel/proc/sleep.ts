// sleep and wakeup: a process waits on a channel (any object: a pipe, a process,
// the clock) until someone wakes every process sleeping on it. The scheduler
// (scheduler.ts) then finds it runnable again.

import type { Kernel } from '../kernel.js';
import type { Proc } from './proc.js';

/** Put `p` to sleep on `channel`; the scheduler picks someone else. */
export function sleep(p: Proc, channel: object): void {
  p.chan = channel;
  p.state = 'sleeping';
}

/** Make every process sleeping on `channel` runnable. */
export function wakeup(k: Kernel, channel: object): void {
  for (const p of k.procs.slots) {
    if (p && p.state === 'sleeping' && p.chan === channel) {
      p.state = 'runnable';
      p.chan = null;
      if (k.trace) k.emit(p, 'kernel', 'wakeup', `wakeup: pid ${p.pid} (${p.name}) is runnable${channelName(channel)}`);
    }
  }
}

/** ' (on the disk's block 12)': what a channel is, when it says (a `name` property). */
function channelName(channel: object): string {
  const name = (channel as { name?: unknown }).name;
  return typeof name === 'string' && name !== '' ? ` (channel: ${name})` : '';
}
