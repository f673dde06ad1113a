// Delivering a signal: the kernel does to the user program what the CPU does to
// the kernel on an interrupt.
//
//   interrupt (hardware)                      signal (this file)
//   vector number                             signal number
//   IDT entry -> handler address              actions[sig].handler
//   RFLAGS.IF cleared while handling          sig (and sa_mask) added to the mask
//   push ss rsp rflags cs rip on the          copy the trap frame into a signal frame on
//     interrupt stack (TSS.rsp0)                the user stack, or the alternate stack
//   iretq pops them                           sigreturn() checks and restores them
//
// deliverPendingSignals runs on every return to user mode (trap.ts, scheduler.ts),
// when the trap frame holds exactly the registers the program will resume with.

import { copyout } from '../mem/copyin.js';
import { exitProcess } from '../proc/exit.js';
import type { Kernel } from '../kernel.js';
import type { Proc } from '../proc/proc.js';
import {
  FRAME_SIGINFO, FRAME_UCONTEXT, RED_ZONE, SIGNAL_FRAME_SIZE, SI_ADDR, SI_CODE, SI_PID, SI_SIGNO,
  UC_MCONTEXT, UC_SIGMASK, UC_STACK,
} from './signalFrame.js';
import {
  SA_NODEFER, SA_ONSTACK, SA_RESETHAND, SIG_DFL, SIG_IGN, SIGKILL, SIGSEGV, SS_DISABLE, SS_ONSTACK, UNBLOCKABLE,
  defaultAction, existingSignalState, sigbit, signalName, type SignalState,
} from './signals.js';
import { hex } from '../traceEvents.js';

/** RFLAGS bits a handler starts without: TF (no single-stepping into it), DF (the ABI wants it clear). */
const RFLAGS_TF = 0x100;
const RFLAGS_DF = 0x400;

/** Exit status of a process a signal terminated: 128 + the signal (a shell's convention). */
export const signalExitStatus = (sig: number): number => 128 + sig;

/** Terminate p by signal `sig`, with a message on the console (faults get the core-style line). */
export function terminateBySignal(k: Kernel, p: Proc, sig: number, why = ''): void {
  // Faults get a core-style report of where the program was (xk writes no core file).
  const core = defaultAction(sig) === 'core' ? ` at rip ${p.tf.hex('rip')} rsp ${p.tf.hex('rsp')}` : '';
  k.print(`pid ${p.pid} (${p.name}): killed by ${signalName(sig)}${why ? ` (${why})` : ''}${core}\n`);
  k.emit(p, 'kernel', 'signal-kill', `default action of ${signalName(sig)}: terminate pid ${p.pid}`, { sig });
  exitProcess(k, p, signalExitStatus(sig));
}

/** Is `sp` inside p's alternate signal stack? */
export function onAltStack(s: SignalState, sp: number): boolean {
  return (s.altstack.flags & SS_DISABLE) === 0 && sp > s.altstack.sp && sp <= s.altstack.sp + s.altstack.size;
}

/**
 * Called right before p returns to user mode. Delivers at most one signal that is
 * pending and not blocked. Returns true when p may go on to user mode, false when
 * it stopped or died.
 */
export function deliverPendingSignals(k: Kernel, p: Proc): boolean {
  const s = existingSignalState(p);
  if (!s) return true;
  if (s.restoreRax) {
    // sigreturn restored all 64 bits of rax; its "result" went through a JS number.
    p.tf.setHalves('rax', s.restoreRax[0], s.restoreRax[1]);
    s.restoreRax = null;
  }
  for (;;) {
    const ready = (s.pending & ~s.mask) >>> 0;
    if (ready === 0) break;
    const sig = 31 - Math.clz32(ready & -ready) + 1; // lowest-numbered first
    s.pending = (s.pending & ~sigbit(sig)) >>> 0;
    const info = s.info.get(sig) ?? { code: 0, addr: 0, pid: 0 };
    s.info.delete(sig);
    const action = s.actions[sig];
    if (sig === SIGKILL) {
      terminateBySignal(k, p, sig);
      return false;
    }
    if (action.handler === SIG_IGN) continue;
    if (action.handler === SIG_DFL) {
      const what = defaultAction(sig);
      if (what === 'ignore' || what === 'continue') continue;
      if (what === 'stop') {
        s.stopped = true;
        p.state = 'sleeping';
        p.chan = s.stopChannel;
        k.emit(p, 'kernel', 'signal-stop', `pid ${p.pid} stopped by ${signalName(sig)} until SIGCONT`, { sig });
        return false;
      }
      terminateBySignal(k, p, sig);
      return false;
    }
    if (!buildFrame(k, p, s, sig, info)) {
      terminateBySignal(k, p, SIGSEGV, `no room for the ${signalName(sig)} frame`);
      return false;
    }
    return true;
  }
  if (s.suspendMask !== null) {
    // sigsuspend ended without a handler frame to carry the old mask back.
    s.mask = s.suspendMask;
    s.suspendMask = null;
  }
  return true;
}

