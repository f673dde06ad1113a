// The fuzz guests as processes of the xk kernel (its `vm` program, patched by
// the kernel's loader): a monitor factory for the kernel that, when a guest
// stops, runs the same guest on the bare machine and compares everything the
// comparison with `xk vm` compares (differential.ts compare): the stop reason,
// the shutdown status, the guest's clock, the serial output, the registers and
// every byte of guest memory.

import { spawnVm, type KernelVmEnd } from '../kernelProcess.js';
import type { VirtualMachineMonitorFactory } from '../../kernel/proc/virtualMachine.js';
import { BareRunner, compare, type Observation } from './differential.js';
import { REGISTER_FIELDS } from '../trapFrame.js';
import { guestRegions, type FuzzGuest } from './guestGenerator.js';

/** What a VM process of the kernel left, as an Observation of the comparison. */
export function kernelObservation(end: KernelVmEnd, serial: string): Observation {
  return {
    reason: end.outcome.reason, status: end.outcome.status, clock: end.clock,
    registers: REGISTER_FIELDS.map((r) => end.frame[r]), rip: Number(end.frame.rip),
    memory: end.memory, serial, message: end.outcome.message,
  };
}

/** Compares each guest the kernel boots by file name (`guests`) with the bare machine, when it stops. */
export class KernelGuestChecker {
  /** The guest each file name holds. */
  readonly guests = new Map<string, FuzzGuest>();
  /** Per file name, once the VM stopped: null if it agreed with the bare machine, else the first difference. */
  readonly results = new Map<string, string | null>();
  private readonly bare = new BareRunner(true);
  private readonly serial = new Map<string, string>();

  readonly monitor: VirtualMachineMonitorFactory = (memory) => ({
    spawn: (k, elf, name, parent) => {
      this.serial.set(name, '');
      return spawnVm(k, memory, elf, name, {
        parent,
        serialOut: (b) => { this.serial.set(name, this.serial.get(name) + String.fromCharCode(...b)); },
        onStop: (end) => this.stopped(end),
      });
    },
  });

  private stopped(end: KernelVmEnd): void {
    const g = this.guests.get(end.name);
    if (g === undefined) return;
    const bare = this.bare.run(guestRegions(g));
    this.results.set(end.name, compare(bare, kernelObservation(end, this.serial.get(end.name) ?? '')));
  }
}
