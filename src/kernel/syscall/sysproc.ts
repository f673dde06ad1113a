// System calls about processes and memory: fork exit wait kill getpid sbrk sleep
// uptime sysinfo, and xk's waitstatus exitstatus. Each: fetch and check arguments, copy in, operate, copy out.

import { copyout, userRangeWritable } from '../mem/copyin.js';
import type { Kernel } from '../kernel.js';
import { PAGE_SIZE, USER_HEAP_LIMIT } from '../mem/kernelLayout.js';
import type { Blocking, Proc } from '../proc/proc.js';
import { exitProcess } from '../proc/exit.js';
import { argAddr, argInt, ptr, traceArgs, traceOperation, type SyscallFunction } from './args.js';
import { SYSINFO_SIZE } from './syscallTable.js';
import { forkSignals } from '../signals/signals.js';

const pageUp = (a: number): number => Math.ceil(a / PAGE_SIZE) * PAGE_SIZE;

/**
 * fork(): a copy of the caller; 0 in the child, the child's pid in the parent.
 * The memory is shared copy-on-write (vm.ts, pageFault.ts): the child costs only its
 * page tables until one side writes. k.forkCopies = 'eager' copies every page instead.
 */
function sysFork(k: Kernel, p: Proc): number {
  traceArgs(k, p, 'fork', []);
  const child = k.procs.alloc(p.name);
  if (!child) return -1;
  const copied = k.forkCopies === 'eager' ? p.vm.copyUserPagesTo(child.vm) : p.vm.shareUserPagesWith(child.vm);
  if (!copied) {
    k.procs.free(child);
    return -1;
  }
  // Same registers, same place in the program; only rax (the result) differs.
  child.tf.copyFrom(p.tf);
  child.tf.set('rax', 0);
  child.heapBase = p.heapBase;
  child.brk = p.brk;
  child.ofile = p.ofile.map((f) => (f ? k.files.dup(f) : null));
  child.cwd = p.cwd ? k.files.dupInode(p.cwd) : null;
  child.parent = p;
  forkSignals(p, child); // handlers, mask, alternate stack (signals.ts)
  child.state = 'runnable';
  traceOperation(k, p, `fork: pid ${child.pid} is a copy of pid ${p.pid}`);
  return child.pid;
}

/**
 * exit(): never returns. XK's exit takes no argument, so %rdi is whatever the
 * program last left there: it is ignored and the status is 0 (docs/xk-compat.md).
 */
function sysExit(k: Kernel, p: Proc): number {
  traceArgs(k, p, 'exit', []);
  exitProcess(k, p, 0);
  return 0;
}

/** exitstatus(status): exit with a status the parent's waitstatus() can read. */
function sysExitStatus(k: Kernel, p: Proc): number {
  const status = argInt(p, 0);
  traceArgs(k, p, 'exitstatus', [status]);
  exitProcess(k, p, status);
  return 0;
}

/** wait(): XK's: reap a zombie child and return its pid; writes no user memory. */
function* sysWait(k: Kernel, p: Proc): Blocking {
  traceArgs(k, p, 'wait', []);
  return yield* reapChild(k, p, 0);
}

/** waitstatus(int *status): wait(), and the child's exit status stored at `status` unless it is 0. */
function* sysWaitStatus(k: Kernel, p: Proc): Blocking {
  const statusAddr = argAddr(p, 0);
  traceArgs(k, p, 'waitstatus', [ptr(statusAddr)]);
  if (statusAddr !== 0 && !userRangeWritable(p, statusAddr, 4)) return -1;
  return yield* reapChild(k, p, statusAddr);
}

/** Sleep until a child is a zombie, free it, store its status at `statusAddr` (if not 0): its pid, or -1 without children. */
function* reapChild(k: Kernel, p: Proc, statusAddr: number): Blocking {
  for (;;) {
    let haveChildren = false;
    for (const c of k.procs.live()) {
      if (c.parent !== p) continue;
      haveChildren = true;
      if (c.state !== 'zombie') continue;
      const status = new Uint8Array(4);
      new DataView(status.buffer).setInt32(0, c.exitStatus, true);
      if (statusAddr !== 0 && copyout(p, statusAddr, status) < 0) return -1;
      const pid = c.pid;
      k.procs.free(c);
      traceOperation(k, p, `wait: reaped pid ${pid} (status ${c.exitStatus})`);
      return pid;
    }
    if (!haveChildren || p.killed) return -1;
    yield p; // exit() of a child wakes its parent
  }
}

/** kill(pid): the process dies when it next enters or leaves the kernel. */
function sysKill(k: Kernel, p: Proc): number {
  const pid = argInt(p, 0);
  traceArgs(k, p, 'kill', [pid]);
  const victim = k.procs.byPid(pid);
  if (!victim || victim.state === 'zombie') return -1;
  victim.killed = true;
  if (victim.state === 'sleeping') {
    victim.state = 'runnable';
    victim.chan = null;
  }
  return 0;
}

function sysGetpid(k: Kernel, p: Proc): number {
  traceArgs(k, p, 'getpid', []);
  return p.pid;
}

/** sbrk(n): move the program break by n bytes; returns the old break. */
function sysSbrk(k: Kernel, p: Proc): number {
  const n = argInt(p, 0);
  traceArgs(k, p, 'sbrk', [n]);
  const old = p.brk;
  const brk = old + n;
  if (brk < p.heapBase || brk > USER_HEAP_LIMIT) return -1;
  if (n > 0 && !p.vm.allocUser(old, brk)) return -1;
  if (n < 0) p.vm.freeUser(pageUp(brk), pageUp(old));
  if (n !== 0) k.hw.mmu.flush(); // mappings changed under the running process
  p.brk = brk;
  return old;
}

/** sleep(ticks): wait for that many timer interrupts. */
function* sysSleep(k: Kernel, p: Proc): Blocking {
  const n = argInt(p, 0);
  traceArgs(k, p, 'sleep', [n]);
  const start = k.ticks;
  while (k.ticks - start < n) {
    if (p.killed) return -1;
    yield k.ticksChannel;
  }
  return 0;
}

function sysUptime(k: Kernel, p: Proc): number {
  traceArgs(k, p, 'uptime', []);
  return k.ticks;
}

/** sysinfo(struct sys_info *): memory and disk statistics. */
function sysSysinfo(k: Kernel, p: Proc): number {
  const addr = argAddr(p, 0);
  traceArgs(k, p, 'sysinfo', [ptr(addr)]);
  const info = new Uint8Array(SYSINFO_SIZE);
  const v = new DataView(info.buffer);
  v.setInt32(0, k.allocator.usedPages, true); // pages_in_use
  v.setInt32(4, 0, true); // pages_in_swap: xk does not swap
  v.setInt32(8, k.allocator.freePages, true); // free_pages
  v.setInt32(12, k.pageFaults, true); // num_page_faults
  v.setInt32(16, k.files.diskReads(), true); // num_disk_reads
  return copyout(p, addr, info);
}

export const SYSPROC: ReadonlyMap<string, SyscallFunction> = new Map<string, SyscallFunction>([
  ['fork', sysFork],
  ['exit', sysExit],
  ['wait', sysWait],
  ['waitstatus', sysWaitStatus],
  ['exitstatus', sysExitStatus],
  ['kill', sysKill],
  ['getpid', sysGetpid],
  ['sbrk', sysSbrk],
  ['sleep', sysSleep],
  ['uptime', sysUptime],
  ['sysinfo', sysSysinfo],
]);
