// The signal system calls: rt_sigaction sigprocmask sigpending sigsuspend
// sigaltstack sigreturn kill2 alarm setitimer pause fcntl (numbers 24..34 in
// syscallTable.ts). Each: fetch and check arguments, copy in, operate, copy out.

import { copyin, copyout, userRangeWritable } from '../mem/copyin.js';
import type { Kernel } from '../kernel.js';
import type { Blocking, Proc } from '../proc/proc.js';
import { sysFcntl } from './signalAsyncIo.js';
import { MINSIGSTKSZ, SIGACTION_SIZE, SIGSET_SIZE, STACK_T_SIZE } from './signalFrame.js';
import { onAltStack } from './signalDelivery.js';
import { sysSigreturn } from './signalReturn.js';
import { sysAlarm, sysSetitimer } from './signalTimers.js';
import {
  EINTR, NSIG, SIGKILL, SIGSTOP, SS_DISABLE, SS_ONSTACK, UNBLOCKABLE, postSignal, sigbit, signalState,
} from './signals.js';
import { argAddr, argInt, ptr, traceArgs, type SyscallFunction } from '../syscall/args.js';
import { USER_LIMIT } from '../mem/kernelLayout.js';

const SIG_BLOCK = 0;
const SIG_UNBLOCK = 1;
const SIG_SETMASK = 2;

const u64 = (v: DataView, at: number): number => v.getUint32(at + 4, true) * 2 ** 32 + v.getUint32(at, true);
function put64(v: DataView, at: number, n: number): void {
  v.setUint32(at, n >>> 0, true);
  v.setUint32(at + 4, Math.floor(n / 2 ** 32) >>> 0, true);
}

/** A signal set copied in from user memory (its low 32 bits), or -1. */
function copyinSigset(p: Proc, addr: number): number | -1 {
  const b = copyin(p, addr, SIGSET_SIZE);
  if (b === -1) return -1;
  return new DataView(b.buffer).getUint32(0, true);
}
function copyoutSigset(p: Proc, addr: number, set: number): 0 | -1 {
  const b = new Uint8Array(SIGSET_SIZE);
  new DataView(b.buffer).setUint32(0, set >>> 0, true);
  return copyout(p, addr, b);
}

/**
 * rt_sigaction(sig, const struct sigaction *act, struct sigaction *old): the C
 * library's sigaction() fills in sa_restorer (its trampoline) and calls this.
 * SIGKILL and SIGSTOP cannot be given a handler or be ignored.
 */
function sysRtSigaction(k: Kernel, p: Proc): number {
  const sig = argInt(p, 0);
  const actAddr = argAddr(p, 1);
  const oldAddr = argAddr(p, 2);
  traceArgs(k, p, 'rt_sigaction', [sig, ptr(actAddr), ptr(oldAddr)]);
  if (sig < 1 || sig >= NSIG) return -1;
  if (oldAddr !== 0 && !userRangeWritable(p, oldAddr, SIGACTION_SIZE)) return -1;
  let act = null;
  if (actAddr !== 0) {
    if (sig === SIGKILL || sig === SIGSTOP) return -1;
    const b = copyin(p, actAddr, SIGACTION_SIZE);
    if (b === -1) return -1;
    const v = new DataView(b.buffer);
    act = { handler: u64(v, 0), flags: v.getUint32(8, true), restorer: u64(v, 16), mask: (v.getUint32(24, true) & ~UNBLOCKABLE) >>> 0 };
    if (act.handler >= USER_LIMIT || act.restorer >= USER_LIMIT) return -1;
  }
  const s = signalState(p);
  if (oldAddr !== 0) {
    const a = s.actions[sig];
    const b = new Uint8Array(SIGACTION_SIZE);
    const v = new DataView(b.buffer);
    put64(v, 0, a.handler);
    v.setUint32(8, a.flags >>> 0, true);
    put64(v, 16, a.restorer);
    v.setUint32(24, a.mask, true);
    if (copyout(p, oldAddr, b) < 0) return -1;
  }
  if (act) {
    s.actions[sig] = act;
    // A signal that is now ignored is discarded even if pending.
    if (act.handler === 1) s.pending = (s.pending & ~sigbit(sig)) >>> 0;
  }
  return 0;
}

/** sigprocmask(how, const sigset_t *set, sigset_t *old): block, unblock or set; old mask out. */
function sysSigprocmask(k: Kernel, p: Proc): number {
  const how = argInt(p, 0);
  const setAddr = argAddr(p, 1);
  const oldAddr = argAddr(p, 2);
  traceArgs(k, p, 'sigprocmask', [how, ptr(setAddr), ptr(oldAddr)]);
  const s = signalState(p);
  if (oldAddr !== 0 && !userRangeWritable(p, oldAddr, SIGSET_SIZE)) return -1;
  const old = s.mask;
  if (setAddr !== 0) {
    const set = copyinSigset(p, setAddr);
    if (set === -1) return -1;
    if (how === SIG_BLOCK) s.mask = s.mask | set;
    else if (how === SIG_UNBLOCK) s.mask = s.mask & ~set;
    else if (how === SIG_SETMASK) s.mask = set;
    else return -1;
    s.mask = (s.mask & ~UNBLOCKABLE) >>> 0;
  }
  return oldAddr !== 0 ? copyoutSigset(p, oldAddr, old) : 0;
}

