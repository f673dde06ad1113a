// The disk for a run: a fresh in-memory image built by mkfs. A host image file
// (`--image FILE`) or a host directory (`--fs DIR`) needs the host: hostFiles.ts.

import { CrashingDisk, MemoryDisk } from './blockDevice.js';
import type { FileSystem } from './fileSystem.js';
import { mkfs, type MkfsOptions } from './mkfs.js';

/** Default disk size in blocks (BLOCK_SIZE each): 8 MiB. */
export const DEFAULT_DISK_BLOCKS = 8192;

export interface DiskOptions extends MkfsOptions {
  /** Host image file; created and filled with the default content if it does not exist (hostFiles.ts). */
  imagePath?: string;
  /** A host directory whose contents are copied into the root, its files winning (--fs DIR; hostFiles.ts). */
  hostDir?: string;
  /** Size in blocks of a new disk. */
  blocks?: number;
}

export interface MountedDisk {
  /** The disk the file system uses: the image wrapped to count reads and writes and to crash on request. */
  disk: CrashingDisk;
  fs: FileSystem;
  /** Closes the image file, if any (every write is already on it). */
  close(): void;
}

/** A fresh in-memory disk with the default content and options.programs. */
export function openMemoryDisk(options: DiskOptions = {}): MountedDisk {
  const disk = new CrashingDisk(new MemoryDisk(options.blocks ?? DEFAULT_DISK_BLOCKS));
  return { disk, fs: mkfs(disk, options), close: () => {} };
}
