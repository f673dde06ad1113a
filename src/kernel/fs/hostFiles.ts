// The file system's host side: a disk image in a host file (`--image FILE`),
// a host directory copied into the root (`--fs DIR`), and choosing between
// them and the in-memory disk. Only the CLI and tests come here; the web page
// uses image.ts's in-memory disk.

import * as hostFs from 'node:fs';
import * as hostPath from 'node:path';
import { checkBlock, CrashingDisk, type BlockDevice } from './blockDevice.js';
import { mountFileSystem, type FileSystem } from './fileSystem.js';
import { openMemoryDisk, DEFAULT_DISK_BLOCKS, type DiskOptions, type MountedDisk } from './image.js';
import { addDirectory, addFile, mkfs, populate } from './mkfs.js';
import { BLOCK_SIZE, DIRSIZ } from './layout.js';

/** A disk stored in a host file (`--image FILE`); every write goes straight to the file. */
export class ImageFileDisk implements BlockDevice {
  readonly blockSize = BLOCK_SIZE;
  readonly blockCount: number;
  private fd: number;

  /** Opens an existing image; its size must be a whole number of blocks. */
  constructor(readonly path: string) {
    try {
      this.fd = hostFs.openSync(path, 'r+');
    } catch (e) {
      throw new Error(`cannot open disk image '${path}': ${(e as Error).message}`);
    }
    const size = hostFs.fstatSync(this.fd).size;
    if (size === 0 || size % BLOCK_SIZE !== 0) {
      hostFs.closeSync(this.fd);
      throw new Error(`disk image '${path}' is ${size} bytes, not a whole number of ${BLOCK_SIZE}-byte blocks`);
    }
    this.blockCount = size / BLOCK_SIZE;
  }

  /** Creates (or truncates) an image file of `blockCount` zeroed blocks. */
  static create(path: string, blockCount: number): ImageFileDisk {
    try {
      hostFs.writeFileSync(path, new Uint8Array(0));
      hostFs.truncateSync(path, blockCount * BLOCK_SIZE);
    } catch (e) {
      throw new Error(`cannot create disk image '${path}': ${(e as Error).message}`);
    }
    return new ImageFileDisk(path);
  }

  readBlock(n: number, into: Uint8Array): void {
    checkBlock(this, n, into);
    hostFs.readSync(this.fd, into, 0, BLOCK_SIZE, n * BLOCK_SIZE);
  }

  writeBlock(n: number, data: Uint8Array): void {
    checkBlock(this, n, data);
    hostFs.writeSync(this.fd, data, 0, BLOCK_SIZE, n * BLOCK_SIZE);
  }

  flush(): void {
    hostFs.fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) hostFs.closeSync(this.fd);
    this.fd = -1;
  }
}

/** Copies host directory `hostDir` (files and subdirectories) into directory `dest` of the file system. */
export function importHostDirectory(fs: FileSystem, hostDir: string, dest = '/'): void {
  let names: string[];
  try {
    names = hostFs.readdirSync(hostDir).sort();
  } catch (e) {
    throw new Error(`--fs: cannot read directory '${hostDir}': ${(e as Error).message}`);
  }
  for (const name of names) {
    const hostFile = hostPath.join(hostDir, name);
    if (name.length > DIRSIZ || /[^\x20-\x7e]/.test(name)) {
      throw new Error(`--fs: '${hostFile}': names must be at most ${DIRSIZ} printable ASCII characters`);
    }
    const target = dest.endsWith('/') ? dest + name : `${dest}/${name}`;
    const st = hostFs.statSync(hostFile);
    if (st.isDirectory()) {
      addDirectory(fs, target);
      importHostDirectory(fs, hostFile, target);
    } else if (st.isFile()) {
      addFile(fs, target, new Uint8Array(hostFs.readFileSync(hostFile)));
    }
  }
}

/**
 * The root file system for a run. Without imagePath: an in-memory disk built by
 * mkfs. With imagePath: an existing image is mounted (recovering from a crash if
 * needed) and options.hostDir / programs are copied in; a missing one is created.
 */
export function openRootDisk(options: DiskOptions = {}): MountedDisk {
  const blocks = options.blocks ?? DEFAULT_DISK_BLOCKS;
  if (!options.imagePath) {
    const mounted = openMemoryDisk(options);
    if (options.hostDir) importHostDirectory(mounted.fs, options.hostDir, '/');
    return mounted;
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
      if (options.hostDir) importHostDirectory(fs, options.hostDir, '/');
    } catch (e) {
      image.close();
      throw new Error(`--image ${options.imagePath}: ${(e as Error).message}`);
    }
  } else {
    image = ImageFileDisk.create(options.imagePath, blocks);
    disk = new CrashingDisk(image);
    fs = mkfs(disk, options);
    if (options.hostDir) importHostDirectory(fs, options.hostDir, '/');
  }
  return { disk, fs, close: () => image.close() };
}
