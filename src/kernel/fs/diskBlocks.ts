// The file system on the timed disk: the buffer cache's misses become disk
// reads, and the log's commits become ordered disk writes, all through the
// disk driver (drivers/diskDriver.ts). Attach it with attachTimedDisk().
//
//   cache miss (inside waitForDisk)  -> fetch(n): one read request per block,
//                                       however many processes want it
//   disk interrupt, read done        -> the block goes into the cache, the
//                                       sleepers on its channel wake up
//   log commit step                  -> writeBlocks(): one write request per
//                                       block; `done` when the last completes

import type { DiskDriver } from '../drivers/diskDriver.js';
import type { BlockDevice } from './blockDevice.js';
import type { BlockSource } from './bufferCache.js';
import type { FileSystem } from './fileSystem.js';
import type { BlockWriter } from './log.js';
import type { SectorStore } from '../../machine/devices/disk.js';
import { SECTOR_SIZE } from '../../machine/devices/disk.js';

export class DiskBlocks implements BlockSource, BlockWriter {
  /** Blocks being read, and the channel their sleepers wait on. */
  private readonly reading = new Map<number, object>();

  constructor(private readonly fs: FileSystem, private readonly driver: DiskDriver, private readonly wakeup: (channel: object) => void) {}

  fetch(n: number): object {
    const waiting = this.reading.get(n);
    if (waiting) return waiting;
    const channel = { name: `disk block ${n}` };
    this.reading.set(n, channel);
    this.driver.submit({
      block: n,
      write: false,
      done: (ok, data) => {
        this.reading.delete(n);
        if (!ok || !data) throw new Error(`disk: the read of block ${n} failed`);
        this.fs.cache.fill(n, data);
        this.wakeup(channel);
      },
    });
    return channel;
  }

  readNow(n: number, into: Uint8Array): void {
    this.driver.readNow(n, into);
  }

  writeBlocks(blocks: { n: number; data: Uint8Array }[], done: () => void): void {
    let left = blocks.length;
    for (const { n, data } of blocks) {
      this.driver.submit({
        block: n,
        write: true,
        data,
        done: (ok) => {
          if (!ok) throw new Error(`disk: the write of block ${n} failed`);
          if (--left === 0) done();
        },
      });
    }
  }

  /** Reads and writes not yet completed. */
  get outstanding(): number {
    return this.driver.outstanding;
  }
}

/** Put a mounted file system on the timed disk: misses sleep, commits are disk requests. */
export function attachTimedDisk(fs: FileSystem, driver: DiskDriver, wakeup: (channel: object) => void): DiskBlocks {
  const blocks = new DiskBlocks(fs, driver, wakeup);
  // The kernel starts with an empty cache, as after a real boot: what mkfs or
  // the mount left there is on the disk, and comes back through the driver.
  fs.cache.clear();
  fs.cache.source = blocks;
  fs.log.writer = blocks;
  fs.log.wakeup = wakeup;
  return blocks;
}

/**
 * The sectors of the machine's disk device, kept in a file-system block
 * device (an in-memory disk or an image file, wrapped by CrashingDisk). The
 * driver always moves whole blocks, so a block write stays atomic; a partial
 * block is read, changed and written back.
 */
export class BlockDeviceSectors implements SectorStore {
  private readonly perBlock: number;

  constructor(private readonly dev: BlockDevice) {
    this.perBlock = dev.blockSize / SECTOR_SIZE;
  }

  get sectors(): number {
    return this.dev.blockCount * this.perBlock;
  }

  read(sector: number, count: number): Uint8Array {
    const out = new Uint8Array(count * SECTOR_SIZE);
    const block = new Uint8Array(this.dev.blockSize);
    for (let s = sector; s < sector + count;) {
      const b = Math.floor(s / this.perBlock);
      this.dev.readBlock(b, block);
      const first = s - b * this.perBlock;
      const n = Math.min(this.perBlock - first, sector + count - s);
      out.set(block.subarray(first * SECTOR_SIZE, (first + n) * SECTOR_SIZE), (s - sector) * SECTOR_SIZE);
      s += n;
    }
    return out;
  }

  write(sector: number, data: Uint8Array): void {
    const count = data.length / SECTOR_SIZE;
    for (let s = sector; s < sector + count;) {
      const b = Math.floor(s / this.perBlock);
      const first = s - b * this.perBlock;
      const n = Math.min(this.perBlock - first, sector + count - s);
      const piece = data.subarray((s - sector) * SECTOR_SIZE, (s - sector + n) * SECTOR_SIZE);
      if (n === this.perBlock) this.dev.writeBlock(b, piece.slice());
      else {
        const block = new Uint8Array(this.dev.blockSize);
        this.dev.readBlock(b, block);
        block.set(piece, first * SECTOR_SIZE);
        this.dev.writeBlock(b, block);
      }
      s += n;
    }
  }
}
