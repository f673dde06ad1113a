// Scripted interleavings of asynchronous I/O for the system-call fuzzer: what
// random calls would rarely line up, played as consecutive calls of the fuzzing
// process, each step built from the result of the one before.
//
//   enqueue-then-unmap   open /fzaio, write MARKER bytes into it, sbrk(+8192),
//                        aio_read or aio_write on the new heap, sbrk(-8192), aio_waitany;
//                        then aio_status and aio_return must say -EFAULT, unless the
//                        request's data had already moved when sbrk was issued (on the
//                        instant disk requests complete at the next clock tick, after
//                        sbrk; on the timed disk the disk interrupt may come first):
//                        then they must say 4096.
//   enqueue-then-exit    the same file and heap, two aio_reads of the MARKER bytes
//                        into the heap, then exit at once: the heap's physical pages
//                        must never receive the MARKER bytes afterwards (fuzzer.ts
//                        watches them for a while), whoever owns them then.
//   enqueue-with-signal  the same file; rt_sigaction gives SIGUSR2, SIGURG or SIGWINCH
//                        a handler (the stub's own `int $64`, SA_NODEFER, so the process
//                        goes on making calls inside it), two aio_reads of the file that
//                        raise it, aio_waitany on both, aio_return of each. The ledger
//                        (aioLedger.ts) checks each completion raises the signal once and
//                        each frame carries an id delivered once; the fuzzer, that the
//                        signal does not stay pending.
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
  next(last: number | 'died', physical: (va: number) => number, phase: (id: number) => string | undefined): FuzzCall | null;
}

function call(name: string, args: number[], text: string, extra: Partial<FuzzCall> = {}): FuzzCall {
  const regs = [0, 0, 0, 0, 0, 0];
  args.forEach((a, i) => { regs[i] = a; });
  return { name, num: SYSCALL_BY_NAME.get(name)!.num, regs, writes: [], pointers: [], text: `${name}(${text}) [scenario]`, ...extra };
}

const SA_RESTORER = 0x04000000;
const SA_NODEFER = 0x40000000;
/** Completion signals whose handler the signal scenario installs (SIGUSR2, SIGURG, SIGWINCH). */
const SCENARIO_SIGNALS = [12, 23, 28];

/**
 * Start one of the scenarios; `regions` gives scratch memory for the path, the
 * marker and the id array; `entry` is the stub's `int $64` (a handler that makes calls).
 */
export function startScenario(rng: Rng, regions: FuzzRegions, entry: number): Scenario | null {
  const scratch = regions.dataStart;
  if (regions.dataEnd - scratch < PAGE_SIZE + 256) return null;
  const pathAt = scratch;
  const markerAt = scratch + 64;
  const idsAt = scratch + 32;
  const path = new Uint8Array(Buffer.from('/fzaio\0', 'latin1'));
  const marker = new Uint8Array(PAGE_SIZE);
  for (let i = 0; i < PAGE_SIZE; i += AIO_MARKER.length) marker.set(AIO_MARKER, i);
  const exit = rng.chance(0.4);
  if (!exit && rng.chance(1 / 3)) return signalScenario(rng, regions, entry);
  const write = !exit && rng.chance(0.5);
  const ptrs = (arg: number, addr: number, len: number, out: boolean): FuzzPointer[] => [{ arg, cls: 'valid', addr, len, out }];

  let step = 0;
  let fd = -1;
  let heap = -1;
  let id = -1;
  let moved = false;
  return {
    next(last, physical, phase) {
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
          // Has the data already moved (a read complete, a write's bytes copied in)? Then unmapping is too late.
          moved = write ? ['write', 'durable', 'done'].includes(phase(id) ?? '') : phase(id) === 'done';
          return call('sbrk', [-HEAP], `-${HEAP}: unmap the buffer of request ${id}${moved ? ' (its data has moved)' : ''}`);
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
          return moved
            ? call('aio_status', [id], String(id), { expect: PAGE_SIZE, why: `request ${id}'s data moved before its buffer was unmapped` })
            : call('aio_status', [id], String(id), { expect: -EFAULT, why: `request ${id}'s buffer was unmapped before it completed` });
        case 7:
          return call('aio_return', [id], String(id), { expect: moved ? PAGE_SIZE : -EFAULT, why: 'the result, once more' });
        case 8:
          return call('close', [fd], String(fd));
        default:
          return null;
      }
    },
  };
}

/** enqueue-with-signal (see the header). */
function signalScenario(rng: Rng, regions: FuzzRegions, entry: number): Scenario {
  const scratch = regions.dataStart;
  const pathAt = scratch;
  const idsAt = scratch + 32;
  const bufAt = scratch + 64;
  const actAt = scratch + 64 + PAGE_SIZE;
  const sig = rng.pick(SCENARIO_SIGNALS);
  const path = new Uint8Array(Buffer.from('/fzaio\0', 'latin1'));
  const act = new Uint8Array(32);
  const v = new DataView(act.buffer);
  v.setBigUint64(0, BigInt(entry), true);
  v.setUint32(8, SA_NODEFER | SA_RESTORER, true);
  v.setBigUint64(16, BigInt(entry), true);
  const valid = (arg: number, addr: number, len: number, out: boolean): FuzzPointer[] => [{ arg, cls: 'valid', addr, len, out }];
  let step = 0;
  let fd = -1;
  const ids: number[] = [];
  return {
    next(last) {
      const s = step++;
      if (s > 0 && last === 'died') return null;
      const r = last as number;
      switch (s) {
        case 0:
          return call('open', [pathAt, 0x202], '"/fzaio", O_CREATE|O_RDWR', { writes: [[pathAt, path]], pointers: [{ arg: 0, cls: 'valid', addr: pathAt, len: -1, out: false }] });
        case 1:
          if (r < 0) return null;
          fd = r;
          return call('write', [fd, bufAt, 600], `${fd}, marker, 600`, { writes: [[bufAt, new Uint8Array(Buffer.alloc(600, AIO_MARKER))]], pointers: valid(1, bufAt, 600, false) });
        case 2:
          return call('rt_sigaction', [sig, actAt, 0], `${sig}, {handler = the stub, SA_NODEFER}, 0`,
            { writes: [[actAt, act]], pointers: valid(1, actAt, 32, false), expect: 0, why: 'a handler for a catchable signal' });
        case 3:
        case 4:
          if (s === 4) {
            if (r <= 0) return null;
            ids.push(r);
          }
          return call('aio_read', [fd, 0, bufAt + 256 * (s - 3), 256, sig], `${fd}, 0, buf, 256, ${sig}`, { pointers: valid(2, bufAt + 256 * (s - 3), 256, true) });
        case 5: {
          if (r <= 0) return null;
          ids.push(r);
          const bytes = new Uint8Array(8);
          new DataView(bytes.buffer).setInt32(0, ids[0], true);
          new DataView(bytes.buffer).setInt32(4, ids[1], true);
          return call('aio_waitany', [idsAt, 2], `[${ids.join(', ')}], 2`, { writes: [[idsAt, bytes]], pointers: valid(0, idsAt, 8, false) });
        }
        case 6:
        case 7:
          return call('aio_return', [ids[s - 6]], String(ids[s - 6])); // the ledger checks the result
        case 8:
          return call('close', [fd], String(fd));
        default:
          return null;
      }
    },
  };
}
