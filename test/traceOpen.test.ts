import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAsmProgram } from './kernelHelpers.js';
import { startSession } from '../src/kernel/boot/session.js';
import { traceSession } from '../src/trace/hardwareTracer.js';
import { renderText } from '../src/trace/textRenderer.js';
import { renderChromeTrace } from '../src/trace/chromeTrace.js';
import type { TraceEvent } from '../src/kernel/traceEvents.js';

const OPEN_PROGRAM = `
  .text
  .globl _start
_start:
  lea path(%rip), %rdi
  mov $0, %esi          # O_RDONLY
  call open
  mov %eax, %edi
  call exitstatus
  .data
path: .asciz "/small.txt"
`;

async function traceOpen(): Promise<{ events: TraceEvent[]; status: number | null }> {
  const events: TraceEvent[] = [];
  const image = buildAsmProgram(OPEN_PROGRAM);
  const session = await startSession({
    program: { path: 'open', image, argv: ['open'] }, memoryBytes: 16 * 1024 * 1024,
    output: () => {}, trace: (e) => events.push(e),
  });
  try {
    assert.equal(traceSession(session, (e) => events.push(e)), true, 'the program finished');
    return { events, status: session.kernel.exitStatus };
  } finally {
    session.close();
  }
}

test('xk trace of open("/small.txt", O_RDONLY) shows every step of the path, in order', async () => {
  const { events, status } = await traceOpen();
  assert.equal(status, 3, 'open returned fd 3 (0-2 are the console), passed to exit');
  // The open episode: from the stub to the return to user mode.
  const start = events.findIndex((e) => e.step === 'stub' && e.text.startsWith('open'));
  assert.ok(start >= 0, 'the open stub was seen');
  const path = events.slice(start, events.findIndex((e, i) => i > start && e.step === 'user') + 1);
  assert.deepEqual(path.map((e) => e.step), [
    'stub', 'int', 'gate', 'vector', 'alltraps', 'trap', 'syscall', 'sys', 'op', 'return', 'trapret', 'iretq', 'user',
  ]);
  const get = (step: string) => path.find((e) => e.step === step)!;
  // The trap frame holds what the user had at the int: rip after it, rsp, cs, ss, and rax = 15.
  const int = get('int').args!;
  const trap = get('trap').args!;
  assert.equal(trap.trapno, 64);
  assert.equal(trap.rip, int.rip);
  assert.equal(trap.rsp, int.rsp);
  assert.equal(trap.cs, int.cs);
  assert.equal(trap.ss, int.ss);
  assert.equal(int.cs, '0x23');
  assert.equal(int.ss, '0x1b');
  assert.equal(int.rax, 15);
  assert.equal(trap.rax, '0xf');
  assert.equal(get('gate').args!.vector, 64);
  assert.equal(get('sys').text, 'sys_open("/small.txt", 0)');
  assert.equal(get('return').args!.value, 3);
  // Back to the instruction after the int, with the result in rax.
  assert.equal(get('user').args!.rip, int.rip);
  assert.equal(get('user').args!.rax, 3);
  // Instruction counts never go backwards.
  for (let i = 1; i < path.length; i++) assert.ok(path[i].count >= path[i - 1].count, `${path[i].step} after ${path[i - 1].step}`);
  // int, then 3 vector-stub instructions and 17 in alltraps before trap().
  assert.equal(get('trap').count - get('int').count, 1 + 3 + 17);
});

test('the text and Chrome renderings of the trace', async () => {
  const { events } = await traceOpen();
  const text = renderText(events);
  assert.match(text, /pid 1: open\("\/small.txt", 0\) = 3/);
  assert.match(text, /int \$64 at 0x40/);
  assert.match(text, /IDT\[64\] interrupt gate \(DPL 3\)/);
  assert.match(text, /alltraps: push r15/);
  assert.match(text, /sys_open\("\/small.txt", 0\)/);
  assert.match(text, /iretq/);
  const json = JSON.parse(renderChromeTrace(events));
  const slice = json.traceEvents.find((e: { ph: string; name: string }) => e.ph === 'X' && e.name.startsWith('open'));
  assert.ok(slice && slice.dur > 0);
  assert.ok(json.traceEvents.every((e: { ts: number }) => Number.isFinite(e.ts)));
});

test('a timer interrupt in user mode is traced through vector32 and back, and shown with --all', async () => {
  const events: TraceEvent[] = [];
  const image = buildAsmProgram(`
  .globl _start
_start:
  mov $200, %ecx
1: dec %ecx
  jnz 1b
  mov $0, %edi
  call exitstatus
`);
  const session = await startSession({
    program: { path: 'spin', image, argv: ['spin'] }, memoryBytes: 16 * 1024 * 1024, timerInterval: 100,
    output: () => {}, trace: (e) => events.push(e),
  });
  try {
    assert.equal(traceSession(session, (e) => events.push(e)), true);
  } finally {
    session.close();
  }
  const start = events.findIndex((e) => e.step === 'interrupted');
  assert.ok(start >= 0, 'an interrupt of user code was seen');
  const steps = events.slice(start, start + 8).map((e) => e.step);
  assert.deepEqual(steps, ['interrupted', 'gate', 'vector', 'alltraps', 'trap', 'trapret', 'iretq', 'user']);
  assert.equal(events[start + 2].text, 'vector32: push $0; push $32; jmp alltraps');
  assert.equal(events[start + 4].args!.trapno, 32);
  assert.equal(events[start + 7].args!.rip, events[start].args!.rip, 'resumed where it was interrupted');
  assert.doesNotMatch(renderText(events), /interrupt 32/);
  assert.match(renderText(events, { all: true }), /pid 1: interrupt 32/);
});
