// Saving the entire state of a VM and resuming it (`xk vm IMAGE --save-at N
// STATE`, `xk vm --resume STATE`).
//
// What is saved is the VmHost's whole object graph as plain data: the real
// machine (CPU registers, flags, MMU, all of physical memory: the guest's
// memory AND the monitor's pages with the shadow page tables), the virtual CPU
// (virtual CPL, descriptor-table registers, CRs, MSRs, virtual IF and its sti
// shadow), the virtual devices (PIC with its pending requests, the timer's
// count and deadline, the serial port's registers and buffers), the monitor's
// bookkeeping (pending outcome, exit counts, relocations, patches). Functions
// (closures, host calls) and caches of decoded code are not state: a fresh
// VmHost of the same geometry supplies them, and the saved data is grafted
// onto it field by field, walking both graphs in the same order.
//
// File format (version 2), all integers little-endian:
//   0   8  magic "XKVMSTAT"
//   8   4  version (2; 1 had no exception-loop count)
//   12  4  payload length in bytes
//   16  4  CRC-32 (IEEE, as zlib) of the payload
//   20  4  guest memory in bytes
//   24  1  flags: bit 0 = strict virtualization
//   25  3  zero
//   28  .. payload: zlib (deflate) of [u32 JSON length][JSON tree][blobs]
// The JSON tree mirrors the object graph: numbers, booleans, strings, null,
// {"$u":1} for undefined, {"$b":"hex"} for bigints, {"$t":"Uint8Array","o":
// offset,"n":bytes} for typed arrays (their bytes are in the blobs), {"$m":
// [[key, value]...]} for maps, {"$s":[...]} for sets, arrays, and objects as
// {"$o": {field: value}}; {"$k":1} in an array keeps the fresh VM's element.

import { deflateSync, inflateSync } from 'node:zlib';
import { VmHost } from './host.js';
import type { Vcpu } from './vcpu.js';
import type { VirtualDevices } from './virtualDevices.js';
import type { TrapFrameValues } from './trapFrame.js';

export const STATE_MAGIC = 'XKVMSTAT';
export const STATE_VERSION = 2;
const HEADER_BYTES = 28;

/** A state file that cannot be resumed: the message says what is wrong. */
export class VmStateError extends Error {}

/** Object fields that are not state: host calls (functions), decoded-code caches, the debugger. */
const SKIPPED = new Set(['ports', 'hostCalls', 'decodeCache', 'debugger', 'hostDebugRegisters', 'serialOut', 'output', 'system']);

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Typed = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array | Int8Array | Int16Array | Float32Array | BigUint64Array | BigInt64Array;
const TYPED: Record<string, new (b: ArrayBuffer) => Typed> = {
  Uint8Array, Uint16Array, Uint32Array, Int32Array, Float64Array, Int8Array, Int16Array, Float32Array, BigUint64Array, BigInt64Array,
};

class Writer {
  blobs: Uint8Array[] = [];
  offset = 0;
  private readonly seen = new Set<object>();

  value(v: unknown, path: string): Json | undefined {
    if (v === undefined) return { $u: 1 };
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
    if (typeof v === 'number') return Number.isFinite(v) ? v : { $n: String(v) };
    if (typeof v === 'bigint') return { $b: v.toString(16) };
    if (typeof v === 'function' || typeof v === 'symbol') return undefined;
    if (v instanceof DataView) return undefined; // a view of a typed array saved elsewhere
    if (ArrayBuffer.isView(v)) {
      const t = v as Typed;
      const bytes = new Uint8Array(t.buffer, t.byteOffset, t.byteLength).slice();
      const at = this.offset;
      this.blobs.push(bytes);
      this.offset += bytes.length;
      return { $t: t.constructor.name, o: at, n: bytes.length };
    }
    const o = v as object;
    if (this.seen.has(o)) return undefined; // shared: saved where first met
    this.seen.add(o);
    if (o instanceof Map) {
      const entries: Json[] = [];
      for (const [k, x] of o) {
        const kk = this.value(k, path), xx = this.value(x, `${path}[${String(k)}]`);
        if (kk === undefined || xx === undefined) return undefined; // a map of functions: not state
        entries.push([kk, xx]);
      }
      return { $m: entries };
    }
    if (o instanceof Set) return { $s: [...o].map((x) => this.value(x, path) ?? null) };
    if (Array.isArray(o)) return o.map((x, i) => this.value(x, `${path}[${i}]`) ?? { $k: 1 });
    const fields: { [k: string]: Json } = {};
    for (const k of Object.keys(o)) {
      if (SKIPPED.has(k)) continue;
      const x = this.value((o as Record<string, unknown>)[k], `${path}.${k}`);
      if (x !== undefined) fields[k] = x;
    }
    return { $o: fields };
  }
}

