// The interval timer. Time in xk is counted in retired instructions, so runs are
// deterministic: the timer raises IRQ 0 every `interval` instructions.
//
//   port 0x40  (out, 1/2/4 bytes) reload count: instructions between interrupts.
//              (in) instructions left until the next interrupt.
//   port 0x43  (out) control: bit 0 = 1 enables (and restarts the countdown), 0 disables.
//              (in) bit 0 = enabled.
//
// The host may also program it (Machine option timerInterval).

import { PortDevice, PortSize } from '../ports.js';

export const TIMER_RELOAD = 0x40;
export const TIMER_CONTROL = 0x43;
export const TIMER_IRQ = 0;

export class Timer implements PortDevice {
  interval = 0;
  enabled = false;
  /** Clock value at which the next interrupt is due (Infinity when off). */
  deadline = Infinity;

  constructor(private readonly clock: () => number, private readonly raise: (irq: number) => void) {}

  /** Program the timer: interrupt every `interval` instructions (0 = off). */
  setInterval(interval: number): void {
    if (!Number.isInteger(interval) || interval < 0) throw new Error(`timer interval must be a non-negative integer, got ${interval}`);
    this.interval = interval;
    this.enabled = interval > 0;
    this.restart();
  }

  private restart(): void {
    this.deadline = this.enabled && this.interval > 0 ? this.clock() + this.interval : Infinity;
  }

  /** Called at instruction boundaries: raise IRQ 0 if the deadline has passed. */
  tick(now: number): void {
    if (now < this.deadline) return;
    this.raise(TIMER_IRQ);
    // Ticks that were missed (e.g. while halted) merge into one, like an edge-triggered line.
    this.deadline = Math.max(this.deadline + this.interval, now + 1);
  }

  read(port: number, _size: PortSize): number {
    if (port === TIMER_RELOAD) return this.enabled ? Math.max(0, this.deadline - this.clock()) >>> 0 : 0;
    if (port === TIMER_CONTROL) return this.enabled ? 1 : 0;
    return 0xff;
  }

  write(port: number, _size: PortSize, value: number): void {
    if (port === TIMER_RELOAD) {
      this.interval = value >>> 0;
      this.restart();
    } else if (port === TIMER_CONTROL) {
      this.enabled = (value & 1) !== 0;
      this.restart();
    }
  }
}
