// Asynchronous I/O, as the lecture puts it: "a system call to enqueue the
// operation, a signal to notify its completion".
//
//   40 aio_read(fd, offset, buf, n, sig)    enqueue; the request id comes back at once
//   41 aio_write(fd, offset, buf, n, sig)
//   42 aio_status(id)                       -EINPROGRESS while in flight, then the result
//   43 aio_return(id)                       the result, once; the request is forgotten
//   44 aio_waitany(ids, count)              sleep until one of them is complete: its id
//   45 aio_cancel(id)                       AIO_CANCELED, AIO_NOTCANCELED or AIO_ALLDONE
//
// Enqueue is like issuing a device command (the disk driver's start()):
//   1. fetch and check the arguments: a regular file open for reading (writing),
//      offset and n >= 0, a signal number, and a buffer that is user memory NOW
//      (writable for a read): an early error, not the real check;
//   2. take a reference to the open file (closing the descriptor does not end the request);
//   3. start the disk reads the operation needs (the blocks of the range);
//   4. return the id. No user byte is read or written.
// Completion is like the device interrupt: it runs from the disk interrupt
// (IRQ 14) or the clock interrupt (IRQ 0), never inside the enqueue call. Each
// interrupt moves every request on as far as the disk lets it:
//   read:  the blocks are cached -> the bytes, then copyout to the buffer;
//   write: the blocks are cached -> copyin from the buffer (the bytes the buffer
//          holds NOW, read once: the double-fetch checker sees one fetch), the
//          file-system transaction, then wait until the log has it on the disk;
// then the result is kept for aio_status/aio_return and the chosen signal is
// raised with siginfo { si_code SI_ASYNCIO, si_pid = the id, si_addr = the result }.
// (Signals do not queue: if several completions raise the same signal before
// it is delivered, the frame carries the last; the handler asks aio_status.)
//
// Secure at completion, not only at enqueue: the copies go through the one
// door (copyin.ts) at the moment of completion, so a buffer unmapped or shrunk
// (sbrk) in between gives -EFAULT and nothing is touched (copyout is all or
// nothing). A request remembers its owner's address space: if the owner has
// exited, exec'd (a new address space) or gone, the request is dropped with no
// copy and no signal, so no byte lands in memory that is no longer the owner's.

import type { Kernel } from '../kernel.js';
import type { Blocking, Proc } from '../proc/proc.js';
import type { OpenFile } from '../files/fileLayer.js';
import type { AddressSpace } from '../mem/vm.js';
import { copyin, copyout, fetchRecorder, userRangeMapped, userRangeWritable, type UserSpace } from '../mem/copyin.js';
import { wakeup } from '../proc/sleep.js';
import { NSIG, postSignal, signalName } from '../signals/signals.js';
import { argAddr, argFd, argInt, ptr, traceArgs, type SyscallFunction } from './args.js';

/** si_code of a completion signal (Linux's SI_ASYNCIO). */
export const SI_ASYNCIO = -4;
/** aio_status while a request is in flight. */
export const EINPROGRESS = 115;
/** Results of a failed request: the buffer was not the owner's memory at completion, a disk error, cancelled. */
export const EFAULT = 14;
export const EIO = 5;
export const ECANCELED = 125;
/** aio_cancel's answers (POSIX's values). */
export const AIO_CANCELED = 0;
export const AIO_NOTCANCELED = 1;
export const AIO_ALLDONE = 2;
/** Requests a process may hold (in flight, or complete and not yet returned). */
export const AIO_MAX = 16;

export type Phase = 'fetch' | 'copyin' | 'write' | 'durable' | 'done';

interface Request {
  id: number;
  write: boolean;
  owner: Proc;
  /** The owner's address space at enqueue: completion writes only into this one, and only while it is the owner's. */
  vm: AddressSpace;
  file: OpenFile | null;
  offset: number;
  buf: number;
  n: number;
  sig: number;
  phase: Phase;
  /** A write's bytes, copied in at completion; how many are written; the transactions to wait for. */
  data: Uint8Array | null;
  written: number;
  durableAfter: number;
  /** null while in flight. */
  result: number | null;
}

