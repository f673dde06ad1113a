// The kernel on the timed disk (issue 19): a process that reads a file the
// cache does not hold sleeps while the disk works, another process runs, the
// disk interrupt (IRQ 14, vector 46) wakes the reader, and the read returns
// the file's bytes. The instant disk gives the same output.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCProgram, C_PROTOTYPES, runProgram } from './kernelHelpers.js';
import type { TraceEvent } from '../src/kernel/traceEvents.js';

const SIZE = 40 * 1024;
const big = Uint8Array.from({ length: SIZE }, (_, i) => (i * 131 + (i >> 8)) & 0xff);
const expectedSum = big.reduce((s, b) => (s * 31 + b) >>> 0, 0);

const PROGRAM = C_PROTOTYPES + `
static void putnum(unsigned v) { char b[12]; int n = 0; do { b[n++] = '0' + v % 10; v /= 10; } while (v); while (n) write(1, &b[--n], 1); }
static char buf[4096];
int main(void) {
  int pid = fork();
  if (pid == 0) {                       /* B: computes while A waits for the disk */
    volatile unsigned x = 0;
    for (int i = 0; i < 200000; i++) x += i;
    write(1, "B done\\n", 7);
    exit();
  }
  int fd = open("big", 0);              /* A: reads a file that is only on the disk */
  unsigned sum = 0;
  int n, total = 0;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    for (int i = 0; i < n; i++) sum = sum * 31 + (unsigned char)buf[i];
    total += n;
  }
  wait();
  write(1, "A read ", 7); putnum(total); write(1, " sum ", 5); putnum(sum); write(1, "\\n", 1);
  return 0;
}`;

async function run(disk: 'timed' | 'instant') {
  const image = buildCProgram(PROGRAM);
  return runProgram(image, ['prog'], { disk, programs: new Map([['big', big]]) });
}

test('timed disk: A read -> disk request -> A sleeps -> B runs -> IRQ 14 -> A wakes -> read returns', async () => {
  const r = await run('timed');
  assert.equal(r.status, 0, r.message + r.output);
  assert.match(r.output, new RegExp(`A read ${SIZE} sum ${expectedSum}\\n`));
  assert.match(r.output, /B done/);
  const ev = r.events;
  const parent = ev.find((e) => e.step === 'sys' && /sys_read/.test(e.text))!.pid;
  const index = (from: number, pred: (e: TraceEvent) => boolean) => {
    for (let i = from; i < ev.length; i++) if (pred(ev[i])) return i;
    return -1;
  };
  const read = index(0, (e) => e.pid === parent && e.step === 'sys' && /sys_read/.test(e.text));
  const request = index(read, (e) => e.step === 'disk-request');
  const sleeps = index(request, (e) => e.pid === parent && e.step === 'sleep');
  const other = index(sleeps, (e) => e.step === 'switch' && e.pid !== parent);
  const irq = index(other, (e) => e.step === 'disk-irq');
  const done = index(irq, (e) => e.step === 'disk-done');
  const returns = index(done, (e) => e.pid === parent && e.step === 'return' && /sys_read returns [1-9]/.test(e.text));
  for (const [name, at] of Object.entries({ read, request, sleeps, other, irq, done, returns })) {
    assert.ok(at >= 0, `no ${name} event in the expected order`);
  }
  assert.equal(ev[irq].count > ev[request].count, true, 'the interrupt comes later in machine time');
});

test('timed and instant disks: the same output; only the timed one interrupts', async () => {
  const timed = await run('timed');
  const instant = await run('instant');
  const lines = (s: string) => s.split('\n').filter((l) => l.startsWith('A read')).join('\n');
  assert.equal(lines(timed.output), lines(instant.output));
  assert.ok(timed.events.some((e) => e.step === 'disk-irq'));
  assert.ok(!instant.events.some((e) => e.step === 'disk-irq'));
});
