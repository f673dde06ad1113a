// The FileLayer interface (fileLayer.ts) built from the file layer's modules:
// file.ts (open-file table), console.ts, fs/ (inodes, paths, the log).

import {
  fileAlloc, fileCanBlock, fileClose, fileFcntlState, fileDup, fileOpen, filePipe, fileReadState, fileRead, fileStat, fileWaitChannel, fileWrite,
  resetFileTable, setWakeup, type File,
} from './file.js';
import { consoleInput, consoleInputEnd, resetConsole, setConsoleOutput } from './console.js';
import type { FileSystem } from '../fs/fileSystem.js';
import type { CrashingDisk } from '../fs/blockDevice.js';
import { fsChdir, fsLink, fsMkdir, fsMknod, fsOpen, fsUnlink, O_RDONLY, O_RDWR } from '../fs/fsOps.js';
import { bmap, idup, iput, readi, type Inode } from '../fs/inode.js';
import { DiskWait } from '../fs/bufferCache.js';
import { LogBusy } from '../fs/log.js';
import { attachTimedDisk } from '../fs/diskBlocks.js';
import { fsWrite } from '../fs/fsOps.js';
import { wakeup as fileLayerWakeup, type WaitChannel } from '../fs/channel.js';
import type { DiskDriver } from '../drivers/diskDriver.js';
import { BLOCK_SIZE, CONSOLE_MAJOR, T_FILE } from '../fs/layout.js';
import { rootInode } from '../fs/path.js';
import type { FileLayer, InodeRef, OpenFile } from './fileLayer.js';

const asFile = (f: OpenFile): File => f as File;
const asInode = (i: InodeRef): Inode => i as Inode;

/** At most this many blocks of one read are asked of the disk at once. */
const PREFETCH_BLOCKS = 32;

/** The channel a disk wait names, or null if `e` is something else. */
function diskWaitChannel(e: unknown): object | null {
  return e instanceof DiskWait || e instanceof LogBusy ? e.channel : null;
}

/**
 * Start the disk reads for every block of [off, off + n) of `ip` that is not
 * cached, and wait for them together (a read of many blocks sleeps once, not
 * once per block). Outside waitForDisk, or when all are cached, it does nothing.
 */
function prefetchRange(ip: Inode, off: number, n: number): void {
  const end = Math.min(off + n, ip.size);
  const blocks: number[] = [];
  for (let bn = Math.floor(off / BLOCK_SIZE); bn * BLOCK_SIZE < end && blocks.length < PREFETCH_BLOCKS; bn++) {
    const b = bmap(ip, bn, false);
    if (b !== 0) blocks.push(b);
  }
  const channel = ip.fs.cache.prefetch(blocks);
  if (channel) throw new DiskWait(channel, blocks[0]);
}

/**
 * The file layer over a mounted file system. The open-file table and the console
 * are module state in the file layer, so they are reset here: one kernel at a time.
 */