interface AioTable {
  requests: Map<number, Request>;
  nextId: number;
  /** Woken at every completion (aio_waitany sleeps here). */
  readonly completion: object;
  /** Completions that copied bytes out (the fuzzer's partial-write oracle looks). */
  copyouts: number;
}

const tables = new WeakMap<Kernel, AioTable>();

/** The kernel's request table; the first use installs the interrupt hooks. */
function tableOf(k: Kernel): AioTable {
  let t = tables.get(k);
  if (!t) {
    t = { requests: new Map(), nextId: 1, completion: { name: 'aio completion' }, copyouts: 0 };
    tables.set(k, t);
    const table = t;
    k.onDiskInterrupt = () => aioInterrupt(k, table);
    k.onClockTick = () => aioInterrupt(k, table);
  }
  return t;
}

/** Is the request's owner still the process, in the address space it enqueued from? */
function ownerHolds(k: Kernel, r: Request): boolean {
  const p = r.owner;
  return p.state !== 'zombie' && p.vm === r.vm && k.procs.slots.includes(p);
}

function mine(k: Kernel, p: Proc, id: number): Request | undefined {
  const r = tables.get(k)?.requests.get(id);
  return r && r.owner === p && r.vm === p.vm ? r : undefined;
}

/** aio_read(fd, offset, buf, n, sig) and aio_write(fd, offset, buf, n, sig). */
function enqueue(write: boolean): SyscallFunction {
  const name = write ? 'aio_write' : 'aio_read';
  return (k, p) => {
    const a = argFd(p, 0);
    const offset = argInt(p, 1);
    const buf = argAddr(p, 2);
    const n = argInt(p, 3);
    const sig = argInt(p, 4);
    traceArgs(k, p, name, [a ? a.fd : argInt(p, 0), offset, ptr(buf), n, sig]);
    if (!a || !k.files.isRegularFile(a.file) || offset < 0 || n < 0 || sig < 0 || sig >= NSIG) return -1;
    const usable = write ? k.files.writeAt(a.file, 0, new Uint8Array(0)) === 0 : k.files.readAt(a.file, 0, 0) !== -1;
    if (!usable) return -1;
    // An early answer for a buffer that is not the caller's memory; the real check is at completion.
    if (!(write ? userRangeMapped(p, buf, n) : userRangeWritable(p, buf, n))) return -1;
    const t = tableOf(k);
    let held = 0;
    for (const r of t.requests.values()) if (r.owner === p) held++;
    if (held >= AIO_MAX) return -1;
    const r: Request = {
      id: t.nextId++, write, owner: p, vm: p.vm, file: k.files.dup(a.file), offset, buf, n, sig,
      phase: 'fetch', data: null, written: 0, durableAfter: 0, result: null,
    };
    t.requests.set(r.id, r);
    startDisk(k, r);
    k.emit(p, 'kernel', 'aio-enqueue', `${name}: request ${r.id} enqueued (${n} bytes at offset ${offset}); completion raises ${sig ? signalName(sig) : 'no signal'}`, { id: r.id, sig });
    return r.id;
  };
}

/** Ask the disk for the blocks of the range now (like programming the device); the bytes move at completion. */
function startDisk(k: Kernel, r: Request): void {
  try {
    k.files.waitForDisk(() => k.files.readAt(r.file!, r.offset, r.n));
  } catch (e) {
    if (!k.files.diskWaitChannel(e)) throw e; // the disk is on it
  }
}

