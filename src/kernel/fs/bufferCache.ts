// The buffer cache: in-memory copies of disk blocks.
//
// Every file-system read goes through here. Blocks changed by the current
// transaction are pinned (never evicted) until the log has installed them;
// clean blocks are dropped oldest-first when the cache is over capacity.

import type { BlockDevice } from './blockDevice.js';

export class BufferCache {
  private blocks = new Map<number, Uint8Array>();
  private pinned = new Set<number>();

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
    data = new Uint8Array(this.dev.blockSize);
    this.dev.readBlock(n, data);
    this.blocks.set(n, data);
    this.evict();
    return data;
  }

  pin(n: number): void { this.pinned.add(n); }
  unpin(n: number): void { this.pinned.delete(n); }

  /** Forget everything (after a crash the cached copies are not what the disk holds). */
  clear(): void {
    this.blocks.clear();
    this.pinned.clear();
  }

  private evict(): void {
    if (this.blocks.size <= this.capacity) return;
    for (const n of this.blocks.keys()) {
      if (this.blocks.size <= this.capacity) break;
      if (!this.pinned.has(n)) this.blocks.delete(n);
    }
  }
}
