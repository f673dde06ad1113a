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
// period is put back. The timer is periodic and its interrupt may fire while
// interrupts are off (the kernel's way in or out): it then waits at the
// interrupt controller and the guest traps with it before running an
// instruction. So every trap reloads the timer for the kernel's tick, the
// monitor's interrupt is told by where the guest left, and while one waits no
// new one is loaded (a new one would fire on the way in again, for ever).
// If the VM leaves the processor for good before (it ends,
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
  /** The timer is not on the kernel's own period: the monitor loaded it (for its interrupt, or for the kernel's tick). */
  private set = false;
  /** The monitor's interrupt, loaded at entry: due at the real instruction count `at`, then every `interval` (the timer is periodic). */
  private shot: { at: number; interval: number } | null = null;
  /** While set: the real instruction count of the kernel's own next tick. */
  private kernelTickAt = 0;
  /**
   * The monitor's interrupt fired while the processor could not take it (on the kernel's way in
   * or out, interrupts off) and waits at the interrupt controller: the guest traps with it the
   * moment it runs again, before its first instruction.
   */
  private latched = false;

  /** The VM is entered with its clock at `clock`: interrupt at the guest's instruction `event` if it comes before the kernel's tick. */
  arm(k: Kernel, clock: number, event: number): void {
    // A waiting interrupt comes first; a new one due within the kernel's way in would fire
    // before the guest runs an instruction and wait again, for ever.
    if (this.latched) return;
    const now = k.cpu.instructionCount;
    if (!this.set) this.kernelTickAt = now + k.hw.ports.in(TIMER_RELOAD, 4);
    const due = event - clock + k.entry.trapPath.iretExit;
    if (event > clock && now + due < this.kernelTickAt) {
      this.load(k, now + due);
      this.shot = { at: now + due, interval: due };
    }
  }

  private load(k: Kernel, at: number): void {
    k.hw.ports.out(TIMER_RELOAD, 4, at - k.cpu.instructionCount);
    this.set = true;
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
    const now = k.cpu.instructionCount;
    // The guest's instruction boundary where it left: where the processor took this interrupt.
    const left = now - (k.entry.trapPath.entry[trapno] ?? 0);
    let monitors = false;
    if (trapno === T_IRQ0 && this.latched) {
      this.latched = false;
      monitors = true;
    }
    if (this.shot) {
      const { at, interval } = this.shot;
      this.shot = null;
      if (now >= at) {
        // The timer fired at `at` and every `interval` since. A request the processor took
        // with this trap (at or before `left`) is this interrupt; a later one waits (one
        // request line: several merge into one).
        const last = at + Math.floor((now - at) / interval) * interval;
        if (trapno === T_IRQ0 && left >= at) monitors = true;
        if (trapno !== T_IRQ0 || last > left) this.latched = true;
      }
      // No more of the monitor's interrupts: the timer is loaded for the kernel's tick.
      if (this.kernelTickAt > now) this.load(k, this.kernelTickAt);
      else this.restore(k);
    }
    if (trapno !== T_IRQ0) return false;
    if (!monitors || (this.set && now >= this.kernelTickAt)) {
      // The kernel's tick (due now, or one that was already waiting when the guest was entered).
      if (this.set) this.restore(k);
      return false;
    }
    // The monitor's: acknowledged here; the kernel's tick stays where it was.
    k.hw.ports.out(PIC_COMMAND, 1, PIC_EOI);
    return true;
  }

  /** The VM leaves the processor for good (it ends, is killed, or a signal may stop it): the kernel's period again. */
  leave(k: Kernel): void {
    // A request still waiting is the kernel's to take now (as a tick).
    this.latched = false;
    this.shot = null;
    if (this.set) this.restore(k);
  }
}
