import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysicalMemory } from '../src/machine/memory.js';
import { PageAllocator } from '../src/kernel/mem/kalloc.js';
import { AddressSpace, buildKernelAddressSpace, PTE_U, PTE_W } from '../src/kernel/mem/vm.js';
import {
  copyin, copyout, copyinstr, fetchint, fetchaddr, fetchargv, fetchRecorder, setFetchRecorder,
} from '../src/kernel/mem/copyin.js';
import { KERNBASE, PAGE_SIZE, USER_LIMIT, FREE_MEMORY_PHYS } from '../src/kernel/mem/kernelLayout.js';
import { FetchChecker } from '../src/kernel/mem/fetchChecker.js';

/** A process-like address space with: 0x10000 rw, 0x11000 rw, 0x12000 read-only, 0x13000 kernel-only,
 *  and the last page below USER_LIMIT rw. */
function setup() {
  const mem = new PhysicalMemory(4 * 1024 * 1024);
  const alloc = new PageAllocator(mem, FREE_MEMORY_PHYS, mem.size);
  const kernel = buildKernelAddressSpace(mem, alloc);
  const vm = new AddressSpace(mem, alloc, kernel);
  assert.ok(vm.allocUser(0x10000, 0x12000, PTE_U | PTE_W));
  assert.ok(vm.allocUser(0x12000, 0x13000, PTE_U));
  assert.ok(vm.allocUser(0x13000, 0x14000, PTE_W));
  assert.ok(vm.allocUser(USER_LIMIT - PAGE_SIZE, USER_LIMIT, PTE_U | PTE_W));
  const poke = (va: number, bytes: number[]) => {
    const e = vm.lookup(va)!;
    mem.bytes.set(bytes, e.addr + (va % PAGE_SIZE));
  };
  return { mem, alloc, kernel, proc: { vm }, poke };
}

test('copyin and copyout move bytes across a page boundary', () => {
  const { proc } = setup();
  const data = Uint8Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(copyout(proc, 0x11000 - 50, data), 0);
  assert.deepEqual(copyin(proc, 0x11000 - 50, 100), data);
  assert.deepEqual(copyin(proc, 0x10000, 0), new Uint8Array(0));
});

test('kernel pointers are rejected, whatever form the number has', () => {
  const { proc, kernel } = setup();
  assert.ok(kernel.lookup(KERNBASE + FREE_MEMORY_PHYS), 'the kernel direct map exists');
  assert.equal(copyin(proc, KERNBASE + FREE_MEMORY_PHYS, 8), -1);
  assert.equal(copyin(proc, 2 ** 64 - 2 ** 47 + FREE_MEMORY_PHYS, 8), -1); // unsigned view of the same address
  assert.equal(copyout(proc, KERNBASE + FREE_MEMORY_PHYS, new Uint8Array(8)), -1);
  assert.equal(copyinstr(proc, KERNBASE + FREE_MEMORY_PHYS, 16), -1);
});

test('pages mapped without U/S are not user memory', () => {
  const { proc } = setup();
  assert.equal(copyin(proc, 0x13000, 4), -1);
  assert.equal(copyout(proc, 0x13000, new Uint8Array(4)), -1);
});

test('unmapped pointers fail, including NULL', () => {
  const { proc } = setup();
  assert.equal(copyin(proc, 0, 1), -1);
  assert.equal(copyin(proc, 0x20000, 1), -1);
  assert.equal(copyin(proc, 0x13ff0, 32), -1, 'the second half is unmapped');
});

test('read-only pages are not valid output buffers, and copyout fails as a whole', () => {
  const { proc } = setup();
  assert.deepEqual(copyin(proc, 0x12000, 4), new Uint8Array(4), 'readable');
  assert.equal(copyout(proc, 0x12000, Uint8Array.of(1, 2, 3, 4)), -1);
  // Straddles a writable page and the read-only one: nothing may be written.
  assert.equal(copyout(proc, 0x12000 - 4, Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9)), -1);
  assert.deepEqual(copyin(proc, 0x12000 - 4, 8), new Uint8Array(8));
});

