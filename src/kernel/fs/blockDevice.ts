// The block device the file system sits on: numbered blocks of BLOCK_SIZE bytes.
//
// A block write is atomic (all of it reaches the disk or none of it) and writes
// reach the disk in the order they are made; the log (log.ts) relies on both.

import { BLOCK_SIZE } from './layout.js';

export interface BlockDevice {
  readonly blockSize: number;
  readonly blockCount: number;
  readBlock(n: number, into: Uint8Array): void;
  writeBlock(n: number, data: Uint8Array): void;
  /** Make every earlier write durable (fsync for image files). */
  flush(): void;
}

export function checkBlock(dev: BlockDevice, n: number, buf: Uint8Array): void {
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
