// System calls about files: read write open close dup pipe fstat chdir mknod unlink
// link mkdir exec crashn. Each: fetch and check arguments, copy in, do the
// operation through the file layer, copy out. read and write wait (as generators)
// when a pipe or the console cannot proceed; their user data is copied once,
// before the first attempt, and never read again.

import { copyin, copyout, userRangeMapped, userRangeWritable } from '../mem/copyin.js';
import { sysExec } from '../proc/exec.js';
import type { Kernel } from '../kernel.js';
import type { Blocking, Proc } from '../proc/proc.js';
import {
  argAddr, argFd, argInt, argPath, fdAlloc, ptr, traceArgs, traceOperation, type SyscallFunction,
} from './args.js';
import { STAT_SIZE } from './syscallTable.js';

/**
 * read(fd, buf, n): up to n bytes; 0 at end of file; waits on an empty pipe or console.
 * At end of file (a regular file at its end, a pipe with no writer left, ^D on the
 * console) it returns 0 for any mapped user buffer, as XK and Linux do: no byte is
 * copied, so even a read-only buffer is fine. A read that would copy bytes needs a
 * writable buffer before anything is taken (pipe data taken cannot be given back).
 */
function* sysRead(k: Kernel, p: Proc): Blocking {
  const a = argFd(p, 0);
  const buf = argAddr(p, 1);
  const n = argInt(p, 2);
  traceArgs(k, p, 'read', [a ? a.fd : argInt(p, 0), ptr(buf), n]);
  if (!a || n < 0) return -1;
  if (!userRangeWritable(p, buf, n)) {
    if (!userRangeMapped(p, buf, n)) return -1;
    // A read-only buffer: wait, taking nothing, until it is known whether the
    // read would copy bytes (-1, the data stays for the next reader) or is at
    // end of file (0).
    for (;;) {
      const state = k.files.readState(a.file);
      if (state === 'end') return 0;
      if (state === 'data') return -1;
      if (p.killed) return -1;
      yield k.files.waitChannel(a.file, 'read');
    }
  }
  for (;;) {
    const r = k.files.read(a.file, n);
    if (r === 'block') {
      if (p.killed) return -1;
      yield k.files.waitChannel(a.file, 'read');
      continue;
    }
    if (typeof r === 'number') return r;
    traceOperation(k, p, `fileRead(fd ${a.fd}, ${n}) -> ${r.length} bytes`);
    return copyout(p, buf, r) < 0 ? -1 : r.length;
  }
}

/** write(fd, buf, n): all n bytes, waiting while a pipe is full; -1 if nobody can read. */
function* sysWrite(k: Kernel, p: Proc): Blocking {
  const a = argFd(p, 0);
  const buf = argAddr(p, 1);
  const n = argInt(p, 2);
  traceArgs(k, p, 'write', [a ? a.fd : argInt(p, 0), ptr(buf), n]);
  if (!a || n < 0) return -1;
  const bytes = copyin(p, buf, n);
  if (bytes === -1) return -1;
  let done = 0;
  let waiting = false;
  try {
    while (done < n) {
      const r = k.files.write(a.file, bytes.subarray(done));
      if (r === 'broken') return -1;
      if (typeof r === 'number' && r < 0) return r;
      if (r === 'block' || r === 0) {
        if (p.killed) return -1;
        waiting = true;
        yield k.files.waitChannel(a.file, 'write');
        waiting = false;
        continue;
      }
      done += r;
    }
  } finally {
    // A signal abandoned the call while it waited (signals.ts interruptSyscall):
    // bytes already in the pipe stay written, so the call returns their count.
    if (waiting && done > 0) return done; // eslint-disable-line no-unsafe-finally
  }
  traceOperation(k, p, `fileWrite(fd ${a.fd}, ${n} bytes) -> ${n}`);
  return n;
}

/** open(path, mode): a new descriptor for the file. */
function sysOpen(k: Kernel, p: Proc): number {
  const path = argPath(p, 0);
  const mode = argInt(p, 1);
  if (path === -1) return -1;
  traceArgs(k, p, 'open', [path, mode]);
  const f = k.files.open(path, mode, p.cwd!);
  if (typeof f === 'number') {
    traceOperation(k, p, `fileOpen(${JSON.stringify(path)}, ${mode}) -> ${f}`);
    return f;
  }
  const fd = fdAlloc(p, f);
  if (fd < 0) k.files.close(f);
  traceOperation(k, p, `fileOpen(${JSON.stringify(path)}, ${mode}) -> file, fd ${fd}`);
  return fd;
}

