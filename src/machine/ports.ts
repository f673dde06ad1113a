// The I/O port bus: `in` and `out` instructions address a separate 16-bit
// space of device registers. Devices claim a range of ports; a read from a
// port nobody claims returns all ones, a write to it is dropped.

export type PortSize = 1 | 2 | 4;

export interface PortDevice {
  /** Read `size` bytes from `port` (the device's own register layout decides what that means). */
  read(port: number, size: PortSize): number;
  write(port: number, size: PortSize, value: number): void;
}

export class PortBus {
  private readonly devices: (PortDevice | undefined)[] = new Array(0x10000);

  /** Give ports first .. first+count-1 to `device`. Overlaps are a programming error. */
  register(first: number, count: number, device: PortDevice): void {
    for (let p = first; p < first + count; p++) {
      if (p < 0 || p > 0xffff) throw new Error(`port bus: port ${p} is outside 0..0xffff`);
      if (this.devices[p]) throw new Error(`port bus: port 0x${p.toString(16)} is already claimed`);
      this.devices[p] = device;
    }
  }

  in(port: number, size: PortSize): number {
    const device = this.devices[port & 0xffff];
    const allOnes = size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    if (!device) return allOnes;
    return (device.read(port & 0xffff, size) & allOnes) >>> 0;
  }

  out(port: number, size: PortSize, value: number): void {
    const device = this.devices[port & 0xffff];
    const mask = size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    if (device) device.write(port & 0xffff, size, (value & mask) >>> 0);
  }
}
