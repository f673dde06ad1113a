// mkfs: lays out an empty file system on a block device, and fills it with
// files (the user programs, a README); hostFiles.ts adds a host directory tree.

import type { BlockDevice } from './blockDevice.js';
import { mountFileSystem, type FileSystem } from './fileSystem.js';
import {
  BITS_PER_BLOCK, BLOCK_SIZE, CONSOLE_MAJOR, FS_MAGIC, INODES_PER_BLOCK, LOG_SIZE, NADDRS, ROOT_INUM, T_DIR,
  encodeDinode, encodeDirent, encodeSuperblock, type Superblock,
} from './layout.js';
import { inTransaction, iput, itrunc } from './inode.js';
import { fsMkdir, fsMknod, fsOpen, fsWrite, O_CREATE, O_RDWR } from './fsOps.js';
import { namei } from './path.js';

export const DEFAULT_NINODES = 400;

/** Writes an empty file system (superblock, empty log, free inodes, bitmap, root directory) to `dev`. */
export function formatDisk(dev: BlockDevice, ninodes = DEFAULT_NINODES): Superblock {
  const size = dev.blockCount;
  const nlog = LOG_SIZE + 1;
  const ninodeBlocks = Math.ceil(ninodes / INODES_PER_BLOCK);
  const nbitmap = Math.ceil(size / BITS_PER_BLOCK);
  const logStart = 2;
  const inodeStart = logStart + nlog;
  const bmapStart = inodeStart + ninodeBlocks;
  const firstData = bmapStart + nbitmap;
  if (firstData + 1 > size) throw new Error(`mkfs: a disk of ${size} blocks is too small (metadata needs ${firstData + 1})`);
  const sb: Superblock = { magic: FS_MAGIC, size, nblocks: size - firstData, ninodes, nlog, logStart, inodeStart, bmapStart };

  const zero = new Uint8Array(BLOCK_SIZE);
  for (let b = 0; b < firstData + 1; b++) dev.writeBlock(b, zero);
  const block = new Uint8Array(BLOCK_SIZE);
  encodeSuperblock(sb, block);
  dev.writeBlock(1, block);

  // The root directory: one data block holding "." and "..", both itself.
  const rootData = firstData;
  block.fill(0);
  block.set(encodeDirent({ inum: ROOT_INUM, name: '.' }), 0);
  block.set(encodeDirent({ inum: ROOT_INUM, name: '..' }), 16);
  dev.writeBlock(rootData, block);
  block.fill(0);
  const addrs = new Array(NADDRS).fill(0);
  addrs[0] = rootData;
  encodeDinode({ type: T_DIR, major: 0, minor: 0, nlink: 1, size: 32, addrs }, block, ROOT_INUM);
  dev.writeBlock(inodeStart + Math.floor(ROOT_INUM / INODES_PER_BLOCK), block);

  // Bitmap: metadata blocks and the root's block are in use.
  for (let base = 0; base < size; base += BITS_PER_BLOCK) {
    block.fill(0);
    for (let b = base; b < Math.min(base + BITS_PER_BLOCK, rootData + 1); b++) block[(b - base) >> 3] |= 1 << ((b - base) % 8);
    dev.writeBlock(bmapStart + base / BITS_PER_BLOCK, block);
  }
  dev.flush();
  return sb;
}

/** Creates (or replaces) file `path` with `data`. */
export function addFile(fs: FileSystem, path: string, data: Uint8Array): void {
  const ip = fsOpen(fs, path, O_CREATE | O_RDWR);
  if (ip === -1) throw new Error(`mkfs: cannot create '${path}'`);
  try {
    inTransaction(fs, () => itrunc(ip));
    if (data.length > 0 && fsWrite(ip, 0, data) !== data.length) throw new Error(`mkfs: disk full while writing '${path}'`);
  } finally {
    iput(ip);
  }
}

/** Creates directory `path` unless it exists. */
export function addDirectory(fs: FileSystem, path: string): void {
  const ip = namei(fs, path);
  if (ip) {
    const isDir = ip.type === T_DIR;
    iput(ip);
    if (!isDir) throw new Error(`mkfs: '${path}' exists and is not a directory`);
    return;
  }
  if (fsMkdir(fs, path) !== 0) throw new Error(`mkfs: cannot create directory '${path}'`);
}

export const README_TEXT = `This is the xk file system.

The programs at the root (sh, ls, cat, echo, grep, wc, mkdir, rm, ln, kill)
are the user programs; /console is the console device (major 1).
Try: ls, cat README, echo hello | wc, grep the README
`;

export const SMALL_TEXT = 'aaaaaaaaaa\nbbbbbbbbbb\ncccccccccc\n';

export interface MkfsOptions {
  /** User programs to put at the root: name -> ELF bytes. */
  programs?: Map<string, Uint8Array>;
  ninodes?: number;
}

/** Formats `dev` and fills it with the default content (README, small.txt, /console, programs). */
export function mkfs(dev: BlockDevice, options: MkfsOptions = {}): FileSystem {
  formatDisk(dev, options.ninodes);
  const fs = mountFileSystem(dev);
  populate(fs, options);
  return fs;
}

/** Adds the default content to a mounted file system. */
export function populate(fs: FileSystem, options: MkfsOptions): void {
  addFile(fs, '/README', new TextEncoder().encode(README_TEXT));
  addFile(fs, '/small.txt', new TextEncoder().encode(SMALL_TEXT));
  const console = namei(fs, '/console');
  if (console) iput(console);
  else if (fsMknod(fs, '/console', CONSOLE_MAJOR, 0) !== 0) throw new Error('mkfs: cannot create /console');
  for (const [name, bytes] of options.programs ?? []) addFile(fs, `/${name}`, bytes);
}
