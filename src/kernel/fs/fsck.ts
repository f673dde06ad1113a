// fsck: checks the invariants of a file-system image, reading the device
// directly (no cache, no log replay). Run it on an image whose log is empty,
// e.g. after a mount has recovered it. Returns the list of problems found.
//
//   - the superblock is sane and the log is empty
//   - every directory entry names an allocated inode; "." and ".." are right
//   - every allocated inode is reachable from the root, and its link count
//     equals the number of directory entries naming it ("." excluded; a
//     directory's ".." counts for its parent, the root's ".." for the root)
//   - every block pointer lies in the data area, no block is used twice, no
//     block lies beyond the end of the file
//   - the bitmap marks exactly the metadata blocks and the blocks in use

import type { BlockDevice } from './blockDevice.js';
import {
  BITS_PER_BLOCK, BLOCK_SIZE, DIRENT_SIZE, FS_MAGIC, NDIRECT, NINDIRECT, ROOT_INUM, T_DEV, T_DIR, T_FILE,
  bitmapBlock, dataStart, decodeDinode, decodeDirent, decodeSuperblock, inodeBlock, type Dinode,
} from './layout.js';

export function fsck(dev: BlockDevice): string[] {
  const problems: string[] = [];
  const read = (b: number): Uint8Array => {
    const data = new Uint8Array(BLOCK_SIZE);
    dev.readBlock(b, data);
    return data;
  };
  const sb = decodeSuperblock(read(1));
  if (sb.magic !== FS_MAGIC) return ['bad superblock magic'];
  if (sb.size > dev.blockCount) return [`superblock size ${sb.size} > disk ${dev.blockCount}`];
  if (new DataView(read(sb.logStart).buffer).getUint32(0, true) !== 0) problems.push('log header is not empty (needs recovery)');
  const first = dataStart(sb);

  const inodes = new Map<number, Dinode>();
  for (let inum = 1; inum < sb.ninodes; inum++) {
    const d = decodeDinode(read(inodeBlock(sb, inum)), inum);
    if (d.type === 0) continue;
    if (d.type !== T_DIR && d.type !== T_FILE && d.type !== T_DEV) problems.push(`inode ${inum}: bad type ${d.type}`);
    inodes.set(inum, d);
  }

  // Blocks: collect each inode's blocks, checking ranges and double use.
  const owner = new Map<number, number>();
  const claim = (inum: number, b: number, what: string): boolean => {
    if (b < first || b >= sb.size) {
      problems.push(`inode ${inum}: ${what} block ${b} outside the data area`);
      return false;
    }
    const prev = owner.get(b);
    if (prev !== undefined) {
      problems.push(`block ${b} used twice (inodes ${prev} and ${inum})`);
      return false;
    }
    owner.set(b, inum);
    return true;
  };
  const entries = (b: number): number[] => {
    const view = new DataView(read(b).buffer);
    return Array.from({ length: NINDIRECT }, (_, i) => view.getUint32(4 * i, true));
  };
  const fileBlocks = new Map<number, Map<number, number>>();  // inum -> file block index -> disk block
  for (const [inum, d] of inodes) {
    const map = new Map<number, number>();
    fileBlocks.set(inum, map);
    const data = (bn: number, b: number): void => {
      if (b !== 0 && claim(inum, b, 'data')) map.set(bn, b);
    };
    for (let i = 0; i < NDIRECT; i++) data(i, d.addrs[i]);
    const ind = d.addrs[NDIRECT];
    if (ind !== 0 && claim(inum, ind, 'indirect')) entries(ind).forEach((b, i) => data(NDIRECT + i, b));
    const dind = d.addrs[NDIRECT + 1];
    if (dind !== 0 && claim(inum, dind, 'doubly-indirect')) {
      entries(dind).forEach((ib, i) => {
        if (ib !== 0 && claim(inum, ib, 'indirect')) entries(ib).forEach((b, j) => data(NDIRECT + NINDIRECT + i * NINDIRECT + j, b));
      });
    }
    const nblocks = Math.ceil(d.size / BLOCK_SIZE);
    for (const bn of map.keys()) if (bn >= nblocks) problems.push(`inode ${inum}: block ${bn} beyond its size ${d.size}`);
  }

  // Directories: walk from the root.
  const links = new Map<number, number>();
  const reached = new Set<number>();
  const readFile = (inum: number): Uint8Array => {
    const d = inodes.get(inum)!;
    const out = new Uint8Array(d.size);
    for (const [bn, b] of fileBlocks.get(inum)!) {
      const start = bn * BLOCK_SIZE;
      if (start < d.size) out.set(read(b).subarray(0, Math.min(BLOCK_SIZE, d.size - start)), start);
    }
    return out;
  };
  const walk = (inum: number, parent: number): void => {
    reached.add(inum);
    const d = inodes.get(inum)!;
    if (d.size % DIRENT_SIZE !== 0) problems.push(`directory ${inum}: size ${d.size} not a multiple of ${DIRENT_SIZE}`);
    const data = readFile(inum);
    let dot = false;
    let dotdot = false;
    for (let off = 0; off + DIRENT_SIZE <= data.length; off += DIRENT_SIZE) {
      const e = decodeDirent(data, off);
      if (e.inum === 0) continue;
      if (e.name === '.') {
        dot = true;
        if (e.inum !== inum) problems.push(`directory ${inum}: "." names inode ${e.inum}`);
        continue;
      }
      links.set(e.inum, (links.get(e.inum) ?? 0) + 1);
      if (e.name === '..') {
        dotdot = true;
        if (e.inum !== parent) problems.push(`directory ${inum}: ".." names inode ${e.inum}, expected ${parent}`);
        continue;
      }
      const child = inodes.get(e.inum);
      if (!child) {
        problems.push(`directory ${inum}: entry '${e.name}' names free inode ${e.inum}`);
        continue;
      }
      if (child.type === T_DIR) {
        if (reached.has(e.inum)) problems.push(`directory ${e.inum} has two parents`);
        else walk(e.inum, inum);
      } else {
        reached.add(e.inum);
      }
    }
    if (!dot || !dotdot) problems.push(`directory ${inum}: missing "." or ".."`);
  };
  const root = inodes.get(ROOT_INUM);
  if (!root || root.type !== T_DIR) problems.push('root inode is not a directory');
  else walk(ROOT_INUM, ROOT_INUM);

  for (const [inum, d] of inodes) {
    if (!reached.has(inum)) problems.push(`inode ${inum}: allocated (nlink ${d.nlink}) but not in any directory`);
    else if ((links.get(inum) ?? 0) !== d.nlink) problems.push(`inode ${inum}: nlink ${d.nlink} but ${links.get(inum) ?? 0} links`);
  }

  // Bitmap.
  const bitmaps = new Map<number, Uint8Array>();
  for (let b = 0; b < sb.size; b++) {
    const bb = bitmapBlock(sb, b);
    if (!bitmaps.has(bb)) bitmaps.set(bb, read(bb));
    const bmap = bitmaps.get(bb)!;
    const bit = b % BITS_PER_BLOCK;
    const marked = (bmap[bit >> 3] & (1 << (bit % 8))) !== 0;
    const used = b < first || owner.has(b);
    if (marked !== used) problems.push(`block ${b}: bitmap says ${marked ? 'used' : 'free'} but it is ${used ? 'used' : 'free'}`);
  }
  return problems;
}
