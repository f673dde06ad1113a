// copyin, copyout, copyinstr: the ONE door between the kernel and user memory.
//
// A system call never gets a user pointer it can dereference: it gets a number,
// and these functions turn (process, number, length) into bytes, or -1. They
//   1. reject ranges that are not wholly inside user space [0, USER_LIMIT),
//      including lengths that wrap around, BEFORE looking at any page table;
//   2. walk the PROCESS's page table in physical memory (not the CPU's TLB, and not
//      whatever CR3 happens to hold), requiring P and U/S at every level and, for
//      copyout, R/W at every level (a read-only page is not a valid output buffer);
//   3. succeed or fail as a whole: copyout translates every page before writing a byte;
//   4. see memory as the program does: a copy-on-write page is copied before copyout
//      writes it, a stack page not yet grown is mapped (pageFault.ts), exactly what
//      the program's own access would have done. Nothing else is repaired.
//
// The door by construction: this file alone holds a FrameKey, the key to
// AddressSpace.frames(), the physical memory behind a page table; nothing else
// reachable from a Kernel or a Proc is a view of memory (kernel.ts). Interfaces for
// code that extends the door (copy-on-write, asynchronous I/O):
//   copyin(p, addr, len)        -> Uint8Array (a copy) | -1
//   copyout(p, addr, bytes)     -> 0 | -1, every page checked before a byte is written
//   copyinstr(p, addr, max)     -> string | -1 (max includes the NUL)
//   userRangeWritable(p, addr, len), userPhysical(vm, va, write) -> physical address | -1
//   p is any UserSpace ({ vm: AddressSpace }). A copy-on-write fault handler
//   belongs here or in vm.ts (which owns page tables and may copy pages with
//   its private memory, like copyUserPagesTo); anything else that must read or
//   write user bytes calls these functions.
//
// The --check-fetch checker (fetchChecker.ts) is told every user range read during
// one system call, so it can report that no system call reads the same byte twice
// (a "double fetch", the classic time-of-check-to-time-of-use bug).

import { PAGE_SIZE, USER_LIMIT } from './kernelLayout.js';
import type { PhysicalMemory } from '../../machine/memory.js';
import { PTE_P, PTE_U, PTE_W, readEntry, registerFrameKey, tableIndices, type AddressSpace } from './vm.js';

/**
 * The key to the frames behind a page table (AddressSpace.frames). Only its type
 * leaves this file, and its private member makes it nominal: no other module can
 * make one or fake one, so nothing but this file reaches user memory.
 */
class FrameKey {
  private readonly door = 'copyin.ts';
}
export type { FrameKey };
const KEY = new FrameKey();
registerFrameKey(KEY);
const frames = (vm: AddressSpace): PhysicalMemory => vm.frames(KEY);
import { resolveUserFault } from './pageFault.js';

/** Anything with an address space: a process, or a process image exec is building. */
export interface UserSpace {
  vm: AddressSpace;
}

/**
 * TEST ONLY: the mutation check (test/securityMutation.test.ts) turns one of the
 * door's checks off to show that the security tests and the fuzzer notice. Never set elsewhere.
 */
export const copyinMutation = { skipUserLimit: false, skipUserBit: false, skipWriteBit: false };
const userLimit = (): number => (copyinMutation.skipUserLimit ? 2 ** 53 : USER_LIMIT);

/** True when [addr, addr+len) lies inside user space (no wrap-around, no kernel addresses). */
export function userRangeOk(addr: number, len: number): boolean {
  return (
    Number.isSafeInteger(addr) && Number.isSafeInteger(len) &&
    addr >= 0 && len >= 0 && addr < userLimit() && len <= userLimit() - addr
  );
}

/**
 * Physical address of user byte `va` in `vm`, or -1 when the page is not present,
 * not user-accessible, or (for `write`) not writable at some level.
 */
export function userPhysical(vm: AddressSpace, va: number, write: boolean): number {
  const need = PTE_P | (copyinMutation.skipUserBit ? 0 : PTE_U) | (write && !copyinMutation.skipWriteBit ? PTE_W : 0);
  const indices = tableIndices(va);
  let table = vm.root;
  for (let level = 0; level < 4; level++) {
    const e = readEntry(frames(vm), table + indices[level] * 8);
    if ((e.flags & need) !== need) return -1;
    table = e.addr;
  }
  return table + (va % PAGE_SIZE);
}

/**
 * userPhysical, after repairing a fault the program itself would not see: a write
 * to a copy-on-write page copies it first, a stack page not yet grown is mapped
 * (pageFault.ts). So the kernel writes through the user's view, never behind it.
 */
function userPhysicalRepaired(vm: AddressSpace, va: number, write: boolean): number {
  const phys = userPhysical(vm, va, write);
  if (phys >= 0 || !resolveUserFault(vm, va, write)) return phys;
  return userPhysical(vm, va, write);
}

/** Physical pieces [phys, length] covering [addr, addr+len), or -1 if any page fails. */
function translateRange(vm: AddressSpace, addr: number, len: number, write: boolean): Array<[number, number]> | -1 {
  if (!userRangeOk(addr, len)) return -1;
  const pieces: Array<[number, number]> = [];
  let va = addr;
  const end = addr + len;
  while (va < end) {
    const phys = userPhysicalRepaired(vm, va, write);
    if (phys < 0) return -1;
    const n = Math.min(end - va, PAGE_SIZE - (va % PAGE_SIZE));
    pieces.push([phys, n]);
    va += n;
  }
  return pieces;
}

