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
// at the same delivery. The monitor's watch lives as long as its VM: a saved
// VM carries its deliveries in a row (vmState.ts), so that a run resumed in
// the middle of an exception loop stops at the same delivery as a run that was
// never interrupted.

/** Deliveries in a row, no instruction retired between consecutive ones, after which any run stops. */
export const EXCEPTION_LOOP_DELIVERIES = 10_000;

/** A run of `maxInstructions` stops at that many deliveries in a row if it is fewer (a delivery takes an instruction's place). */
const runLimit = (maxInstructions: number): number => Math.max(1, Math.min(EXCEPTION_LOOP_DELIVERIES, maxInstructions));

export class ExceptionLoopWatch {
  private clock = NaN;
  private delivered: number;
  private stalled = 0;
  private limit: number;

  /** `delivered`: the delivery counter (InterruptController.delivered) when a run of `maxInstructions` starts. */
  constructor(delivered: number, maxInstructions: number) {
    this.delivered = delivered;
    this.limit = runLimit(maxInstructions);
  }

  /** Another run of `maxInstructions` on the same CPU: the deliveries in a row so far still count. */
  nextRun(delivered: number, maxInstructions: number): void {
    this.delivered = delivered;
    this.limit = runLimit(maxInstructions);
  }

  /** Has the loop already run its full course (a run resumed there ends at once, as the uninterrupted one ended)? */
  get ended(): boolean {
    return this.stalled >= EXCEPTION_LOOP_DELIVERIES;
  }

  /** The deliveries since the last retired instruction, the clock reading `clock` (0: none): what a saved VM keeps. */
  deliveriesAt(clock: number): number {
    return clock === this.clock ? this.stalled + 1 : 0;
  }

  /** A resumed VM: `deliveries` (deliveriesAt) came since its last retired instruction, at clock `clock`. */
  resumeAt(clock: number, deliveries: number): void {
    this.clock = deliveries > 0 ? clock : NaN;
    this.stalled = deliveries > 0 ? deliveries - 1 : 0;
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
