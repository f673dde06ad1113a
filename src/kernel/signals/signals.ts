// Signals: the per-process signal state and sending a signal.
//
// A signal is an interrupt for a user program. The kernel keeps, per process, what
// a CPU keeps for its interrupts:
//   actions[sig]  the handler table            (the IDT)
//   mask          blocked signals               (RFLAGS.IF, per signal)
//   pending       raised but not yet delivered  (the interrupt request lines)
//   altstack      a separate stack for handlers (the interrupt stack, TSS.rsp0/IST)
// Delivery (signalDelivery.ts) happens on the way back to user mode, as an interrupt
// is taken between two instructions. The state lives in a table keyed by the
// process, so struct proc needs no signal fields; fork copies it, exec resets it.
//
// Signal numbers and flag values are Linux's (user/include/signal.h mirrors them).

import type { Kernel } from '../kernel.js';
import type { Proc } from '../proc/proc.js';

export const SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7,
  SIGFPE = 8, SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGPIPE = 13, SIGALRM = 14,
  SIGTERM = 15, SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGTSTP = 20, SIGTTIN = 21, SIGTTOU = 22,
  SIGURG = 23, SIGVTALRM = 26, SIGWINCH = 28, SIGIO = 29;
/** Signals are 1..NSIG-1; a set of signals is a 32-bit mask, bit sig-1. */
export const NSIG = 32;

export const SIGNAL_NAMES: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE',
  9: 'SIGKILL', 10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM',
  17: 'SIGCHLD', 18: 'SIGCONT', 19: 'SIGSTOP', 20: 'SIGTSTP', 21: 'SIGTTIN', 22: 'SIGTTOU', 23: 'SIGURG',
  26: 'SIGVTALRM', 28: 'SIGWINCH', 29: 'SIGIO',
};
export const signalName = (sig: number): string => SIGNAL_NAMES[sig] ?? `signal ${sig}`;

/** sa_handler values that are not addresses. */
export const SIG_DFL = 0;
export const SIG_IGN = 1;

/** sa_flags. */
export const SA_SIGINFO = 0x4;
export const SA_RESTORER = 0x04000000;
export const SA_ONSTACK = 0x08000000;
export const SA_RESTART = 0x10000000;
export const SA_NODEFER = 0x40000000;
export const SA_RESETHAND = 0x80000000;

/** sigaltstack ss_flags. */
export const SS_ONSTACK = 1;
export const SS_DISABLE = 2;

/** Result of a blocking call a signal interrupted: -EINTR (XK's other errors are -1). */
export const EINTR = 4;

/** The bit of `sig` in a signal set. */
export const sigbit = (sig: number): number => (1 << (sig - 1)) >>> 0;
/** What no mask may hold: SIGKILL and SIGSTOP cannot be blocked. */
export const UNBLOCKABLE = (sigbit(SIGKILL) | sigbit(SIGSTOP)) >>> 0;

export type DefaultAction = 'terminate' | 'core' | 'ignore' | 'stop' | 'continue';

/** What SIG_DFL does. 'core' terminates with a fault report (xk writes no core file). */
export function defaultAction(sig: number): DefaultAction {
  switch (sig) {
    case SIGCHLD: case SIGURG: case SIGWINCH: return 'ignore';
    case SIGCONT: return 'continue';
    case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU: return 'stop';
    case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE: case SIGSEGV: return 'core';
    default: return 'terminate';
  }
}

/** One entry of the handler table (struct sigaction). */
export interface SigAction {
  handler: number; // SIG_DFL, SIG_IGN or a user address
  flags: number;
  restorer: number; // the user trampoline that calls sigreturn
  mask: number; // blocked while the handler runs
}

/** What the signal frame's siginfo reports. */
export interface SigInfo {
  code: number;
  addr: number;
  pid: number;
}

/** An interval timer, in timer ticks (0 = off). */
export interface IntervalTimer {
  remaining: number;
  interval: number;
}

export interface SignalState {
  actions: SigAction[];
  mask: number;
  pending: number;
  info: Map<number, SigInfo>;
  altstack: { sp: number; size: number; flags: number };
  /** While in sigsuspend: the mask to restore (and to save in the frame). */
  suspendMask: number | null;
  /** rax restored by sigreturn, applied after the system-call result is stored. */
  restoreRax: [number, number] | null;
  /** SIGSTOP'd: sleeping on `stopChannel` until SIGCONT. */
  stopped: boolean;
  readonly stopChannel: object;
  /** Waits in pause() and sigsuspend() sleep here; only a signal ends them. */
  readonly pauseChannel: object;
  real: IntervalTimer;
  virtual: IntervalTimer;
}

const defaultActionEntry = (): SigAction => ({ handler: SIG_DFL, flags: 0, restorer: 0, mask: 0 });

function freshState(): SignalState {
  return {
    actions: Array.from({ length: NSIG }, defaultActionEntry),
    mask: 0,
    pending: 0,
    info: new Map(),
    altstack: { sp: 0, size: 0, flags: SS_DISABLE },
    suspendMask: null,
    restoreRax: null,
    stopped: false,
    stopChannel: { name: 'stopped' },
    pauseChannel: { name: 'pause' },
    real: { remaining: 0, interval: 0 },
    virtual: { remaining: 0, interval: 0 },
  };
}

