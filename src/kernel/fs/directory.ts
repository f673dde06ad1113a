// Directories: a directory is a file of 16-byte entries { ushort inum; char name[14]; }.
// An entry with inum 0 is free. Every directory has "." (itself) and ".." (its parent;
// the root's ".." is the root).

import { DIRENT_SIZE, DIRSIZ, T_DIR, decodeDirent, encodeDirent, type Dirent } from './layout.js';
import { iget, readi, writei, type Inode } from './inode.js';

/** Names compare on their first DIRSIZ bytes, as stored. */
export function sameName(a: string, b: string): boolean {
  return a.slice(0, DIRSIZ) === b.slice(0, DIRSIZ);
}

/** All entries of directory `dp`, with their byte offsets (free entries included). */
export function readDirents(dp: Inode): Array<Dirent & { off: number }> {
  if (dp.type !== T_DIR) throw new Error(`file system: inode ${dp.inum} is not a directory`);
  const data = readi(dp, 0, dp.size);
  const out: Array<Dirent & { off: number }> = [];
  for (let off = 0; off + DIRENT_SIZE <= data.length; off += DIRENT_SIZE) out.push({ ...decodeDirent(data, off), off });
  return out;
}

/** Looks `name` up in `dp`; returns the referenced inode and the entry's offset. */
export function dirLookup(dp: Inode, name: string): { ip: Inode; off: number } | undefined {
  for (const e of readDirents(dp)) {
    if (e.inum !== 0 && sameName(e.name, name)) return { ip: iget(dp.fs, e.inum), off: e.off };
  }
  return undefined;
}

/** Adds entry `name` -> `inum` to `dp`. False if the name exists or the disk is full. Needs a transaction. */
export function dirLink(dp: Inode, name: string, inum: number): boolean {
  const entries = readDirents(dp);
  if (entries.some((e) => e.inum !== 0 && sameName(e.name, name))) return false;
  const free = entries.find((e) => e.inum === 0);
  const off = free ? free.off : dp.size;
  return writei(dp, off, encodeDirent({ inum, name })) === DIRENT_SIZE;
}

/** Clears the entry at byte offset `off`. Needs a transaction. */
export function dirClear(dp: Inode, off: number): void {
  if (writei(dp, off, new Uint8Array(DIRENT_SIZE)) !== DIRENT_SIZE) throw new Error('file system: cannot clear directory entry');
}

/** True if `dp` holds nothing but "." and "..". */
export function isDirEmpty(dp: Inode): boolean {
  return readDirents(dp).every((e) => e.inum === 0 || e.name === '.' || e.name === '..');
}
