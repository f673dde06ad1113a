// The GDB remote protocol: one gdb connection talking to one DebugTarget.
// The transport (TCP, a Unix socket, a stdio pipe) only moves bytes; the stub
// answers packets, runs the target for `c`/`s`/`vCont` in slices so that a
// Ctrl-C (0x03) from gdb is seen, and reports stops. Breakpoints and
// watchpoints are the machine's (machine/debugExceptions.ts), set in the
// target's OutsideDebugger: Z0 software breakpoints (any number), Z1 hardware
// breakpoints and Z2/Z3/Z4 write/read/access watchpoints in four debug-register
// slots, matched by the same rules as DR0-DR3 and DR7 (a data access stops
// right after the instruction that made it; read and access watchpoints fire
// on reads). A step is the machine's single-step stop. Unknown packets get the
// empty reply; malformed ones `-`.

import { frame, fromHex, MAX_PACKET, PacketReader, toHex } from './packets.js';
import type { DebugTarget, StopEvent } from './target.js';
import { REGISTERS, TARGET_XML } from './targetDescription.js';

const SIGINT = 2, SIGTRAP = 5;
/** Instructions run between looks at the connection while continuing. */
const SLICE = 20_000;

const WATCH_TYPES = ['hbreak', 'watch', 'rwatch', 'awatch'] as const;

export class GdbStub {
  private readonly reader = new PacketReader();
  private noAck = false;
  private running = false;
  private interruptRequested = false;
  private lastPacket: Buffer | null = null;
  /** Set when gdb detached or killed the target. */
  ended: 'detach' | 'kill' | 'exited' | null = null;

  constructor(
    private readonly target: DebugTarget,
    private readonly send: (bytes: Buffer) => void,
    private readonly onEnd: (how: 'detach' | 'kill' | 'exited') => void = () => {},
  ) {}

  /** Bytes from gdb. */
  receive(chunk: Buffer): void {
    for (const item of this.reader.push(chunk)) {
      switch (item.kind) {
        case 'ack': break;
        case 'nack': if (this.lastPacket && !this.noAck) this.send(this.lastPacket); break;
        case 'interrupt': this.interruptRequested = true; break;
        case 'bad': this.send(Buffer.from('-')); break;
        case 'packet':
          if (!this.noAck) this.send(Buffer.from('+'));
          this.handle(item.payload);
      }
    }
  }

  private reply(payload: string | Buffer): void {
    const framed = frame(payload);
    this.lastPacket = framed;
    this.send(framed);
  }

  private handle(payload: Buffer): void {
    if (this.ended) return;
    const text = payload.toString('latin1');
    if (this.running) {
      // gdb sends nothing but Ctrl-C while the target runs; anything else is out of turn.
      this.reply('E01');
      return;
    }
    const answer = this.answer(text, payload);
    if (answer !== null) this.reply(answer);
  }

