// Inodes: files, directories and devices.
//
// The in-memory Inode holds a copy of the on-disk dinode plus a reference count
// (ref) of the pointers to it: open files, current directories, the kernel in the
// middle of an operation. iget/idup take a reference, iput drops one; when the
// last reference to an inode with no links goes away, its blocks are freed.
//
// A file's blocks: addrs[0..NDIRECT-1] are direct, addrs[NDIRECT] points to a
// block of NINDIRECT block numbers, addrs[NDIRECT+1] to a block of NINDIRECT
// indirect blocks (doubly indirect).

import type { FileSystem } from './fileSystem.js';
import { balloc, bfree } from './blocks.js';
import {
  BLOCK_SIZE, MAX_FILE_BLOCKS, NADDRS, NDIRECT, NINDIRECT,
  decodeDinode, encodeDinode, inodeBlock,
} from './layout.js';

/** Size of the in-memory inode table (open files, current directories, exec). */
export const NINODE = 200;

export interface Inode {
  readonly fs: FileSystem;
  inum: number;
  ref: number;
  type: number;
  major: number;
  minor: number;
  nlink: number;
  size: number;
  addrs: number[];
}

/** struct stat { short type; int dev; uint ino; uint size; } */
export interface Stat {
  type: number;
  dev: number;
  ino: number;
  size: number;
}

/** Runs `body` as one file-system operation (nests inside an open one). */
export function inTransaction<T>(fs: FileSystem, body: () => T): T {
  fs.log.beginOp();
  try {
    return body();
  } finally {
    fs.log.endOp();
  }
}

/** Returns a referenced in-memory inode for `inum`, loading it from disk if needed. */
export function iget(fs: FileSystem, inum: number): Inode {
  if (inum <= 0 || inum >= fs.sb.ninodes) throw new Error(`file system: inode number ${inum} out of range`);
  let free: Inode | undefined;
  for (const ip of fs.inodes) {
    if (ip.ref > 0 && ip.inum === inum) {
      ip.ref++;
      return ip;
    }
    if (ip.ref === 0 && !free) free = ip;
  }
  if (!free) {
    if (fs.inodes.length >= NINODE) throw new Error('file system: in-memory inode table full');
    free = { fs, inum: 0, ref: 0, type: 0, major: 0, minor: 0, nlink: 0, size: 0, addrs: [] };
    fs.inodes.push(free);
  }
  const d = decodeDinode(fs.cache.read(inodeBlock(fs.sb, inum)), inum);
  Object.assign(free, d, { inum, ref: 1 });
  return free;
}

/** Takes one more reference to `ip`. */
export function idup(ip: Inode): Inode {
  ip.ref++;
  return ip;
}

/** Drops a reference; frees the inode and its blocks if it was the last one and no links remain. */
export function iput(ip: Inode): void {
  if (ip.ref <= 0) throw new Error('file system: iput of an unreferenced inode');
  if (ip.ref === 1 && ip.nlink === 0 && ip.type !== 0) {
    if (ip.fs.log.busy) {
      // A commit is on its way to the disk (the timed disk) and this may be
      // close() or exit(), which cannot sleep: free the inode after the commit.
      // Until then it keeps its last reference; a crash meanwhile leaves an
      // orphan, which the next mount frees.
      ip.fs.log.defer(() => iput(ip));
      return;
    }
    inTransaction(ip.fs, () => {
      itrunc(ip);
      ip.type = 0;
      iupdate(ip);
    });
  }
  ip.ref--;
}

/** Copies the in-memory inode to its dinode on disk (through the log). */
export function iupdate(ip: Inode): void {
  const { sb, cache, log } = ip.fs;
  const b = inodeBlock(sb, ip.inum);
  encodeDinode(ip, cache.read(b), ip.inum);
  log.write(b);
}

/** Allocates a free dinode of `type`; returns it referenced, or undefined when none is free. */
export function ialloc(fs: FileSystem, type: number): Inode | undefined {
  for (let inum = 1; inum < fs.sb.ninodes; inum++) {
    const b = inodeBlock(fs.sb, inum);
    const d = decodeDinode(fs.cache.read(b), inum);
    if (d.type === 0) {
      encodeDinode({ type, major: 0, minor: 0, nlink: 0, size: 0, addrs: new Array(NADDRS).fill(0) }, fs.cache.read(b), inum);
      fs.log.write(b);
      return iget(fs, inum);
    }
  }
  return undefined;
}

