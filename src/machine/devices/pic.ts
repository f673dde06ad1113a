// The interrupt controller: a simplified pair of Intel 8259A PICs, master and
// slave, with 16 lines. Lines 0-7 are the master's, 8-15 the slave's; the slave
// is wired to the master's line 2 (cascade), as on a PC.
//
//   port 0x20 / 0xA0 (command)  write 0x20: end of interrupt (EOI) for the highest-priority
//                        in-service line of that PIC. Write with bit 4 set: start
//                        initialization (ICW1), after which its data port takes ICW2
//                        (vector base), ICW3 and, if ICW1 bit 0 was set, ICW4.
//                        read: that PIC's in-service register (ISR).
//   port 0x21 / 0xA1 (data)     read/write that PIC's mask register (bit n = 1 masks its line n).
//
// A device raises a line (edge): the line's request bit (IRR) is set. When the
// CPU accepts the interrupt the request moves to in-service (ISR) and the CPU
// runs vector base + n (the slave's base for lines 8-15). A slave line also puts
// the master's cascade line 2 in service, so the kernel ends it with an EOI to
// the slave and another to the master, as on real hardware. Until then, that
// line and every lower-priority line stay blocked, so an IRQ is never
// re-delivered before it is acknowledged. Priority: 0, 1, then the slave's
// lines (all at line 2's place; among them 8 first), then 3..7.

import { PortDevice, PortSize } from '../ports.js';

export const PIC_COMMAND = 0x20;
export const PIC_DATA = 0x21;
export const PIC_SLAVE_COMMAND = 0xa0;
export const PIC_SLAVE_DATA = 0xa1;
/** The master's line the slave is wired to. */
export const PIC_CASCADE = 2;
export const PIC_EOI = 0x20;
/** Vector of IRQ 0 after reset (the xk convention; a guest may change it with ICW2). */
export const PIC_DEFAULT_BASE = 32;
/** Vector of IRQ 8 after reset. */
export const PIC_DEFAULT_SLAVE_BASE = 40;

/** Priority rank of a line: lower is served first; the slave's lines share line 2's rank. */
function rank(line: number): number {
  return line < 8 ? line : PIC_CASCADE;
}

export class Pic implements PortDevice {
  irr = 0; // requested (16 bits: bit n = line n)
  isr = 0; // in service
  imr = 0; // masked
  vectorBase = PIC_DEFAULT_BASE;
  slaveVectorBase = PIC_DEFAULT_SLAVE_BASE;
  // Initialization state per chip (0 = master, 1 = slave): 0 = normal; 2..4 = expecting ICW2..ICW4.
  private initStep = [0, 0];
  private wantIcw4 = [false, false];

  /** A device signals line `irq` (0..15). */
  raise(irq: number): void {
    this.irr |= 1 << irq;
  }

  /** The line that would be delivered now, or -1: unmasked, requested, and above everything in service. */
  pendingLine(): number {
    const ready = this.irr & ~this.imr & 0xffff;
    if (ready === 0) return -1;
    let line = -1;
    for (let bits = ready; bits !== 0; bits &= bits - 1) {
      const l = 31 - Math.clz32(bits & -bits);
      if (line < 0 || rank(l) < rank(line)) line = l;
    }
    for (let bits = this.isr; bits !== 0; bits &= bits - 1) {
      if (rank(31 - Math.clz32(bits & -bits)) <= rank(line)) return -1;
    }
    return line;
  }

  /** The CPU takes line `irq`: it moves from requested to in service. Returns its vector. */
  acknowledge(irq: number): number {
    this.irr &= ~(1 << irq);
    this.isr |= 1 << irq;
    if (irq >= 8) {
      this.isr |= 1 << PIC_CASCADE;
      return this.slaveVectorBase + irq - 8;
    }
    return this.vectorBase + irq;
  }

  /** Non-specific EOI to the master: clear its highest-priority in-service bit. */
  endOfInterrupt(): void {
    const master = this.isr & 0xff;
    if (master !== 0) this.isr &= ~(master & -master);
  }

  /** Non-specific EOI to the slave. */
  private slaveEndOfInterrupt(): void {
    const slave = this.isr & 0xff00;
    if (slave !== 0) this.isr &= ~(slave & -slave);
  }

  read(port: number, _size: PortSize): number {
    const chip = port === PIC_SLAVE_COMMAND || port === PIC_SLAVE_DATA ? 1 : 0;
    const shift = 8 * chip;
    const reg = port === PIC_COMMAND || port === PIC_SLAVE_COMMAND ? this.isr : this.imr;
    return (reg >>> shift) & 0xff;
  }

  write(port: number, _size: PortSize, value: number): void {
    value &= 0xff;
    const chip = port === PIC_SLAVE_COMMAND || port === PIC_SLAVE_DATA ? 1 : 0;
    const shift = 8 * chip;
    const lines = 0xff << shift;
    if (port === PIC_COMMAND || port === PIC_SLAVE_COMMAND) {
      if (value & 0x10) { // ICW1: reinitialize this chip
        this.irr &= ~lines;
        this.isr &= ~lines;
        this.imr &= ~lines;
        this.wantIcw4[chip] = (value & 1) !== 0;
        this.initStep[chip] = 2;
      } else if ((value & 0xe0) === 0x20) { // OCW2 non-specific EOI
        if (chip === 0) this.endOfInterrupt();
        else this.slaveEndOfInterrupt();
      } else if ((value & 0xe0) === 0x60) { // OCW2 specific EOI for line value & 7
        this.isr &= ~(1 << ((value & 7) + shift));
      }
      return;
    }
    switch (this.initStep[chip]) {
      case 2:
        if (chip === 0) this.vectorBase = value & 0xf8;
        else this.slaveVectorBase = value & 0xf8;
        this.initStep[chip] = 3;
        return;
      case 3: this.initStep[chip] = this.wantIcw4[chip] ? 4 : 0; return;
      case 4: this.initStep[chip] = 0; return;
      default: this.imr = (this.imr & ~lines) | (value << shift);
    }
  }
}