/** sigpending(sigset_t *set): the signals raised but blocked. */
function sysSigpending(k: Kernel, p: Proc): number {
  const addr = argAddr(p, 0);
  traceArgs(k, p, 'sigpending', [ptr(addr)]);
  return copyoutSigset(p, addr, signalState(p).pending);
}

/** sigsuspend(const sigset_t *mask): wait for a signal with `mask` in place; always -EINTR. */
function* sysSigsuspend(k: Kernel, p: Proc): Blocking {
  const addr = argAddr(p, 0);
  traceArgs(k, p, 'sigsuspend', [ptr(addr)]);
  const set = copyinSigset(p, addr);
  if (set === -1) return -1;
  const s = signalState(p);
  s.suspendMask = s.mask; // the handler's frame saves this one; sigreturn restores it
  s.mask = (set & ~UNBLOCKABLE) >>> 0;
  if ((s.pending & ~s.mask) !== 0) return -EINTR;
  for (;;) {
    if (p.killed) return -1;
    yield s.pauseChannel; // only a signal (interruptSyscall) ends the wait
  }
}

/** pause(): wait until a signal is delivered; -EINTR. */
function* sysPause(k: Kernel, p: Proc): Blocking {
  traceArgs(k, p, 'pause', []);
  const s = signalState(p);
  for (;;) {
    if (p.killed) return -1;
    yield s.pauseChannel;
  }
}

/** sigaltstack(const stack_t *ss, stack_t *old): the alternate signal stack (SA_ONSTACK handlers use it). */
function sysSigaltstack(k: Kernel, p: Proc): number {
  const ssAddr = argAddr(p, 0);
  const oldAddr = argAddr(p, 1);
  traceArgs(k, p, 'sigaltstack', [ptr(ssAddr), ptr(oldAddr)]);
  const s = signalState(p);
  if (oldAddr !== 0 && !userRangeWritable(p, oldAddr, STACK_T_SIZE)) return -1;
  const onAlt = onAltStack(s, p.tf.unsigned('rsp'));
  const old = { ...s.altstack };
  if (ssAddr !== 0) {
    const b = copyin(p, ssAddr, STACK_T_SIZE);
    if (b === -1) return -1;
    if (onAlt) return -1; // cannot change the stack a handler is running on
    const v = new DataView(b.buffer);
    const sp = u64(v, 0);
    const flags = v.getInt32(8, true);
    const size = u64(v, 16);
    if (flags !== 0 && flags !== SS_DISABLE) return -1;
    if (flags === SS_DISABLE) s.altstack = { sp: 0, size: 0, flags: SS_DISABLE };
    else {
      if (size < MINSIGSTKSZ || sp >= USER_LIMIT || size > USER_LIMIT - sp) return -1;
      s.altstack = { sp, size, flags: 0 };
    }
  }
  if (oldAddr !== 0) {
    const b = new Uint8Array(STACK_T_SIZE);
    const v = new DataView(b.buffer);
    put64(v, 0, old.sp);
    v.setInt32(8, old.flags | (onAlt ? SS_ONSTACK : 0), true);
    put64(v, 16, old.size);
    if (copyout(p, oldAddr, b) < 0) return -1;
  }
  return 0;
}

/** kill2(pid, sig): send `sig` to process `pid` (sig 0: only check that it exists). kill(pid) is kill2(pid, SIGKILL). */
function sysKill2(k: Kernel, p: Proc): number {
  const pid = argInt(p, 0);
  const sig = argInt(p, 1);
  traceArgs(k, p, 'kill2', [pid, sig]);
  if (sig < 0 || sig >= NSIG) return -1;
  const target = k.procs.byPid(pid);
  if (!target || target.state === 'zombie') return -1;
  if (sig !== 0) postSignal(k, target, sig, { code: 0 /* SI_USER */, addr: 0, pid: p.pid });
  return 0;
}

export const SIGNAL_SYSCALLS: ReadonlyMap<string, SyscallFunction> = new Map<string, SyscallFunction>([
  ['rt_sigaction', sysRtSigaction],
  ['sigprocmask', sysSigprocmask],
  ['sigpending', sysSigpending],
  ['sigsuspend', sysSigsuspend],
  ['sigaltstack', sysSigaltstack],
  ['sigreturn', sysSigreturn],
  ['kill2', sysKill2],
  ['alarm', sysAlarm],
  ['setitimer', sysSetitimer],
  ['pause', sysPause],
  ['fcntl', sysFcntl],
]);