/** Flags (header byte 24): bit 0 strict virtualization; bit 1 the payload is the portable section only. */
const FLAG_STRICT = 1, FLAG_PORTABLE = 2;

/**
 * The host-independent part of a VM (a "portable" state, flags bit 1): what the
 * guest can see, and nothing of the host that ran it. Both hosts write it and
 * both resume it (`xk vm --resume`, and the xk kernel's vm program given the
 * state file instead of an image): the shadow tables are rebuilt from the
 * guest's own page tables, the monitor's pages are the new host's.
 */
export interface PortableVm {
  /** The guest's clock (retired instructions, emulated ones and idle time). */
  clock: number;
  vcpu: Vcpu;
  /** The virtual PIC (pending and in-service requests), timer (count, deadline), serial port. */
  devices: VirtualDevices;
  /** The guest's registers, rip, rflags (as the monitor's trap frame). */
  regs: TrapFrameValues;
  /** Guest-physical memory. */
  memory: Uint8Array;
  /** Instructions the loader replaced by int3: guest-physical address -> original bytes. */
  patches: Map<number, Uint8Array>;
  /** The host had already looked for a virtual interrupt at this boundary (sti's shadow consumed). */
  boundaryChecked: boolean;
  /**
   * Exceptions delivered since the guest's last retired instruction (exceptionLoop.ts): a VM
   * saved in an exception loop stops, resumed, at the delivery the uninterrupted run stops at.
   * The xk kernel's monitor does not end exception loops and writes 0.
   */
  loopDeliveries: number;
}

function pack(tree: Json, blobs: Uint8Array[], blobBytes: number, guestBytes: number, flags: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(tree));
  const raw = new Uint8Array(4 + json.length + blobBytes);
  new DataView(raw.buffer).setUint32(0, json.length, true);
  raw.set(json, 4);
  let at = 4 + json.length;
  for (const b of blobs) { raw.set(b, at); at += b.length; }
  const payload = deflateSync(raw, { level: 1 });
  const file = new Uint8Array(HEADER_BYTES + payload.length);
  const d = new DataView(file.buffer);
  file.set(new TextEncoder().encode(STATE_MAGIC), 0);
  d.setUint32(8, STATE_VERSION, true);
  d.setUint32(12, payload.length, true);
  d.setUint32(16, crc32(payload), true);
  d.setUint32(20, guestBytes, true);
  file[24] = flags;
  file.set(payload, HEADER_BYTES);
  return file;
}

/** A portable state file (flags bit 1) of `vm`. */
export function savePortableState(vm: PortableVm, strict = false): Uint8Array {
  const w = new Writer();
  const tree = w.value(vm, 'vm');
  if (tree === undefined) throw new Error('vm: nothing to save');
  return pack(tree, w.blobs, w.offset, vm.memory.length, FLAG_PORTABLE | (strict ? FLAG_STRICT : 0));
}

/** A portable state file's geometry, once every check passed (VmStateError otherwise). */
export function portableHeader(file: Uint8Array): { guestBytes: number; strict: boolean } {
  const { guestBytes, strict, portable } = unpack(file);
  if (!portable) throw new VmStateError(NOT_PORTABLE);
  return { guestBytes, strict };
}

const NOT_PORTABLE = 'this state holds xk vm\'s whole host, not the portable section another host can resume: save it with xk vm --save-at N STATE --portable';

