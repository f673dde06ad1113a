// The on-disk layout of the xk file system (XK/xv6 style, with a doubly-indirect block).
//
//   block 0        boot block (unused)
//   block 1        superblock
//   log            header block + LOG_SIZE blocks (the write-ahead log, see log.ts)
//   inodes         INODES_PER_BLOCK 64-byte dinodes per block
//   bitmap         one bit per block of the disk, 1 = in use
//   data           file and directory contents, indirect blocks
//
// All integers are little-endian, as on x86.

export const BLOCK_SIZE = 1024;
export const FS_MAGIC = 0x10203040;
export const ROOT_INUM = 1;

/** Inode types (struct stat's type). 0 marks a free dinode. */
export const T_DIR = 1;
export const T_FILE = 2;
export const T_DEV = 3;

/** Device major numbers. */
export const CONSOLE_MAJOR = 1;

/** The log: header block plus at most LOG_SIZE logged blocks per transaction. */
export const LOG_SIZE = 60;
/** Most distinct blocks one file-system operation may write. */
export const MAX_OP_BLOCKS = 20;

/** Block pointers in a dinode: NDIRECT direct, one indirect, one doubly-indirect. */
export const NDIRECT = 11;
export const NINDIRECT = BLOCK_SIZE / 4;
export const NDINDIRECT = NINDIRECT * NINDIRECT;
export const MAX_FILE_BLOCKS = NDIRECT + NINDIRECT + NDINDIRECT;
export const NADDRS = NDIRECT + 2;

/** struct dinode { short type, major, minor, nlink; uint size; uint addrs[13]; } padded to 64 bytes. */
export const DINODE_SIZE = 64;
export const INODES_PER_BLOCK = BLOCK_SIZE / DINODE_SIZE;
export const BITS_PER_BLOCK = BLOCK_SIZE * 8;

/** struct dirent { ushort inum; char name[DIRSIZ]; } */
export const DIRSIZ = 14;
export const DIRENT_SIZE = 16;

export interface Superblock {
  magic: number;
  size: number;        // blocks in the image
  nblocks: number;     // data blocks
  ninodes: number;
  nlog: number;        // log blocks, header included
  logStart: number;
  inodeStart: number;
  bmapStart: number;
}

export const SUPERBLOCK_FIELDS = ['magic', 'size', 'nblocks', 'ninodes', 'nlog', 'logStart', 'inodeStart', 'bmapStart'] as const;

export function encodeSuperblock(sb: Superblock, into: Uint8Array): void {
  const view = new DataView(into.buffer, into.byteOffset, into.byteLength);
  SUPERBLOCK_FIELDS.forEach((field, i) => view.setUint32(i * 4, sb[field], true));
}

export function decodeSuperblock(block: Uint8Array): Superblock {
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const sb = {} as Superblock;
  SUPERBLOCK_FIELDS.forEach((field, i) => { sb[field] = view.getUint32(i * 4, true); });
  return sb;
}

/** Block holding inode `inum`. */
export function inodeBlock(sb: Superblock, inum: number): number {
  return sb.inodeStart + Math.floor(inum / INODES_PER_BLOCK);
}

/** Bitmap block holding the bit of block `b`. */
export function bitmapBlock(sb: Superblock, b: number): number {
  return sb.bmapStart + Math.floor(b / BITS_PER_BLOCK);
}

/** First data block (everything before it is metadata). */
export function dataStart(sb: Superblock): number {
  return sb.bmapStart + Math.ceil(sb.size / BITS_PER_BLOCK);
}

/** The fields of a dinode as stored on disk. */
export interface Dinode {
  type: number;
  major: number;
  minor: number;
  nlink: number;
  size: number;
  addrs: number[];   // NADDRS entries
}

export function decodeDinode(block: Uint8Array, inum: number): Dinode {
  const off = (inum % INODES_PER_BLOCK) * DINODE_SIZE;
  const view = new DataView(block.buffer, block.byteOffset + off, DINODE_SIZE);
  const addrs: number[] = [];
  for (let i = 0; i < NADDRS; i++) addrs.push(view.getUint32(12 + 4 * i, true));
  return {
    type: view.getInt16(0, true), major: view.getInt16(2, true), minor: view.getInt16(4, true),
    nlink: view.getInt16(6, true), size: view.getUint32(8, true), addrs,
  };
}

export function encodeDinode(d: Dinode, block: Uint8Array, inum: number): void {
  const off = (inum % INODES_PER_BLOCK) * DINODE_SIZE;
  const view = new DataView(block.buffer, block.byteOffset + off, DINODE_SIZE);
  block.fill(0, off, off + DINODE_SIZE);
  view.setInt16(0, d.type, true);
  view.setInt16(2, d.major, true);
  view.setInt16(4, d.minor, true);
  view.setInt16(6, d.nlink, true);
  view.setUint32(8, d.size, true);
  for (let i = 0; i < NADDRS; i++) view.setUint32(12 + 4 * i, d.addrs[i] ?? 0, true);
}

export interface Dirent {
  inum: number;
  name: string;
}

export function decodeDirent(bytes: Uint8Array, off: number): Dirent {
  const inum = bytes[off] | (bytes[off + 1] << 8);
  let end = off + 2;
  while (end < off + 2 + DIRSIZ && bytes[end] !== 0) end++;
  return { inum, name: String.fromCharCode(...bytes.subarray(off + 2, end)) };
}

export function encodeDirent(d: Dirent): Uint8Array {
  const bytes = new Uint8Array(DIRENT_SIZE);
  bytes[0] = d.inum & 0xff;
  bytes[1] = d.inum >> 8;
  for (let i = 0; i < Math.min(d.name.length, DIRSIZ); i++) bytes[2 + i] = d.name.charCodeAt(i) & 0xff;
  return bytes;
}
