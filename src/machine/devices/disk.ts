// A disk of 512-byte sectors. Its registers borrow the ATA port numbers (and
// the numbers of ATA's queued DMA commands) but not ATA's protocol:
//
//   0x1F0  data: in/out of 1, 2 or 4 bytes moves through the 512-byte sector buffer
//   0x1F2  sector count of the next queued command (1..MAX_SECTORS_PER_COMMAND)
//   0x1F3  sector number (out of 4 bytes; or 1 byte each at 0x1F3..0x1F6, low byte first)
//   0x1F7  write: command    read: status
//   0x1F8  DMA physical address (out of 4 bytes)
//   0x1FC  write: the tag (0..QUEUE_DEPTH-1) of the next queued command
//          read:  the oldest completion not yet read: its tag, with bit 7 set if
//                 it failed; 0xFF when there is none
//
// Immediate commands (they complete at once and raise no interrupt):
//           0x20 READ  the sector into the buffer; the guest then reads 512 bytes from 0x1F0.
//           0x30 WRITE the guest then writes 512 bytes to 0x1F0; the last one stores the sector.
//           0xC8 DMA READ  copy the sector to physical memory at the DMA address.
//           0xCA DMA WRITE copy 512 bytes at the DMA address to the sector.
// Queued commands (they take time, and interrupt when done):
//           0x60 QUEUED DMA READ   `count` sectors from `sector` into memory at the DMA address
//           0x61 QUEUED DMA WRITE  `count` sectors at the DMA address onto the disk
//   The command is accepted into the queue under its tag (status ERROR if the
//   queue is full, the tag is in use, or the count is 0 or too large). The disk
//   serves one command at a time and picks the queued command whose first
//   sector is nearest its head (shortest seek first), so completions can come
//   in another order than the commands. A command takes
//       COMMAND_OVERHEAD + seek(distance) + count * TRANSFER_PER_SECTOR
//   retired instructions (the machine's time), where seek(0) = 0 and otherwise
//   SEEK_BASE + distance / SECTORS_PER_SEEK_UNIT, at most SEEK_MAX. The data
//   moves at the moment of completion, in one piece; then the completion is
//   queued for reading at 0x1FC and the disk raises IRQ 14. A completion fails
//   (bit 7) when the sectors lie beyond the disk or the DMA range beyond memory.
//
// Status bits: 0x40 ready, 0x08 data request (a PIO transfer is in progress),
// 0x04 completions waiting at 0x1FC, 0x01 error (the last command was refused:
// a sector beyond the disk, an unknown command, or a queued command the queue
// could not take).

import { PortDevice, PortSize } from '../ports.js';
import { PhysicalMemory } from '../memory.js';

export const DISK_DATA = 0x1f0;
export const DISK_COUNT = 0x1f2;
export const DISK_SECTOR = 0x1f3;
export const DISK_COMMAND = 0x1f7;
export const DISK_DMA_ADDRESS = 0x1f8;
export const DISK_TAG = 0x1fc;
/** The disk's ports: 0x1F0 .. 0x1FC. */
export const DISK_PORT_COUNT = DISK_TAG - DISK_DATA + 1;
export const DISK_READ = 0x20;
export const DISK_WRITE = 0x30;
export const DISK_DMA_READ = 0xc8;
export const DISK_DMA_WRITE = 0xca;
export const DISK_QUEUED_READ = 0x60;
export const DISK_QUEUED_WRITE = 0x61;
export const DISK_STATUS_READY = 0x40;
export const DISK_STATUS_DRQ = 0x08;
export const DISK_STATUS_COMPLETION = 0x04;
export const DISK_STATUS_ERROR = 0x01;
/** Read at DISK_TAG when no completion is waiting. */
export const DISK_NO_COMPLETION = 0xff;
/** Set in a completion read at DISK_TAG when the command failed. */
export const DISK_COMPLETION_FAILED = 0x80;
export const SECTOR_SIZE = 512;
/** The disk's interrupt line (IRQ 14, as the primary IDE channel of a PC). */
export const DISK_IRQ = 14;

/** The latency model, in retired instructions (see the header). */
export const QUEUE_DEPTH = 8;
export const MAX_SECTORS_PER_COMMAND = 8;
export const COMMAND_OVERHEAD = 1_000;
export const SEEK_BASE = 3_000;
export const SECTORS_PER_SEEK_UNIT = 8;
export const SEEK_MAX = 20_000;
export const TRANSFER_PER_SECTOR = 500;

/** Where the sectors live: a byte array (a disk image) or anything that can read and write whole sectors. */
export interface SectorStore {
  readonly sectors: number;
  read(sector: number, count: number): Uint8Array;
  write(sector: number, data: Uint8Array): void;
}