/** Does `file` begin like a VM state file (the kernel's vm program tells a state from an image by this)? */
export function isVmStateFile(file: Uint8Array): boolean {
  return file.length >= 8 && new TextDecoder('latin1').decode(file.subarray(0, 8)) === STATE_MAGIC;
}

/**
 * Check and unpack a state file into `target` (a fresh VM's portable parts:
 * its vcpu, devices, a frame, its guest memory, patch map). A state saved by
 * xk vm with its whole host is refused here (`xk vm --save-at` writes one;
 * `--portable` writes the portable one). Returns the header's facts.
 */
export function loadPortableState(file: Uint8Array, target: (guestBytes: number, strict: boolean) => PortableVm): PortableVm {
  const { guestBytes, strict, portable, tree, blobs } = unpack(file);
  if (!portable) throw new VmStateError(NOT_PORTABLE);
  let vm: PortableVm;
  try {
    vm = target(guestBytes, strict);
  } catch (e) {
    throw new VmStateError(`cannot resume it here (${(e as Error).message})`);
  }
  new Reader(blobs).value(tree, vm, 'vm');
  if (vm.memory.length !== guestBytes) throw new VmStateError(`the state's memory is ${vm.memory.length} bytes, the header says ${guestBytes}`);
  return vm;
}

/** The VM's complete state as a state file. */
export function saveVmState(host: VmHost): Uint8Array {
  const w = new Writer();
  const tree = w.value(host, 'vm');
  return pack(tree ?? null, w.blobs, w.offset, host.guestBytes, host.machine.strictVirtualization ? FLAG_STRICT : 0);
}

class Reader {
  constructor(private readonly blobs: Uint8Array) {}

  fail(path: string, what: string): never {
    throw new VmStateError(`the state does not fit this xk's VM at ${path}: ${what}`);
  }

  /** The value of `j` for a field whose current value (in the fresh VM) is `cur`; objects are filled in place. */
  value(j: Json, cur: unknown, path: string): unknown {
    if (j === null || typeof j === 'boolean' || typeof j === 'string' || typeof j === 'number') return j;
    if (Array.isArray(j)) {
      if (Array.isArray(cur) && cur.length === j.length) {
        j.forEach((x, i) => { cur[i] = this.value(x, cur[i], `${path}[${i}]`); });
        return cur;
      }
      return j.map((x, i) => this.value(x, undefined, `${path}[${i}]`));
    }
    if (typeof j !== 'object') this.fail(path, 'bad value');
    if ('$u' in j) return undefined;
    if ('$k' in j) return cur; // wiring (a function, an object saved elsewhere): the fresh VM's own
    if ('$n' in j) return Number(j.$n);
    if ('$b' in j) return BigInt(`0x${String(j.$b)}`);
    if ('$t' in j) {
      const Ctor = TYPED[String(j.$t)];
      const o = Number(j.o), n = Number(j.n);
      if (Ctor === undefined || !(o >= 0 && n >= 0 && o + n <= this.blobs.length)) this.fail(path, 'bad typed array');
      const bytes = new Uint8Array(this.blobs.subarray(o, o + n)); // a copy: blobs may be a Buffer, whose slice() is a view of the whole file
      if (ArrayBuffer.isView(cur) && cur.constructor === Ctor && cur.byteLength === n) {
        new Uint8Array(cur.buffer, cur.byteOffset, n).set(bytes);
        return cur;
      }
      if (ArrayBuffer.isView(cur)) this.fail(path, `typed array of ${n} bytes, the VM has ${cur.byteLength}`);
      return new Ctor(bytes.buffer);
    }
    if ('$m' in j) {
      if (!Array.isArray(j.$m)) this.fail(path, 'bad map');
      const m = cur instanceof Map ? cur : new Map();
      m.clear();
      for (const e of j.$m) {
        if (!Array.isArray(e) || e.length !== 2) this.fail(path, 'bad map entry');
        const k = this.value(e[0], undefined, path);
        m.set(k, this.value(e[1], undefined, `${path}[${String(k)}]`));
      }
      return m;
    }
    if ('$s' in j) {
      if (!Array.isArray(j.$s)) this.fail(path, 'bad set');
      const s = cur instanceof Set ? cur : new Set();
      s.clear();
      for (const x of j.$s) s.add(this.value(x, undefined, path));
      return s;
    }
    if ('$o' in j && typeof j.$o === 'object' && j.$o !== null && !Array.isArray(j.$o)) {
      const fields = j.$o;
      const target = (cur !== null && typeof cur === 'object' && !ArrayBuffer.isView(cur) && !(cur instanceof Map)) ? cur as Record<string, unknown> : {};
      for (const k of Object.keys(fields)) {
        if (target === cur && !(k in target)) this.fail(`${path}.${k}`, 'no such field');
        target[k] = this.value(fields[k], target[k], `${path}.${k}`);
      }
      return target;
    }
    return this.fail(path, 'unknown value');
  }
}

