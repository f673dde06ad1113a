// The scheduler: round-robin choice of the next process, and the context switch
// (sleep and wakeup on channels are in sleep.ts).
//
// A context switch in xk is three stores: CR3 := the process's page table,
// TSS.rsp0 := the top of its kernel stack (where the processor will put the
// next trap frame), and %rsp := its saved trap frame, with RIP at trapret. trapret
// then pops that frame and iretq returns to where the process was interrupted.
// (A virtual machine whose guest uses PML4 slot 256 for itself sees the kernel's
// half in another slot: those three addresses then name that slot; virtualMachine.ts.)
// When nothing is runnable the processor runs the idle loop (sti; hlt) on the
// idle stack until the next interrupt: the host never spins.

import { splitAddress } from '../../machine/descriptors.js';
import { GDT_ENTRIES, GDT_PHYS, IDLE_STACK_TOP_PHYS, IDT_PHYS, TSS_PHYS, p2v } from '../mem/kernelLayout.js';
import type { Kernel } from '../kernel.js';
import { kstackTop, trapFrameAddress, type Proc } from './proc.js';
import { NPROC } from '../syscall/syscallTable.js';
import { exitProcess } from './exit.js';
import { finishSyscall } from '../syscall/args.js';
import { sleep } from './sleep.js';
import { deliverPendingSignals } from '../signals/signalDelivery.js';

const RSP = 4;

function setStackPointer(k: Kernel, linear: number): void {
  const [lo, hi] = splitAddress(linear);
  k.cpu.regs[2 * RSP] = lo;
  k.cpu.regs[2 * RSP + 1] = hi;
}

function loadPageTable(k: Kernel, root: number): void {
  if (k.cpu.cr3 !== root) {
    k.cpu.cr3 = root;
    k.hw.mmu.flush(); // a CR3 write flushes the TLB
  }
}

/**
 * The kernel's own GDT, IDT and TSS (what lgdt, lidt and ltr load; a VM runs on
 * its own, virtualMachine.ts), and no FS/GS base.
 */
function loadKernelTables(k: Kernel): void {
  const cpu = k.cpu;
  if (cpu.gdtrBase !== p2v(GDT_PHYS)) cpu.fsBase = cpu.gsBase = 0; // leaving a VM: none of its state stays behind
  cpu.gdtrBase = p2v(GDT_PHYS);
  cpu.gdtrLimit = GDT_ENTRIES * 8 - 1;
  cpu.idtrBase = p2v(IDT_PHYS);
  cpu.tssBase = p2v(TSS_PHYS);
}

/** Switch the processor to `p`: its page table, its kernel stack, and trapret. */
export function enterProcess(k: Kernel, p: Proc): void {
  k.current = p;
  p.state = 'running';
  // A VM: its own tables and shadow page table, where the kernel's half may sit in another PML4 slot.
  let space = { root: p.vm.root, kernelOffset: 0 };
  if (p.guest) space = p.guest.enter(k);
  else loadKernelTables(k);
  loadPageTable(k, space.root);
  const offset = space.kernelOffset;
  k.useKernelOffset(offset);
  k.setTrapStack(kstackTop(p) + offset);
  setStackPointer(k, trapFrameAddress(p) + offset);
  k.cpu.rip = (p.guest ? k.entry.slowret : k.entry.trapret) + offset; // a VM's frame always returns by iretq (trapEntry.S)
}

/** Nothing to run: wait in the idle loop, on the idle stack, with the kernel's page table. */
export function enterIdle(k: Kernel): void {
  k.current = null;
  loadKernelTables(k);
  loadPageTable(k, k.kernelVm.root);
  k.useKernelOffset(0);
  setStackPointer(k, p2v(IDLE_STACK_TOP_PHYS));
  k.cpu.rip = k.entry.idle;
}

/**
 * Resume a suspended system call of `p` (it was woken up). Returns true when the
 * call finished and `p` can run, false when it went back to sleep or the process died.
 */
function resumeSyscall(k: Kernel, p: Proc): boolean {
  const call = p.pending!;
  if (p.killed) {
    p.pending = null;
    call.return(-1);
    exitProcess(k, p, -1);
    return false;
  }
  k.current = p;
  const step = k.files.waitForDisk(() => call.next());
  if (!step.done) {
    sleep(p, step.value);
    return false;
  }
  p.pending = null;
  finishSyscall(k, p, p.pendingName, step.value);
  return p.state !== 'zombie';
}

/** Pick the next runnable process after the last one, round robin, and switch to it (or idle). */
export function schedule(k: Kernel): void {
  const previous = k.current;
  for (let tries = 0; tries < 2 * NPROC; tries++) {
    const slot = (k.lastSlot + 1 + tries) % NPROC;
    const p = k.procs.slots[slot];
    if (!p || p.state !== 'runnable') continue;
    if (p.pending && !resumeSyscall(k, p)) continue;
    if (p.killed && p.state === 'runnable') {
      exitProcess(k, p, -1);
      continue;
    }
    if (!deliverPendingSignals(k, p)) continue; // a signal stopped or ended it (signalDelivery.ts)
    k.lastSlot = slot;
    if (k.trace && previous !== p) k.emit(p, 'kernel', 'switch', `scheduler: switch to pid ${p.pid} (${p.name})`);
    enterProcess(k, p);
    return;
  }
  enterIdle(k);
}
