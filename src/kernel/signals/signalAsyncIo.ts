// Asynchronous I/O by signal: fcntl(fd, F_SETOWN, pid) + fcntl(fd, F_SETFL, O_ASYNC).
//
// An open file in O_ASYNC mode with an owner raises SIGIO in the owner whenever its
// read side is woken up: data was written into the pipe (or the last writer closed
// it), or a line arrived at the console. This is the device interrupt of a user
// program: it need not sit in read() to learn that input is there.
//
// The file layer wakes readers through the kernel's wakeup(channel) callback; the
// first O_ASYNC file makes this module wrap that callback, so that a wakeup of a
// channel an O_ASYNC file reads on also raises SIGIO. The owner and flag belong to
// the open file (shared by dup and fork), as in Unix.

import type { OpenFile } from '../files/fileLayer.js';
import type { Kernel } from '../kernel.js';
import type { Proc } from '../proc/proc.js';
import { wakeup } from '../proc/sleep.js';
import { SIGIO, postSignal } from './signals.js';
import { argFd, argInt, traceArgs } from '../syscall/args.js';

/** fcntl commands and the flag (Linux's values). */
export const F_GETFL = 3;
export const F_SETFL = 4;
export const F_SETOWN = 8;
export const F_GETOWN = 9;
export const O_ASYNC = 0x2000;

interface AsyncFile {
  state: { async: boolean; owner: number }; // the open file's fcntl state (file.ts)
  channel: object | null; // where its readers sleep; null for a file that never blocks
}

// Files that fcntl has touched, per kernel. An entry goes stale when its file is
// closed and the slot reused for a new open (the new open has a fresh fcntl state).
const asyncFiles = new WeakMap<Kernel, Map<OpenFile, AsyncFile>>();

function filesOf(k: Kernel): Map<OpenFile, AsyncFile> {
  let m = asyncFiles.get(k);
  if (!m) {
    m = new Map();
    asyncFiles.set(k, m);
    const files = m;
    k.files.setWakeup((channel) => {
      wakeup(k, channel);
      for (const [file, a] of files) {
        if (k.files.fcntlState(file) !== a.state) { files.delete(file); continue; }
        if (!a.state.async || a.state.owner === 0 || a.channel !== channel) continue;
        const owner = k.procs.byPid(a.state.owner);
        if (owner) postSignal(k, owner, SIGIO, { code: 1 /* POLL_IN */, addr: 0, pid: 0 });
      }
    });
  }
  return m;
}

/** fcntl(fd, cmd, arg): F_GETFL, F_SETFL (only O_ASYNC changes), F_SETOWN, F_GETOWN. */
export function sysFcntl(k: Kernel, p: Proc): number {
  const a = argFd(p, 0);
  const cmd = argInt(p, 1);
  const arg = argInt(p, 2);
  traceArgs(k, p, 'fcntl', [a ? a.fd : argInt(p, 0), cmd, arg]);
  if (!a) return -1;
  const state = k.files.fcntlState(a.file);
  switch (cmd) {
    case F_GETFL:
      return state.async ? O_ASYNC : 0;
    case F_SETFL:
      state.async = (arg & O_ASYNC) !== 0;
      watch(k, a.file, state);
      return 0;
    case F_GETOWN:
      return state.owner;
    case F_SETOWN:
      if (arg < 0 || (arg !== 0 && !k.procs.byPid(arg))) return -1;
      state.owner = arg;
      watch(k, a.file, state);
      return 0;
    default:
      return -1;
  }
}

/** Remember the file so its reader wakeups raise SIGIO. A regular file is always ready: it never signals. */
function watch(k: Kernel, file: OpenFile, state: AsyncFile['state']): void {
  const channel = k.files.canBlock(file) ? k.files.waitChannel(file, 'read') : null;
  filesOf(k).set(file, { state, channel });
}
