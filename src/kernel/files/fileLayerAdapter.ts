// The FileLayer interface (fileLayer.ts) built from the file layer's modules:
// file.ts (open-file table), console.ts, fs/ (inodes, paths, the log).

import {
  fileAlloc, fileCanBlock, fileClose, fileFcntlState, fileDup, fileOpen, filePipe, fileRead, fileStat, fileWaitChannel, fileWrite,
  resetFileTable, setWakeup, type File,
} from './file.js';
import { consoleInput, consoleInputEnd, resetConsole, setConsoleOutput } from './console.js';
import type { FileSystem } from '../fs/fileSystem.js';
import type { CrashingDisk } from '../fs/blockDevice.js';
import { fsChdir, fsLink, fsMkdir, fsMknod, fsOpen, fsUnlink, O_RDONLY, O_RDWR } from '../fs/fsOps.js';
import { idup, iput, readi, type Inode } from '../fs/inode.js';
import { CONSOLE_MAJOR, T_FILE } from '../fs/layout.js';
import { rootInode } from '../fs/path.js';
import type { FileLayer, InodeRef, OpenFile } from './fileLayer.js';

const asFile = (f: OpenFile): File => f as File;
const asInode = (i: InodeRef): Inode => i as Inode;

/**
 * The file layer over a mounted file system. The open-file table and the console
 * are module state in the file layer, so they are reset here: one kernel at a time.
 */
export function fileLayerFor(fs: FileSystem, disk?: CrashingDisk): FileLayer {
  resetFileTable();
  resetConsole();
  return {
    rootDirectory: () => rootInode(fs),
    dupInode: (ip) => idup(asInode(ip)),
    releaseInode: (ip) => iput(asInode(ip)),

    open: (path, flags, cwd) => fileOpen(path, flags, asInode(cwd)),
    read: (f, n) => fileRead(asFile(f), n),
    write: (f, bytes) => fileWrite(asFile(f), bytes),
    stat: (f) => fileStat(asFile(f)),
    dup: (f) => fileDup(asFile(f)),
    close: (f) => fileClose(asFile(f)),
    pipe: () => {
      const ends = filePipe();
      return ends === -1 ? -1 : [ends.readEnd, ends.writeEnd];
    },
    waitChannel: (f, op) => fileWaitChannel(asFile(f), op),
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
        return ip.type === T_FILE ? readi(ip, 0, ip.size) : -1;
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
  };
}
