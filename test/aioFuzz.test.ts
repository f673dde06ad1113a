// Issue 19: the system-call fuzzer on the timed disk. Reads that miss the cache
// sleep until the disk interrupt, so completions (of blocking reads, log writes
// and asynchronous requests) interleave with the fuzzed calls; the asynchronous
// I/O ledger (src/kernel/fuzz/aioLedger.ts) checks that every request ends
// exactly once (completed, or dropped when its owner exits), that completion
// signals are raised and delivered once, and the supervisor checks that the
// machine becomes quiet with nothing left behind between fuzzing processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzz } from '../src/kernel/fuzz/fuzzer.js';
import { AioLedger } from '../src/kernel/fuzz/aioLedger.js';
import type { TraceEvent } from '../src/kernel/traceEvents.js';
import { SI_ASYNCIO } from '../src/kernel/syscall/sysaio.js';

test('fuzzing on the timed disk: 30000 calls with asynchronous completions in between, zero violations', async (t) => {
  const report = await fuzz({ seed: 1919, calls: 30_000, disk: 'timed', maxViolations: 10 });
  t.diagnostic(`${report.calls} calls, ${report.lives} fuzzing processes, ${report.scenarios} scenarios, aio ${JSON.stringify(report.aio)}`);
  assert.deepEqual(report.violations.map((v) => `${v.kind}: ${v.message} (during ${v.call})`), []);
  const a = report.aio;
  assert.ok(a.diskInterrupts > 1000, `the disk interrupted ${a.diskInterrupts} times`);
  assert.ok(a.enqueued > 100, `${a.enqueued} requests enqueued`);
  assert.equal(a.completed + a.dropped, a.enqueued, 'every request completed or was dropped when its owner went');
  assert.ok(a.dropped > 10, `${a.dropped} dropped at exit`);
  assert.ok(a.delivered > 5 && a.delivered <= a.raised, `${a.delivered} completion signals delivered of ${a.raised} raised`);
  assert.ok(report.scenarios >= 50, `${report.scenarios} scripted interleavings`);
});

/** The ledger on events written by hand: what each oracle catches. */
function ledger(): { l: AioLedger; seen: string[]; ev: (step: string, pid: number, args: Record<string, number>) => void } {
  const seen: string[] = [];
  const l = new AioLedger((m) => seen.push(m));
  const ev = (step: string, pid: number, args: Record<string, number>): void =>
    l.event({ count: 0, pid, layer: 'kernel', step, text: '', args } satisfies TraceEvent);
  return { l, seen, ev };
}

test('the aio ledger accepts a request that completes, raises its signal once, is delivered once and returned', () => {
  const { l, seen, ev } = ledger();
  ev('aio-enqueue', 5, { id: 1, sig: 12 });
  ev('aio-enqueue', 5, { id: 2, sig: 0 });
  ev('aio-complete', 5, { id: 1, result: 256 });
  ev('signal-raise', 5, { sig: 12, code: SI_ASYNCIO, value: 1 });
  ev('signal-deliver', 5, { sig: 12, code: SI_ASYNCIO, value: 1 });
  ev('signal-raise', 5, { sig: 10, code: 0, value: 0 }); // kill2: not the ledger's
  l.checkResult('aio_status', 5, 2, -115);
  l.checkResult('aio_return', 5, 1, 256);
  l.checkResult('aio_return', 5, 1, -1); // forgotten: -1, as the kernel says
  ev('aio-enqueue', 5, { id: 3, sig: 23 });
  ev('aio-complete', 5, { id: 3, result: 1 });
  ev('signal-raise', 5, { sig: 23, code: SI_ASYNCIO, value: 3 }); // blocked, say
  l.checkResult('aio_return', 5, 3, 1);
  ev('signal-deliver', 5, { sig: 23, code: SI_ASYNCIO, value: 3 }); // unblocked after the return: still its signal
  ev('aio-drop', 5, { id: 2, complete: 0 }); // the owner exited with request 2 in flight
  l.quiescent();
  assert.deepEqual(seen, []);
  assert.equal(l.open, 0);
});

