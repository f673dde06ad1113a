// Process exit: close files, hand children to init, become a zombie until the
// parent's wait() collects the status. The first process exiting ends the run.

import type { Kernel } from '../kernel.js';
import type { Proc } from './proc.js';
import { wakeup } from './sleep.js';

export function exitProcess(k: Kernel, p: Proc, status: number): void {
  if (p.state === 'zombie') return;
  for (let fd = 0; fd < p.ofile.length; fd++) {
    const f = p.ofile[fd];
    if (f) k.files.close(f);
    p.ofile[fd] = null;
  }
  if (p.cwd) k.files.releaseInode(p.cwd);
  p.cwd = null;
  p.pending = null;
  p.exitStatus = status;
  p.state = 'zombie';
  k.emit(p, 'kernel', 'exit', `pid ${p.pid} (${p.name}) exits with status ${status}`, { status });

  // Orphans go to init, which waits for them; wake init if one is already a zombie.
  for (const c of k.procs.live()) {
    if (c.parent !== p) continue;
    c.parent = k.initProc !== p ? k.initProc : null;
    if (c.state === 'zombie' && c.parent) wakeup(k, c.parent);
  }
  if (p.parent) wakeup(k, p.parent); // the parent sleeps in wait() on itself

  if (p === k.initProc) {
    k.exitStatus = status;
    k.hw.stop(`pid ${p.pid} (${p.name}) exited with status ${status}`);
  }
  if (k.current === p) k.current = null;
}
