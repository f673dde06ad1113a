// The path-level file-system operations behind the system calls open, mkdir,
// mknod, link, unlink and chdir. Each is one atomic transaction on disk.
// Results follow XK: 0 or a referenced inode on success, -1 on any failure.

import { LogBusy } from './log.js';
import type { FileSystem } from './fileSystem.js';
import { BLOCK_SIZE, MAX_OP_BLOCKS, T_DEV, T_DIR, T_FILE } from './layout.js';
import { ialloc, inTransaction, iput, iupdate, writei, type Inode } from './inode.js';
import { dirClear, dirLink, dirLookup, isDirEmpty, sameName } from './directory.js';
import { namei, nameiParent } from './path.js';

/** Open flags (fcntl.h). */
export const O_RDONLY = 0x000;
export const O_WRONLY = 0x001;
export const O_RDWR = 0x002;
export const O_CREATE = 0x200;

/**
 * Creates `path` as a new inode of `type` (xv6's create). If the name exists and
 * both it and the request are files (or a device for a file request) the existing
 * inode is returned. Must run inside a transaction. Returns a referenced inode.
 */
function create(fs: FileSystem, path: string, type: number, major: number, minor: number, cwd?: Inode): Inode | undefined {
  const parent = nameiParent(fs, path, cwd);
  if (!parent) return undefined;
  const { dir, name } = parent;
  const existing = dirLookup(dir, name);
  if (existing) {
    iput(dir);
    const ip = existing.ip;
    if (type === T_FILE && (ip.type === T_FILE || ip.type === T_DEV)) return ip;
    iput(ip);
    return undefined;
  }
  if (name === '.' || name === '..') {
    iput(dir);
    return undefined;
  }
  const ip = ialloc(fs, type);
  if (!ip) {
    iput(dir);
    return undefined;
  }
  ip.major = major;
  ip.minor = minor;
  ip.nlink = 1;
  iupdate(ip);
  let ok = true;
  if (type === T_DIR) {
    // "." is not counted in nlink (it would keep the directory alive forever);
    // ".." counts as a link of the parent.
    ok = dirLink(ip, '.', ip.inum) && dirLink(ip, '..', dir.inum);
    if (ok) {
      dir.nlink++;
      iupdate(dir);
    }
  }
  ok = ok && dirLink(dir, name, ip.inum);
  if (!ok) {
    if (type === T_DIR) {
      dir.nlink--;
      iupdate(dir);
    }
    ip.nlink = 0;       // iput frees it
    iupdate(ip);
    iput(ip);
    iput(dir);
    return undefined;
  }
  iput(dir);
  return ip;
}

/**
 * The inode an open(path, flags) names, referenced, or -1: O_CREATE makes a file
 * (or opens the existing file or device); a directory may only be opened O_RDONLY.
 */
export function fsOpen(fs: FileSystem, path: string, flags: number, cwd?: Inode): Inode | -1 {
  return inTransaction(fs, () => {
    let ip: Inode | undefined;
    if (flags & O_CREATE) {
      ip = create(fs, path, T_FILE, 0, 0, cwd);
    } else {
      ip = namei(fs, path, cwd);
    }
    if (!ip) return -1;
    if (ip.type === T_DIR && (flags & (O_WRONLY | O_RDWR)) !== 0) {
      iput(ip);
      return -1;
    }
    return ip;
  });
}

export function fsMkdir(fs: FileSystem, path: string, cwd?: Inode): number {
  return inTransaction(fs, () => {
    const ip = create(fs, path, T_DIR, 0, 0, cwd);
    if (!ip) return -1;
    iput(ip);
    return 0;
  });
}

export function fsMknod(fs: FileSystem, path: string, major: number, minor: number, cwd?: Inode): number {
  return inTransaction(fs, () => {
    const ip = create(fs, path, T_DEV, major, minor, cwd);
    if (!ip) return -1;
    iput(ip);
    return 0;
  });
}

/** link(old, new): a second name for a file (not a directory). */
export function fsLink(fs: FileSystem, oldPath: string, newPath: string, cwd?: Inode): number {
  return inTransaction(fs, () => {
    const ip = namei(fs, oldPath, cwd);
    if (!ip) return -1;
    if (ip.type === T_DIR) {
      iput(ip);
      return -1;
    }
    ip.nlink++;
    iupdate(ip);
    const parent = nameiParent(fs, newPath, cwd);
    if (parent && dirLink(parent.dir, parent.name, ip.inum)) {
      iput(parent.dir);
      iput(ip);
      return 0;
    }
    if (parent) iput(parent.dir);
    ip.nlink--;
    iupdate(ip);
    iput(ip);
    return -1;
  });
}

/** unlink(path): removes a name; a directory only when empty; never "." or "..". */
export function fsUnlink(fs: FileSystem, path: string, cwd?: Inode): number {
  return inTransaction(fs, () => {
    const parent = nameiParent(fs, path, cwd);
    if (!parent) return -1;
    const { dir, name } = parent;
    const found = sameName(name, '.') || sameName(name, '..') ? undefined : dirLookup(dir, name);
    if (!found) {
      iput(dir);
      return -1;
    }
    const ip = found.ip;
    if (ip.nlink < 1) throw new Error(`file system: unlink of inode ${ip.inum} with no links`);
    if (ip.type === T_DIR && !isDirEmpty(ip)) {
      iput(ip);
      iput(dir);
      return -1;
    }
    dirClear(dir, found.off);
    if (ip.type === T_DIR) {
      dir.nlink--;          // the removed directory's ".."
      iupdate(dir);
    }
    iput(dir);
    ip.nlink--;
    iupdate(ip);
    iput(ip);
    return 0;
  });
}

/** chdir(path): the new current directory (referenced; the caller iputs the old one) or -1. */
export function fsChdir(fs: FileSystem, path: string, cwd?: Inode): Inode | -1 {
  return inTransaction(fs, () => {
    const ip = namei(fs, path, cwd);
    if (!ip) return -1;
    if (ip.type !== T_DIR) {
      iput(ip);
      return -1;
    }
    return ip;
  });
}

/** Bytes one write transaction may carry: leaves room in MAX_OP_BLOCKS for the
 *  inode, bitmap and indirect blocks a write also changes (as xv6 does). */
export const MAX_WRITE_PER_OP = Math.floor((MAX_OP_BLOCKS - 4) / 2) * BLOCK_SIZE;

/**
 * Writes `data` at `off` in a series of transactions of at most MAX_WRITE_PER_OP
 * bytes each (one transaction cannot hold a big write). Returns bytes written,
 * or -1 if none could be.
 */
export function fsWrite(ip: Inode, off: number, data: Uint8Array): number {
  let done = 0;
  while (done < data.length) {
    const chunk = data.subarray(done, done + MAX_WRITE_PER_OP);
    let n: number;
    try {
      n = inTransaction(ip.fs, () => writei(ip, off + done, chunk));
    } catch (e) {
      // On the timed disk the next transaction waits for the last one's commit:
      // report what is written so far, and the caller comes back for the rest.
      if (e instanceof LogBusy && done > 0) return done;
      throw e;
    }
    if (n < 0) break;
    done += n;
    if (n < chunk.length) break;
  }
  return done === 0 && data.length > 0 ? -1 : done;
}