test('the aio ledger catches a request that ends twice or never, signals raised or delivered twice, wrong results', () => {
  const cases: Array<[string, (ev: ReturnType<typeof ledger>['ev'], l: AioLedger) => void, RegExp]> = [
    ['completes twice', (ev) => { ev('aio-enqueue', 5, { id: 1, sig: 0 }); ev('aio-complete', 5, { id: 1, result: 1 }); ev('aio-complete', 5, { id: 1, result: 1 }); }, /completes again/],
    ['never enqueued', (ev) => ev('aio-complete', 5, { id: 7, result: 1 }), /no such request/],
    ['never ends', (ev, l) => { ev('aio-enqueue', 5, { id: 1, sig: 0 }); l.quiescent(); }, /neither completed nor was cancelled/],
    ['raised twice', (ev) => { ev('aio-enqueue', 5, { id: 1, sig: 12 }); ev('aio-complete', 5, { id: 1, result: 1 }); for (let i = 0; i < 2; i++) ev('signal-raise', 5, { sig: 12, code: SI_ASYNCIO, value: 1 }); }, /raised 2 times/],
    ['never raised', (ev, l) => { ev('aio-enqueue', 5, { id: 1, sig: 12 }); ev('aio-complete', 5, { id: 1, result: 1 }); l.quiescent(); }, /raised it 0 times/],
    ['raised before completion', (ev) => { ev('aio-enqueue', 5, { id: 1, sig: 12 }); ev('signal-raise', 5, { sig: 12, code: SI_ASYNCIO, value: 1 }); }, /while the request is open/],
    ['delivered twice', (ev) => { ev('aio-enqueue', 5, { id: 1, sig: 12 }); ev('aio-complete', 5, { id: 1, result: 1 }); ev('signal-raise', 5, { sig: 12, code: SI_ASYNCIO, value: 1 }); for (let i = 0; i < 2; i++) ev('signal-deliver', 5, { sig: 12, code: SI_ASYNCIO, value: 1 }); }, /delivered 2 times/],
    ['delivered to another process', (ev) => { ev('aio-enqueue', 5, { id: 1, sig: 12 }); ev('aio-complete', 5, { id: 1, result: 1 }); ev('signal-raise', 5, { sig: 12, code: SI_ASYNCIO, value: 1 }); ev('signal-deliver', 6, { sig: 12, code: SI_ASYNCIO, value: 1 }); }, /the request is pid 5's/],
    ['wrong result', (ev, l) => { ev('aio-enqueue', 5, { id: 1, sig: 0 }); ev('aio-complete', 5, { id: 1, result: -14 }); l.checkResult('aio_return', 5, 1, 4096); }, /returned 4096, but the request is complete with -14/],
    ['in progress after completion', (ev, l) => { ev('aio-enqueue', 5, { id: 1, sig: 0 }); ev('aio-complete', 5, { id: 1, result: 3 }); l.checkResult('aio_status', 5, 1, -115); }, /says in progress/],
    ['dropped twice', (ev) => { ev('aio-enqueue', 5, { id: 1, sig: 0 }); ev('aio-drop', 5, { id: 1, complete: 0 }); ev('aio-drop', 5, { id: 1, complete: 0 }); }, /dropped after the kernel had forgotten it/],
    ['returned twice', (ev, l) => { ev('aio-enqueue', 5, { id: 1, sig: 0 }); ev('aio-complete', 5, { id: 1, result: 3 }); l.checkResult('aio_return', 5, 1, 3); l.checkResult('aio_return', 5, 1, 3); }, /not its own \(any more\)/],
  ];
  for (const [name, run, expected] of cases) {
    const { l, seen, ev } = ledger();
    run(ev, l);
    assert.ok(seen.some((m) => expected.test(m)), `${name}: ${JSON.stringify(seen)}`);
  }
});
