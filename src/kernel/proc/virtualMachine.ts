// What the kernel needs from a virtual-machine monitor, as an interface the
// monitor implements from above (src/vmm/kernelProcess.ts). The kernel imports
// nothing from src/vmm: whoever boots the kernel hands it a monitor factory
// (BootOptions.monitor), and boot() gives the monitor the machine's physical
// memory, where the guest's memory lives (kernel code itself never sees it:
// kernel.ts). Without a monitor, vmrun fails with -1.

import type { PhysicalMemory } from '../../machine/memory.js';
import type { Kernel } from '../kernel.js';
import type { PageAllocator } from '../mem/kalloc.js';
import type { TrapFrame } from '../trap/trapFrame.js';
import type { Proc } from './proc.js';

/** Where a VM runs (GuestProcess.enter). */
export interface GuestAddressSpace {
  /** The page-table root to load into CR3. */
  root: number;
  /**
   * Where this address space maps the kernel's half, relative to the kernel's
   * own addresses: 0, or the distance to the PML4 slot the kernel's half was
   * moved to because the guest uses slot 256 for itself. The processor reaches
   * the kernel's tables, stacks and entry code there, so the stack pointer, the
   * return address and TSS.rsp0 the scheduler loads for the VM are moved with it.
   */
  kernelOffset: number;
}

/** A process that is a virtual machine (Proc.guest): the kernel's three questions to the monitor. */
export interface GuestProcess {
  /**
   * The scheduler switches to this VM: load the processor state it runs with
   * (its GDT, IDT and TSS bases, FS/GS bases). Returns its page-table root and
   * where that address space maps the kernel's half.
   */
  enter(k: Kernel): GuestAddressSpace;
  /**
   * A trap from inside the guest. True when the monitor handled it; false for a
   * device interrupt, which the kernel then handles as for any process.
   */
  trap(k: Kernel, tf: TrapFrame): boolean;
  /** The process slot is freed: give back the guest's physical memory. */
  release(allocator: PageAllocator): void;
}

export interface VirtualMachineMonitor {
  /**
   * A runnable child of `parent` that boots the guest image `elf`. Throws an
   * Error whose message names what is wrong (a bad image, no memory).
   */
  spawn(k: Kernel, elf: Uint8Array, name: string, parent: Proc): Proc;
}

/** Makes the monitor of one kernel, given the machine's physical memory (called once, by boot()). */
export type VirtualMachineMonitorFactory = (memory: PhysicalMemory) => VirtualMachineMonitor;
