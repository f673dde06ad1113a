// The shutdown port of xk's bare machine: a kernel ends the run by writing its
// exit status (one byte) to port 0xf4, as QEMU's isa-debug-exit device does.

import type { Machine } from '../machine.js';
import type { PortDevice, PortSize } from '../ports.js';

/** Writing a byte here powers the machine off; the byte is the exit status. */
export const SHUTDOWN_PORT = 0xf4;

/** The shutdown port: records the status and stops the machine. */
export class ShutdownPort implements PortDevice {
  status: number | undefined;
  constructor(private readonly machine: Machine) {}
  read(_port: number, _size: PortSize): number {
    return 0xff;
  }
  write(_port: number, _size: PortSize, value: number): void {
    this.status = value & 0xff;
    this.machine.stop('stopped', `shutdown with status ${this.status}`);
  }
}
