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

import type { OpenFile } from './fileLayer.js';
import type { Kernel } from './kernel.js';
import type { Proc } from './proc.js';
import { wakeup } from './scheduler.js';
import { SIGIO, postSignal } from './signals.js';
import { argFd, argInt, traceArgs } from './syscall.js';

/** fcntl commands and the flag (Linux's values). */
export const F_GETFL = 3;
export const F_SETFL = 4;
export const F_SETOWN = 8;
export const F_GETOWN = 9;
export const O_ASYNC = 0x2000;

interface AsyncFile {
  owner: number; // pid, 0 = none
  async: boolean;
  channel: object; // where its readers sleep
}

const asyncFiles = new WeakMap<Kernel, Map<OpenFile, AsyncFile>>();

function filesOf(k: Kernel): Map<OpenFile, AsyncFile> {
  let m = asyncFiles.get(k);
  if (!m) {
    m = new Map();
    asyncFiles.set(k, m);
    const files = m;
    k.files.setWakeup((channel) => {
      wakeup(k, channel);
      for (const a of files.values()) {
        if (!a.async || a.owner === 0 || a.channel !== channel) continue;
        const owner = k.procs.byPid(a.owner);
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
  const files = filesOf(k);
  let entry = files.get(a.file);
  const ensure = (): AsyncFile => {
    entry ??= { owner: 0, async: false, channel: k.files.waitChannel(a.file, 'read') };
    files.set(a.file, entry);
    return entry;
  };
  switch (cmd) {
    case F_GETFL:
      return entry?.async ? O_ASYNC : 0;
    case F_SETFL:
      ensure().async = (arg & O_ASYNC) !== 0;
      return 0;
    case F_GETOWN:
      return entry?.owner ?? 0;
    case F_SETOWN:
      if (arg < 0 || (arg !== 0 && !k.procs.byPid(arg))) return -1;
      ensure().owner = arg;
      return 0;
    default:
      return -1;
  }
}
