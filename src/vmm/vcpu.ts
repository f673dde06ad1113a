// The virtual CPU: the privileged state the guest kernel believes it owns.
//
// The guest always runs at real CPL 3 on the monitor's GDT, IDT, TSS and shadow
// page tables. Everything the guest could see of the "real" privileged state
// lives here instead, and the monitor's emulation reads and writes it.

/** RFLAGS.IF, the bit the guest sees through its virtual interrupt flag. */
export const RFLAGS_IF = 1 << 9;
export const RFLAGS_IOPL = 3 << 12;

export class Vcpu {
  /** Virtual CPL: 0 while the guest kernel runs, 3 while guest user code runs. */
  cpl = 0;
  /** Virtual interrupt flag. */
  vif = false;
  /** Set by sti with IF = 0: no virtual interrupt until one more guest instruction has run. */
  interruptShadow = false;
  cr0 = 0;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  efer = 0;
  gdtrBase = 0; gdtrLimit = 0;
  idtrBase = 0; idtrLimit = 0;
  /** Task register selector and the guest TSS's (guest-linear) base and limit. */
  tr = 0; tssBase = 0; tssLimit = 0;
  /** The selectors the guest believes are loaded (the real ones are the monitor's). */
  cs = 0x08; ss = 0; ds = 0; es = 0; fs = 0; gs = 0;
  /** The guest's RFLAGS.IOPL (the real one is always 0, so in/out/cli/sti trap). */
  iopl = 0;
  /** The guest's syscall MSRs (STAR as two halves, LSTAR, CSTAR, SFMASK), as in src/machine/cpu.ts. */
  starLo = 0; starHi = 0; lstar = 0; cstar = 0; sfmask = 0;
  /** FS/GS bases: the host loads fsBase and gsBase into the real CPU whenever the guest resumes. */
  fsBase = 0; gsBase = 0; kernelGsBase = 0;
  /**
   * The guest's debug registers: DR0-DR3 as [lo, hi] pairs, DR6, DR7 (their
   * reset values). mov to/from %dbN always traps (CPL 0 only) and is emulated
   * on the guest's processor; the host loads DR0-DR3 and DR7 into the real CPU
   * while the guest runs (guest-linear addresses are the real ones), so a
   * guest breakpoint fires on the real CPU and the monitor reflects the #DB.
   */
  dr = [0, 0, 0, 0, 0, 0, 0, 0];
  dr6 = 0xffff0ff0;
  dr7 = 0x400;
  /** Guest instructions the monitor emulated or time skipped in hlt (added to the real count). */
  extraTicks = 0;

  /** Paging on in the guest's view (CR0.PG)? */
  get paging(): boolean { return (this.cr0 & 0x80000000) !== 0; }
}
