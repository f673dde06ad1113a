// Direct exits: how a virtual machine monitor that runs on this machine
// (src/vmm/host.ts) takes its guest's exits without the CPU throwing them.
//
// The monitor runs its guest at real CPL 3, with IOPL 0, on a host IDT whose
// 256 gates all have DPL 0. There, each of these instructions can only end in
// an exit to the monitor, which runs it again on the guest's own processor:
//
//   a privileged form (hlt, lgdt, mov to CRn, wrmsr ...)   #GP(0)
//   in, out, cli, sti (CPL 3 > IOPL 0)                      #GP(0)
//   strict mode's sensitive forms (pushf, popf, sgdt ...)   #GP(0)
//   int n, int3 (gate DPL 0 < CPL 3; the int retires)       #GP(n * 8 + 2)
//   iretq, iret                                             a fault: the guest's
//       selectors name nothing usable in the monitor's GDT (vmGdt.ts), or its
//       stack faults first; the monitor runs the iretq on the guest's processor
//       whichever fault it was (a shadow fill first retries it, to the same end)
//
// On the bare machine the fault is a CpuFault thrown from the instruction,
// caught and rethrown by the JIT region and runSlice, delivered through the
// host IDT onto the host stack, and read back from there by the monitor's
// handler: about half the cost of a system call in a guest. A direct exit
// instead leaves the CPU at the instruction with nothing changed, notes the
// exit here and ends the slice (the instruction's caller counts it as retired,
// like any system instruction, and the run loop takes that back for a fault).
// The run loop (Machine.run) then hands the exit to the monitor, with the
// CPU's registers as the frame the delivery would have pushed.
//
// Only when the CPU runs a slice freely: under debugging (DR7, an outside
// debugger, TF or RF) every instruction goes through debugExceptions.ts and
// the exit is the real fault, as before. While someone watches the exits
// (xk vm --trace) they are direct all the same, but for iretq and iret (see
// `returns`): the trace is the same either way. Nothing changes for a machine
// without a monitor: `Machine.directExits` is null and the fault is thrown.

import type { Cpu } from './cpu.js';
import { GP } from './exceptions.js';
import { RF, TF } from './flags.js';

/** The monitor's side: handle the exit `vector` with `errorCode` from the guest at the CPU's RIP. */
export type DirectExitHandler = (vector: number, errorCode: number) => void;

// Its fields are ES private: they are no state of the machine's (an exit is
// taken within the slice that noted it), so a saved VM state does not carry them.
export class DirectExits {
  /**
   * Off: iretq and iret exit by their real fault. Their direct exit says #GP(0)
   * whatever the real CPU would have raised (#GP naming the frame's selector, a
   * fault on the stack): all the same to the monitor, which runs the iretq again
   * on the guest's processor, but not to someone who watches the exits' error
   * codes (xk vm --trace), so the monitor turns this off while someone watches.
   * Every other direct exit raises exactly the real fault's vector and error code.
   */
  #returns = true;
  /** An exit is waiting for the run loop. */
  #pending = false;
  #vector = 0;
  #errorCode = 0;
  /** The instruction retired before the fault (int n): the run loop keeps its count. */
  #retired = false;
  readonly #handler: DirectExitHandler;

  constructor(handler: DirectExitHandler) {
    this.#handler = handler;
  }

  get pending(): boolean { return this.#pending; }
  set returns(on: boolean) { this.#returns = on; }

  /** take() for iretq and iret (#GP(0) stands for whichever fault theirs would be), unless `returns` is off. */
  takeReturn(cpu: Cpu): boolean {
    return this.#returns && this.take(cpu, GP, 0, false);
  }

  /**
   * The instruction now executing at CPL 3 would raise `vector` (`errorCode`)
   * into the monitor: if it can exit directly, note it, put RIP back at the
   * instruction and end the slice (true); otherwise false, and the caller raises the fault.
   */
  take(cpu: Cpu, vector: number, errorCode: number, retired: boolean): boolean {
    if (cpu.cpl !== 3 || cpu.debugEnabled || (cpu.flags.bits & (TF | RF)) !== 0) return false;
    this.#pending = true;
    this.#vector = vector;
    this.#errorCode = errorCode;
    this.#retired = retired;
    cpu.rip = cpu.instructionStart;
    cpu.interruptCheck = true;
    return true;
  }

  /** From the run loop, after the slice: the instruction's count as the fault leaves it, then the monitor's handler. */
  deliver(cpu: Cpu): void {
    this.#pending = false;
    if (!this.#retired) cpu.instructionCount--;
    this.#handler(this.#vector, this.#errorCode);
  }
}
