// The interrupt controller: a simplified Intel 8259A PIC with 8 lines.
//
//   port 0x20 (command)  write 0x20: end of interrupt (EOI) for the highest-priority
//                        in-service line. Write with bit 4 set: start initialization
//                        (ICW1), after which port 0x21 takes ICW2 (vector base),
//                        ICW3 and, if ICW1 bit 0 was set, ICW4.
//                        read: the in-service register (ISR).
//   port 0x21 (data)     read/write the mask register (bit n = 1 masks IRQ n).
//
// A device raises a line (edge): the line's request bit (IRR) is set. When the
// CPU accepts the interrupt the request moves to in-service (ISR) and the CPU
// runs vector base + n. Until the kernel writes EOI, that line and every
// lower-priority line (higher number) stay blocked, so an IRQ is never
// re-delivered before it is acknowledged. Line 0 has the highest priority.

import { PortDevice, PortSize } from '../ports.js';

export const PIC_COMMAND = 0x20;
export const PIC_DATA = 0x21;
export const PIC_EOI = 0x20;
/** Vector of IRQ 0 after reset (the xk convention; a guest may change it with ICW2). */
export const PIC_DEFAULT_BASE = 32;

export class Pic implements PortDevice {
  irr = 0; // requested
  isr = 0; // in service
  imr = 0; // masked
  vectorBase = PIC_DEFAULT_BASE;
  private initStep = 0; // 0 = normal; 2..4 = expecting ICW2..ICW4
  private wantIcw4 = false;

  /** A device signals line `irq` (0..7). */
  raise(irq: number): void {
    this.irr |= 1 << irq;
  }

  /** The line that would be delivered now, or -1: unmasked, requested, and above everything in service. */
  pendingLine(): number {
    const ready = this.irr & ~this.imr & 0xff;
    if (ready === 0) return -1;
    const line = 31 - Math.clz32(ready & -ready); // lowest set bit = highest priority
    if (this.isr !== 0) {
      const serving = 31 - Math.clz32(this.isr & -this.isr);
      if (serving <= line) return -1;
    }
    return line;
  }

  /** The CPU takes line `irq`: it moves from requested to in service. Returns its vector. */
  acknowledge(irq: number): number {
    this.irr &= ~(1 << irq);
    this.isr |= 1 << irq;
    return this.vectorBase + irq;
  }

  /** Non-specific EOI: clear the highest-priority in-service bit. */
  endOfInterrupt(): void {
    if (this.isr !== 0) this.isr &= this.isr - 1;
  }

  read(port: number, _size: PortSize): number {
    return port === PIC_COMMAND ? this.isr : this.imr;
  }

  write(port: number, _size: PortSize, value: number): void {
    value &= 0xff;
    if (port === PIC_COMMAND) {
      if (value & 0x10) { // ICW1: reinitialize
        this.irr = this.isr = this.imr = 0;
        this.wantIcw4 = (value & 1) !== 0;
        this.initStep = 2;
      } else if ((value & 0xe0) === 0x20) { // OCW2 non-specific EOI
        this.endOfInterrupt();
      } else if ((value & 0xe0) === 0x60) { // OCW2 specific EOI for line value & 7
        this.isr &= ~(1 << (value & 7));
      }
      return;
    }
    switch (this.initStep) {
      case 2: this.vectorBase = value & 0xf8; this.initStep = 3; return;
      case 3: this.initStep = this.wantIcw4 ? 4 : 0; return;
      case 4: this.initStep = 0; return;
      default: this.imr = value;
    }
  }
}
