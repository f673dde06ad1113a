// Page faults the kernel repairs: copy-on-write, and a user stack that grows.
//
// A user page fault (#PF, vector 14) reaches trap() with the faulting address in
// CR2 and an error code whose bits say what happened:
//   bit 0 P  the page was present (a protection fault; 0: not mapped at all)
//   bit 1 W  the access was a write
//   bit 2 U  it happened in user mode
// Two kinds of fault are the kernel's own doing, and it repairs them:
//   1. copy-on-write (err 7: present, write, user) on a PTE_COW page (vm.ts): fork
//      left the page shared read-only. If others still hold it, copy it to a fresh
//      page mapped writable here; if this is the last holder, just make it
//      writable again. A page without PTE_COW (program text) is never made writable.
//   2. stack growth (err 4 or 6: not present) at an address in the stack region
//      [USER_STACK_BOTTOM, USER_STACK_TOP), 10 pages in all (kernelLayout.ts):
//      map zero pages from the faulting page up to the current stack.
// Then trap() returns to the same instruction, which now succeeds. Any other fault
// (the guard gap below the stack, an unmapped address, a write to text) is the
// program's: trap() raises SIGSEGV if it has a handler, else kills it.
//
// copyin and copyout repair faults the same way (resolveUserFault): the kernel
// accesses user memory as the program would, so copyout into a shared page copies
// it first and never writes behind another process's back.

import type { Kernel } from '../kernel.js';
import { PAGE_SIZE, USER_LIMIT, USER_STACK_BOTTOM, USER_STACK_MAX_PAGES, USER_STACK_TOP } from './kernelLayout.js';
import type { Proc } from '../proc/proc.js';
import type { TrapFrame } from '../trap/trapFrame.js';
import { PTE_COW, PTE_U, PTE_W, type AddressSpace } from './vm.js';
import { hex } from '../traceEvents.js';

/** Page-fault error-code bits. */
export const PF_PRESENT = 1, PF_WRITE = 2, PF_USER = 4;

/** What the kernel did about a fault. */
export type FaultRepair =
  | { kind: 'cow-copy'; page: number; holders: number; from: number; to: number }
  | { kind: 'cow-last'; page: number; at: number }
  | { kind: 'stack'; page: number; pages: number };

const pageDown = (va: number): number => Math.floor(va / PAGE_SIZE) * PAGE_SIZE;

/** Repair a fault at user address `va` in `vm` if it is copy-on-write or stack growth; null otherwise. */
export function resolveUserFault(vm: AddressSpace, va: number, write: boolean): FaultRepair | null {
  if (!Number.isSafeInteger(va) || va < 0 || va >= USER_LIMIT) return null;
  const page = pageDown(va);
  const e = vm.lookup(page);
  if (!e) return growStack(vm, page);
  if (write && (e.flags & PTE_COW) && (e.flags & PTE_U)) return breakCopyOnWrite(vm, page, e.addr, e.flags);
  return null;
}

/** The first write to a shared page: a private copy, or the page itself if no one else holds it. */
function breakCopyOnWrite(vm: AddressSpace, page: number, shared: number, flags: number): FaultRepair | null {
  const writable = (flags & ~PTE_COW) | PTE_W;
  const holders = vm.allocator.refCount(shared);
  if (holders === 1) {
    vm.setFlags(page, writable);
    vm.allocator.flushTlb();
    return { kind: 'cow-last', page, at: shared };
  }
  const copy = vm.privateCopy(page);
  if (copy < 0) return null; // out of memory: the program cannot go on
  vm.map(page, copy, writable & (PTE_U | PTE_W)); // the entry exists: no table to allocate
  vm.allocator.release(shared); // one holder fewer
  vm.allocator.flushTlb();
  return { kind: 'cow-copy', page, holders, from: shared, to: copy };
}

/** The lowest mapped page of the stack (exec maps the top one). */
export function stackBottom(vm: AddressSpace): number {
  let bottom = USER_STACK_TOP;
  while (bottom > USER_STACK_BOTTOM && vm.lookup(bottom - PAGE_SIZE)) bottom -= PAGE_SIZE;
  return bottom;
}

/** A fault below the stack but inside the stack region: zero pages down to the faulting one. */
function growStack(vm: AddressSpace, page: number): FaultRepair | null {
  if (page < USER_STACK_BOTTOM || page >= USER_STACK_TOP) return null;
  const bottom = stackBottom(vm);
  if (page >= bottom) return null;
  if (!vm.allocUser(page, bottom, PTE_U | PTE_W)) return null;
  return { kind: 'stack', page, pages: (bottom - page) / PAGE_SIZE };
}

/**
 * trap()'s part: a user #PF that resolveUserFault repairs is counted, traced, and
 * the instruction restarts. False: the fault is the program's (kill or SIGSEGV).
 */
export function repairUserPageFault(k: Kernel, p: Proc, tf: TrapFrame): boolean {
  const err = tf.lo('err');
  const addr = k.cpu.cr2;
  const repair = resolveUserFault(p.vm, addr, (err & PF_WRITE) !== 0);
  if (!repair) return false;
  k.pageFaults++;
  k.emit(p, 'kernel', 'pagefault', `#PF err=${err} at ${hex(addr)} -> ${describeRepair(repair, p.vm)}`, { err, addr: hex(addr), kind: repair.kind });
  return true;
}

function describeRepair(r: FaultRepair, vm: AddressSpace): string {
  switch (r.kind) {
    case 'cow-copy':
      return `cow: page shared by ${r.holders}, copied to ${hex(r.to)}`;
    case 'cow-last':
      return `cow: last holder of ${hex(r.at)}, made writable`;
    case 'stack': {
      const pages = (USER_STACK_TOP - stackBottom(vm)) / PAGE_SIZE;
      return `stack: grew by ${r.pages} page${r.pages === 1 ? '' : 's'} to ${hex(r.page)} (${pages} of ${USER_STACK_MAX_PAGES} pages)`;
    }
  }
}
