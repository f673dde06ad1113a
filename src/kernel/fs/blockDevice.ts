// The block device the file system sits on: numbered blocks of BLOCK_SIZE bytes.
//
// A block write is atomic (all of it reaches the disk or none of it) and writes
// reach the disk in the order they are made; the log (log.ts) relies on both.

import * as fs from 'node:fs';
import { BLOCK_SIZE } from './layout.js';

export interface BlockDevice {
  readonly blockSize: number;
  readonly blockCount: number;
  readBlock(n: number, into: Uint8Array): void;
  writeBlock(n: number, data: Uint8Array): void;
  /** Make every earlier write durable (fsync for image files). */
  flush(): void;
}

function checkBlock(dev: BlockDevice, n: number, buf: Uint8Array): void {
  if (!Number.isInteger(n) || n < 0 || n >= dev.blockCount) {
    throw new Error(`block device: block ${n} is outside the disk (0..${dev.blockCount - 1})`);
  }
  if (buf.length !== dev.blockSize) throw new Error(`block device: buffer of ${buf.length} bytes, expected ${dev.blockSize}`);
}

/** A disk held in host memory. */
export class MemoryDisk implements BlockDevice {
  readonly blockSize = BLOCK_SIZE;
  readonly bytes: Uint8Array;

  constructor(readonly blockCount: number, contents?: Uint8Array) {
    this.bytes = new Uint8Array(blockCount * BLOCK_SIZE);
    if (contents) this.bytes.set(contents.subarray(0, this.bytes.length));
  }

  readBlock(n: number, into: Uint8Array): void {
    checkBlock(this, n, into);
    into.set(this.bytes.subarray(n * BLOCK_SIZE, (n + 1) * BLOCK_SIZE));
  }

  writeBlock(n: number, data: Uint8Array): void {
    checkBlock(this, n, data);
    this.bytes.set(data, n * BLOCK_SIZE);
  }

  flush(): void {}
}

/** A disk stored in a host file (`--image FILE`); every write goes straight to the file. */
export class ImageFileDisk implements BlockDevice {
  readonly blockSize = BLOCK_SIZE;
  readonly blockCount: number;
  private fd: number;

  /** Opens an existing image; its size must be a whole number of blocks. */
  constructor(readonly path: string) {
    try {
      this.fd = fs.openSync(path, 'r+');
    } catch (e) {
      throw new Error(`cannot open disk image '${path}': ${(e as Error).message}`);
    }
    const size = fs.fstatSync(this.fd).size;
    if (size === 0 || size % BLOCK_SIZE !== 0) {
      fs.closeSync(this.fd);
      throw new Error(`disk image '${path}' is ${size} bytes, not a whole number of ${BLOCK_SIZE}-byte blocks`);
    }
    this.blockCount = size / BLOCK_SIZE;
  }

  /** Creates (or truncates) an image file of `blockCount` zeroed blocks. */
  static create(path: string, blockCount: number): ImageFileDisk {
    try {
      fs.writeFileSync(path, new Uint8Array(0));
      fs.truncateSync(path, blockCount * BLOCK_SIZE);
    } catch (e) {
      throw new Error(`cannot create disk image '${path}': ${(e as Error).message}`);
    }
    return new ImageFileDisk(path);
  }

  readBlock(n: number, into: Uint8Array): void {
    checkBlock(this, n, into);
    fs.readSync(this.fd, into, 0, BLOCK_SIZE, n * BLOCK_SIZE);
  }

  writeBlock(n: number, data: Uint8Array): void {
    checkBlock(this, n, data);
    fs.writeSync(this.fd, data, 0, BLOCK_SIZE, n * BLOCK_SIZE);
  }

  flush(): void {
    fs.fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/** Thrown by CrashingDisk when the simulated power failure happens. */
export class DiskCrash extends Error {
  constructor(readonly afterWrites: number) {
    super(`simulated crash after ${afterWrites} block writes`);
  }
}

/**
 * Wraps a disk, counts its reads and writes, and "loses power" after `writeLimit`
 * block writes: the write that would exceed the limit (and every later one) is
 * dropped and DiskCrash thrown. Used by the crash-consistency tests and by the
 * crashn() system call (crashAfter).
 */
export class CrashingDisk implements BlockDevice {
  reads = 0;
  writes = 0;
  crashed = false;

  constructor(readonly disk: BlockDevice, public writeLimit = Number.POSITIVE_INFINITY) {}

  get blockSize(): number { return this.disk.blockSize; }
  get blockCount(): number { return this.disk.blockCount; }

  /** Crash once `n` more blocks have been written. */
  crashAfter(n: number): void {
    this.writeLimit = this.writes + Math.max(0, n);
  }

  readBlock(n: number, into: Uint8Array): void {
    this.reads++;
    this.disk.readBlock(n, into);
  }

  writeBlock(n: number, data: Uint8Array): void {
    if (this.crashed || this.writes >= this.writeLimit) {
      this.crashed = true;
      throw new DiskCrash(this.writes);
    }
    this.writes++;
    this.disk.writeBlock(n, data);
  }

  flush(): void {
    this.disk.flush();
  }
}
