// Choosing the disk for a run: a fresh in-memory image, or a host image file
// (`--image FILE`) that is opened if it exists and created otherwise.

import * as hostFs from 'node:fs';
import { CrashingDisk, ImageFileDisk, MemoryDisk } from './blockDevice.js';
import { mountFileSystem, type FileSystem } from './fileSystem.js';
import { mkfs, populate, type MkfsOptions } from './mkfs.js';

/** Default disk size in blocks (BLOCK_SIZE each): 8 MiB. */
export const DEFAULT_DISK_BLOCKS = 8192;

export interface DiskOptions extends MkfsOptions {
  /** Host image file; created and filled with the default content if it does not exist. */
  imagePath?: string;
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

/**
 * The root file system for a run. Without imagePath: an in-memory disk built by
 * mkfs. With imagePath: an existing image is mounted (recovering from a crash if
 * needed) and options.hostDir / programs are copied in; a missing one is created.
 */
export function openRootDisk(options: DiskOptions = {}): MountedDisk {
  const blocks = options.blocks ?? DEFAULT_DISK_BLOCKS;
  if (!options.imagePath) {
    const disk = new CrashingDisk(new MemoryDisk(blocks));
    return { disk, fs: mkfs(disk, options), close: () => {} };
  }
  let image: ImageFileDisk;
  let disk: CrashingDisk;
  let fs: FileSystem;
  if (hostFs.existsSync(options.imagePath)) {
    image = new ImageFileDisk(options.imagePath);
    disk = new CrashingDisk(image);
    try {
      fs = mountFileSystem(disk);
      populate(fs, options);
    } catch (e) {
      image.close();
      throw new Error(`--image ${options.imagePath}: ${(e as Error).message}`);
    }
  } else {
    image = ImageFileDisk.create(options.imagePath, blocks);
    disk = new CrashingDisk(image);
    fs = mkfs(disk, options);
  }
  return { disk, fs, close: () => image.close() };
}
