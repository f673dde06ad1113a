// The guest's events on time, under the xk kernel: its virtual timer interrupt
// at the deadline's instruction, a held-back virtual interrupt right after the
// one instruction that holds it back (sti's shadow), a save point (--save-at N)
// at exactly N. xk vm (host.ts) stops its guest there by the length of each run;
// a VM process of the kernel runs until it traps, so the monitor sets the
// kernel's own timer (the host's hardware) to interrupt then: a clock interrupt
// is a host interrupt, the guest traps into the kernel at that boundary, and the
// monitor's afterTrap sees the guest's time there.
//
// When the VM is entered and its next event comes before the kernel's next
// tick, the timer is loaded with the instructions to go: the kernel's way out
// (slowret: pops, iretq) plus the guest's remaining instructions. That
// interrupt is the monitor's, not the kernel's clock tick: the monitor
// acknowledges it at the interrupt controller and the kernel never counts it.
// The timer is then loaded with what was left of the kernel's period, so that
// the kernel's own tick comes at its instruction, and at that tick the kernel's
// period is put back. If the VM leaves the processor for good before (it ends,
// is killed or gets a signal), the kernel's period is put back at once: its
// next tick then comes at most a period late.

import type { Kernel } from '../kernel/kernel.js';
import { T_IRQ0 } from '../kernel/mem/kernelLayout.js';
import { PIC_COMMAND, PIC_EOI } from '../machine/devices/pic.js';
import { TIMER_RELOAD } from '../machine/devices/timer.js';
import { interruptWaiting, type VmState } from './monitor.js';

/** The guest clock of the VM's next event: its timer deadline, a held-back interrupt's boundary, or `saveAt`. */
export function nextGuestEvent(vm: VmState, clock: number, saveAt = Infinity): number {
  const waiting = interruptWaiting(vm) ? clock + 1 : Infinity;
  return Math.min(vm.devices.timer.deadline, waiting, saveAt);
}

export class GuestTimer {
  /** The monitor loaded the kernel's timer: it interrupts at the real instruction count `at`. */
  private set = false;
  private at = 0;
  /** While set: the real instruction count of the kernel's own next tick. */
  private kernelTickAt = 0;
  /** A clock interrupt fired on the kernel's way in: it waits, and comes the moment the guest runs again. */
  private pending = false;

  /** The VM is entered with its clock at `clock`: interrupt at the guest's instruction `event` if it comes before the kernel's tick. */
  arm(k: Kernel, clock: number, event: number): void {
    if (this.pending) return; // a waiting clock interrupt comes first
    const now = k.cpu.instructionCount;
    if (!this.set) this.kernelTickAt = now + k.hw.ports.in(TIMER_RELOAD, 4);
    const due = event - clock + k.entry.trapPath.iretExit;
    if (event > clock && now + due < this.kernelTickAt) this.load(k, now + due);
    else if (this.set && this.at !== this.kernelTickAt && this.kernelTickAt > now) this.load(k, this.kernelTickAt);
  }

  private load(k: Kernel, at: number): void {
    k.hw.ports.out(TIMER_RELOAD, 4, at - k.cpu.instructionCount);
    this.set = true;
    this.at = at;
  }

  /** The kernel's own period again. */
  private restore(k: Kernel): void {
    k.hw.ports.out(TIMER_RELOAD, 4, k.timerInterval);
    this.set = false;
  }

  /**
   * A trap from the guest (the first thing vmTrap does). True when it is the
   * monitor's clock interrupt, already acknowledged: the kernel must not take it
   * as its tick. False for everything else (a clock interrupt then is the kernel's).
   */
  onTrap(k: Kernel, trapno: number): boolean {
    if (trapno === T_IRQ0) this.pending = false;
    if (!this.set) return false;
    const now = k.cpu.instructionCount;
    const fired = now >= this.at;
    if (fired && trapno !== T_IRQ0) {
      // The guest trapped just before the interrupt; it went off on the kernel's way in
      // (interrupts off) and waits. It is taken, and classified, the moment the guest runs again.
      this.pending = true;
      return false;
    }
    const kernelTick = this.at >= this.kernelTickAt || now >= this.kernelTickAt;
    if (trapno === T_IRQ0 && (!fired || kernelTick)) {
      // The kernel's tick (due now, or one that was already waiting when the guest was entered).
      this.restore(k);
      return false;
    }
    if (trapno === T_IRQ0) {
      // The monitor's: acknowledged here; the kernel's tick stays where it was.
      k.hw.ports.out(PIC_COMMAND, 1, PIC_EOI);
      this.load(k, this.kernelTickAt);
      return true;
    }
    // Another trap came first: the guest's event is looked at again when it is entered.
    if (this.at !== this.kernelTickAt) this.load(k, this.kernelTickAt);
    return false;
  }

  /** The VM leaves the processor for good (it ends, is killed, or a signal may stop it): the kernel's period again. */
  leave(k: Kernel): void {
    if (this.set) this.restore(k);
  }
}