/** A disk image held in a byte array. */
export class ArraySectorStore implements SectorStore {
  constructor(readonly bytes: Uint8Array) {
    if (bytes.length % SECTOR_SIZE !== 0) throw new Error(`disk image size ${bytes.length} is not a multiple of ${SECTOR_SIZE}`);
  }
  get sectors(): number { return this.bytes.length / SECTOR_SIZE; }
  read(sector: number, count: number): Uint8Array {
    return this.bytes.slice(sector * SECTOR_SIZE, (sector + count) * SECTOR_SIZE);
  }
  write(sector: number, data: Uint8Array): void {
    this.bytes.set(data, sector * SECTOR_SIZE);
  }
}

interface QueuedCommand {
  tag: number;
  write: boolean;
  sector: number;
  count: number;
  dmaAddress: number;
}

/** Time the head needs to move `distance` sectors. */
export function seekTime(distance: number): number {
  if (distance === 0) return 0;
  return Math.min(SEEK_MAX, SEEK_BASE + Math.floor(distance / SECTORS_PER_SEEK_UNIT));
}

export class Disk implements PortDevice {
  sector = 0;
  count = 1;
  dmaAddress = 0;
  tag = 0;
  readonly store: SectorStore;
  private readonly buffer = new Uint8Array(SECTOR_SIZE);
  private position = 0;
  private mode: 'idle' | 'read' | 'write' = 'idle';
  private error = false;
  /** Queued commands not yet started, and the one being served. */
  private readonly queue: QueuedCommand[] = [];
  private serving: QueuedCommand | null = null;
  /** Machine time at which `serving` completes (Infinity when idle). */
  deadline = Infinity;
  /** Completions not yet read at DISK_TAG, oldest first. */
  private readonly completions: number[] = [];
  /** Where the head is: the sector after the last one transferred. */
  head = 0;
  /** Statistics: commands completed, and machine time the disk spent busy. */
  completed = 0;
  busyTime = 0;
  /**
   * An instant disk (`xk boot --disk instant`): a queued command takes no machine
   * time. It still completes through the queue, at the next instruction boundary,
   * and still interrupts.
   */
  instant = false;

  /**
   * `image`: the disk contents (a byte array whose length is a multiple of 512,
   * or a SectorStore). `dmaWritten` is told about physical memory the disk
   * wrote, so the CPU can drop decoded code there. `clock` and `raise` give
   * queued commands their time and their interrupt; without them queued
   * commands are refused.
   */
  constructor(
    image: Uint8Array | SectorStore,
    private readonly memory: PhysicalMemory,
    private readonly dmaWritten: (phys: number, length: number) => void = () => {},
    private readonly clock?: () => number,
    private readonly raise?: (irq: number) => void,
  ) {
    this.store = image instanceof Uint8Array ? new ArraySectorStore(image) : image;
  }

  /** The byte array behind the disk, when it was made from one. */
  get image(): Uint8Array {
    if (!(this.store instanceof ArraySectorStore)) throw new Error('disk: this disk is not backed by a byte array');
    return this.store.bytes;
  }

  get sectors(): number {
    return this.store.sectors;
  }

  /** Commands queued or in service. */
  get outstanding(): number {
    return this.queue.length + (this.serving ? 1 : 0);
  }

  read(port: number, size: PortSize): number {
    if (port === DISK_COMMAND) {
      return (this.queue.length < QUEUE_DEPTH ? DISK_STATUS_READY : 0) |
        (this.mode !== 'idle' ? DISK_STATUS_DRQ : 0) |
        (this.completions.length > 0 ? DISK_STATUS_COMPLETION : 0) |
        (this.error ? DISK_STATUS_ERROR : 0);
    }
    if (port === DISK_DATA) {
      let v = 0;
      for (let i = 0; i < size; i++) v |= this.dataByte(0, false) << (8 * i);
      return v >>> 0;
    }
    if (port === DISK_TAG) return this.completions.shift() ?? DISK_NO_COMPLETION;
    if (port === DISK_COUNT) return this.count & 0xff;
    if (port >= DISK_SECTOR && port < DISK_SECTOR + 4) return (this.sector >>> (8 * (port - DISK_SECTOR))) & 0xff;
    return 0xff;
  }

