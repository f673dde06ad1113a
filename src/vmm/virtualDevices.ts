// The VM's devices: the same interrupt controller, timer and serial port as
// the bare machine (src/machine/devices), but clocked by the guest's own
// instruction count and reached only through the monitor's in/out emulation;
// plus the shutdown port (0xf4) that ends the VM.

import { Pic, PIC_COMMAND, PIC_DATA } from '../machine/devices/pic.js';
import { Timer, TIMER_CONTROL, TIMER_RELOAD } from '../machine/devices/timer.js';
import { Serial, COM1 } from '../machine/devices/serial.js';
import type { PortDevice, PortSize } from '../machine/ports.js';

export const SHUTDOWN_PORT = 0xf4;

export class VirtualDevices {
  readonly pic = new Pic();
  readonly timer: Timer;
  readonly serial: Serial;
  /** Status written to the shutdown port (undefined while running). */
  shutdownStatus: number | undefined;

  constructor(clock: () => number, serialOut: (bytes: Uint8Array) => void) {
    this.timer = new Timer(clock, (irq) => this.pic.raise(irq));
    this.serial = new Serial(serialOut, (irq) => this.pic.raise(irq));
  }

  private device(port: number): PortDevice | undefined {
    if (port === PIC_COMMAND || port === PIC_DATA) return this.pic;
    if (port === TIMER_RELOAD || port === TIMER_CONTROL) return this.timer;
    if (port >= COM1 && port < COM1 + 8) return this.serial;
    return undefined;
  }

  in(port: number, size: PortSize): number {
    const d = this.device(port);
    return d ? d.read(port, size) : size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
  }

  out(port: number, size: PortSize, value: number): void {
    if (port === SHUTDOWN_PORT) { this.shutdownStatus = value & 0xff; return; }
    this.device(port)?.write(port, size, value);
  }
}