test('strings must be terminated within max bytes and within mapped memory', () => {
  const { proc, poke } = setup();
  poke(0x10100, [...Buffer.from('/small.txt\0')]);
  assert.equal(copyinstr(proc, 0x10100, 128), '/small.txt');
  assert.equal(copyinstr(proc, 0x10100, 11), '/small.txt', 'max counts the NUL');
  assert.equal(copyinstr(proc, 0x10100, 10), -1, 'no NUL within 10 bytes');
  // A string running off the end of the last readable page into an unmapped one.
  poke(0x12ff0, Array(16).fill(0x41));
  assert.equal(copyinstr(proc, 0x12ff0, 4096), -1);
  // A string running into USER_LIMIT.
  poke(USER_LIMIT - 4, [0x41, 0x42, 0x43, 0x44]);
  assert.equal(copyinstr(proc, USER_LIMIT - 4, 100), -1);
});

test('wrapping and negative lengths are rejected before any page-table walk', () => {
  const { proc } = setup();
  assert.equal(copyin(proc, 0x10000, -1), -1);
  assert.equal(copyin(proc, 0x10000, 2 ** 64 - 1), -1);
  assert.equal(copyin(proc, 0x10000, 2 ** 64 - 0x10000 + 8), -1);
  assert.equal(copyin(proc, 0x10000, Number.MAX_SAFE_INTEGER), -1);
  assert.equal(copyin(proc, 0x10000, 0.5), -1);
});

test('ranges straddling USER_LIMIT fail; ranges ending exactly at it succeed', () => {
  const { proc } = setup();
  assert.deepEqual(copyin(proc, USER_LIMIT - 4, 4), new Uint8Array(4));
  assert.equal(copyin(proc, USER_LIMIT - 4, 5), -1);
  assert.equal(copyout(proc, USER_LIMIT - 4, new Uint8Array(8)), -1);
  assert.equal(copyin(proc, USER_LIMIT, 0), -1);
});

test('fetch helpers: ints, pointers and argv arrays', () => {
  const { proc, poke } = setup();
  poke(0x10000, [0xff, 0xff, 0xff, 0xff]);
  assert.equal(fetchint(proc, 0x10000), -1, 'the value -1, fetched fine');
  assert.equal(fetchint(proc, 0x20000), undefined);
  poke(0x10200, [...Buffer.from('ls\0-l\0')]);
  const argv = [0x10200, 0x10203, 0];
  argv.forEach((p, i) => poke(0x10300 + 8 * i, [p & 0xff, (p >> 8) & 0xff, (p >> 16) & 0xff, 0, 0, 0, 0, 0]));
  assert.equal(fetchaddr(proc, 0x10300), 0x10200);
  assert.deepEqual(fetchargv(proc, 0x10300, 32, 100), ['ls', '-l']);
  assert.equal(fetchargv(proc, 0x10300, 1, 100), -1, 'more than maxArgs');
  poke(0x10310, [0, 0, 0, 0, 0, 0x80, 0xff, 0xff]); // replace NULL by a kernel pointer
  assert.equal(fetchargv(proc, 0x10300, 32, 100), -1);
});

test('the fetch recorder reports a byte read twice in one system call', () => {
  const { proc } = setup();
  const previous = fetchRecorder();
  const rec = new FetchChecker(); // strict: every re-read counts
  setFetchRecorder(rec);
  try {
    rec.begin('write', proc);
    copyin(proc, 0x10000, 16);
    assert.equal(rec.doubleFetches.length, 0);
    rec.begin('open', proc);
    copyin(proc, 0x10000, 16);
    assert.equal(rec.doubleFetches.length, 0, 'a new system call starts afresh');
    copyin(proc, 0x1000f, 1);
    assert.deepEqual(rec.doubleFetches, [{ syscall: 'open', addr: 0x1000f }]);
  } finally {
    setFetchRecorder(previous);
  }
});

test('fork-style copy duplicates user pages and destroy returns every page', () => {
  const { proc, alloc, kernel, poke } = setup();
  poke(0x10010, [42]);
  const before = alloc.freePages;
  const child = kernel.newProcessSpace();
  assert.ok(proc.vm.copyUserPagesTo(child));
  assert.deepEqual(copyin({ vm: child }, 0x10010, 1), Uint8Array.of(42));
  assert.equal(copyout({ vm: child }, 0x10010, Uint8Array.of(7)), 0);
  assert.deepEqual(copyin(proc, 0x10010, 1), Uint8Array.of(42), 'parent unchanged');
  assert.equal(copyin({ vm: child }, 0x13000, 1), -1, 'kernel-only page stays kernel-only');
  child.destroy();
  assert.equal(alloc.freePages, before);
});