/** Check a state file's header and CRC, unpack it. Throws VmStateError naming what is wrong. */
function unpack(file: Uint8Array): { guestBytes: number; strict: boolean; portable: boolean; tree: Json; blobs: Uint8Array } {
  if (file.length < HEADER_BYTES) {
    throw new VmStateError(`truncated: ${file.length} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  }
  const magic = new TextDecoder('latin1').decode(file.subarray(0, 8));
  if (magic !== STATE_MAGIC) throw new VmStateError(`not an xk VM state file (it begins ${[...file.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join(" ")}, not the magic "${STATE_MAGIC}")`);
  const d = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const version = d.getUint32(8, true);
  if (version !== STATE_VERSION) throw new VmStateError(`state file version ${version}; this xk reads version ${STATE_VERSION}`);
  const length = d.getUint32(12, true);
  if (file.length - HEADER_BYTES < length) {
    throw new VmStateError(`truncated: the payload is ${length} bytes, the file has ${file.length - HEADER_BYTES}`);
  }
  if (file.length - HEADER_BYTES > length) {
    throw new VmStateError(`corrupted: ${file.length - HEADER_BYTES - length} bytes after the ${length}-byte payload`);
  }
  const payload = file.subarray(HEADER_BYTES);
  const want = d.getUint32(16, true), got = crc32(payload);
  if (want !== got) {
    throw new VmStateError(`corrupted: CRC-32 of the payload is 0x${got.toString(16).padStart(8, '0')}, the header says 0x${want.toString(16).padStart(8, '0')}`);
  }
  const guestBytes = d.getUint32(20, true);
  let raw: Uint8Array;
  let tree: Json;
  try {
    raw = inflateSync(payload);
    const n = new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getUint32(0, true);
    tree = JSON.parse(new TextDecoder().decode(raw.subarray(4, 4 + n))) as Json;
    raw = raw.subarray(4 + n);
  } catch (e) {
    throw new VmStateError(`corrupted payload (${(e as Error).message})`);
  }
  return { guestBytes, strict: (file[24] & FLAG_STRICT) !== 0, portable: (file[24] & FLAG_PORTABLE) !== 0, tree, blobs: raw };
}

/** A VM in the state `file` describes, ready to run on. */
export function loadVmState(file: Uint8Array, serialOut?: (bytes: Uint8Array) => void): VmHost {
  const { guestBytes, strict, portable, tree, blobs } = unpack(file);
  if (portable) {
    // A portable state (either host wrote it): a fresh host, the guest's parts grafted on.
    let fresh: VmHost | undefined;
    const vm = loadPortableState(file, (bytes, strictVm) => {
      fresh = new VmHost({ guestBytes: bytes, strict: strictVm, serialOut });
      return fresh.portableParts();
    });
    fresh!.restorePortable(vm);
    return fresh!;
  }
  let host: VmHost;
  try {
    host = new VmHost({ guestBytes, strict, serialOut });
  } catch (e) {
    throw new VmStateError(`bad VM geometry in the header (${(e as Error).message})`);
  }
  new Reader(blobs).value(tree, host, 'vm');
  host.afterRestore();
  return host;
}
