// The disk driver: the kernel's half of the timed disk (src/machine/devices/disk.ts),
// in the shape of XK's ide.c.
//
//   1. A request (read or write one file-system block) is queued in software.
//   2. start() gives it a free hardware tag and a DMA buffer in kernel memory,
//      and programs the disk: tag, sector, count, DMA address, command.
//      The caller goes on (the process that needs the block sleeps).
//   3. When the disk is done it raises IRQ 14. The interrupt enters like any
//      other (vector 46 -> alltraps -> trap()), and trap() calls interrupt():
//      read every completion at the tag port, copy a read's data out of its
//      DMA buffer, call the request's `done`, start the next requests, and
//      acknowledge the interrupt to both PICs (the disk is on the slave).
//
// readNow/writeNow are the other way to use the disk: the immediate commands,
// which complete at once, for the few places that may not sleep (see
// fs/diskBlocks.ts). Physical memory is reached only through the DMA window
// the kernel gives the driver at boot.

import {
  DISK_COMMAND, DISK_COMPLETION_FAILED, DISK_COUNT, DISK_DMA_ADDRESS, DISK_DMA_READ, DISK_DMA_WRITE, DISK_NO_COMPLETION,
  DISK_QUEUED_READ, DISK_QUEUED_WRITE, DISK_SECTOR, DISK_STATUS_ERROR, DISK_TAG, QUEUE_DEPTH, SECTOR_SIZE,
} from '../../machine/devices/disk.js';
import { PIC_COMMAND, PIC_EOI, PIC_SLAVE_COMMAND } from '../../machine/devices/pic.js';

/** What the driver needs of the machine: the port bus. */
export interface DiskPorts {
  in(port: number, size: 1 | 2 | 4): number;
  out(port: number, size: 1 | 2 | 4, value: number): void;
}

/** Kernel memory the disk may DMA into: QUEUE_DEPTH + 1 buffers of one block each. */
export interface DmaWindow {
  /** Physical address of buffer `i`. */
  buffer(i: number): number;
  read(phys: number, length: number): Uint8Array;
  write(phys: number, data: Uint8Array): void;
}

export interface DiskRequest {
  block: number;
  write: boolean;
  /** For a write: the block's bytes (copied when the request starts). */
  data?: Uint8Array;
  /** Called from the disk interrupt: ok, and for a read the block's bytes. */
  done(ok: boolean, data: Uint8Array | null): void;
  /** Filled in by the driver: the hardware tag while in flight. */
  tag?: number;
}

export class DiskDriver {
  private readonly waiting: DiskRequest[] = [];
  private readonly inFlight: (DiskRequest | null)[] = new Array(QUEUE_DEPTH).fill(null);
  private readonly sectorsPerBlock: number;
  /** Statistics: requests started and completed, and interrupts taken. */
  started = 0;
  completed = 0;
  interrupts = 0;
  /** Told about each request as it starts and completes (tracing). */
  onEvent?: (what: 'start' | 'done', r: DiskRequest, ok?: boolean) => void;

  constructor(private readonly ports: DiskPorts, private readonly dma: DmaWindow, readonly blockSize: number) {
    this.sectorsPerBlock = blockSize / SECTOR_SIZE;
  }

  /** Requests queued in software or in the disk. */
  get outstanding(): number {
    return this.waiting.length + this.inFlight.filter((r) => r !== null).length;
  }

  /** Queue a request. A write's data is copied now: later changes to the caller's bytes do not reach the disk. */
  submit(r: DiskRequest): void {
    if (r.write) r.data = r.data!.slice();
    this.waiting.push(r);
    this.start();
  }

  /** Give waiting requests to the disk while it has free tags. */
  private start(): void {
    for (let tag = 0; tag < QUEUE_DEPTH && this.waiting.length > 0; tag++) {
      if (this.inFlight[tag]) continue;
      const r = this.waiting.shift()!;
      const buffer = this.bufferOf(tag);
      if (r.write) this.dma.write(buffer, r.data!);
      this.program(r.block, buffer);
      this.ports.out(DISK_TAG, 1, tag);
      this.ports.out(DISK_COUNT, 1, this.sectorsPerBlock);
      this.ports.out(DISK_COMMAND, 1, r.write ? DISK_QUEUED_WRITE : DISK_QUEUED_READ);
      if (this.ports.in(DISK_COMMAND, 1) & DISK_STATUS_ERROR) {
        throw new Error(`disk driver: the disk refused a queued command for block ${r.block}`);
      }
      r.tag = tag;
      this.inFlight[tag] = r;
      this.started++;
      this.onEvent?.('start', r);
    }
  }

  /** The disk interrupt (IRQ 14): collect every completion, then acknowledge the interrupt. */
  interrupt(): void {
    this.interrupts++;
    for (let c = this.ports.in(DISK_TAG, 1); c !== DISK_NO_COMPLETION; c = this.ports.in(DISK_TAG, 1)) {
      const tag = c & ~DISK_COMPLETION_FAILED;
      const r = this.inFlight[tag];
      if (!r) continue; // a completion nobody asked for: ignore it
      this.inFlight[tag] = null;
      const ok = (c & DISK_COMPLETION_FAILED) === 0;
      const data = ok && !r.write ? this.dma.read(this.bufferOf(tag), this.blockSize) : null;
      this.completed++;
      this.onEvent?.('done', r, ok);
      r.done(ok, data);
    }
    this.ports.out(PIC_SLAVE_COMMAND, 1, PIC_EOI);
    this.ports.out(PIC_COMMAND, 1, PIC_EOI);
    this.start();
  }

  /** Read a block at once with the immediate commands (no interrupt, no sleep). */
  readNow(block: number, into: Uint8Array): void {
    const buffer = this.bufferOf(QUEUE_DEPTH);
    for (let s = 0; s < this.sectorsPerBlock; s++) {
      this.program(block, buffer + s * SECTOR_SIZE, s);
      this.ports.out(DISK_COMMAND, 1, DISK_DMA_READ);
      this.check(block);
    }
    into.set(this.dma.read(buffer, this.blockSize));
  }

  /** Write a block at once with the immediate commands. */
  writeNow(block: number, data: Uint8Array): void {
    const buffer = this.bufferOf(QUEUE_DEPTH);
    this.dma.write(buffer, data);
    for (let s = 0; s < this.sectorsPerBlock; s++) {
      this.program(block, buffer + s * SECTOR_SIZE, s);
      this.ports.out(DISK_COMMAND, 1, DISK_DMA_WRITE);
      this.check(block);
    }
  }

  private program(block: number, dmaAddress: number, sectorInBlock = 0): void {
    this.ports.out(DISK_SECTOR, 4, block * this.sectorsPerBlock + sectorInBlock);
    this.ports.out(DISK_DMA_ADDRESS, 4, dmaAddress);
  }

  private check(block: number): void {
    if (this.ports.in(DISK_COMMAND, 1) & DISK_STATUS_ERROR) throw new Error(`disk driver: error on block ${block}`);
  }

  /** Physical address of DMA buffer `i` (0..QUEUE_DEPTH-1 for tags, QUEUE_DEPTH for readNow/writeNow). */
  private bufferOf(i: number): number {
    return this.dma.buffer(i);
  }
}