/** The disk or the clock interrupted: move every request on; forget those whose owner is gone. */
function aioInterrupt(k: Kernel, t: AioTable): void {
  for (const r of [...t.requests.values()]) {
    if (!ownerHolds(k, r)) {
      if (r.result === null) k.emit(r.owner, 'kernel', 'aio-drop', `aio: request ${r.id} dropped: pid ${r.owner.pid}'s address space is gone (no copy, no signal)`, { id: r.id, complete: r.result === null ? 0 : 1 });
      release(k, r);
      t.requests.delete(r.id);
      continue;
    }
    if (r.result !== null) continue;
    try {
      k.files.waitForDisk(() => advance(k, t, r));
    } catch (e) {
      if (!k.files.diskWaitChannel(e)) throw e; // still waiting for the disk or the log: the next interrupt tries again
    }
  }
}

/** As far as the request can go now; a DiskWait or LogBusy (thrown) means: later. */
function advance(k: Kernel, t: AioTable, r: Request): void {
  if (!r.write) {
    const data = k.files.readAt(r.file!, r.offset, r.n);
    if (typeof data === 'number') return complete(k, t, r, -EIO);
    const ok = atCompletion(r, (space) => copyout(space, r.buf, data)) === 0;
    if (ok && data.length > 0) t.copyouts++;
    return complete(k, t, r, ok ? data.length : -EFAULT);
  }
  if (r.phase === 'fetch') {
    k.files.readAt(r.file!, r.offset, r.n); // the blocks the write changes, into the cache
    r.phase = 'copyin';
  }
  if (r.phase === 'copyin') {
    const bytes = atCompletion(r, (space) => copyin(space, r.buf, r.n));
    if (bytes === -1) return complete(k, t, r, -EFAULT);
    r.data = bytes;
    r.phase = 'write';
  }
  if (r.phase === 'write') {
    while (r.written < r.n) {
      const w = k.files.writeAt(r.file!, r.offset + r.written, r.data!.subarray(r.written));
      if (w <= 0) return complete(k, t, r, r.written > 0 ? r.written : -EIO); // the disk is full
      r.written += w;
    }
    r.durableAfter = k.files.transactions().begun;
    r.phase = 'durable';
  }
  if (r.phase === 'durable' && k.files.transactions().durable >= r.durableAfter) complete(k, t, r, r.n);
}

/**
 * A copy at completion time, through the one door, into the address space the
 * request was enqueued from. It is its own "call" for the double-fetch checker
 * (named after the request), so it never mixes with a system call the owner is in.
 */
function atCompletion<T>(r: Request, copy: (space: UserSpace) => T): T {
  const space: UserSpace = { vm: r.vm };
  const checker = fetchRecorder();
  checker?.begin(r.write ? 'aio_write' : 'aio_read', space);
  try {
    return copy(space);
  } finally {
    checker?.end?.(space);
  }
}

/** The request is done: keep the result, wake aio_waitany, raise the signal. */
function complete(k: Kernel, t: AioTable, r: Request, result: number): void {
  r.result = result;
  r.phase = 'done';
  r.data = null;
  release(k, r);
  k.emit(r.owner, 'kernel', 'aio-complete',
    `aio: request ${r.id} (${r.write ? 'write' : 'read'}) completes: ${result}` +
    (r.sig ? `; raise ${signalName(r.sig)} with si_code SI_ASYNCIO ~ the device interrupt` : ''),
    { id: r.id, result });
  wakeup(k, t.completion);
  if (r.sig) postSignal(k, r.owner, r.sig, { code: SI_ASYNCIO, pid: r.id, addr: result });
}

function release(k: Kernel, r: Request): void {
  if (r.file) k.files.close(r.file);
  r.file = null;
}

/** aio_status(id): -EINPROGRESS while in flight, then the result (bytes, or -EFAULT, -EIO, -ECANCELED); -1: no such request of yours. */
function sysAioStatus(k: Kernel, p: Proc): number {
  const id = argInt(p, 0);
  traceArgs(k, p, 'aio_status', [id]);
  const r = mine(k, p, id);
  if (!r) return -1;
  return r.result ?? -EINPROGRESS;
}