function sysClose(k: Kernel, p: Proc): number {
  const a = argFd(p, 0);
  traceArgs(k, p, 'close', [argInt(p, 0)]);
  if (!a) return -1;
  p.ofile[a.fd] = null;
  k.files.close(a.file);
  return 0;
}

function sysDup(k: Kernel, p: Proc): number {
  const a = argFd(p, 0);
  traceArgs(k, p, 'dup', [argInt(p, 0)]);
  if (!a) return -1;
  const copy = k.files.dup(a.file);
  const fd = fdAlloc(p, copy);
  if (fd < 0) k.files.close(copy);
  return fd;
}

/** pipe(int fds[2]): fds[0] the read end, fds[1] the write end. */
function sysPipe(k: Kernel, p: Proc): number {
  const addr = argAddr(p, 0);
  traceArgs(k, p, 'pipe', [ptr(addr)]);
  if (!userRangeWritable(p, addr, 8)) return -1;
  const ends = k.files.pipe();
  if (typeof ends === 'number') return ends;
  const [r, w] = ends;
  const fd0 = fdAlloc(p, r);
  const fd1 = fd0 < 0 ? -1 : fdAlloc(p, w);
  if (fd1 < 0) {
    if (fd0 >= 0) p.ofile[fd0] = null;
    k.files.close(r);
    k.files.close(w);
    return -1;
  }
  const fds = new Uint8Array(8);
  new DataView(fds.buffer).setInt32(0, fd0, true);
  new DataView(fds.buffer).setInt32(4, fd1, true);
  traceOperation(k, p, `pipe -> fds [${fd0}, ${fd1}]`);
  return copyout(p, addr, fds);
}

/** fstat(fd, struct stat *): { short type; int dev; uint ino; uint size; }. */
function sysFstat(k: Kernel, p: Proc): number {
  const a = argFd(p, 0);
  const addr = argAddr(p, 1);
  traceArgs(k, p, 'fstat', [argInt(p, 0), ptr(addr)]);
  if (!a) return -1;
  const st = k.files.stat(a.file);
  if (typeof st === 'number') return st;
  const out = new Uint8Array(STAT_SIZE);
  const v = new DataView(out.buffer);
  v.setInt16(0, st.type, true);
  v.setInt32(4, st.dev, true);
  v.setUint32(8, st.ino, true);
  v.setUint32(12, st.size, true);
  return copyout(p, addr, out);
}

function sysChdir(k: Kernel, p: Proc): number {
  const path = argPath(p, 0);
  if (path === -1) return -1;
  traceArgs(k, p, 'chdir', [path]);
  const dir = k.files.chdir(path, p.cwd!);
  if (typeof dir === 'number') return dir;
  if (p.cwd) k.files.releaseInode(p.cwd);
  p.cwd = dir;
  return 0;
}

function sysMknod(k: Kernel, p: Proc): number {
  const path = argPath(p, 0);
  const major = argInt(p, 1);
  const minor = argInt(p, 2);
  if (path === -1) return -1;
  traceArgs(k, p, 'mknod', [path, major, minor]);
  return k.files.mknod(path, major, minor, p.cwd!);
}

function sysUnlink(k: Kernel, p: Proc): number {
  const path = argPath(p, 0);
  if (path === -1) return -1;
  traceArgs(k, p, 'unlink', [path]);
  return k.files.unlink(path, p.cwd!);
}

function sysLink(k: Kernel, p: Proc): number {
  const oldPath = argPath(p, 0);
  const newPath = argPath(p, 1);
  if (oldPath === -1 || newPath === -1) return -1;
  traceArgs(k, p, 'link', [oldPath, newPath]);
  return k.files.link(oldPath, newPath, p.cwd!);
}

function sysMkdir(k: Kernel, p: Proc): number {
  const path = argPath(p, 0);
  if (path === -1) return -1;
  traceArgs(k, p, 'mkdir', [path]);
  return k.files.mkdir(path, p.cwd!);
}

/** crashn(n): the disk fails after n more block writes (crash-consistency tests). */
function sysCrashn(k: Kernel, p: Proc): number {
  const n = argInt(p, 0);
  traceArgs(k, p, 'crashn', [n]);
  return k.files.crashAfter(n);
}

export const SYSFILE: ReadonlyMap<string, SyscallFunction> = new Map<string, SyscallFunction>([
  ['read', sysRead],
  ['write', sysWrite],
  ['open', sysOpen],
  ['close', sysClose],
  ['dup', sysDup],
  ['pipe', sysPipe],
  ['fstat', sysFstat],
  ['chdir', sysChdir],
  ['mknod', sysMknod],
  ['unlink', sysUnlink],
  ['link', sysLink],
  ['mkdir', sysMkdir],
  ['exec', sysExec],
  ['crashn', sysCrashn],
]);
