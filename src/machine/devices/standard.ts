// The standard xk board: which device sits at which ports and interrupt line.
//
//   ports 0x20-0x21   interrupt controller (pic.ts)       -
//   ports 0x40, 0x43  timer (timer.ts)                    IRQ 0 = vector 32
//   ports 0x3F8-0x3FF serial console COM1 (serial.ts)     IRQ 4 = vector 36
//   ports 0xA0-0xA1   the slave interrupt controller (pic.ts)
//   ports 0x1F0-0x1FC disk, when an image is given (disk.ts) IRQ 14 = vector 46

import type { InterruptController } from '../interrupts.js';
import type { PhysicalMemory } from '../memory.js';
import type { PortBus } from '../ports.js';
import { PIC_COMMAND, PIC_SLAVE_COMMAND } from './pic.js';
import { TIMER_CONTROL, TIMER_RELOAD } from './timer.js';
import { COM1, Serial } from './serial.js';
import { Disk, DISK_DATA, DISK_PORT_COUNT, type SectorStore } from './disk.js';

export interface DeviceOptions {
  /** Instructions between timer interrupts; 0 or absent = timer off until the guest programs it. */
  timerInterval?: number;
  /** Receives every byte the guest writes to the serial port (default: discarded). */
  serialOut?: (bytes: Uint8Array) => void;
  /** Bytes waiting at the serial port when the machine starts. */
  serialIn?: Uint8Array | string;
  /** Disk image (a multiple of 512 bytes) or its sectors; no disk when absent. */
  disk?: Uint8Array | SectorStore;
}

export interface Devices {
  serial: Serial;
  disk: Disk | undefined;
}

/** What attaching devices needs from the machine. */
export interface DeviceHost {
  ports: PortBus;
  interrupts: InterruptController;
  memory: PhysicalMemory;
  /** Drop decoded instructions on a physical page (DMA writes). */
  invalidateCode(physPage: number): void;
}

export function attachStandardDevices(host: DeviceHost, options: DeviceOptions = {}): Devices {
  const { ports, interrupts } = host;
  ports.register(PIC_COMMAND, 2, interrupts.pic);
  ports.register(PIC_SLAVE_COMMAND, 2, interrupts.pic);
  ports.register(TIMER_RELOAD, 1, interrupts.timer);
  ports.register(TIMER_CONTROL, 1, interrupts.timer);
  if (options.timerInterval) interrupts.timer.setInterval(options.timerInterval);
  const serial = new Serial(options.serialOut ?? (() => {}), (irq) => interrupts.raiseIrq(irq));
  ports.register(COM1, 8, serial);
  if (options.serialIn !== undefined) serial.feed(options.serialIn);
  let disk: Disk | undefined;
  if (options.disk) {
    disk = new Disk(options.disk, host.memory, (phys, length) => {
      for (let p = Math.floor(phys / 4096); p <= Math.floor((phys + length - 1) / 4096); p++) host.invalidateCode(p);
    }, () => interrupts.clock(), (irq) => interrupts.raiseIrq(irq));
    ports.register(DISK_DATA, DISK_PORT_COUNT, disk);
    interrupts.attachClocked(disk);
  }
  return { serial, disk };
}
