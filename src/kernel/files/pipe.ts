// Pipes: a 512-byte ring buffer between a read end and a write end.
//
// Nothing here blocks. pipeRead says 'block' when the pipe is empty but could
// still be written; pipeWrite accepts what fits (maybe nothing) and says
// 'broken' once no reader is left. After each change the other side's channel
// is woken so a sleeping process retries.

import { WaitChannel, wakeup } from '../fs/channel.js';

export const PIPESIZE = 512;

export class Pipe {
  readonly data = new Uint8Array(PIPESIZE);
  /** Total bytes ever read / written; the buffer holds nwrite - nread bytes. */
  nread = 0;
  nwrite = 0;
  readOpen = true;
  writeOpen = true;
  readonly readable = new WaitChannel('pipe readable');
  readonly writable = new WaitChannel('pipe writable');
}

/** Up to `max` bytes; an empty array at end of file (empty, no writers); 'block' when empty with writers. */
export function pipeRead(p: Pipe, max: number): Uint8Array | 'block' {
  if (p.nread === p.nwrite) return p.writeOpen && max > 0 ? 'block' : new Uint8Array(0);
  const n = Math.max(0, Math.min(max, p.nwrite - p.nread));
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = p.data[(p.nread + i) % PIPESIZE];
  p.nread += n;
  if (n > 0) wakeup(p.writable);
  return out;
}

/** What a read would do now, without taking anything: copy bytes, return end of file, or wait. */
export function pipeReadState(p: Pipe): 'data' | 'end' | 'block' {
  if (p.nread !== p.nwrite) return 'data';
  return p.writeOpen ? 'block' : 'end';
}

/** Bytes accepted now (0 when full); 'broken' when no reader is left. */
export function pipeWrite(p: Pipe, bytes: Uint8Array): number | 'broken' {
  if (!p.readOpen) return 'broken';
  const n = Math.min(bytes.length, PIPESIZE - (p.nwrite - p.nread));
  for (let i = 0; i < n; i++) p.data[(p.nwrite + i) % PIPESIZE] = bytes[i];
  p.nwrite += n;
  if (n > 0) wakeup(p.readable);
  return n;
}

/** Closes one end; wakes the other side (a reader sees EOF, a writer sees 'broken'). */
export function pipeClose(p: Pipe, writeEnd: boolean): void {
  if (writeEnd) {
    p.writeOpen = false;
    wakeup(p.readable);
  } else {
    p.readOpen = false;
    wakeup(p.writable);
  }
}
