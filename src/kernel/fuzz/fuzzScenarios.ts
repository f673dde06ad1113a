// Scripted interleavings of asynchronous I/O for the system-call fuzzer: what
// random calls would rarely line up, played as consecutive calls of the fuzzing
// process, each step built from the result of the one before.
//
//   enqueue-then-unmap   open /fzaio, write MARKER bytes into it, sbrk(+8192),
//                        aio_read or aio_write on the new heap, sbrk(-8192) before
//                        the request completes (at a later clock tick), aio_waitany;
//                        then aio_status and aio_return must say -EFAULT.
//   enqueue-then-exit    the same file and heap, two aio_reads of the MARKER bytes
//                        into the heap, then exit at once: the heap's physical pages
//                        must never receive the MARKER bytes afterwards (fuzzer.ts
//                        watches them for a while), whoever owns them then.
// A step whose precondition failed (open refused, no heap) ends the scenario.

import { SYSCALL_BY_NAME } from '../syscall/syscallTable.js';
import { PAGE_SIZE } from '../mem/kernelLayout.js';
import type { FuzzCall, FuzzPointer, Rng } from './fuzzGenerate.js';
import type { FuzzRegions } from './fuzzRegions.js';

/** Eight bytes that fill the file the scenarios read: finding them in a dead buffer's pages is a violation. */
export const AIO_MARKER = Buffer.from('aIoMaRk!', 'latin1');
const EFAULT = 14;
const HEAP = 2 * PAGE_SIZE;

export interface Scenario {
  /** The next call, given the last call's result and a lookup of the process's physical addresses; null when done. */
  next(last: number | 'died', physical: (va: number) => number): FuzzCall | null;
}

function call(name: string, args: number[], text: string, extra: Partial<FuzzCall> = {}): FuzzCall {
  const regs = [0, 0, 0, 0, 0, 0];
  args.forEach((a, i) => { regs[i] = a; });
  return { name, num: SYSCALL_BY_NAME.get(name)!.num, regs, writes: [], pointers: [], text: `${name}(${text}) [scenario]`, ...extra };
}

/** Start one of the two scenarios; `regions` gives scratch memory for the path, the marker and the id array. */
export function startScenario(rng: Rng, regions: FuzzRegions, _write: (va: number, bytes: Uint8Array) => void): Scenario | null {
  const scratch = regions.dataStart;
  if (regions.dataEnd - scratch < PAGE_SIZE + 256) return null;
  const pathAt = scratch;
  const markerAt = scratch + 64;
  const idsAt = scratch + 32;
  const path = new Uint8Array(Buffer.from('/fzaio\0', 'latin1'));
  const marker = new Uint8Array(PAGE_SIZE);
  for (let i = 0; i < PAGE_SIZE; i += AIO_MARKER.length) marker.set(AIO_MARKER, i);
  const exit = rng.chance(0.5);
  const write = !exit && rng.chance(0.5);
  const ptrs = (arg: number, addr: number, len: number, out: boolean): FuzzPointer[] => [{ arg, cls: 'valid', addr, len, out }];

  let step = 0;
  let fd = -1;
  let heap = -1;
  let id = -1;
  return {
    next(last, physical) {
      const s = step++;
      if (s > 0 && last === 'died') return null;
      const r = last as number;
      switch (s) {
        case 0:
          return call('open', [pathAt, 0x202], '"/fzaio", O_CREATE|O_RDWR', { writes: [[pathAt, path]], pointers: [{ arg: 0, cls: 'valid', addr: pathAt, len: -1, out: false }] });
        case 1:
          if (r < 0) return null;
          fd = r;
          return call('write', [fd, markerAt, PAGE_SIZE], `${fd}, marker, ${PAGE_SIZE}`, { writes: [[markerAt, marker]], pointers: ptrs(1, markerAt, PAGE_SIZE, false) });
        case 2:
          return call('sbrk', [HEAP], String(HEAP));
        case 3:
          if (r <= 0) return null;
          heap = r;
          return exit || !write
            ? call('aio_read', [fd, 0, heap, PAGE_SIZE, 0], `${fd}, 0, heap, ${PAGE_SIZE}, 0`, { pointers: ptrs(2, heap, PAGE_SIZE, true) })
            : call('aio_write', [fd, PAGE_SIZE, heap, PAGE_SIZE, 0], `${fd}, ${PAGE_SIZE}, heap, ${PAGE_SIZE}, 0`, { pointers: ptrs(2, heap, PAGE_SIZE, false) });
        case 4:
          if (r <= 0) return null;
          id = r;
          if (exit) return call('aio_read', [fd, 0, heap + PAGE_SIZE, PAGE_SIZE, 0], `${fd}, 0, heap + ${PAGE_SIZE}, ${PAGE_SIZE}, 0`, { pointers: ptrs(2, heap + PAGE_SIZE, PAGE_SIZE, true) });
          return call('sbrk', [-HEAP], `-${HEAP}: unmap the buffer of request ${id}`);
        case 5: {
          if (exit) {
            const pages: number[] = [];
            for (let va = Math.floor(heap / PAGE_SIZE) * PAGE_SIZE; va < heap + HEAP; va += PAGE_SIZE) {
              const pa = physical(va);
              if (pa >= 0) pages.push(pa - (pa % PAGE_SIZE));
            }
            return call('exit', [], `with requests ${id} and ${r} in flight`, { deadBuffer: pages });
          }
          const ids = new Uint8Array(4);
          new DataView(ids.buffer).setInt32(0, id, true);
          return call('aio_waitany', [idsAt, 1], `[${id}], 1`, { writes: [[idsAt, ids]], pointers: ptrs(0, idsAt, 4, false) });
        }
        case 6:
          if (exit || r !== id) return null; // a signal ended the wait: nothing to conclude
          return call('aio_status', [id], String(id), { expect: -EFAULT, why: `request ${id}'s buffer was unmapped before it completed` });
        case 7:
          return call('aio_return', [id], String(id), { expect: -EFAULT, why: 'the result, once more' });
        case 8:
          return call('close', [fd], String(fd));
        default:
          return null;
      }
    },
  };
}