  /** The reply to one packet; null when the reply comes later (the target runs). */
  private answer(text: string, payload: Buffer): string | null {
    const t = this.target;
    const c = text[0];
    if (text === 'QStartNoAckMode') { this.reply('OK'); this.noAck = true; return null; }
    if (text.startsWith('qSupported')) {
      return `PacketSize=${MAX_PACKET.toString(16)};qXfer:features:read+;QStartNoAckMode+;hwbreak+;vContSupported+`;
    }
    if (text === '?') return `S${hex2(SIGTRAP)}`;
    if (text === 'qAttached') return '1';
    if (text === 'qC') return 'QC1';
    if (text === 'qOffsets') return 'Text=0;Data=0;Bss=0';
    if (text === 'qfThreadInfo') return 'm1';
    if (text === 'qsThreadInfo') return 'l';
    if (text === 'qSymbol::') return 'OK';
    if (c === 'H') return 'OK';
    if (c === 'T') return 'OK'; // thread 1 is alive
    if (text.startsWith('qXfer:features:read:')) return this.features(text.slice('qXfer:features:read:'.length));
    if (text.startsWith('qRcmd,')) return this.monitorCommand(text.slice(6));
    if (text === 'g') return REGISTERS.map((_, n) => toHex(t.readRegister(n))).join('');
    if (c === 'G') return this.writeAllRegisters(text.slice(1));
    if (c === 'p') {
      const n = parseInt(text.slice(1), 16);
      return Number.isInteger(n) && n >= 0 && n < REGISTERS.length ? toHex(t.readRegister(n)) : 'E01';
    }
    if (c === 'P') {
      const m = /^P([0-9a-fA-F]+)=([0-9a-fA-F]+)$/.exec(text);
      const bytes = m ? fromHex(m[2]) : null;
      return m && bytes && t.writeRegister(parseInt(m[1], 16), bytes) ? 'OK' : 'E01';
    }
    if (c === 'm') {
      const m = /^m([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(text);
      if (!m) return 'E01';
      const length = parseInt(m[2], 16);
      if (length > MAX_PACKET / 2) return 'E01';
      const bytes = t.readMemory(BigInt('0x' + m[1]), length);
      return bytes ? toHex(bytes) : 'E14'; // EFAULT: some page is not mapped
    }
    if (c === 'M' || c === 'X') return this.writeMemory(c, payload);
    if (c === 'Z' || c === 'z') return this.breakpoint(c === 'Z', text.slice(1));
    if (text === 'vCont?') return 'vCont;c;C;s;S';
    if (text.startsWith('vCont;')) {
      const action = text.slice(6).split(';')[0].split(':')[0];
      if (!/^[cCsS]/.test(action)) return 'E01';
      this.resume(action[0] === 's' || action[0] === 'S');
      return null;
    }
    if (c === 'c' || c === 's' || c === 'C' || c === 'S') {
      const rest = c === 'c' || c === 's' ? text.slice(1) : text.split(';')[1] ?? '';
      if (rest !== '') {
        if (!/^[0-9a-fA-F]+$/.test(rest)) return 'E01';
        t.writeRegister(16, le64(BigInt('0x' + rest)));
      }
      this.resume(c === 's' || c === 'S');
      return null;
    }
    if (c === 'D') { this.reply('OK'); this.finish('detach'); return null; }
    if (c === 'k' || text.startsWith('vKill')) { if (c !== 'k') this.reply('OK'); this.finish('kill'); return null; }
    return ''; // unknown: the empty reply
  }

  private finish(how: 'detach' | 'kill' | 'exited'): void {
    this.ended = how;
    const d = this.target.debugger;
    d.breakpoints.clear();
    for (let n = 0; n < 4; n++) if (d.slots[n]) d.remove(d.slots[n]!.type, d.slots[n]!.address, d.slots[n]!.length);
    d.step = false;
    this.target.debuggerChanged();
    this.onEnd(how);
  }

  private features(args: string): string {
    const m = /^([^:]+):([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(args);
    if (!m) return 'E01';
    if (m[1] !== 'target.xml') return 'E00';
    const offset = parseInt(m[2], 16), length = parseInt(m[3], 16);
    const chunk = TARGET_XML.slice(offset, offset + length);
    return (offset + length >= TARGET_XML.length ? 'l' : 'm') + chunk;
  }

  private monitorCommand(hexText: string): string {
    const bytes = fromHex(hexText);
    if (!bytes) return 'E01';
    const command = Buffer.from(bytes).toString('latin1').trim();
    const out = this.target.monitor?.(command) ?? null;
    if (out === null) return toHex(Buffer.from(`unknown monitor command '${command}'\n`, 'latin1'));
    return toHex(Buffer.from(out.endsWith('\n') ? out : out + '\n', 'latin1'));
  }

  private writeAllRegisters(hex: string): string {
    let at = 0;
    for (let n = 0; n < REGISTERS.length && at < hex.length; n++) {
      const digits = REGISTERS[n].bits / 4;
      const bytes = fromHex(hex.slice(at, at + digits));
      if (!bytes || bytes.length * 2 !== digits) return 'E01';
      this.target.writeRegister(n, bytes);
      at += digits;
    }
    return 'OK';
  }

  private writeMemory(kind: 'M' | 'X', payload: Buffer): string {
    const colon = payload.indexOf(0x3a);
    if (colon < 0) return 'E01';
    const m = /^[MX]([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(payload.subarray(0, colon).toString('latin1'));
    if (!m) return 'E01';
    const length = parseInt(m[2], 16);
    const data = kind === 'M' ? fromHex(payload.subarray(colon + 1).toString('latin1')) : new Uint8Array(payload.subarray(colon + 1));
    if (!data || data.length !== length) return 'E01';
    if (length === 0) return 'OK';
    return this.target.writeMemory(BigInt('0x' + m[1]), data) ? 'OK' : 'E14';
  }

  private breakpoint(insert: boolean, args: string): string {
    const m = /^([0-4]),([0-9a-fA-F]+),([0-9a-fA-F]+)/.exec(args);
    if (!m) return 'E01';
    const type = Number(m[1]);
    const address = Number(BigInt.asIntN(64, BigInt('0x' + m[2])));
    const length = parseInt(m[3], 16);
    const d = this.target.debugger;
    let ok = true;
    if (type === 0) {
      if (insert) d.breakpoints.add(address);
      else d.breakpoints.delete(address);
    } else {
      const kind = WATCH_TYPES[type - 1];
      if (type >= 2 && !([1, 2, 4, 8].includes(length) && address % length === 0)) return 'E01'; // one aligned debug-register range
      ok = insert ? d.insert(kind, address, (type === 1 ? 1 : length) as 1 | 2 | 4 | 8) : d.remove(kind, address, length);
    }
    this.target.debuggerChanged();
    return ok ? 'OK' : 'E01'; // all four debug-register slots in use, or nothing to remove
  }

  private stopReply(event: StopEvent | null, signal = SIGTRAP): void {
    if (event?.kind === 'exited') { this.reply(`W${hex2(event.status & 0xff)}`); this.finish('exited'); return; }
    if (event?.kind === 'ended') {
      this.reply(`O${toHex(Buffer.from(`xk: the machine stopped: ${event.message}\n`, 'latin1'))}`);
      this.reply(`X${hex2(SIGTRAP)}`);
      this.finish('exited');
      return;
    }
    if (event?.watch) {
      this.reply(`T${hex2(SIGTRAP)}${event.watch.type}:${event.watch.address.toString(16)};thread:1;`);
      return;
    }
    this.reply(`T${hex2(signal)}thread:1;`);
  }

  /** Run the target (one instruction, or until a breakpoint, a watchpoint, its end, or Ctrl-C). */
  private resume(single: boolean): void {
    const t = this.target;
    this.interruptRequested = false;
    if (single) {
      this.stopReply(t.step());
      return;
    }
    this.running = true;
    // Continuing from a breakpoint: its instruction runs first.
    t.debugger.resumeAt = Number(BigInt.asIntN(64, t.pc()));
    const slice = (): void => {
      if (this.ended) { this.running = false; return; }
      if (this.interruptRequested) { this.running = false; this.stopReply(null, SIGINT); return; }
      const event = t.run(SLICE);
      if (event) { this.running = false; this.stopReply(event); return; }
      setImmediate(slice); // let gdb's Ctrl-C in
    };
    slice();
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
function le64(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  for (let i = 0; i < 8; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}
