// GDB remote serial protocol framing: `$payload#cs`, where cs is the sum of the
// payload bytes mod 256 as two hex digits. The receiver answers `+` (good) or
// `-` (resend) until no-ack mode is on. A lone 0x03 byte is an interrupt
// (Ctrl-C). In a payload `}` escapes the next byte (byte XOR 0x20); in binary
// data (X packets) `#`, `$`, `}` and `*` are always escaped.

/** Longest packet payload the stub accepts (advertised as PacketSize in qSupported). */
export const MAX_PACKET = 0x4000;

export type Incoming =
  | { kind: 'packet'; payload: Buffer }
  | { kind: 'interrupt' }
  | { kind: 'ack' }
  | { kind: 'nack' }
  | { kind: 'bad'; reason: string };

export function checksum(bytes: Buffer): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return sum;
}

/** Frame a payload as `$payload#cs` (escaping the bytes that need it). */
export function frame(payload: string | Buffer): Buffer {
  const raw = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  const out: number[] = [];
  for (const b of raw) {
    if (b === 0x23 || b === 0x24 || b === 0x7d || b === 0x2a) out.push(0x7d, b ^ 0x20);
    else out.push(b);
  }
  const body = Buffer.from(out);
  return Buffer.concat([Buffer.from('$'), body, Buffer.from('#' + checksum(body).toString(16).padStart(2, '0'))]);
}

/** Undo `}` escapes. */
export function unescape(body: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    if (body[i] === 0x7d && i + 1 < body.length) out.push(body[++i] ^ 0x20);
    else out.push(body[i]);
  }
  return Buffer.from(out);
}

/**
 * Splits the byte stream from gdb into acks, interrupts and packets. A packet
 * whose checksum is wrong, or that grows past MAX_PACKET, or that is not hex
 * after `#`, comes out as 'bad' (the stub answers `-`); the reader then looks
 * for the next `$`.
 */
export class PacketReader {
  private buffer = Buffer.alloc(0);

  push(chunk: Buffer): Incoming[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const out: Incoming[] = [];
    for (;;) {
      if (this.buffer.length === 0) break;
      const c = this.buffer[0];
      if (c === 0x2b) { out.push({ kind: 'ack' }); this.buffer = this.buffer.subarray(1); continue; }
      if (c === 0x2d) { out.push({ kind: 'nack' }); this.buffer = this.buffer.subarray(1); continue; }
      if (c === 0x03) { out.push({ kind: 'interrupt' }); this.buffer = this.buffer.subarray(1); continue; }
      if (c !== 0x24) {
        // Noise between packets: skip to the next thing we understand.
        let i = 1;
        while (i < this.buffer.length && ![0x24, 0x2b, 0x2d, 0x03].includes(this.buffer[i])) i++;
        out.push({ kind: 'bad', reason: 'bytes outside a packet' });
        this.buffer = this.buffer.subarray(i);
        continue;
      }
      const hash = this.buffer.indexOf(0x23, 1);
      if (hash < 0) {
        if (this.buffer.length > MAX_PACKET + 4) {
          out.push({ kind: 'bad', reason: 'packet too long' });
          const next = this.buffer.indexOf(0x24, 1);
          this.buffer = next < 0 ? Buffer.alloc(0) : this.buffer.subarray(next);
          continue;
        }
        // A `$` inside an unfinished packet starts a new one (the old one was truncated).
        const restart = this.buffer.indexOf(0x24, 1);
        if (restart > 0) { out.push({ kind: 'bad', reason: 'truncated packet' }); this.buffer = this.buffer.subarray(restart); continue; }
        break;
      }
      if (this.buffer.length < hash + 3) break; // the two checksum digits are not here yet
      const body = this.buffer.subarray(1, hash);
      const digits = this.buffer.subarray(hash + 1, hash + 3).toString('latin1');
      this.buffer = this.buffer.subarray(hash + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(digits)) { out.push({ kind: 'bad', reason: 'checksum is not hex' }); continue; }
      if (body.length > MAX_PACKET) { out.push({ kind: 'bad', reason: 'packet too long' }); continue; }
      if (body.includes(0x24)) { out.push({ kind: 'bad', reason: 'truncated packet' }); continue; }
      if (parseInt(digits, 16) !== checksum(body)) { out.push({ kind: 'bad', reason: 'bad checksum' }); continue; }
      out.push({ kind: 'packet', payload: unescape(body) });
    }
    return out;
  }
}

/** Bytes as lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** Hex text as bytes, or null if it is not an even number of hex digits. */
export function fromHex(text: string): Uint8Array | null {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return null;
  return new Uint8Array(Buffer.from(text, 'hex'));
}
