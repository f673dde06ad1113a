// ^C at the console: SIGINT to the foreground.
//
// xk has no process groups or sessions, so the foreground is every live process
// except init (pid 1) and the shells (processes named "sh"): the commands that a
// shell started, which a Unix terminal driver would signal as the foreground job.
// (Unlike Unix, a command started with `&` is interrupted too.)

import type { Kernel } from '../kernel.js';
import { postSignal, SIGINT } from './signals.js';

/** Posts SIGINT to the foreground processes; returns how many were signalled. */
export function interruptForeground(k: Kernel): number {
  let signalled = 0;
  for (const p of k.procs.live()) {
    if (p.pid === 1 || p.name === 'sh' || p.state === 'zombie') continue;
    postSignal(k, p, SIGINT);
    signalled++;
  }
  return signalled;
}
