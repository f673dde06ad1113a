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
//
// On the timed disk (a BlockWriter is attached, fs/diskBlocks.ts) the four
// steps are disk requests, and each step is issued only when the disk has
// completed every write of the step before: that is the write ordering the
// commit point depends on. The commit runs on from the disk interrupt while
// processes go on; what it writes is a snapshot taken when it started. While it
// is in flight no new transaction begins: beginOp() throws LogBusy (the system
// call sleeps and starts again), and work that cannot sleep (freeing an inode
// at close or exit) is deferred until the commit is done.

import type { BlockDevice } from './blockDevice.js';
import type { BufferCache } from './bufferCache.js';
import { LOG_SIZE, type Superblock } from './layout.js';

/** How a commit's writes reach the timed disk. */
export interface BlockWriter {
  /** Write these blocks (their bytes are copied now); call `done` once all of them are on the disk. */
  writeBlocks(blocks: { n: number; data: Uint8Array }[], done: () => void): void;
}

/** Thrown by beginOp() while a commit is in flight: sleep on `channel`, then start again. */
export class LogBusy extends Error {
  constructor(readonly channel: object) {
    super('the log is committing');
  }
}

export class Log {
  /** Home block numbers of the blocks changed by the current transaction. */
  private changed: number[] = [];
  /** Operations between beginOp and endOp (they may nest). */
  private outstanding = 0;
  /** Committed transactions so far (tests observe this). */
  commits = 0;
  /** Called after each commit (tests use it to take snapshots). */
  onCommit: (() => void) | undefined;
  /** Set on the timed disk: commits go out as ordered disk requests. */
  writer: BlockWriter | null = null;
  /** True while a commit's requests are in flight. */
  committing = false;
  /** Woken (through `wakeup`) when a commit is done. */
  readonly idleChannel = { name: 'log' };
  wakeup: (channel: object) => void = () => {};
  /** Transactions begun so far, and how many of them are on the disk. */
  begun = 0;
  durable = 0;
  private readonly deferred: (() => void)[] = [];

  constructor(readonly dev: BlockDevice, readonly cache: BufferCache, readonly sb: Superblock) {
    if (sb.nlog < 2 || sb.nlog - 1 > LOG_SIZE) throw new Error(`file system: bad log size ${sb.nlog}`);
    cache.inTransaction = () => this.outstanding > 0;
  }

  private get capacity(): number { return this.sb.nlog - 1; }

  beginOp(): void {
    if (this.outstanding === 0) {
      if (this.committing) throw new LogBusy(this.idleChannel);
      this.begun++;
    }
    this.outstanding++;
  }

  endOp(): void {
    if (this.outstanding <= 0) throw new Error('log: endOp without beginOp');
    this.outstanding--;
    if (this.outstanding === 0) {
      if (this.writer) this.startCommit();
      else {
        this.commit();
        this.durable = this.begun;
      }
    }
  }

  /** Whether a transaction can begin now without waiting. */
  get busy(): boolean { return this.committing && this.outstanding === 0; }

  /** Run `job` (which begins a transaction) once no commit is in flight: now, or after it. */
  defer(job: () => void): void {
    if (!this.busy) job();
    else this.deferred.push(job);
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

  /** The four steps of commit() as disk requests, each issued when the one before is on the disk. */
  private startCommit(): void {
    const homes = this.changed;
    this.changed = [];
    const upTo = this.begun;
    if (homes.length === 0) {
      this.durable = upTo;
      return;
    }
    this.committing = true;
    const writer = this.writer!;
    const logStart = this.sb.logStart;
    const snapshot = homes.map((home) => this.cache.read(home).slice());
    const step = (blocks: { n: number; data: Uint8Array }[], next: () => void) => writer.writeBlocks(blocks, () => {
      this.dev.flush();
      next();
    });
    step(snapshot.map((data, i) => ({ n: logStart + 1 + i, data })), () =>
      step([{ n: logStart, data: this.header(homes) }], () =>               // commit point
        step(homes.map((n, i) => ({ n, data: snapshot[i] })), () =>
          step([{ n: logStart, data: this.header([]) }], () => {
            for (const home of homes) this.cache.unpin(home);
            this.committing = false;
            this.durable = upTo;
            this.commits++;
            this.onCommit?.();
            this.wakeup(this.idleChannel);
            while (this.deferred.length > 0 && !this.committing) this.deferred.shift()!();
          }))));
  }

  private header(blocks: number[]): Uint8Array {
    const header = new Uint8Array(this.dev.blockSize);
    const view = new DataView(header.buffer);
    view.setUint32(0, blocks.length, true);
    blocks.forEach((b, i) => view.setUint32(4 + 4 * i, b, true));
    return header;
  }

  private writeHeader(blocks: number[]): void {
    this.dev.writeBlock(this.sb.logStart, this.header(blocks));
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
