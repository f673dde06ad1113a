// sigreturn(ucontext_t *uc): the signal handler's iretq, and a security boundary.
//
// The frame sigreturn restores is in USER memory: the program could have changed
// it, or built one from scratch. The trap frame it writes is what trapret loads
// and iretq executes AT KERNEL PRIVILEGE, so every value is checked first; a frame
// that fails any check is refused and the process is killed with SIGSEGV:
//   1. the whole ucontext must be readable user memory (copied in once, with copyin);
//   2. cs must be the user code selector and ss the user data selector (RPL 3):
//      anything else would make iretq return to ring 0, or fault inside the kernel;
//   3. rflags: IOPL must be 0 (else in/out work in user mode), IF must be 1 (else the
//      program could switch the timer off), and NT, RF, VM, AC, VIF, VIP, ID and the
//      reserved bits must be clear; the arithmetic flags, TF and DF are the user's;
//   4. rip and rsp must be user addresses (canonical and at most USER_LIMIT): a
//      non-canonical rip or rsp makes iretq raise #GP in the kernel;
//   5. trapno and err are ignored (they are the kernel's bookkeeping), and SIGKILL and
//      SIGSTOP are taken out of the restored mask.

import { copyin } from '../mem/copyin.js';
import type { Kernel } from '../kernel.js';
import { USER_CS, USER_DS, USER_LIMIT } from '../mem/kernelLayout.js';
import type { Proc } from '../proc/proc.js';
import { terminateBySignal } from './signalDelivery.js';
import { UCONTEXT_SIZE, UC_MCONTEXT, UC_SIGMASK } from './signalFrame.js';
import { SIGSEGV, UNBLOCKABLE, signalState } from './signals.js';
import { argAddr, ptr, traceArgs } from '../syscall/args.js';
import { TRAP_FRAME_FIELDS, type TrapFrameField } from '../trap/trapFrame.js';
import { hex } from '../traceEvents.js';

const RFLAGS_FIXED = 0x2; // bit 1 always reads 1
const RFLAGS_IF = 0x200;
const RFLAGS_IOPL = 0x3000;
/** CF PF AF ZF SF TF DF OF: what user code may set with popf anyway. */
const RFLAGS_USER = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800;

/** The reason `regs` may not be loaded into the trap frame, or null when it may. */
export function checkRestoredRegisters(regs: Map<TrapFrameField, [number, number]>): string | null {
  const [csLo, csHi] = regs.get('cs')!;
  const [ssLo, ssHi] = regs.get('ss')!;
  if (csHi !== 0 || csLo !== USER_CS) return `cs ${hex(csHi * 2 ** 32 + csLo)} is not the user code selector ${hex(USER_CS)}`;
  if (ssHi !== 0 || ssLo !== USER_DS) return `ss ${hex(ssHi * 2 ** 32 + ssLo)} is not the user data selector ${hex(USER_DS)}`;
  const [fl, fh] = regs.get('rflags')!;
  if (fh !== 0 || (fl & RFLAGS_IOPL) !== 0) return `rflags ${hex(fh * 2 ** 32 + fl)} has IOPL ${(fl >>> 12) & 3}`;
  if ((fl & RFLAGS_IF) === 0) return `rflags ${hex(fl)} has IF clear`;
  if ((fl & ~(RFLAGS_USER | RFLAGS_IF | RFLAGS_FIXED)) !== 0) return `rflags ${hex(fl)} sets restricted bits ${hex(fl & ~(RFLAGS_USER | RFLAGS_IF | RFLAGS_FIXED))}`;
  for (const field of ['rip', 'rsp'] as const) {
    const [lo, hi] = regs.get(field)!;
    const value = hi * 2 ** 32 + lo;
    if (value > USER_LIMIT) return `${field} ${'0x' + (BigInt(hi) << 32n | BigInt(lo)).toString(16)} is not a user address`;
  }
  return null;
}

export function sysSigreturn(k: Kernel, p: Proc): number {
  const ucAddr = argAddr(p, 0);
  traceArgs(k, p, 'sigreturn', [ptr(ucAddr)]);
  const bytes = copyin(p, ucAddr, UCONTEXT_SIZE);
  if (bytes === -1) return refuse(k, p, `ucontext ${hex(ucAddr)} is not readable user memory`);
  const v = new DataView(bytes.buffer);
  const regs = new Map<TrapFrameField, [number, number]>();
  TRAP_FRAME_FIELDS.forEach((field, i) => {
    const at = UC_MCONTEXT + 8 * i;
    regs.set(field, [v.getUint32(at, true), v.getUint32(at + 4, true)]);
  });
  const why = checkRestoredRegisters(regs);
  if (why) return refuse(k, p, why);

  for (const [field, [lo, hi]] of regs) {
    if (field !== 'trapno' && field !== 'err') p.tf.setHalves(field, lo, hi);
  }
  p.tf.setHalves('rflags', regs.get('rflags')![0] | RFLAGS_FIXED, 0);
  const s = signalState(p);
  s.mask = (v.getUint32(UC_SIGMASK, true) & ~UNBLOCKABLE) >>> 0;
  s.restoreRax = regs.get('rax')!;
  k.emit(p, 'kernel', 'sigreturn',
    `sigreturn ~ iretq: checked frame at ${hex(ucAddr)}, back to rip ${p.tf.hex('rip')} rsp ${p.tf.hex('rsp')}, mask ${hex(s.mask)}`,
    { rip: p.tf.hex('rip') });
  // The call's result goes into rax; deliverPendingSignals then puts all 64 restored bits back.
  const rax = p.tf.signed('rax');
  return Number.isSafeInteger(rax) ? rax : 0;
}

function refuse(k: Kernel, p: Proc, why: string): number {
  k.emit(p, 'kernel', 'sigreturn-refused', `sigreturn refused: ${why}`);
  terminateBySignal(k, p, SIGSEGV, `sigreturn refused: ${why}`);
  return -1;
}