/** aio_return(id): the result of a complete request, which is then forgotten; -EINPROGRESS (kept) while in flight. */
function sysAioReturn(k: Kernel, p: Proc): number {
  const id = argInt(p, 0);
  traceArgs(k, p, 'aio_return', [id]);
  const r = mine(k, p, id);
  if (!r) return -1;
  if (r.result === null) return -EINPROGRESS;
  tables.get(k)!.requests.delete(id);
  return r.result;
}

/** aio_waitany(ids, count): the id of a complete request among them, sleeping until there is one; -1 if none is yours. */
function* sysAioWaitany(k: Kernel, p: Proc): Blocking {
  const addr = argAddr(p, 0);
  const count = argInt(p, 1);
  traceArgs(k, p, 'aio_waitany', [ptr(addr), count]);
  if (count <= 0 || count > AIO_MAX) return -1;
  const bytes = copyin(p, addr, 4 * count);
  if (bytes === -1) return -1;
  const view = new DataView(bytes.buffer);
  const requests: Request[] = [];
  for (let i = 0; i < count; i++) {
    const r = mine(k, p, view.getInt32(4 * i, true));
    if (r) requests.push(r);
  }
  if (requests.length === 0) return -1;
  const done = (): Request | undefined => requests.find((r) => r.result !== null);
  let waiting = false;
  try {
    for (;;) {
      const r = done();
      if (r) return r.id;
      if (p.killed) return -1;
      waiting = true;
      yield tableOf(k).completion;
      waiting = false;
    }
  } finally {
    // A signal (often the completion's own) ended the wait: a request that completed is still the answer.
    const r = waiting ? done() : undefined;
    if (r) return r.id; // eslint-disable-line no-unsafe-finally
  }
}

/** aio_cancel(id): a request whose data has not moved completes with -ECANCELED (and its signal). */
function sysAioCancel(k: Kernel, p: Proc): number {
  const id = argInt(p, 0);
  traceArgs(k, p, 'aio_cancel', [id]);
  const r = mine(k, p, id);
  if (!r) return -1;
  if (r.result !== null) return AIO_ALLDONE;
  if (r.phase === 'write' || r.phase === 'durable') return AIO_NOTCANCELED; // bytes are on their way to the disk
  complete(k, tableOf(k), r, -ECANCELED);
  return AIO_CANCELED;
}

/** Open files the requests in flight hold, one entry per reference (the fuzzer's file-table oracle counts them). */
export function aioFileReferences(k: Kernel): OpenFile[] {
  const t = tables.get(k);
  return t ? [...t.requests.values()].flatMap((r) => (r.file ? [r.file] : [])) : [];
}

/**
 * How far request `id` has gone (the fuzzer's scenarios ask before they unmap its
 * buffer): 'fetch' (waiting for the disk), 'copyin', 'write', 'durable' (a write's
 * bytes are copied in), 'done'; undefined for no such request.
 */
export function aioRequestPhase(k: Kernel, id: number): Phase | undefined {
  return tables.get(k)?.requests.get(id)?.phase;
}

/** Requests in the table (in flight or not yet returned), and completions that copied bytes out. */
export function aioStatistics(k: Kernel): { requests: number; inFlight: number; copyouts: number } {
  const t = tables.get(k);
  if (!t) return { requests: 0, inFlight: 0, copyouts: 0 };
  const all = [...t.requests.values()];
  return { requests: all.length, inFlight: all.filter((r) => r.result === null).length, copyouts: t.copyouts };
}

export const AIO_SYSCALLS: ReadonlyMap<string, SyscallFunction> = new Map<string, SyscallFunction>([
  ['aio_read', enqueue(false)],
  ['aio_write', enqueue(true)],
  ['aio_status', sysAioStatus],
  ['aio_return', sysAioReturn],
  ['aio_waitany', sysAioWaitany],
  ['aio_cancel', sysAioCancel],
]);
