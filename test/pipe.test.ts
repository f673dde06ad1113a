import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pipe, PIPESIZE, pipeClose, pipeRead, pipeWrite } from '../src/kernel/files/pipe.js';
import { setWakeup, type WaitChannel } from '../src/kernel/fs/channel.js';
import { consoleInput, consoleInputEnd, consoleRead, consoleReadable, consoleWrite, resetConsole, setConsoleEcho, setConsoleOutput } from '../src/kernel/files/console.js';

function text(r: Uint8Array | 'block' | number | 'broken'): string | typeof r {
  return r instanceof Uint8Array ? Buffer.from(r).toString('latin1') : r;
}

test('pipe: ring buffer, partial writes when full, wakeups on both channels', () => {
  const woken: WaitChannel[] = [];
  setWakeup((c) => woken.push(c));
  const p = new Pipe();
  assert.equal(pipeRead(p, 10), 'block');
  assert.equal(pipeWrite(p, Buffer.from('hello')), 5);
  assert.deepEqual(woken, [p.readable]);
  assert.equal(text(pipeRead(p, 3)), 'hel');
  assert.deepEqual(woken, [p.readable, p.writable]);
  assert.equal(text(pipeRead(p, 100)), 'lo');
  // Fill past the wrap-around point.
  const big = new Uint8Array(PIPESIZE + 100).map((_, i) => i & 0xff);
  assert.equal(pipeWrite(p, big), PIPESIZE);
  assert.equal(pipeWrite(p, big.subarray(PIPESIZE)), 0, 'full: nothing accepted');
  assert.deepEqual(pipeRead(p, PIPESIZE - 1), big.subarray(0, PIPESIZE - 1));
  assert.equal(pipeWrite(p, big.subarray(PIPESIZE, PIPESIZE + 1)), 1);
  assert.deepEqual(pipeRead(p, 10), Uint8Array.of(big[PIPESIZE - 1], big[PIPESIZE]));
  setWakeup(() => {});
});

test('pipe: EOF after the writer closes, broken after the reader closes', () => {
  const woken: WaitChannel[] = [];
  setWakeup((c) => woken.push(c));
  const p = new Pipe();
  pipeWrite(p, Buffer.from('x'));
  pipeClose(p, true);
  assert.ok(woken.includes(p.readable));
  assert.equal(text(pipeRead(p, 10)), 'x', 'buffered data still readable');
  assert.equal(text(pipeRead(p, 10)), '', 'then end of file');
  const q = new Pipe();
  pipeClose(q, false);
  assert.ok(woken.includes(q.writable));
  assert.equal(pipeWrite(q, Buffer.from('x')), 'broken');
  setWakeup(() => {});
});

test('console: line-buffered input with editing, ^D, end of input; output to the serial port', () => {
  resetConsole();
  const out: string[] = [];
  const woken: WaitChannel[] = [];
  setWakeup((c) => woken.push(c));
  setConsoleOutput((b) => out.push(Buffer.from(b).toString('latin1')));
  assert.equal(consoleRead(10), 'block');
  consoleInput(Buffer.from('ab'));
  assert.equal(consoleRead(10), 'block', 'no complete line yet');
  assert.deepEqual(woken, []);
  consoleInput(Buffer.from('x\x7fc\r'));
  assert.deepEqual(woken, [consoleReadable]);
  assert.equal(text(consoleRead(2)), 'ab');
  assert.equal(text(consoleRead(10)), 'c\n', 'rest of the line');
  consoleInput(Buffer.from('one\ntwo\n'));
  assert.equal(text(consoleRead(100)), 'one\n', 'one line per read');
  assert.equal(text(consoleRead(100)), 'two\n');
  consoleInput(Buffer.from('junk\x15ok\x04'));
  assert.equal(text(consoleRead(100)), 'ok', '^U kills the line, ^D ends it without newline');
  consoleInput(Buffer.from('\x04'));
  assert.equal(text(consoleRead(100)), '', '^D on an empty line is end of file');
  assert.equal(consoleRead(100), 'block');
  consoleInput(Buffer.from('tail'));
  consoleInputEnd();
  assert.equal(text(consoleRead(100)), 'tail');
  assert.equal(text(consoleRead(100)), '');
  assert.equal(text(consoleRead(100)), '');
  assert.equal(consoleWrite(Buffer.from('hi\n')), 3);
  assert.deepEqual(out, ['hi\n']);
  resetConsole();
  setConsoleOutput((b) => out.push(Buffer.from(b).toString('latin1')));
  setConsoleEcho(true);
  consoleInput(Buffer.from('a\x7f'));
  assert.deepEqual(out.slice(1), ['a', '\b \b']);
  resetConsole();
  setWakeup(() => {});
});
