// The open-file table: NFILE entries shared by all processes.
//
// A process's file descriptor (kept by the kernel core, NOFILE per process)
// points at a File here. fork and dup share the File, so they share its offset;
// ref counts the descriptors pointing at it, and the last fileClose releases the
// pipe end or inode behind it.
//
// Results follow XK: -1 on error. Reads and writes on pipes and the console never
// wait; they return 'block' and the kernel core sleeps on the channel named by
// fileWaitChannel(file, ...) and retries.

import type { Inode, Stat } from '../fs/inode.js';
import { iput, readi, stati } from '../fs/inode.js';
import { fsOpen, fsWrite, O_RDWR, O_WRONLY } from '../fs/fsOps.js';
import { CONSOLE_MAJOR, T_DEV } from '../fs/layout.js';
import type { WaitChannel } from '../fs/channel.js';
import { Pipe, pipeClose, pipeRead, pipeReadState, pipeWrite } from './pipe.js';
import { consoleRead, consoleReadable, consoleReadState, consoleWritable, consoleWrite } from './console.js';

/** What a read would do now: copy bytes or fail ('data'), return end of file ('end'), or wait ('block'). */
export type ReadState = 'data' | 'end' | 'block';

export { O_RDONLY, O_WRONLY, O_RDWR, O_CREATE } from '../fs/fsOps.js';
export { setWakeup, WaitChannel } from '../fs/channel.js';

export const NFILE = 100;
export const NOFILE = 16;

export interface File {
  type: 'inode' | 'pipe' | 'device';
  readable: boolean;
  writable: boolean;
  /** Byte offset for inode files (shared by every descriptor of this File). */
  offset: number;
  ref: number;
  inode?: Inode;
  pipe?: Pipe;
  /** Device files: the device's major number. */
  major?: number;
  /** fcntl state (F_SETFL O_ASYNC, F_SETOWN): shared by dup and fork, gone at the last close. */
  fcntl?: FcntlState;
}

export interface FcntlState {
  async: boolean;
  owner: number; // pid to signal, 0 = none
}

/** The fcntl state of an open file, created on first use. */
export function fileFcntlState(f: File): FcntlState {
  f.fcntl ??= { async: false, owner: 0 };
  return f.fcntl;
}

/** A character device: read and write never block (read may say 'block'). */
export interface Device {
  read(max: number): Uint8Array | 'block';
  /** What read would do now, without taking anything. */
  readState(): ReadState;
  write(bytes: Uint8Array): number;
  readable: WaitChannel;
  writable: WaitChannel;
}

/** Device drivers by major number. */
export const devices = new Map<number, Device>([
  [CONSOLE_MAJOR, { read: consoleRead, readState: consoleReadState, write: consoleWrite, readable: consoleReadable, writable: consoleWritable }],
]);

const fileTable: File[] = [];

/** Files in use (tests and the trace look at this). */
export function openFileCount(): number {
  return fileTable.filter((f) => f.ref > 0).length;
}

/** Forgets every open file (tests; a fresh kernel in the same host process). */
export function resetFileTable(): void {
  fileTable.length = 0;
}

/** A free File with ref 1, or undefined when all NFILE are in use. */
export function fileAlloc(): File | undefined {
  let f = fileTable.find((e) => e.ref === 0);
  if (!f) {
    if (fileTable.length >= NFILE) return undefined;
    f = { type: 'inode', readable: false, writable: false, offset: 0, ref: 0 };
    fileTable.push(f);
  }
  Object.assign(f, { type: 'inode', readable: false, writable: false, offset: 0, ref: 1, inode: undefined, pipe: undefined, major: undefined, fcntl: undefined });
  return f;
}

/** open(path, flags) relative to the process's current directory `cwd`. */
export function fileOpen(path: string, flags: number, cwd: Inode): File | -1 {
  const ip = fsOpen(cwd.fs, path, flags, cwd);
  if (ip === -1) return -1;
  const f = fileAlloc();
  if (!f) {
    iput(ip);
    return -1;
  }
  f.inode = ip;
  f.readable = (flags & O_WRONLY) === 0;
  f.writable = (flags & (O_WRONLY | O_RDWR)) !== 0;
  if (ip.type === T_DEV) {
    f.type = 'device';
    f.major = ip.major;
  }
  return f;
}

/** A console file not reached through a path (fds 0-2 of a program run without init). */
export function fileOpenConsole(): File | -1 {
  const f = fileAlloc();
  if (!f) return -1;
  Object.assign(f, { type: 'device', major: CONSOLE_MAJOR, readable: true, writable: true });
  return f;
}