/**
 * Would copyout to [addr, addr+len) succeed? (Checked before an operation whose
 * effect cannot be undone, e.g. consuming pipe data that read() must return.)
 */
export function userRangeWritable(p: UserSpace, addr: number, len: number): boolean {
  return translateRange(p.vm, addr, len, true) !== -1;
}

/** Is [addr, addr+len) mapped user memory (readable; not necessarily writable)? Reads nothing. */
export function userRangeMapped(p: UserSpace, addr: number, len: number): boolean {
  return translateRange(p.vm, addr, len, false) !== -1;
}

/** Copy `len` bytes in from user address `addr`. */
export function copyin(p: UserSpace, addr: number, len: number): Uint8Array | -1 {
  const pieces = translateRange(p.vm, addr, len, false);
  if (pieces === -1) return -1;
  recordFetch(p, addr, len);
  const out = new Uint8Array(len);
  let at = 0;
  for (const [phys, n] of pieces) {
    out.set(frames(p.vm).bytes.subarray(phys, phys + n), at);
    at += n;
  }
  return out;
}

/** Copy `bytes` out to user address `addr`; every page must be present, user and writable. */
export function copyout(p: UserSpace, addr: number, bytes: Uint8Array): 0 | -1 {
  const pieces = translateRange(p.vm, addr, bytes.length, true);
  if (pieces === -1) return -1;
  recorder?.recordWrite?.(addr, bytes.length, p);
  let at = 0;
  for (const [phys, n] of pieces) {
    frames(p.vm).bytes.set(bytes.subarray(at, at + n), phys);
    p.vm.allocator.invalidate(Math.floor(phys / PAGE_SIZE));
    at += n;
  }
  return 0;
}

/**
 * Copy in a NUL-terminated string of at most `max` bytes INCLUDING the NUL
 * (so its length is at most max-1). -1 if it is unterminated within `max` bytes
 * or any byte before the NUL is not readable user memory.
 */
export function copyinstr(p: UserSpace, addr: number, max: number): string | -1 {
  if (!userRangeOk(addr, 0) || max <= 0) return -1;
  const bytes: number[] = [];
  let va = addr;
  const memory = frames(p.vm);
  while (bytes.length < max && va < userLimit()) {
    const phys = userPhysicalRepaired(p.vm, va, false);
    if (phys < 0) return -1;
    const n = Math.min(PAGE_SIZE - (va % PAGE_SIZE), max - bytes.length, userLimit() - va);
    for (let i = 0; i < n; i++) {
      const b = memory.bytes[phys + i];
      if (b === 0) {
        recordFetch(p, addr, bytes.length + 1);
        return String.fromCharCode(...bytes); // one char per byte (latin1)
      }
      bytes.push(b);
    }
    va += n;
  }
  return -1;
}

/** A 32-bit int at user address `addr`, or undefined. */
export function fetchint(p: UserSpace, addr: number): number | undefined {
  const b = copyin(p, addr, 4);
  if (b === -1) return undefined;
  return new DataView(b.buffer).getInt32(0, true);
}

/** A 64-bit pointer at user address `addr` as an unsigned number (>= 2^53 stays large), or undefined. */
export function fetchaddr(p: UserSpace, addr: number): number | undefined {
  const b = copyin(p, addr, 8);
  if (b === -1) return undefined;
  const v = new DataView(b.buffer);
  return v.getUint32(4, true) * 2 ** 32 + v.getUint32(0, true);
}

/**
 * An argv array: pointers at `addr` up to a NULL, each to a string.
 * -1 when there are more than `maxArgs` pointers, or any pointer or string is bad.
 * `copied` holds strings the caller already copied in, by user address (exec's
 * path, which is argv[0] itself in `exec(argv[0], argv)`): the kernel reuses its
 * copy instead of reading the same user bytes a second time.
 */
export function fetchargv(
  p: UserSpace, addr: number, maxArgs: number, maxLen: number, copied: ReadonlyMap<number, string> = new Map(),
): string[] | -1 {
  const args: string[] = [];
  for (let i = 0; ; i++) {
    if (i > maxArgs) return -1;
    const ptr = fetchaddr(p, addr + 8 * i);
    if (ptr === undefined) return -1;
    if (ptr === 0) return args;
    if (i === maxArgs) return -1;
    const known = copied.get(ptr);
    const s = known !== undefined ? (known.length < maxLen ? known : -1) : copyinstr(p, ptr, maxLen);
    if (s === -1) return -1;
    args.push(s);
  }
}

/** What copyin/copyout tell the double-fetch checker (FetchChecker, fetchChecker.ts: the only one). */
export interface FetchObserver {
  begin(syscall: string, space?: UserSpace): void;
  record(addr: number, len: number, space?: UserSpace): void;
  /** copyout wrote these bytes: reading them back later is not a double fetch. */
  recordWrite?(addr: number, len: number, space?: UserSpace): void;
  /** The system call of `space` returned. */
  end?(space: UserSpace): void;
}

let recorder: FetchObserver | null = null;

/** Install (or with null remove) the double-fetch checker; fetchChecker.ts's enableFetchCheck is the switch. */
export function setFetchRecorder(r: FetchObserver | null): void {
  recorder = r;
}
export function fetchRecorder(): FetchObserver | null {
  return recorder;
}
function recordFetch(p: UserSpace, addr: number, len: number): void {
  if (recorder) recorder.record(addr, len, p);
}
