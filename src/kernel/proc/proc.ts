// Processes: struct proc and the process table (NPROC slots).
//
// Each process has its own page table (user half private, kernel half shared) and
// one page of kernel stack in emulated memory. While the process is in the kernel,
// its trap frame sits at the top of that stack, exactly where the processor
// (TSS.rsp0), the vector stub and alltraps put it.
//
// The TypeScript part of the kernel does not run on that stack: a system call that
// has to wait is a generator suspended at a `yield channel`, kept in `pending`,
// and the scheduler resumes it after wakeup(channel).

import type { PhysicalMemory } from '../../machine/memory.js';
import type { PageAllocator } from '../mem/kalloc.js';
import type { InodeRef, OpenFile } from '../files/fileLayer.js';
import { AddressSpace } from '../mem/vm.js';
import { PAGE_SIZE, p2v } from '../mem/kernelLayout.js';
import { NOFILE, NPROC } from '../syscall/syscallTable.js';
import { TRAP_FRAME_SIZE, TrapFrame } from '../trap/trapFrame.js';
import type { GuestProcess } from './virtualMachine.js';

export type ProcState = 'embryo' | 'sleeping' | 'runnable' | 'running' | 'zombie';

/** A system call that is waiting: it yields channels to sleep on and returns the result. */
export type Blocking = Generator<object, number, void>;

export interface Proc {
  pid: number;
  name: string;
  state: ProcState;
  parent: Proc | null;
  vm: AddressSpace;
  /** Physical address of the kernel-stack page. */
  kstack: number;
  /** The trap frame at the top of the kernel stack. */
  tf: TrapFrame;
  /** Program break: the heap is [heapBase, brk). */
  heapBase: number;
  brk: number;
  ofile: (OpenFile | null)[];
  cwd: InodeRef | null;
  killed: boolean;
  exitStatus: number;
  /** The channel it sleeps on. */
  chan: object | null;
  /** The suspended system call, and its name (for traces). */
  pending: Blocking | null;
  pendingName: string;
  /** Set when the process is a virtual machine (virtualMachine.ts; the monitor in src/vmm implements it). */
  guest?: GuestProcess;
}

/** Kernel linear address of the top of a process's kernel stack (TSS.rsp0). */
export function kstackTop(p: Proc): number {
  return p2v(p.kstack + PAGE_SIZE);
}
/** Kernel linear address of its trap frame (what %rsp holds at trapret). */
export function trapFrameAddress(p: Proc): number {
  return p2v(p.tf.phys);
}

export class ProcTable {
  readonly slots: (Proc | null)[] = new Array(NPROC).fill(null);
  private nextPid = 1;

  /** For the kernel stacks' trap frames only. */
  readonly #memory: PhysicalMemory;

  constructor(
    memory: PhysicalMemory,
    private readonly allocator: PageAllocator,
    private readonly kernelVm: AddressSpace,
  ) {
    this.#memory = memory;
  }

  /** A new process in state 'embryo' with an empty address space, or null (table or memory full). */
  alloc(name: string): Proc | null {
    const slot = this.slots.indexOf(null);
    if (slot < 0) return null;
    const kstack = this.allocator.alloc();
    if (kstack < 0) return null;
    let vm: AddressSpace;
    try {
      vm = this.kernelVm.newProcessSpace();
    } catch {
      this.allocator.release(kstack);
      return null;
    }
    const p: Proc = {
      pid: this.nextPid++,
      name,
      state: 'embryo',
      parent: null,
      vm,
      kstack,
      tf: new TrapFrame(this.#memory, kstack + PAGE_SIZE - TRAP_FRAME_SIZE),
      heapBase: 0,
      brk: 0,
      ofile: new Array(NOFILE).fill(null),
      cwd: null,
      killed: false,
      exitStatus: 0,
      chan: null,
      pending: null,
      pendingName: '',
    };
    this.slots[slot] = p;
    return p;
  }

  /** Free a process's memory and its slot (after wait() reaped it, or a failed fork). */
  free(p: Proc): void {
    p.vm.destroy();
    this.allocator.release(p.kstack);
    p.guest?.release(this.allocator);
    const slot = this.slots.indexOf(p);
    if (slot >= 0) this.slots[slot] = null;
  }

  live(): Proc[] {
    return this.slots.filter((p): p is Proc => p !== null);
  }

  byPid(pid: number): Proc | undefined {
    return this.live().find((p) => p.pid === pid);
  }
}
