// What the kernel core needs from the file layer (src/kernel/files/file.ts, pipe.ts,
// console.ts, fs/), as one interface: system calls in sysfile.ts and exec.ts call
// only these. fileLayerAdapter.ts builds it from the file layer's modules.
//
// Nothing here blocks: an operation that cannot proceed now returns 'block', and
// the kernel sleeps on waitChannel(file, op) until the file layer calls wakeup().

import type { DiskDriver } from '../drivers/diskDriver.js';

/** An open file (struct file): opaque to the kernel core. */
export type OpenFile = object;
/** An in-memory inode reference (a process's current directory): opaque too. */
export type InodeRef = object;

export interface FileStat {
  type: number;
  dev: number;
  ino: number;
  size: number;
}

export interface FileLayer {
  rootDirectory(): InodeRef;
  /** A new reference to the same inode (fork copies cwd). */
  dupInode(ip: InodeRef): InodeRef;
  releaseInode(ip: InodeRef): void;

  open(path: string, flags: number, cwd: InodeRef): OpenFile | number;
  read(f: OpenFile, n: number): Uint8Array | 'block' | number;
  /** What read would do now, without taking anything: copy bytes or fail ('data'), return end of file ('end'), or wait ('block'). */
  readState(f: OpenFile): 'data' | 'end' | 'block';
  write(f: OpenFile, bytes: Uint8Array): number | 'block' | 'broken';
  stat(f: OpenFile): FileStat | number;
  dup(f: OpenFile): OpenFile;
  close(f: OpenFile): void;
  pipe(): [OpenFile, OpenFile] | number;
  /** The channel to sleep on when read ('read') or write ('write') returned 'block'. */
  waitChannel(f: OpenFile, op: 'read' | 'write'): object;
  /** Whether f can ever block (a pipe or a device); a regular file never does. */
  canBlock(f: OpenFile): boolean;
  /** The open file's fcntl state (O_ASYNC flag and owner pid); a new open starts with a fresh one. */
  fcntlState(f: OpenFile): { async: boolean; owner: number };

  mkdir(path: string, cwd: InodeRef): number;
  mknod(path: string, major: number, minor: number, cwd: InodeRef): number;
  link(oldPath: string, newPath: string, cwd: InodeRef): number;
  unlink(path: string, cwd: InodeRef): number;
  /** The directory `path` names (a new reference), or a negative error. */
  chdir(path: string, cwd: InodeRef): InodeRef | number;
  /** The whole contents of a regular file (exec), or a negative error. */
  readFile(path: string, cwd: InodeRef): Uint8Array | number;

  /** A new open file on the console device, readable and writable (fds 0-2 of `xk run PROGRAM`). */
  openConsole(): OpenFile;

  /** Install the kernel's wakeup(channel). */
  setWakeup(wakeup: (channel: object) => void): void;
  /** Bytes typed at the serial port; true when they held a ^C (the kernel then sends SIGINT). */
  consoleInput(bytes: Uint8Array): boolean;
  /** The host's input ended: console reads return end of file once the typed lines are read. */
  consoleInputEnd(): void;
  /** Where console writes go (the serial port). */
  setConsoleOutput(output: (bytes: Uint8Array) => void): void;
  /** crashn(n): make the disk fail after n more block writes (crash-consistency tests). */
  crashAfter(n: number): number;
  /** Disk reads so far (sysinfo). */
  diskReads(): number;

  // The timed disk (fs/diskBlocks.ts). Without attachDisk() the file system
  // reads and writes its device at once and none of these ever waits.

  /** Put the file system on the timed disk, through the kernel's disk driver. */
  attachDisk(driver: DiskDriver): void;
  /** Run `body` (a system call) so that a missing block or a busy log interrupts it. */
  waitForDisk<T>(body: () => T): T;
  /** If `e` says the call must wait for the disk, the channel to sleep on (then run the call again); else null. */
  diskWaitChannel(e: unknown): object | null;
  /** Transactions begun so far, and how many of them are on the disk. */
  transactions(): { begun: number; durable: number };
  /** Woken when a commit is on the disk. */
  logChannel(): object;
  /** pread: up to n bytes of a regular file at `offset`, without moving the file offset; -1 if not a readable file. */
  readAt(f: OpenFile, offset: number, n: number): Uint8Array | number;
  /** pwrite: bytes written to a regular file at `offset`, or -1. */
  writeAt(f: OpenFile, offset: number, bytes: Uint8Array): number;
  /** Whether f is a regular file (asynchronous I/O works only on those). */
  isRegularFile(f: OpenFile): boolean;
}