/** pipe(): a File for each end. */
export function filePipe(): { readEnd: File; writeEnd: File } | -1 {
  const readEnd = fileAlloc();
  if (!readEnd) return -1;
  const writeEnd = fileAlloc();
  if (!writeEnd) {
    readEnd.ref = 0;
    return -1;
  }
  const pipe = new Pipe();
  Object.assign(readEnd, { type: 'pipe', pipe, readable: true, writable: false });
  Object.assign(writeEnd, { type: 'pipe', pipe, readable: false, writable: true });
  return { readEnd, writeEnd };
}

/** read(): up to n bytes (empty at end of file), 'block' (sleep on fileWaitChannel(f, 'read')), or -1. */
export function fileRead(f: File, n: number): Uint8Array | 'block' | -1 {
  if (!f.readable || n < 0) return -1;
  switch (f.type) {
    case 'pipe':
      return pipeRead(f.pipe!, n);
    case 'device': {
      const dev = devices.get(f.major!);
      return dev ? dev.read(n) : -1;
    }
    case 'inode': {
      // Directories read as their raw struct dirent records, as ls expects.
      const data = readi(f.inode!, f.offset, n);
      f.offset += data.length;
      return data;
    }
  }
}

/** An inode file whose offset is at (or past) its end: a read returns 0 bytes and writes no memory. */
/**
 * What read() would do now, without taking anything: copy bytes or fail
 * ('data'), return end of file ('end'), or wait ('block').
 */
export function fileReadState(f: File): ReadState {
  if (!f.readable) return 'data';
  switch (f.type) {
    case 'pipe': return pipeReadState(f.pipe!);
    case 'device': return devices.get(f.major!)?.readState() ?? 'data';
    case 'inode': return f.offset >= f.inode!.size ? 'end' : 'data';
  }
}

/**
 * write(): bytes accepted now, 'block' (nothing accepted: sleep on
 * fileWaitChannel(f, 'write') and retry), or -1 (not writable, broken pipe, no
 * space). Files and devices take everything at once (a short count only on a
 * full disk); a pipe may take part, and the kernel core calls again with the rest.
 */
export function fileWrite(f: File, bytes: Uint8Array): number | 'block' | -1 {
  if (!f.writable) return -1;
  switch (f.type) {
    case 'pipe': {
      const n = pipeWrite(f.pipe!, bytes);
      if (n === 'broken') return -1;
      return n === 0 && bytes.length > 0 ? 'block' : n;
    }
    case 'device': {
      const dev = devices.get(f.major!);
      return dev ? dev.write(bytes) : -1;
    }
    case 'inode': {
      if (bytes.length === 0) return 0;
      const n = fsWrite(f.inode!, f.offset, bytes);
      if (n > 0) f.offset += n;
      return n;
    }
  }
}

/** Whether an operation on `f` can ever answer 'block' (pipes and devices can; inode files cannot). */
export function fileCanBlock(f: File): boolean {
  return f.type === 'pipe' || (f.major !== undefined && devices.has(f.major));
}

/** The channel to sleep on after 'block'. */
export function fileWaitChannel(f: File, op: 'read' | 'write'): WaitChannel {
  if (f.type === 'pipe') return op === 'read' ? f.pipe!.readable : f.pipe!.writable;
  const dev = f.major !== undefined ? devices.get(f.major) : undefined;
  if (!dev) throw new Error('fileWaitChannel: this file never blocks');
  return op === 'read' ? dev.readable : dev.writable;
}

/** fstat(): the inode's stat (a device without an inode: T_DEV, ino 0), or -1 for a pipe. */
export function fileStat(f: File): Stat | -1 {
  if (f.inode) return stati(f.inode);
  return f.type === 'device' ? { type: T_DEV, dev: 1, ino: 0, size: 0 } : -1;
}

/** dup() and fork(): one more descriptor for the same File. */
export function fileDup(f: File): File {
  if (f.ref < 1) throw new Error('fileDup: file is not open');
  f.ref++;
  return f;
}

/** close(): drops a descriptor; the last one releases the pipe end or inode. */
export function fileClose(f: File): void {
  if (f.ref < 1) throw new Error('fileClose: file is not open');
  if (--f.ref > 0) return;
  if (f.pipe) pipeClose(f.pipe, f.writable);
  if (f.inode) iput(f.inode);
  f.pipe = undefined;
  f.inode = undefined;
  f.fcntl = undefined;
}
