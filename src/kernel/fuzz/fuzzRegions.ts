// The pointer classes the system-call fuzzer draws from, and what the kernel must do
// with each. A pointer is generated with a class; the class decides the oracle:
//
//   valid        inside the fuzzing process's writable data (may still run past its end)
//   readonly     its text/rodata pages: readable, NOT a valid output buffer
//   unmapped     a page the process does not have (NULL page, guard page, heap gap)
//   kernel       a kernel address: the direct map (a canary page, the kernel stack,
//                kernel text), USER_LIMIT itself, -1, 2^47 (+ the canary: its page-table
//                indices are the kernel half's)
//   noncanonical 2^48 + a user address: the page-table indices alias user memory, so
//                only the range check stops it
//   straddle     a few bytes below USER_LIMIT (the stack top): a longer range crosses
//                into kernel space
//   edge         a few bytes below the end of the data, the next page unmapped
//   null         0 (allowed where the table says `nullable`)

import { KERNBASE, PAGE_SIZE, USER_LIMIT } from '../mem/kernelLayout.js';

export type PointerClass = 'valid' | 'readonly' | 'unmapped' | 'kernel' | 'noncanonical' | 'straddle' | 'edge' | 'null';

export const POINTER_CLASSES: readonly PointerClass[] = [
  'valid', 'valid', 'valid', 'valid', 'readonly', 'unmapped', 'kernel', 'noncanonical', 'straddle', 'edge', 'null',
];

/** The fuzzing process's memory, found from its page table when it starts. */
export interface FuzzRegions {
  /** Writable data (the stub's .bss): [dataStart, dataEnd). */
  dataStart: number;
  dataEnd: number;
  /** Read-only pages (text and rodata): [roStart, roEnd). */
  roStart: number;
  roEnd: number;
  /** Physical address of the canary page: kernel memory filled with CANARY. */
  canaryPhys: number;
  /** Physical address of the fuzzing process's kernel stack page. */
  kstackPhys: number;
}

/** Eight bytes that fill the canary page; finding them in user memory means kernel memory leaked. */
export const CANARY = Buffer.from('kCaNaRy!', 'latin1');

/** Unmapped user addresses (checked against the page table before use). */
export const UNMAPPED_ADDRESSES: readonly number[] = [0x10, 0xff8, 0x1000, 0x10000000, 0x20000000];

/** Kernel-side addresses, as signed 64-bit numbers (KERNBASE is negative). */
export function kernelAddresses(r: FuzzRegions): number[] {
  return [
    KERNBASE + r.canaryPhys, KERNBASE + r.canaryPhys + 0x800, KERNBASE + r.kstackPhys + PAGE_SIZE - 64,
    KERNBASE + 0x10000, KERNBASE, -1, -8, -PAGE_SIZE, USER_LIMIT, USER_LIMIT + 8, 2 ** 47, 2 ** 47 - PAGE_SIZE,
    2 ** 47 + r.canaryPhys, // non-canonical, but its table indices are the kernel half's: the canary again
  ];
}

/**
 * Must a call fail when this pointer is used for `len` bytes (len < 0: a string or
 * argv of unknown length, at least one byte)? `out`: the kernel writes there.
 */
export function mustFail(cls: PointerClass, addr: number, len: number, out: boolean, r: FuzzRegions): boolean {
  const bytes = len < 0 ? 1 : len;
  switch (cls) {
    case 'kernel':
    case 'noncanonical':
      return true;
    case 'unmapped':
      return bytes > 0;
    case 'readonly':
      return out && bytes > 0;
    case 'straddle':
      return bytes > USER_LIMIT - addr;
    case 'edge': // generated only while the page after the data is unmapped
      return bytes > r.dataEnd - addr;
    default:
      return false;
  }
}
