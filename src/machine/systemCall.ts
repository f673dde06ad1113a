// The fast system-call instructions of 64-bit mode: syscall and sysretq/sysretl
// (Intel SDM Vol. 2B SYSCALL and SYSRET "Operation"; Vol. 3A 5.8.8; AMD APM
// Vol. 3 SYSCALL/SYSRET), and the MSRs that configure them:
//
//   STAR   (0xC0000081)  [47:32] kernel CS (SS = +8) loaded by syscall;
//                        [63:48] base for sysret: SS = base+8, CS = base+16 (sysretq)
//                        or CS = base (sysretl, a return to 32-bit code); RPL forced to 3.
//                        [31:0] is the legacy-mode syscall EIP (unused in long mode).
//   LSTAR  (0xC0000082)  RIP of the 64-bit syscall entry point (must be canonical).
//   CSTAR  (0xC0000083)  the compatibility-mode entry (kept, never used: xk has no 32-bit code).
//   SFMASK (0xC0000084)  RFLAGS bits syscall clears; [63:32] reserved.
//
// Unlike int $64, neither instruction touches memory: no IDT, no TSS, no stack.
// syscall puts the return RIP in RCX and RFLAGS in R11 and switches CS/SS/CPL
// only; RSP is still the user's, so the kernel's entry stub must switch stacks
// itself before it pushes anything.
//
// The CS and SS descriptor caches are loaded with fixed flat values, not from
// the GDT: xk keeps no descriptor caches, only the selectors and the CPL, which
// is exactly what these instructions change.
//
// sysretq to a non-canonical RCX — THE famous difference between the vendors:
//   Intel raises #GP(0) while still at CPL 0, before anything changes — but the
//   kernel has already put the user's RSP back, so the #GP handler runs on a
//   user-chosen stack at CPL 0 (CVE-2012-0217). Kernels therefore check RCX and
//   return by iretq when it is not canonical.
//   AMD completes the return and the #GP is taken at CPL 3, on the fetch.
// xk does what Intel does (the teaching point).

import type { SystemHost } from './system.js';
import { CpuFault, UD, gp } from './exceptions.js';
import { EFER_LMA, EFER_SCE } from './mmu.js';
import { isCanonical, toSignedLinear } from './address.js';

export const MSR_STAR = 0xc0000081;
export const MSR_LSTAR = 0xc0000082;
export const MSR_CSTAR = 0xc0000083;
export const MSR_SFMASK = 0xc0000084;

/** RFLAGS bits sysret takes from R11 (SDM: RFLAGS := (R11 & 3C7FD7H) | 2): RF, VM and the reserved bits 3, 5, 15 are cleared. */
export const SYSRET_RFLAGS_MASK = 0x3c7fd7;

function checkEnabled(machine: SystemHost, name: string): void {
  const efer = machine.cpu.efer;
  if ((efer & EFER_LMA) === 0) throw new CpuFault(UD, undefined, `${name} outside long mode`);
  if ((efer & EFER_SCE) === 0) throw new CpuFault(UD, undefined, `${name} with EFER.SCE = 0`);
}

/** syscall. RIP already points at the next instruction. */
export function fastSystemCall(machine: SystemHost): void {
  checkEnabled(machine, 'syscall');
  const cpu = machine.cpu;
  const flags = cpu.getRflags();
  const rip = cpu.rip;
  cpu.regs[2 * 1] = rip >>> 0; // RCX <- RIP
  cpu.regs[2 * 1 + 1] = Math.floor(rip / 0x100000000) >>> 0;
  cpu.regs[2 * 11] = flags >>> 0; // R11 <- RFLAGS
  cpu.regs[2 * 11 + 1] = 0;
  cpu.setRflags((flags & ~cpu.sfmask & ~0x10000) >>> 0); // the SFMASK bits and RF cleared
  const selector = (cpu.starHi & 0xffff);
  cpu.cs = selector & 0xfffc;
  cpu.ss = (selector + 8) & 0xffff;
  cpu.cpl = 0;
  cpu.rip = cpu.lstar;
}

/** sysretq (size 64) or sysretl (size 32). */
export function fastSystemReturn(machine: SystemHost, size: 32 | 64): void {
  checkEnabled(machine, size === 64 ? 'sysretq' : 'sysretl');
  const cpu = machine.cpu;
  if (cpu.cpl !== 0) throw gp(0, `sysret at CPL ${cpu.cpl}`);
  const lo = cpu.regs[2], hi = cpu.regs[3];
  if (size === 64 && !isCanonical(lo, hi)) throw gp(0, 'sysretq: RCX is not canonical (Intel: #GP at CPL 0)');
  const base = cpu.starHi >>> 16;
  cpu.rip = size === 64 ? toSignedLinear(lo, hi) : lo >>> 0;
  cpu.setRflags(((cpu.regs[2 * 11] & SYSRET_RFLAGS_MASK) | 2) >>> 0);
  cpu.cs = ((size === 64 ? base + 16 : base) | 3) & 0xffff;
  cpu.ss = ((base + 8) | 3) & 0xffff;
  cpu.cpl = 3;
}

/** rdmsr of one of the syscall MSRs: [low, high] halves, or null if `ecx` is not one. */
export function readSystemCallMsr(machine: SystemHost, ecx: number): [number, number] | null {
  const cpu = machine.cpu;
  const split = (v: number): [number, number] => [v >>> 0, Math.floor(v / 0x100000000) >>> 0];
  switch (ecx) {
    case MSR_STAR: return [cpu.starLo >>> 0, cpu.starHi >>> 0];
    case MSR_LSTAR: return split(cpu.lstar);
    case MSR_CSTAR: return split(cpu.cstar);
    case MSR_SFMASK: return [cpu.sfmask >>> 0, 0];
  }
  return null;
}

/** wrmsr of one of the syscall MSRs; false if `ecx` is not one. #GP(0) for a non-canonical LSTAR/CSTAR or SFMASK[63:32] set. */
export function writeSystemCallMsr(machine: SystemHost, ecx: number, lo: number, hi: number): boolean {
  const cpu = machine.cpu;
  switch (ecx) {
    case MSR_STAR: cpu.starLo = lo >>> 0; cpu.starHi = hi >>> 0; return true;
    case MSR_LSTAR: case MSR_CSTAR: {
      if (!isCanonical(lo, hi)) throw gp(0, `wrmsr: ${ecx === MSR_LSTAR ? 'LSTAR' : 'CSTAR'} is not canonical`);
      if (ecx === MSR_LSTAR) cpu.lstar = toSignedLinear(lo, hi);
      else cpu.cstar = toSignedLinear(lo, hi);
      return true;
    }
    case MSR_SFMASK:
      if (hi !== 0) throw gp(0, 'wrmsr: SFMASK bits 63:32 are reserved');
      cpu.sfmask = lo >>> 0;
      return true;
  }
  return false;
}
