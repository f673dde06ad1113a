// Allocating and freeing data blocks with the free bitmap (one bit per block).

import type { FileSystem } from './fileSystem.js';
import { BITS_PER_BLOCK, bitmapBlock, dataStart } from './layout.js';

/** Allocates a zeroed data block; returns 0 when the disk is full. Needs an open transaction. */
export function balloc(fs: FileSystem): number {
  const { sb, cache, log } = fs;
  for (let base = 0; base < sb.size; base += BITS_PER_BLOCK) {
    const bmap = cache.read(bitmapBlock(sb, base));
    for (let bit = 0; bit < BITS_PER_BLOCK && base + bit < sb.size; bit++) {
      const b = base + bit;
      if (b < dataStart(sb)) continue;
      const mask = 1 << (bit % 8);
      if ((bmap[bit >> 3] & mask) === 0) {
        bmap[bit >> 3] |= mask;
        log.write(bitmapBlock(sb, b));
        cache.read(b).fill(0);
        log.write(b);
        return b;
      }
    }
  }
  return 0;
}

/** Marks block `b` free. Needs an open transaction. */
export function bfree(fs: FileSystem, b: number): void {
  const { sb, cache, log } = fs;
  if (b < dataStart(sb) || b >= sb.size) throw new Error(`file system: freeing block ${b}, which is not a data block`);
  const bmap = cache.read(bitmapBlock(sb, b));
  const bit = b % BITS_PER_BLOCK;
  const mask = 1 << (bit % 8);
  if ((bmap[bit >> 3] & mask) === 0) throw new Error(`file system: freeing free block ${b}`);
  bmap[bit >> 3] &= ~mask;
  log.write(bitmapBlock(sb, b));
}
