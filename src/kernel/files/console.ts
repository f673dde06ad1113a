// The console device (major 1): the serial port seen as a line-buffered terminal.
//
// Input arrives from the kernel core (consoleInput, called when the serial port
// receives bytes from the host). A read returns at most one line, and only once
// the line is complete (Enter, or ^D which ends it without a newline; ^D on an
// empty line reads as end of file). Backspace/DEL erase a character, ^U the line.
// Output goes straight to the serial port through the function the kernel core
// installs (setConsoleOutput). Optional echo writes typed characters back, as a
// terminal in raw mode needs. ^C (ETX) discards the line being typed and is
// reported to the caller, which sends SIGINT to the foreground (trap.ts).

import { WaitChannel, wakeup } from '../fs/channel.js';

export const consoleReadable = new WaitChannel('console readable');
export const consoleWritable = new WaitChannel('console writable');

let output: (bytes: Uint8Array) => void = () => {};
let echo = false;
/** Completed lines not yet read; an empty entry is an end-of-file mark (^D on an empty line). */
let ready: Uint8Array[] = [];
/** The line being typed. */
let typing: number[] = [];
let inputEnded = false;

const BACKSPACE = 0x08, DEL = 0x7f, CTRL_C = 0x03, CTRL_D = 0x04, CTRL_U = 0x15;

export function setConsoleOutput(fn: (bytes: Uint8Array) => void): void {
  output = fn;
}

export function setConsoleEcho(on: boolean): void {
  echo = on;
}

/** Back to the power-on state (tests, or a fresh kernel in the same host process). */
export function resetConsole(): void {
  ready = [];
  typing = [];
  inputEnded = false;
  echo = false;
  output = () => {};
}

function finishLine(): void {
  ready.push(Uint8Array.from(typing));
  typing = [];
  wakeup(consoleReadable);
}

/** Bytes the serial port received from the host; true when they held a ^C. */
export function consoleInput(bytes: Uint8Array): boolean {
  let interrupt = false;
  for (let c of bytes) {
    if (c === 0x0d) c = 0x0a;
    if (c === BACKSPACE || c === DEL) {
      if (typing.length > 0) {
        typing.pop();
        if (echo) output(Uint8Array.of(BACKSPACE, 0x20, BACKSPACE));
      }
    } else if (c === CTRL_U) {
      while (typing.length > 0) {
        typing.pop();
        if (echo) output(Uint8Array.of(BACKSPACE, 0x20, BACKSPACE));
      }
    } else if (c === CTRL_C) {
      typing = [];
      if (echo) output(Uint8Array.of(0x5e, 0x43, 0x0a)); // ^C and a new line, as a terminal shows it
      interrupt = true;
    } else if (c === CTRL_D) {
      finishLine();
    } else {
      typing.push(c);
      if (echo) output(Uint8Array.of(c));
      if (c === 0x0a) finishLine();
    }
  }
  return interrupt;
}

/** The host closed its input: what is typed becomes readable, then reads return end of file. */
export function consoleInputEnd(): void {
  if (typing.length > 0) finishLine();
  inputEnded = true;
  wakeup(consoleReadable);
}

/** Up to `max` bytes of the oldest complete line; empty at end of file; 'block' when no line is ready. */
export function consoleRead(max: number): Uint8Array | 'block' {
  const line = ready[0];
  if (line === undefined) return inputEnded || max <= 0 ? new Uint8Array(0) : 'block';
  if (line.length === 0) {
    ready.shift();
    return line;
  }
  const n = Math.max(0, Math.min(max, line.length));
  const out = line.slice(0, n);
  if (n === line.length) ready.shift();
  else ready[0] = line.subarray(n);
  return out;
}

/** What a read would do now, without taking anything: copy bytes, return end of file, or wait. */
export function consoleReadState(): 'data' | 'end' | 'block' {
  const line = ready[0];
  if (line === undefined) return inputEnded ? 'end' : 'block';
  return line.length === 0 ? 'end' : 'data';
}

/** Writes to the serial port; never blocks. */
export function consoleWrite(bytes: Uint8Array): number {
  output(bytes.slice());
  return bytes.length;
}
