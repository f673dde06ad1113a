// An exception loop: a CPU whose every event handler faults before it retires
// an instruction (an IDT gate pointing at unbacked memory, a handler page the
// CPU cannot execute) takes one exception after another, forever: each
// delivery succeeds, so nothing escalates to a double or triple fault, and no
// instruction retires, so no instruction budget ever runs out. Real hardware
// spins there until it is reset. A run of the machine (machine.ts) for N
// instructions stops instead, as 'limit', once N deliveries (at most
// EXCEPTION_LOOP_DELIVERIES) came in a row with no instruction retired between
// them: a delivery takes the place of an instruction. The monitor (vmm/host.ts) watches
// its guest's deliveries by the same rule, so that the two end such a guest
// at the same delivery.

/** Deliveries in a row, no instruction retired between consecutive ones, after which any run stops. */
export const EXCEPTION_LOOP_DELIVERIES = 10_000;

export class ExceptionLoopWatch {
  private clock = NaN;
  private delivered: number;
  private stalled = 0;
  private readonly limit: number;

  /** `delivered`: the delivery counter (InterruptController.delivered) when a run of `maxInstructions` starts. */
  constructor(delivered: number, maxInstructions: number) {
    this.delivered = delivered;
    this.limit = Math.max(1, Math.min(EXCEPTION_LOOP_DELIVERIES, maxInstructions));
  }

  /**
   * Look at the delivery counter after events that may have delivered, with
   * `clock` the instructions retired so far: true once the run is in an exception loop.
   */
  note(clock: number, delivered: number): boolean {
    const fresh = delivered - this.delivered;
    if (fresh === 0) return false;
    this.delivered = delivered;
    // The first delivery at a new clock value follows a retired instruction; the rest do not.
    if (clock === this.clock) this.stalled += fresh;
    else { this.clock = clock; this.stalled = fresh - 1; }
    return this.stalled >= this.limit;
  }

  /** The stop message of a run that ended in an exception loop. */
  message(rip: number | bigint): string {
    return `exception loop: ${this.limit} exceptions delivered in a row with no instruction retired (at rip 0x${rip.toString(16)})`;
  }
}