const states = new WeakMap<Proc, SignalState>();

/** p's signal state (created with every action SIG_DFL on first use). */
export function signalState(p: Proc): SignalState {
  let s = states.get(p);
  if (!s) {
    s = freshState();
    states.set(p, s);
  }
  return s;
}

/** p's signal state if it ever used signals (cheap test on the return-to-user path). */
export function existingSignalState(p: Proc): SignalState | undefined {
  return states.get(p);
}

/** fork(): the child inherits actions, mask and alternate stack; nothing pending, no timers. */
export function forkSignals(parent: Proc, child: Proc): void {
  const s = states.get(parent);
  if (!s) return;
  const c = signalState(child);
  c.actions = s.actions.map((a) => ({ ...a }));
  c.mask = s.mask;
  c.altstack = { ...s.altstack };
}

/** exec(): handlers point into the old program, so they become SIG_DFL (SIG_IGN stays); no alternate stack. */
export function execSignals(p: Proc): void {
  const s = states.get(p);
  if (!s) return;
  s.actions = s.actions.map((a) => (a.handler === SIG_IGN ? { ...a, restorer: 0 } : defaultActionEntry()));
  s.altstack = { sp: 0, size: 0, flags: SS_DISABLE };
}

/** Would delivering `sig` do nothing at all? (Such signals are discarded when sent, as in Unix.) */
function ignored(s: SignalState, sig: number): boolean {
  const h = s.actions[sig].handler;
  return h === SIG_IGN || (h === SIG_DFL && defaultAction(sig) === 'ignore');
}

/** Wake a process sleeping on anything (kill, SIGCONT). */
function wake(p: Proc): void {
  if (p.state === 'sleeping') {
    p.state = 'runnable';
    p.chan = null;
  }
}

/**
 * Raise `sig` in `target` (kill2, a timer, SIGIO, a fault). It stays pending until
 * the target returns to user mode with it unblocked. A target waiting in a system
 * call is interrupted (interruptSyscall) so the signal is not held up by the wait.
 */
export function postSignal(k: Kernel, target: Proc, sig: number, info: SigInfo = { code: 0, addr: 0, pid: 0 }): void {
  if (target.state === 'zombie' || target.state === 'embryo') return;
  k.emit(target, 'kernel', 'signal-raise', `raise ${signalName(sig)} (${sig}) in pid ${target.pid}: pending, like an interrupt request line`, { sig, code: info.code, value: info.pid });
  if (sig === SIGKILL) {
    // The old kill(): cannot be caught or blocked, the process dies on its way out of the kernel.
    target.killed = true;
    wake(target);
    return;
  }
  const s = signalState(target);
  if (sig === SIGCONT) {
    s.pending = (s.pending & ~sigbit(SIGSTOP)) >>> 0;
    if (s.stopped) {
      s.stopped = false;
      wake(target);
      k.emit(target, 'kernel', 'signal-continue', `pid ${target.pid} continues (SIGCONT)`);
    }
  }
  if (sig === SIGSTOP || defaultAction(sig) === 'stop') s.pending = (s.pending & ~sigbit(SIGCONT)) >>> 0;
  if (ignored(s, sig)) return;
  s.pending = (s.pending | sigbit(sig)) >>> 0;
  s.info.set(sig, info);
  if (target.pending && !s.stopped && (sigbit(sig) & s.mask) === 0) interruptSyscall(k, target, sig);
}

/**
 * A system call waiting for something is abandoned because `sig` arrived. With a
 * handler installed with SA_RESTART (and for a stop), the call starts over after
 * the handler returns: RIP goes back over `int $64` (2 bytes) and rax still holds
 * the call number. Otherwise it returns -EINTR. pause() and sigsuspend() never restart.
 * A write that already moved some bytes before it waited returns that partial count instead.
 */
export function interruptSyscall(k: Kernel, p: Proc, sig: number): void {
  const call = p.pending;
  if (!call) return;
  const s = signalState(p);
  const a = s.actions[sig];
  const name = p.pendingName;
  const restartable = name !== 'pause' && name !== 'sigsuspend';
  const withRestart = a.handler > SIG_IGN && (a.flags & SA_RESTART) !== 0;
  const stopping = a.handler === SIG_DFL && defaultAction(sig) === 'stop';
  const restart = restartable && (withRestart || stopping);
  p.pending = null;
  const result = call.return(-EINTR).value as number; // done: the value the call returned
  p.chan = null;
  p.state = 'runnable';
  if (result !== undefined && result !== -EINTR) {
    // The call had already moved data (a pipe write that filled the pipe and
    // waited for room): it returns that partial count, and is not restarted.
    p.tf.set('rax', result);
    k.emit(p, 'kernel', 'signal-partial', `sys_${name} interrupted by ${signalName(sig)}: returns the partial count ${result}`, { sig });
  } else if (restart) {
    p.tf.set('rip', p.tf.unsigned('rip') - 2);
    k.emit(p, 'kernel', 'signal-restart', `sys_${name} interrupted by ${signalName(sig)}: restarts after the handler (SA_RESTART)`, { sig });
  } else {
    p.tf.set('rax', -EINTR);
    k.emit(p, 'kernel', 'signal-eintr', `sys_${name} interrupted by ${signalName(sig)}: returns -EINTR (-${EINTR})`, { sig });
  }
}
