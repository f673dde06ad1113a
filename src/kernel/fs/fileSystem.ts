// A mounted file system: the device, its superblock, the buffer cache, the log
// and the table of in-memory inodes. Every Inode points back at its FileSystem,
// so most functions need only the inode.

import type { BlockDevice } from './blockDevice.js';
import { BufferCache } from './bufferCache.js';
import { Log } from './log.js';
import { BLOCK_SIZE, FS_MAGIC, ROOT_INUM, T_DIR, decodeDinode, decodeSuperblock, inodeBlock, type Superblock } from './layout.js';
import { iget, iput, type Inode } from './inode.js';

export interface FileSystem {
  readonly dev: BlockDevice;
  readonly sb: Superblock;
  readonly cache: BufferCache;
  readonly log: Log;
  /** The in-memory inode table; an entry with ref 0 is free. */
  readonly inodes: Inode[];
  /** What mounting repaired: blocks replayed from the log, orphaned inodes freed. */
  readonly recovered: { logBlocks: number; orphans: number };
}

/**
 * Mounts the file system on `dev`: checks the superblock, replays a transaction
 * a crash left committed in the log, and frees inodes that a crash left allocated
 * with no links (files that were unlinked while still open).
 */
export function mountFileSystem(dev: BlockDevice): FileSystem {
  if (dev.blockSize !== BLOCK_SIZE) throw new Error(`file system: device block size ${dev.blockSize}, expected ${BLOCK_SIZE}`);
  const block = new Uint8Array(BLOCK_SIZE);
  dev.readBlock(1, block);
  const sb = decodeSuperblock(block);
  if (sb.magic !== FS_MAGIC) throw new Error('file system: bad superblock magic (not an xk file system image)');
  if (sb.size > dev.blockCount) throw new Error(`file system: superblock says ${sb.size} blocks but the disk has ${dev.blockCount}`);
  const cache = new BufferCache(dev);
  const log = new Log(dev, cache, sb);
  const logBlocks = log.recover();
  const fs: FileSystem = { dev, sb, cache, log, inodes: [], recovered: { logBlocks, orphans: 0 } };
  fs.recovered.orphans = reclaimOrphans(fs);
  const root = iget(fs, ROOT_INUM);
  const ok = root.type === T_DIR;
  iput(root);
  if (!ok) throw new Error('file system: the root inode is not a directory');
  return fs;
}

function reclaimOrphans(fs: FileSystem): number {
  let count = 0;
  for (let inum = 1; inum < fs.sb.ninodes; inum++) {
    const d = decodeDinode(fs.cache.read(inodeBlock(fs.sb, inum)), inum);
    if (d.type !== 0 && d.nlink === 0) {
      // iput of the last reference to an unlinked inode frees it (in its own transaction).
      iput(iget(fs, inum));
      count++;
    }
  }
  return count;
}
