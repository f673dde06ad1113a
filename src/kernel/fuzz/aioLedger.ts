// The fuzzer's ledger of asynchronous I/O, kept from the kernel's own trace
// events (aio-enqueue, aio-complete, aio-drop, signal-raise, signal-deliver), so
// it sees what the kernel did, not what the fuzzer asked. Its oracles:
//
//   each request ends once    an enqueued request completes (aio-complete) or,
//                             when its owner exits, execs or is killed first, is
//                             dropped (aio-drop: cancelled on exit); never both,
//                             never twice, never a request nobody enqueued
//   every request ends        once the machine is quiet (no fuzzing process, no
//                             request in the kernel's table, the disk idle), no
//                             request is still open
//   signal raised once        a completion with a signal raises it exactly once
//                             (si_code SI_ASYNCIO, the request id); one without, never
//   signal delivered once     a handler frame for an SI_ASYNCIO signal carries an id
//                             that completed in that process with that signal, and
//                             no id is delivered twice. (Signals do not queue: two
//                             completions raising the same signal before delivery
//                             give one frame, carrying the later id. Liveness, that
//                             a raised signal is not left pending, is the fuzzer's
//                             "signal stuck" check.)
//   results agree             aio_status / aio_return give the result the completion had

import type { TraceEvent } from '../traceEvents.js';
import { SI_ASYNCIO } from '../syscall/sysaio.js';

const EINPROGRESS = 115;

interface Entry {
  pid: number;
  sig: number;
  state: 'open' | 'complete' | 'dropped';
  result: number | null;
  raises: number;
  deliveries: number;
  /** The kernel has forgotten it (aio_return, or dropped); its signal may still be pending. */
  forgotten: boolean;
}

export class AioLedger {
  private readonly entries = new Map<number, Entry>();
  /** Totals over the run (the report prints them). */
  enqueued = 0;
  completed = 0;
  dropped = 0;
  raised = 0;
  delivered = 0;

  constructor(private readonly violation: (message: string) => void) {}

  /** A trace event from the kernel. */
  event(e: TraceEvent): void {
    const a = e.args;
    if (!a) return;
    switch (e.step) {
      case 'aio-enqueue': {
        const id = Number(a.id);
        if (this.entries.has(id)) this.violation(`request id ${id} enqueued twice`);
        this.entries.set(id, { pid: e.pid, sig: Number(a.sig), state: 'open', result: null, raises: 0, deliveries: 0, forgotten: false });
        this.enqueued++;
        return;
      }
      case 'aio-complete': {
        const r = this.known(Number(a.id), 'completes');
        if (!r) return;
        if (r.state !== 'open') this.violation(`request ${a.id} completes again (it was ${r.state})`);
        r.state = 'complete';
        r.result = Number(a.result);
        this.completed++;
        return;
      }
      case 'aio-drop': {
        const r = this.known(Number(a.id), 'is dropped');
        if (!r) return;
        if (r.forgotten) this.violation(`request ${a.id} dropped after the kernel had forgotten it (${r.state})`);
        if (r.state === 'open') {
          if (Number(a.complete) !== 0) this.violation(`request ${a.id} dropped as complete, but it never completed`);
          r.state = 'dropped';
          this.dropped++;
        }
        this.checkRaises(Number(a.id), r);
        r.forgotten = true; // (kept: a signal it raised may still be delivered)
        return;
      }
      case 'signal-raise':
      case 'signal-deliver': {
        if (Number(a.code) !== SI_ASYNCIO) return;
        const id = Number(a.value);
        const raise = e.step === 'signal-raise';
        const r = this.known(id, raise ? 'raises a signal' : 'has its signal delivered');
        if (!r) return;
        if (r.pid !== e.pid || r.sig !== Number(a.sig)) {
          this.violation(`SI_ASYNCIO signal ${a.sig} for request ${id} ${raise ? 'raised' : 'delivered'} in pid ${e.pid}; ` +
            `the request is pid ${r.pid}'s with signal ${r.sig}`);
        }
        if (raise) {
          if (r.state !== 'complete') this.violation(`request ${id}'s signal raised while the request is ${r.state}`);
          if (++r.raises > 1) this.violation(`request ${id}'s completion signal raised ${r.raises} times`);
          this.raised++;
        } else {
          if (r.raises === 0) this.violation(`request ${id}'s signal delivered but never raised`);
          if (++r.deliveries > 1) this.violation(`request ${id}'s completion signal delivered ${r.deliveries} times`);
          this.delivered++;
        }
        return;
      }
    }
  }

  private known(id: number, what: string): Entry | undefined {
    const r = this.entries.get(id);
    if (!r) this.violation(`request ${id} ${what}, but no such request was enqueued`);
    return r;
  }

  /** aio_status(id) or aio_return(id) gave `result`: it must agree with the ledger. */
  checkResult(call: 'aio_status' | 'aio_return', pid: number, id: number, result: number): void {
    if (result === -1) return; // not a request of the caller (or already returned)
    const r = this.entries.get(id);
    if (!r || r.pid !== pid || r.forgotten) {
      this.violation(`${call}(${id}) in pid ${pid} returned ${result} for a request that is not its own${r?.forgotten ? ' (any more)' : ''}`);
      return;
    }
    if (result === -EINPROGRESS) {
      if (r.state !== 'open') this.violation(`${call}(${id}) says in progress, but the request is ${r.state}`);
    } else if (r.state !== 'complete' || r.result !== result) {
      this.violation(`${call}(${id}) returned ${result}, but the request is ${r.state}${r.state === 'complete' ? ` with ${r.result}` : ''}`);
    }
    if (call === 'aio_return' && result !== -EINPROGRESS) this.close(id);
  }

  /** The result was returned: the kernel forgets the request. Its raise count is final; its signal may still be delivered. */
  private close(id: number): void {
    const r = this.entries.get(id)!;
    this.checkRaises(id, r);
    r.forgotten = true;
  }

  private checkRaises(id: number, r: Entry): void {
    if (r.state === 'complete' && r.raises !== (r.sig ? 1 : 0)) {
      this.violation(`request ${id} completed with signal ${r.sig} but raised it ${r.raises} times`);
    }
  }

  /**
   * The machine is quiet and no process that enqueued is left: every request
   * has ended (completed, or dropped when its owner went), and the ledger is empty.
   */
  quiescent(): void {
    for (const [id, r] of this.entries) {
      if (r.state === 'open') this.violation(`request ${id} of pid ${r.pid} neither completed nor was cancelled when its owner exited`);
      else this.checkRaises(id, r);
    }
    this.entries.clear();
  }

  /** Requests the kernel still holds, as far as the ledger knows. */
  get open(): number {
    let n = 0;
    for (const r of this.entries.values()) if (!r.forgotten) n++;
    return n;
  }
}
