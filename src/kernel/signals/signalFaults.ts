// Faults become signals: an exception in user mode is the program's own doing,
// so the kernel reflects it back to the program, as the CPU reflects it to the kernel.
//   #PF (14) -> SIGSEGV, si_addr = CR2 (the address that faulted)
//   #DE (0)  -> SIGFPE,  si_addr = the dividing instruction
//   #UD (6)  -> SIGILL,  si_addr = the undefined instruction
//   #BP (3)  -> SIGTRAP, si_addr = the int3; xk's #BP gate has DPL 0 (only int $64 is
//               open to user mode), so int3 in user mode arrives as #GP with error code
//               (3 << 3) | 2 ("IDT entry 3"); it is turned into the trap int3 would be,
//               with rip after the instruction
//   #DB (1)  -> SIGTRAP, si_code TRAP_TRACE after a single step (RFLAGS.TF, DR6.BS),
//               TRAP_HWBKPT for a debug-register breakpoint; the kernel then clears DR6
//   #GP (13) -> SIGSEGV otherwise
// The saved rip of a fault is the faulting instruction: a handler that repairs the
// cause (maps the page, say) and returns makes the instruction run again.
// When the signal has no handler, or is blocked (a fault inside its own handler),
// trap() does what it always did: print the trap and kill the process.

import { copyin } from '../mem/copyin.js';
import type { Kernel } from '../kernel.js';
import { T_PAGE_FAULT } from '../mem/kernelLayout.js';
import type { Proc } from '../proc/proc.js';
import { SIGFPE, SIGILL, SIGSEGV, SIGTRAP, SIG_IGN, postSignal, sigbit, signalName, existingSignalState } from './signals.js';
import type { TrapFrame } from '../trap/trapFrame.js';
import { hex } from '../traceEvents.js';
import { DR6_BS } from '../../machine/debugRegisters.js';

const T_DIVIDE = 0;
const T_DEBUG = 1;
const T_BREAKPOINT = 3;
const T_ILLEGAL_OP = 6;
const T_GP = 13;
const GP_IDT_BREAKPOINT = (T_BREAKPOINT << 3) | 2;

/** si_code values (Linux's). */
const SEGV_MAPERR = 1, SEGV_ACCERR = 2, FPE_INTDIV = 1, ILL_ILLOPN = 2, TRAP_BRKPT = 1, TRAP_TRACE = 2, TRAP_HWBKPT = 4, SI_KERNEL = 0x80;

/** Raise the signal for user fault `trapno` if a handler will take it; false: kill as before. */
export function faultToSignal(k: Kernel, p: Proc, tf: TrapFrame, trapno: number): boolean {
  const s = existingSignalState(p);
  const rip = tf.unsigned('rip');
  let sig: number;
  let code: number;
  let addr = rip;
  if (trapno === T_PAGE_FAULT) {
    sig = SIGSEGV;
    addr = k.cpu.cr2;
    code = (tf.lo('err') & 1) !== 0 ? SEGV_ACCERR : SEGV_MAPERR;
  } else if (trapno === T_DIVIDE) {
    [sig, code] = [SIGFPE, FPE_INTDIV];
  } else if (trapno === T_ILLEGAL_OP) {
    [sig, code] = [SIGILL, ILL_ILLOPN];
  } else if (trapno === T_DEBUG) {
    const dr = k.cpu.debugRegisters;
    [sig, code] = [SIGTRAP, (dr.dr6 & DR6_BS) !== 0 ? TRAP_TRACE : TRAP_HWBKPT];
    dr.dr6 = 0; // DR6 is sticky: the next #DB must not look like this one
  } else if (trapno === T_BREAKPOINT || (trapno === T_GP && tf.lo('err') === GP_IDT_BREAKPOINT)) {
    [sig, code] = [SIGTRAP, TRAP_BRKPT];
  } else if (trapno === T_GP) {
    [sig, code, addr] = [SIGSEGV, SI_KERNEL, 0];
  } else {
    return false;
  }
  const a = s?.actions[sig];
  if (!s || !a || a.handler <= SIG_IGN || (s.mask & sigbit(sig)) !== 0) return false;
  if (trapno === T_PAGE_FAULT) k.pageFaults++;
  if (trapno === T_GP && sig === SIGTRAP) {
    // Step over int3 (cc) or int $3 (cd 03), as the real #BP trap would have.
    const b = copyin(p, rip, 1);
    tf.set('rip', rip + (b !== -1 && b[0] === 0xcd ? 2 : 1));
  }
  k.emit(p, 'kernel', 'signal-fault', `fault ${trapno} in user mode at rip ${hex(rip)} -> ${signalName(sig)}, si_addr ${hex(addr)}`, { trapno, sig });
  postSignal(k, p, sig, { code, addr, pid: 0 });
  return true;
}
