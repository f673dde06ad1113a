// Serial console: the registers of a 16550 UART at COM1 (0x3F8) that a
// polling or interrupt-driven driver needs.
//
//   0x3F8 +0  write: transmit a byte (to the host callback); read: receive a byte
//          +1  IER interrupt enable: bit 0 = interrupt when a byte has been received
//          +2  IIR (read): 0x04 = received data pending and enabled, 0x01 = none
//          +3  LCR, +4 MCR, +7 scratch: stored, no effect (bit 7 of LCR selects the
//              baud-rate divisor latch at +0/+1, which is stored and ignored)
//          +5  LSR (read): bit 0 data ready, bit 5 transmitter holding register
//              empty, bit 6 transmitter empty (always: output is instantaneous)
//          +6  MSR (read): 0xB0 (CTS, DSR, DCD)
// Input comes from a host byte queue (`feed`). With IER bit 0 set, IRQ 4
// (vector 36) is raised when a byte arrives and after each read that leaves
// more bytes waiting.

import { PortDevice, PortSize } from '../ports.js';

export const COM1 = 0x3f8;
export const SERIAL_IRQ = 4;
export const LSR_DATA_READY = 0x01;
export const LSR_THR_EMPTY = 0x20;
export const LSR_TX_EMPTY = 0x40;

export class Serial implements PortDevice {
  private readonly input: number[] = [];
  private inputHead = 0;
  ier = 0;
  lcr = 0;
  mcr = 0;
  scratch = 0;
  divisor = 1;

  constructor(
    private readonly output: (bytes: Uint8Array) => void,
    private readonly raise: (irq: number) => void,
    readonly base = COM1,
  ) {}

  /** Queue bytes typed at the host. */
  feed(bytes: Uint8Array | string): void {
    const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
    const wasEmpty = !this.dataReady;
    for (const b of data) this.input.push(b);
    if (wasEmpty && data.length > 0) this.signal();
  }

  get dataReady(): boolean {
    return this.inputHead < this.input.length;
  }

  private signal(): void {
    if ((this.ier & 1) !== 0 && this.dataReady) this.raise(SERIAL_IRQ);
  }

  read(port: number, _size: PortSize): number {
    const dlab = (this.lcr & 0x80) !== 0;
    switch (port - this.base) {
      case 0: {
        if (dlab) return this.divisor & 0xff;
        if (!this.dataReady) return 0;
        const b = this.input[this.inputHead++];
        if (this.inputHead > 4096 && this.inputHead * 2 > this.input.length) { // drop consumed bytes
          this.input.splice(0, this.inputHead);
          this.inputHead = 0;
        }
        this.signal();
        return b;
      }
      case 1: return dlab ? (this.divisor >>> 8) & 0xff : this.ier;
      case 2: return (this.ier & 1) !== 0 && this.dataReady ? 0x04 : 0x01;
      case 3: return this.lcr;
      case 4: return this.mcr;
      case 5: return (this.dataReady ? LSR_DATA_READY : 0) | LSR_THR_EMPTY | LSR_TX_EMPTY;
      case 6: return 0xb0;
      case 7: return this.scratch;
    }
    return 0xff;
  }

  write(port: number, _size: PortSize, value: number): void {
    value &= 0xff;
    const dlab = (this.lcr & 0x80) !== 0;
    switch (port - this.base) {
      case 0:
        if (dlab) this.divisor = (this.divisor & 0xff00) | value;
        else this.output(Uint8Array.of(value));
        return;
      case 1:
        if (dlab) { this.divisor = (this.divisor & 0xff) | (value << 8); return; }
        this.ier = value & 0x0f;
        this.signal();
        return;
      case 3: this.lcr = value; return;
      case 4: this.mcr = value; return;
      case 7: this.scratch = value; return;
    }
  }
}