export function fileLayerFor(fs: FileSystem, disk?: CrashingDisk): FileLayer {
  resetFileTable();
  resetConsole();
  // Why a read or write of a file answered 'block' on the timed disk: the channel to sleep on.
  const diskBlocked = new WeakMap<File, object>();
  const waitingForDisk = <T>(f: File, body: () => T): T | 'block' => {
    try {
      return fs.cache.waitForDisk(body);
    } catch (e) {
      const channel = diskWaitChannel(e);
      if (!channel) throw e;
      diskBlocked.set(f, channel);
      return 'block';
    }
  };
  return {
    rootDirectory: () => rootInode(fs),
    dupInode: (ip) => idup(asInode(ip)),
    releaseInode: (ip) => iput(asInode(ip)),

    open: (path, flags, cwd) => fileOpen(path, flags, asInode(cwd)),
    read: (f, n) => {
      const file = asFile(f);
      if (file.type !== 'inode' || !file.readable || n < 0) return fileRead(file, n);
      return waitingForDisk(file, () => {
        prefetchRange(file.inode!, file.offset, n);
        return fileRead(file, n);
      });
    },
    readState: (f) => fileReadState(asFile(f)),
    write: (f, bytes) => {
      const file = asFile(f);
      if (file.type !== 'inode') return fileWrite(file, bytes);
      return waitingForDisk(file, () => fileWrite(file, bytes));
    },
    stat: (f) => fileStat(asFile(f)),
    dup: (f) => fileDup(asFile(f)),
    close: (f) => fileClose(asFile(f)),
    pipe: () => {
      const ends = filePipe();
      return ends === -1 ? -1 : [ends.readEnd, ends.writeEnd];
    },
    waitChannel: (f, op) => {
      const channel = diskBlocked.get(asFile(f));
      diskBlocked.delete(asFile(f));
      return channel ?? fileWaitChannel(asFile(f), op);
    },
    canBlock: (f) => fileCanBlock(asFile(f)),
    fcntlState: (f) => fileFcntlState(asFile(f)),

    mkdir: (path, cwd) => fsMkdir(fs, path, asInode(cwd)),
    mknod: (path, major, minor, cwd) => fsMknod(fs, path, major, minor, asInode(cwd)),
    link: (oldPath, newPath, cwd) => fsLink(fs, oldPath, newPath, asInode(cwd)),
    unlink: (path, cwd) => fsUnlink(fs, path, asInode(cwd)),
    chdir: (path, cwd) => fsChdir(fs, path, asInode(cwd)),
    readFile: (path, cwd) => {
      const ip = fsOpen(fs, path, O_RDONLY, asInode(cwd));
      if (ip === -1) return -1;
      try {
        if (ip.type !== T_FILE) return -1;
        for (let off = 0; off < ip.size; off += PREFETCH_BLOCKS * BLOCK_SIZE) prefetchRange(ip, off, ip.size - off);
        return readi(ip, 0, ip.size);
      } finally {
        iput(ip);
      }
    },

    openConsole: () => {
      // The /console device file when there is one (so fstat says T_DEV), else a bare device file.
      const opened = fileOpen('/console', O_RDWR, rootInode(fs));
      if (opened !== -1 && opened.type === 'device') return opened;
      if (opened !== -1) fileClose(opened);
      const f = fileAlloc();
      if (!f) throw new Error('file table full');
      Object.assign(f, { type: 'device', major: CONSOLE_MAJOR, readable: true, writable: true });
      return f;
    },
    setWakeup: (fn) => setWakeup(fn),
    consoleInput: (bytes) => consoleInput(bytes),
    consoleInputEnd: () => consoleInputEnd(),
    setConsoleOutput: (fn) => setConsoleOutput(fn),
    crashAfter: (n) => {
      if (!disk || n < 0) return -1;
      disk.crashAfter(n);
      return 0;
    },
    diskReads: () => disk?.reads ?? 0,

    attachDisk: (driver: DiskDriver) => {
      attachTimedDisk(fs, driver, (channel) => fileLayerWakeup(channel as WaitChannel));
    },
    waitForDisk: (body) => fs.cache.waitForDisk(body),
    diskWaitChannel,
    transactions: () => ({ begun: fs.log.begun, durable: fs.log.durable }),
    logChannel: () => fs.log.idleChannel,
    readAt: (f, offset, n) => {
      const file = asFile(f);
      if (file.type !== 'inode' || !file.readable || offset < 0 || n < 0) return -1;
      prefetchRange(file.inode!, offset, n);
      return readi(file.inode!, offset, n);
    },
    writeAt: (f, offset, bytes) => {
      const file = asFile(f);
      if (file.type !== 'inode' || !file.writable || offset < 0) return -1;
      return bytes.length === 0 ? 0 : fsWrite(file.inode!, offset, bytes);
    },
    isRegularFile: (f) => {
      const file = asFile(f);
      return file.type === 'inode' && file.inode!.type === T_FILE;
    },
  };
}