  write(port: number, size: PortSize, value: number): void {
    if (port === DISK_DATA) {
      for (let i = 0; i < size; i++) this.dataByte((value >>> (8 * i)) & 0xff, true);
    } else if (port >= DISK_SECTOR && port < DISK_SECTOR + 4) {
      if (size === 4 && port === DISK_SECTOR) this.sector = value >>> 0;
      else {
        const shift = 8 * (port - DISK_SECTOR);
        this.sector = ((this.sector & ~(0xff << shift)) | ((value & 0xff) << shift)) >>> 0;
      }
    } else if (port === DISK_COUNT) {
      this.count = value & 0xff;
    } else if (port === DISK_TAG) {
      this.tag = value & 0xff;
    } else if (port === DISK_DMA_ADDRESS) {
      this.dmaAddress = value >>> 0;
    } else if (port === DISK_COMMAND) {
      this.command(value & 0xff);
    }
  }

  private command(cmd: number): void {
    if (cmd === DISK_QUEUED_READ || cmd === DISK_QUEUED_WRITE) {
      this.enqueue(cmd === DISK_QUEUED_WRITE);
      return;
    }
    this.mode = 'idle';
    this.position = 0;
    this.error = this.sector >= this.sectors;
    if (this.error) return;
    switch (cmd) {
      case DISK_READ:
        this.buffer.set(this.store.read(this.sector, 1));
        this.mode = 'read';
        return;
      case DISK_WRITE:
        this.mode = 'write';
        return;
      case DISK_DMA_READ:
        if (!this.dmaFits(this.dmaAddress, 1)) { this.error = true; return; }
        this.memory.load(this.dmaAddress, this.store.read(this.sector, 1));
        this.dmaWritten(this.dmaAddress, SECTOR_SIZE);
        return;
      case DISK_DMA_WRITE:
        if (!this.dmaFits(this.dmaAddress, 1)) { this.error = true; return; }
        this.store.write(this.sector, this.memory.slice(this.dmaAddress, SECTOR_SIZE));
        return;
      default:
        this.error = true;
    }
  }

  private dmaFits(address: number, count: number): boolean {
    return address + count * SECTOR_SIZE <= this.memory.size;
  }

  /** Accept a queued command under the current tag, or refuse it (status ERROR). */
  private enqueue(write: boolean): void {
    const tag = this.tag;
    const inUse = this.serving?.tag === tag || this.queue.some((c) => c.tag === tag);
    this.error = !this.clock || tag >= QUEUE_DEPTH || inUse || this.queue.length >= QUEUE_DEPTH ||
      this.count < 1 || this.count > MAX_SECTORS_PER_COMMAND;
    if (this.error) return;
    this.queue.push({ tag, write, sector: this.sector, count: this.count, dmaAddress: this.dmaAddress });
    if (!this.serving) this.startNext(this.clock!());
  }

  /** Start serving the queued command nearest the head (shortest seek first; the oldest on a tie). */
  private startNext(now: number): void {
    if (this.queue.length === 0) { this.serving = null; this.deadline = Infinity; return; }
    let best = 0;
    for (let i = 1; i < this.queue.length; i++) {
      if (Math.abs(this.queue[i].sector - this.head) < Math.abs(this.queue[best].sector - this.head)) best = i;
    }
    const c = this.queue.splice(best, 1)[0];
    const time = this.instant ? 0 : COMMAND_OVERHEAD + seekTime(Math.abs(c.sector - this.head)) + c.count * TRANSFER_PER_SECTOR;
    this.serving = c;
    this.deadline = now + time;
    this.busyTime += time;
  }

  /** Called at instruction boundaries once the clock reaches `deadline`: complete the command in service. */
  tick(now: number): void {
    while (this.serving && now >= this.deadline) {
      const c = this.serving;
      const ok = c.sector + c.count <= this.sectors && this.dmaFits(c.dmaAddress, c.count);
      if (ok) {
        if (c.write) this.store.write(c.sector, this.memory.slice(c.dmaAddress, c.count * SECTOR_SIZE));
        else {
          this.memory.load(c.dmaAddress, this.store.read(c.sector, c.count));
          this.dmaWritten(c.dmaAddress, c.count * SECTOR_SIZE);
        }
        this.head = c.sector + c.count;
      }
      this.completions.push(c.tag | (ok ? 0 : DISK_COMPLETION_FAILED));
      this.completed++;
      const finished = this.deadline;
      this.startNext(finished);
      this.raise?.(DISK_IRQ);
    }
  }

  /** Move one byte through the sector buffer (PIO). Reads outside a transfer return 0; such writes are dropped. */
  private dataByte(value: number, isWrite: boolean): number {
    if (this.mode === 'idle' || (this.mode === 'write') !== isWrite) return 0;
    const i = this.position++;
    if (isWrite) this.buffer[i] = value;
    const result = this.buffer[i];
    if (this.position === SECTOR_SIZE) {
      if (this.mode === 'write') this.store.write(this.sector, this.buffer);
      this.mode = 'idle';
      this.position = 0;
    }
    return result;
  }
}
