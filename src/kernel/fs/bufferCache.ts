// The buffer cache: in-memory copies of disk blocks.
//
// Every file-system read goes through here. Blocks changed by the current
// transaction are pinned (never evicted) until the log has installed them;
// clean blocks are dropped oldest-first when the cache is over capacity.
//
// Where a missing block comes from:
//   - with no BlockSource (mkfs, fsck, the host-side tools, the instant disk):
//     read from the device at once;
//   - with a BlockSource (the kernel on the timed disk, fs/diskBlocks.ts):
//     inside waitForDisk(), a miss starts a disk read and throws DiskWait with
//     the channel to sleep on; the system call sleeps and runs again when the
//     block has arrived (fill()). Code that must not sleep (a transaction in
//     progress, close, exit) is never inside waitForDisk(): its misses are
//     read at once with the disk's immediate commands.

import type { BlockDevice } from './blockDevice.js';

/** Thrown inside waitForDisk() when a block is not cached: sleep on `channel`, then try again. */
export class DiskWait extends Error {
  constructor(readonly channel: object, readonly block: number) {
    super(`waiting for disk block ${block}`);
  }
}

/** How the cache gets a missing block when a BlockSource is attached. */
export interface BlockSource {
  /** Start reading block `n` (if not already on its way); returns the channel woken when it is cached. */
  fetch(n: number): object;
  /** Read block `n` at once. */
  readNow(n: number, into: Uint8Array): void;
}

export class BufferCache {
  private blocks = new Map<number, Uint8Array>();
  private pinned = new Set<number>();
  /** Set by the kernel on the timed disk. */
  source: BlockSource | null = null;
  private waitDepth = 0;
  /** Set by the log: inside a transaction a miss never waits (the transaction cannot be undone). */
  inTransaction: () => boolean = () => false;
  /** Blocks read from the disk at once although a BlockSource was attached (tests look at it). */
  immediateReads = 0;

  constructor(readonly dev: BlockDevice, readonly capacity = 512) {}

  /** The cached copy of block `n`. Callers that modify it must pass it to log.write(n). */
  read(n: number): Uint8Array {
    let data = this.blocks.get(n);
    if (data) {
      // Move to the back of the eviction order (Map keeps insertion order).
      this.blocks.delete(n);
      this.blocks.set(n, data);
      return data;
    }
    if (this.source && this.waitDepth > 0 && !this.inTransaction()) throw new DiskWait(this.source.fetch(n), n);
    data = new Uint8Array(this.dev.blockSize);
    if (this.source) {
      this.source.readNow(n, data);
      this.immediateReads++;
    } else {
      this.dev.readBlock(n, data);
    }
    this.insert(n, data);
    return data;
  }

  /** Whether block `n` is cached. */
  has(n: number): boolean {
    return this.blocks.has(n);
  }

  /**
   * Run `body`, in which a missing block throws DiskWait instead of being read
   * at once (only when a BlockSource is attached). `body` must have no effect
   * before its last read, so that running it again is harmless.
   */
  waitForDisk<T>(body: () => T): T {
    this.waitDepth++;
    try {
      return body();
    } finally {
      this.waitDepth--;
    }
  }

  /** Start reading every block of `blocks` that is not cached; the channel to sleep on, or null if all are here. */
  prefetch(blocks: number[]): object | null {
    if (!this.source || this.waitDepth === 0 || this.inTransaction()) return null;
    let channel: object | null = null;
    for (const n of blocks) if (!this.blocks.has(n)) channel = this.source.fetch(n);
    return channel;
  }

  /** A block read by the disk arrived. A cached copy (perhaps changed since) wins. */
  fill(n: number, data: Uint8Array): void {
    if (!this.blocks.has(n)) this.insert(n, data);
  }

  pin(n: number): void { this.pinned.add(n); }
  /** Blocks pinned by a transaction not yet installed (0 when the log is idle: the fuzzer checks). */
  get pinnedCount(): number { return this.pinned.size; }
  unpin(n: number): void { this.pinned.delete(n); }

  /** Forget everything (after a crash the cached copies are not what the disk holds). */
  clear(): void {
    this.blocks.clear();
    this.pinned.clear();
  }

  private insert(n: number, data: Uint8Array): void {
    this.blocks.set(n, data);
    this.evict();
  }

  private evict(): void {
    if (this.blocks.size <= this.capacity) return;
    for (const n of this.blocks.keys()) {
      if (this.blocks.size <= this.capacity) break;
      if (!this.pinned.has(n)) this.blocks.delete(n);
    }
  }
}
