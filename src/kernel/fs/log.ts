// The write-ahead log: makes each file-system operation atomic on disk.
//
// An operation runs between beginOp() and endOp(). Instead of writing the blocks
// it changes, it calls write(n), which only records the block number (the data
// stays pinned in the buffer cache). When the last outstanding operation ends,
// commit() puts the transaction on disk in four steps:
//
//   1. copy each changed block into the log area       (home blocks untouched)
//   2. write the log header with the count n > 0       <- the commit point
//   3. copy each block from the cache to its home        ("install")
//   4. write the log header with n = 0                   (transaction done)
//
// A crash before step 2 loses the whole transaction; a crash after it is
// repaired by recover() at the next mount, which re-does step 3 from the log.
// Either way the disk holds all of a transaction or none of it.
//
// Header block: uint n; uint block[LOG_SIZE] (home block numbers).

import type { BlockDevice } from './blockDevice.js';
import type { BufferCache } from './bufferCache.js';
import { LOG_SIZE, type Superblock } from './layout.js';

export class Log {
  /** Home block numbers of the blocks changed by the current transaction. */
  private changed: number[] = [];
  /** Operations between beginOp and endOp (they may nest). */
  private outstanding = 0;
  /** Committed transactions so far (tests observe this). */
  commits = 0;
  /** Called after each commit (tests use it to take snapshots). */
  onCommit: (() => void) | undefined;

  constructor(readonly dev: BlockDevice, readonly cache: BufferCache, readonly sb: Superblock) {
    if (sb.nlog < 2 || sb.nlog - 1 > LOG_SIZE) throw new Error(`file system: bad log size ${sb.nlog}`);
  }

  private get capacity(): number { return this.sb.nlog - 1; }

  beginOp(): void {
    this.outstanding++;
  }

  endOp(): void {
    if (this.outstanding <= 0) throw new Error('log: endOp without beginOp');
    this.outstanding--;
    if (this.outstanding === 0) this.commit();
  }

  /** True while an operation is open (inode updates require one). */
  get inOp(): boolean { return this.outstanding > 0; }

  /** Record that cached block `n` was changed by the current operation. */
  write(n: number): void {
    if (this.outstanding === 0) throw new Error(`log: block ${n} written outside a transaction`);
    if (this.changed.includes(n)) return;   // absorbed: already in this transaction
    if (this.changed.length >= this.capacity) throw new Error('log: transaction too big');
    this.changed.push(n);
    this.cache.pin(n);
  }

  private commit(): void {
    if (this.changed.length === 0) return;
    const logStart = this.sb.logStart;
    this.changed.forEach((home, i) => this.dev.writeBlock(logStart + 1 + i, this.cache.read(home)));
    this.dev.flush();
    this.writeHeader(this.changed);        // commit point
    this.dev.flush();
    for (const home of this.changed) this.dev.writeBlock(home, this.cache.read(home));
    this.dev.flush();
    this.writeHeader([]);
    this.dev.flush();
    for (const home of this.changed) this.cache.unpin(home);
    this.changed = [];
    this.commits++;
    this.onCommit?.();
  }

  private writeHeader(blocks: number[]): void {
    const header = new Uint8Array(this.dev.blockSize);
    const view = new DataView(header.buffer);
    view.setUint32(0, blocks.length, true);
    blocks.forEach((b, i) => view.setUint32(4 + 4 * i, b, true));
    this.dev.writeBlock(this.sb.logStart, header);
  }

  /** Mount-time recovery: install a committed transaction left by a crash. Returns blocks installed. */
  recover(): number {
    const header = new Uint8Array(this.dev.blockSize);
    this.dev.readBlock(this.sb.logStart, header);
    const view = new DataView(header.buffer);
    const n = view.getUint32(0, true);
    if (n === 0) return 0;
    if (n > this.capacity) throw new Error(`file system: corrupt log header (${n} blocks)`);
    const data = new Uint8Array(this.dev.blockSize);
    for (let i = 0; i < n; i++) {
      const home = view.getUint32(4 + 4 * i, true);
      if (home >= this.sb.size) throw new Error(`file system: corrupt log header (block ${home})`);
      this.dev.readBlock(this.sb.logStart + 1 + i, data);
      this.dev.writeBlock(home, data);
    }
    this.dev.flush();
    this.writeHeader([]);
    this.dev.flush();
    return n;
  }
}