/** Reads entry `i` of indirect block `b` (allocating the target when `alloc`); 0 if absent. */
function indirectEntry(fs: FileSystem, b: number, i: number, alloc: boolean): number {
  const data = fs.cache.read(b);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let addr = view.getUint32(i * 4, true);
  if (addr === 0 && alloc) {
    addr = balloc(fs);
    if (addr === 0) return 0;
    // Re-read: balloc may have evicted our copy of block b from the cache.
    const again = fs.cache.read(b);
    new DataView(again.buffer, again.byteOffset, again.byteLength).setUint32(i * 4, addr, true);
    fs.log.write(b);
  }
  return addr;
}

/** The disk block holding block `bn` of the file; allocates missing blocks when `alloc`. 0 = none. */
export function bmap(ip: Inode, bn: number, alloc: boolean): number {
  const fs = ip.fs;
  const slot = (index: number): number => {
    if (ip.addrs[index] === 0 && alloc) {
      const b = balloc(fs);
      if (b === 0) return 0;
      ip.addrs[index] = b;
      iupdate(ip);
    }
    return ip.addrs[index];
  };
  if (bn < 0 || bn >= MAX_FILE_BLOCKS) return 0;
  if (bn < NDIRECT) return slot(bn);
  bn -= NDIRECT;
  if (bn < NINDIRECT) {
    const ind = slot(NDIRECT);
    return ind === 0 ? 0 : indirectEntry(fs, ind, bn, alloc);
  }
  bn -= NINDIRECT;
  const dind = slot(NDIRECT + 1);
  if (dind === 0) return 0;
  const ind = indirectEntry(fs, dind, Math.floor(bn / NINDIRECT), alloc);
  return ind === 0 ? 0 : indirectEntry(fs, ind, bn % NINDIRECT, alloc);
}

function freeIndirect(fs: FileSystem, b: number, depth: number): void {
  const data = fs.cache.read(b);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const entries: number[] = [];
  for (let i = 0; i < NINDIRECT; i++) entries.push(view.getUint32(i * 4, true));
  for (const e of entries) {
    if (e === 0) continue;
    if (depth > 1) freeIndirect(fs, e, depth - 1);
    else bfree(fs, e);
  }
  bfree(fs, b);
}

/** Frees all of a file's blocks and sets its size to 0. Needs an open transaction. */
export function itrunc(ip: Inode): void {
  const fs = ip.fs;
  for (let i = 0; i < NDIRECT; i++) {
    if (ip.addrs[i]) bfree(fs, ip.addrs[i]);
    ip.addrs[i] = 0;
  }
  if (ip.addrs[NDIRECT]) freeIndirect(fs, ip.addrs[NDIRECT], 1);
  if (ip.addrs[NDIRECT + 1]) freeIndirect(fs, ip.addrs[NDIRECT + 1], 2);
  ip.addrs[NDIRECT] = ip.addrs[NDIRECT + 1] = 0;
  ip.size = 0;
  iupdate(ip);
}

/** Reads up to `n` bytes at `off`; fewer at end of file. */
export function readi(ip: Inode, off: number, n: number): Uint8Array {
  if (off < 0 || off >= ip.size || n <= 0) return new Uint8Array(0);
  n = Math.min(n, ip.size - off);
  const out = new Uint8Array(n);
  for (let done = 0; done < n;) {
    const pos = off + done;
    const b = bmap(ip, Math.floor(pos / BLOCK_SIZE), false);
    const start = pos % BLOCK_SIZE;
    const len = Math.min(n - done, BLOCK_SIZE - start);
    if (b !== 0) out.set(ip.fs.cache.read(b).subarray(start, start + len), done);
    done += len;
  }
  return out;
}

/**
 * Writes `data` at `off` (off <= size: no holes), growing the file. Needs an open
 * transaction big enough for the blocks touched. Returns bytes written (fewer when
 * the disk fills up or the file reaches its maximum size), or -1 if none could be.
 */
export function writei(ip: Inode, off: number, data: Uint8Array): number {
  if (off < 0 || off > ip.size) return -1;
  const fs = ip.fs;
  let done = 0;
  while (done < data.length) {
    const pos = off + done;
    const b = bmap(ip, Math.floor(pos / BLOCK_SIZE), true);
    if (b === 0) break;
    const start = pos % BLOCK_SIZE;
    const len = Math.min(data.length - done, BLOCK_SIZE - start);
    fs.cache.read(b).set(data.subarray(done, done + len), start);
    fs.log.write(b);
    done += len;
  }
  if (done > 0 && off + done > ip.size) {
    ip.size = off + done;
    iupdate(ip);
  }
  return done === 0 && data.length > 0 ? -1 : done;
}

/** The stat of an inode (dev is always 1: there is one disk). */
export function stati(ip: Inode): Stat {
  return { type: ip.type, dev: 1, ino: ip.inum, size: ip.size };
}
