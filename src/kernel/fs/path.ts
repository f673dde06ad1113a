// Path names: "/a/b/c" starts at the root, "a/b" at the current directory.
// Repeated slashes are ignored; each element is at most DIRSIZ bytes (longer
// ones are cut, as in xv6).

import type { FileSystem } from './fileSystem.js';
import { ROOT_INUM, T_DIR } from './layout.js';
import { idup, iget, iput, type Inode } from './inode.js';
import { dirLookup } from './directory.js';

/** The root directory, referenced. */
export function rootInode(fs: FileSystem): Inode {
  return iget(fs, ROOT_INUM);
}

function walk(fs: FileSystem, path: string, cwd: Inode | undefined, parent: boolean): { ip: Inode; name: string } | undefined {
  const elements = path.split('/').filter((e) => e.length > 0);
  let ip = path.startsWith('/') || !cwd ? rootInode(fs) : idup(cwd);
  if (parent && elements.length === 0) {
    iput(ip);
    return undefined;
  }
  for (let i = 0; i < elements.length; i++) {
    if (ip.type !== T_DIR) {
      iput(ip);
      return undefined;
    }
    if (parent && i === elements.length - 1) return { ip, name: elements[i] };
    const next = dirLookup(ip, elements[i]);
    iput(ip);
    if (!next) return undefined;
    ip = next.ip;
  }
  return { ip, name: '' };
}

/** The inode named by `path` (referenced), or undefined. */
export function namei(fs: FileSystem, path: string, cwd?: Inode): Inode | undefined {
  if (path.length === 0) return undefined;
  return walk(fs, path, cwd, false)?.ip;
}

/** The directory that would hold `path` (referenced) and the last element's name. */
export function nameiParent(fs: FileSystem, path: string, cwd?: Inode): { dir: Inode; name: string } | undefined {
  const r = walk(fs, path, cwd, true);
  return r ? { dir: r.ip, name: r.name } : undefined;
}