function buildFrame(k: Kernel, p: Proc, s: SignalState, sig: number, info: { code: number; addr: number; pid: number }): boolean {
  const action = s.actions[sig];
  const tf = p.tf;
  const rsp = tf.unsigned('rsp');
  const wasOnAlt = onAltStack(s, rsp);
  const useAlt = wasOnAlt || ((action.flags & SA_ONSTACK) !== 0 && (s.altstack.flags & SS_DISABLE) === 0);
  const top = useAlt && !wasOnAlt ? s.altstack.sp + s.altstack.size : rsp - RED_ZONE;
  const frame = Math.floor((top - SIGNAL_FRAME_SIZE) / 16) * 16 - 8;
  if (useAlt && frame < s.altstack.sp) {
    k.emit(p, 'kernel', 'signal-overflow', `alternate signal stack overflow: frame at ${hex(frame)} is below ${hex(s.altstack.sp)}`);
    return false;
  }
  const oldMask = s.suspendMask ?? s.mask;

  const bytes = new Uint8Array(SIGNAL_FRAME_SIZE);
  const v = new DataView(bytes.buffer);
  const put64 = (at: number, n: number): void => v.setBigUint64(at, BigInt.asUintN(64, BigInt(n)), true);
  put64(0, action.restorer);
  const uc = FRAME_UCONTEXT;
  put64(uc + UC_STACK, s.altstack.sp);
  v.setInt32(uc + UC_STACK + 8, (s.altstack.flags & SS_DISABLE) | (wasOnAlt ? SS_ONSTACK : 0), true);
  put64(uc + UC_STACK + 16, s.altstack.size);
  put64(uc + UC_SIGMASK, oldMask);
  bytes.set(tf.toBytes(), uc + UC_MCONTEXT);
  const si = FRAME_SIGINFO;
  v.setInt32(si + SI_SIGNO, sig, true);
  v.setInt32(si + SI_CODE, info.code, true);
  v.setInt32(si + SI_PID, info.pid, true);
  put64(si + SI_ADDR, info.addr);
  if (frame < 0 || copyout(p, frame, bytes) < 0) {
    k.emit(p, 'kernel', 'signal-badstack', `cannot write the ${signalName(sig)} frame at ${hex(frame)}`);
    return false;
  }

  // Enter the handler: handler(signo, &siginfo, &ucontext), returning to the trampoline.
  tf.set('rip', action.handler);
  tf.set('rsp', frame);
  tf.set('rdi', sig);
  tf.set('rsi', frame + FRAME_SIGINFO);
  tf.set('rdx', frame + FRAME_UCONTEXT);
  tf.setHalves('rflags', tf.lo('rflags') & ~(RFLAGS_TF | RFLAGS_DF), 0);
  s.mask = (s.mask | action.mask | ((action.flags & SA_NODEFER) !== 0 ? 0 : sigbit(sig))) & ~UNBLOCKABLE;
  s.mask >>>= 0;
  s.suspendMask = null;
  if ((action.flags & SA_RESETHAND) !== 0) s.actions[sig] = { handler: SIG_DFL, flags: 0, restorer: 0, mask: 0 };

  k.emit(p, 'kernel', 'signal-deliver',
    `deliver ${signalName(sig)} (${sig}) ~ interrupt vector ${sig}: handler ${hex(action.handler)} ~ IDT entry ${sig}`,
    { sig, handler: hex(action.handler), code: info.code, value: info.pid });
  if (k.trace) {
    k.emit(p, 'kernel', 'signal-frame',
      `signal frame at ${hex(frame)} on the ${useAlt ? 'alternate signal stack ~ interrupt stack (IST)' : 'user stack ~ kernel stack (TSS.rsp0)'}: ` +
      `saved rip ${hex(Number(v.getBigUint64(uc + UC_MCONTEXT + 17 * 8, true)))} rsp ${hex(rsp)}, old mask ${hex(oldMask)}; ` +
      `handler returns to trampoline ${hex(action.restorer)} -> sigreturn ~ iretq`,
      { frame: hex(frame), sig });
  }
  return true;
}
