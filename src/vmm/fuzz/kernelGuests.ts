// The fuzz guests as processes of the xk kernel (its `vm` program, patched by
// the kernel's loader): a monitor factory for the kernel that, when a guest
// stops, runs the same guest on the bare machine and compares everything the
// comparison with `xk vm` compares (differential.ts compare): the stop reason,
// the shutdown status, the guest's clock, the serial output, the registers and
// every byte of guest memory; and the kernel's memory outside the VM process's
// own pages must be as it was when the VM was created (kernelHostMemory.ts).

import { spawnVm, type KernelVmEnd } from '../kernelProcess.js';
import type { VirtualMachineMonitorFactory } from '../../kernel/proc/virtualMachine.js';
import { BareRunner, compare, type Observation } from './differential.js';
import { REGISTER_FIELDS } from '../trapFrame.js';
import { guestRegions, type FuzzGuest } from './guestGenerator.js';
import { KernelHostMemory } from './kernelHostMemory.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Proc } from '../../kernel/proc/proc.js';
import type { PhysicalMemory } from '../../machine/memory.js';

/** A test hook: called at each VM's first exit, inside the kernel (e.g. to plant a host write, to see the check find it). */
export type KernelHostHook = (k: Kernel, memory: PhysicalMemory) => void;

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
  /** The running VM's process, and the host memory it must leave alone. */
  private readonly running = new Map<string, Proc>();
  private hostMemory: KernelHostMemory | null = null;

  constructor(private readonly hook?: KernelHostHook) {}

  readonly monitor: VirtualMachineMonitorFactory = (memory) => ({
    spawn: (k, elf, name, parent) => {
      this.serial.set(name, '');
      const host = this.hostMemory ??= new KernelHostMemory(memory);
      host.beforeSpawn(k);
      let hooked = false;
      const p = spawnVm(k, memory, elf, name, {
        parent,
        serialOut: (b) => { this.serial.set(name, this.serial.get(name) + String.fromCharCode(...b)); },
        onStop: (end) => this.stopped(k, end),
        onEvent: this.hook === undefined ? undefined : (e) => { if (e.kind === 'exit' && !hooked) { hooked = true; this.hook!(k, memory); } },
      });
      host.afterSpawn(k);
      const guest = p.guest!, enter = guest.enter;
      guest.enter = (kernel) => {
        guest.enter = enter;
        host.firstEntry(kernel);
        return enter(kernel);
      };
      this.running.set(name, p);
      return p;
    },
  });

  private stopped(k: Kernel, end: KernelVmEnd): void {
    const g = this.guests.get(end.name);
    const p = this.running.get(end.name);
    this.running.delete(end.name);
    if (g === undefined) return;
    const bare = this.bare.run(guestRegions(g));
    const host = p === undefined ? null : this.hostMemory!.check(k, p);
    this.results.set(end.name, host ?? compare(bare, kernelObservation(end, this.serial.get(end.name) ?? '')));
  }
}
