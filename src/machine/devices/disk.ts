// A simple disk of 512-byte sectors, backed by a Uint8Array (load a host file
// into one to use it as a disk image). Its registers borrow the ATA port
// numbers but not ATA's protocol:
//
//   0x1F0  data: in/out of 1, 2 or 4 bytes moves through the 512-byte sector buffer
//   0x1F3  sector number (out of 4 bytes; or 1 byte each at 0x1F3..0x1F6, low byte first)
//   0x1F7  write: command    read: status
//   0x1F8  DMA physical address (out of 4 bytes)
//
// Commands: 0x20 READ  the sector into the buffer; the guest then reads 512 bytes from 0x1F0.
//           0x30 WRITE the guest then writes 512 bytes to 0x1F0; the last one stores the sector.
//           0xC8 DMA READ  copy the sector to physical memory at the DMA address.
//           0xCA DMA WRITE copy 512 bytes at the DMA address to the sector.
// Status bits: 0x40 ready, 0x08 data request (a PIO transfer is in progress),
// 0x01 error (the last command named a sector beyond the disk or was unknown).
// Transfers complete instantly; the disk raises no interrupt.

import { PortDevice, PortSize } from '../ports.js';
import { PhysicalMemory } from '../memory.js';

export const DISK_DATA = 0x1f0;
export const DISK_SECTOR = 0x1f3;
export const DISK_COMMAND = 0x1f7;
export const DISK_DMA_ADDRESS = 0x1f8;
export const DISK_READ = 0x20;
export const DISK_WRITE = 0x30;
export const DISK_DMA_READ = 0xc8;
export const DISK_DMA_WRITE = 0xca;
export const DISK_STATUS_READY = 0x40;
export const DISK_STATUS_DRQ = 0x08;
export const DISK_STATUS_ERROR = 0x01;
export const SECTOR_SIZE = 512;

export class Disk implements PortDevice {
  sector = 0;
  dmaAddress = 0;
  private readonly buffer = new Uint8Array(SECTOR_SIZE);
  private position = 0;
  private mode: 'idle' | 'read' | 'write' = 'idle';
  private error = false;

  /**
   * `image`: the disk contents (length a multiple of 512). `dmaWritten` is told
   * about physical memory the disk wrote, so the CPU can drop decoded code there.
   */
  constructor(
    readonly image: Uint8Array,
    private readonly memory: PhysicalMemory,
    private readonly dmaWritten: (phys: number, length: number) => void = () => {},
  ) {
    if (image.length % SECTOR_SIZE !== 0) throw new Error(`disk image size ${image.length} is not a multiple of ${SECTOR_SIZE}`);
  }

  get sectors(): number {
    return this.image.length / SECTOR_SIZE;
  }

  read(port: number, size: PortSize): number {
    if (port === DISK_COMMAND) {
      return DISK_STATUS_READY | (this.mode !== 'idle' ? DISK_STATUS_DRQ : 0) | (this.error ? DISK_STATUS_ERROR : 0);
    }
    if (port === DISK_DATA) {
      let v = 0;
      for (let i = 0; i < size; i++) v |= this.dataByte(0, false) << (8 * i);
      return v >>> 0;
    }
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
    } else if (port === DISK_DMA_ADDRESS) {
      this.dmaAddress = value >>> 0;
    } else if (port === DISK_COMMAND) {
      this.command(value & 0xff);
    }
  }

  private command(cmd: number): void {
    this.mode = 'idle';
    this.position = 0;
    this.error = this.sector >= this.sectors;
    if (this.error) return;
    const at = this.sector * SECTOR_SIZE;
    switch (cmd) {
      case DISK_READ:
        this.buffer.set(this.image.subarray(at, at + SECTOR_SIZE));
        this.mode = 'read';
        return;
      case DISK_WRITE:
        this.mode = 'write';
        return;
      case DISK_DMA_READ:
        this.memory.load(this.dmaAddress, this.image.subarray(at, at + SECTOR_SIZE));
        this.dmaWritten(this.dmaAddress, SECTOR_SIZE);
        return;
      case DISK_DMA_WRITE:
        this.image.set(this.memory.slice(this.dmaAddress, SECTOR_SIZE), at);
        return;
      default:
        this.error = true;
    }
  }

  /** Move one byte through the sector buffer (PIO). Reads outside a transfer return 0; such writes are dropped. */
  private dataByte(value: number, isWrite: boolean): number {
    if (this.mode === 'idle' || (this.mode === 'write') !== isWrite) return 0;
    const i = this.position++;
    if (isWrite) this.buffer[i] = value;
    const result = this.buffer[i];
    if (this.position === SECTOR_SIZE) {
      if (this.mode === 'write') this.image.set(this.buffer, this.sector * SECTOR_SIZE);
      this.mode = 'idle';
      this.position = 0;
    }
    return result;
  }
}
