// Typed argument generation: one random system call, from the table's argument types
// (syscallTable.ts) and the fuzzer's declarations (fuzzDeclarations.ts).
//
// The generated call is plain data: the six argument registers, the user-memory
// bytes its arguments live in (strings, argv arrays, input structures), and for the
// oracle, every pointer with its class and length. The harness writes the memory,
// loads the registers and lets the process execute `int $64`; a reproducer is just
// the list of these calls.
//
// Arguments never alias: each string, array and input structure of one call gets
// its own bytes, so the strict double-fetch check applies (fetchChecker.ts).

import { PAGE_SIZE, USER_LIMIT, USER_STACK_BOTTOM } from '../mem/kernelLayout.js';
import { MAXARG, SYSCALLS, type ArgType, type SyscallSpec } from '../syscall/syscallTable.js';
import { BOUNDARY_INTS, FUZZ_DECLARATIONS, FUZZ_PATHS, type IntChoice } from './fuzzDeclarations.js';
import {
  kernelAddresses, POINTER_CLASSES, UNMAPPED_ADDRESSES, type FuzzRegions, type PointerClass,
} from './fuzzRegions.js';

export interface FuzzPointer {
  /** Argument index (argv elements: the argv argument's). */
  arg: number;
  cls: PointerClass;
  addr: number;
  /** Bytes used: a length, a struct size, -1 for a terminated string, UNTERMINATED when it runs to the end. */
  len: number;
  out: boolean;
}

/** The length of a string with no NUL before the end of its mapping. */
export const UNTERMINATED = 2 ** 40;

export interface FuzzCall {
  name: string;
  num: number;
  /** %rdi %rsi %rdx %r10/%rcx %r8 %r9 as signed 64-bit numbers. */
  regs: number[];
  /** User memory to fill before the call: [address, bytes]. */
  writes: Array<[number, Uint8Array]>;
  pointers: FuzzPointer[];
  /** Human-readable: read(3, valid 0x601000, 4096). */
  text: string;
  /** A scripted step (fuzzScenarios.ts): the result it must have, and why. */
  expect?: number;
  why?: string;
  /** Physical pages of a buffer that stop being the caller's with this call (exit with requests in flight). */
  deadBuffer?: number[];
}

/** What the generator needs to know about the process it calls for. */
export interface FuzzContext {
  regions: FuzzRegions;
  /** Open descriptors of the fuzzing process. */
  liveFds: number[];
  selfPid: number;
  childPids: number[];
  /** Ids its asynchronous I/O requests got (aio_read, aio_write). */
  aioIds?: number[];
  isMapped(va: number): boolean;
}

/** A small seeded generator (mulberry32): the same seed gives the same calls. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const hex = (n: number): string => (n < 0 ? '-0x' + (-n).toString(16) : '0x' + n.toString(16));

/** The system calls the fuzzer may make, with their weights. */
const CALLABLE = SYSCALLS.filter((s) => (FUZZ_DECLARATIONS[s.name]?.weight ?? 0) > 0);
const TOTAL_WEIGHT = CALLABLE.reduce((sum, s) => sum + FUZZ_DECLARATIONS[s.name].weight, 0);

export function pickSyscall(rng: Rng): SyscallSpec {
  let x = rng.next() * TOTAL_WEIGHT;
  for (const s of CALLABLE) {
    x -= FUZZ_DECLARATIONS[s.name].weight;
    if (x < 0) return s;
  }
  return CALLABLE[CALLABLE.length - 1];
}

/** Builds one call. */
export class CallBuilder {
  readonly writes: Array<[number, Uint8Array]> = [];
  readonly pointers: FuzzPointer[] = [];
  /** Next free byte for this call's input data (strings, arrays, structures). */
  private cursor: number;

  constructor(private readonly rng: Rng, private readonly ctx: FuzzContext) {
    const r = ctx.regions;
    const half = Math.floor((r.dataEnd - r.dataStart) / 2);
    this.cursor = r.dataStart + 8 * rng.below(half / 8);
  }

  /** Reserve `n` fresh bytes of valid data, or -1 when the region is used up. */
  private reserve(n: number): number {
    const at = this.cursor;
    if (at + n > this.ctx.regions.dataEnd - 64) return -1;
    this.cursor = at + Math.ceil((n + 1) / 8) * 8;
    return at;
  }

  /** A pointer of class `cls` (not valid data: the caller handles 'valid'). */
  pointerOf(cls: PointerClass): number {
    const r = this.ctx.regions;
    switch (cls) {
      case 'valid':
        return r.dataStart + this.rng.below(r.dataEnd - r.dataStart);
      case 'readonly':
        return r.roStart + this.rng.below(r.roEnd - r.roStart);
      case 'unmapped': {
        const candidates = UNMAPPED_ADDRESSES.filter((a) => !this.ctx.isMapped(a));
        return candidates.length > 0 && this.rng.chance(0.7)
          ? this.rng.pick(candidates)
          : USER_STACK_BOTTOM - PAGE_SIZE + this.rng.below(PAGE_SIZE); // the guard page
      }
      case 'kernel':
        return this.rng.pick(kernelAddresses(r));
      case 'noncanonical':
        return 2 ** 48 + r.dataStart + this.rng.below(r.dataEnd - r.dataStart);
      case 'straddle':
        return USER_LIMIT - 1 - this.rng.below(16);
      case 'edge':
        return r.dataEnd - 1 - this.rng.below(16);
      case 'null':
        return 0;
    }
  }

  /** Ends of mappings ('edge', 'straddle') already used by this call: arguments never share bytes. */
  private usedEnds = new Set<PointerClass>();

  /** A pointer class for an argument that may not be NULL (NULL is then just an unmapped page). */
  private badClass(): PointerClass {
    return this.classFor(this.rng.pick(POINTER_CLASSES), false);
  }

  /**
   * Adjust a drawn class: NULL where it is not allowed is an unmapped pointer; an
   * 'edge' whose next page is mapped (the heap grew) is just valid; each mapping end
   * serves one argument per call.
   */
  private classFor(cls: PointerClass, nullable: boolean): PointerClass {
    if (cls === 'null' && !nullable) return 'unmapped';
    if (cls === 'edge' || cls === 'straddle') {
      if (this.usedEnds.has(cls)) return 'kernel';
      this.usedEnds.add(cls);
      if (cls === 'edge' && this.ctx.isMapped(this.ctx.regions.dataEnd)) return 'valid';
    }
    return cls;
  }

  /** A NUL-terminated string in fresh valid memory. */
  private freshString(s: string): number {
    const bytes = Buffer.from(s + '\0', 'latin1');
    const at = this.reserve(bytes.length);
    if (at < 0) return 0;
    this.writes.push([at, new Uint8Array(bytes)]);
    return at;
  }

  /** Fill [addr, end) with non-NUL bytes: a string that never ends. */
  private unterminated(addr: number, end: number): void {
    this.writes.push([addr, new Uint8Array(end - addr).fill(0x75)]);
  }

  /** A string argument: a path from FUZZ_PATHS, or a bad pointer. */
  string(arg: number, text: string[]): number {
    const cls = this.rng.chance(0.75) ? 'valid' : this.badClass();
    if (cls === 'valid') {
      const s = this.rng.chance(0.9) ? this.rng.pick(FUZZ_PATHS) : 'x'.repeat(this.rng.below(300));
      const at = this.freshString(s);
      this.pointers.push({ arg, cls: at === 0 ? 'null' : 'valid', addr: at, len: -1, out: false });
      text.push(JSON.stringify(s.length > 20 ? s.slice(0, 17) + '...' : s));
      return at;
    }
    const addr = this.pointerOf(cls);
    let len = -1;
    if (cls === 'straddle') {
      this.unterminated(addr, USER_LIMIT);
      len = UNTERMINATED;
    } else if (cls === 'edge') {
      this.unterminated(addr, this.ctx.regions.dataEnd);
      len = UNTERMINATED;
    }
    this.pointers.push({ arg, cls, addr, len, out: false });
    text.push(`${cls} ${hex(addr)}`);
    return addr;
  }

  /** An argv array: valid strings, bad pointers, too many, or no terminating NULL. */
  argv(arg: number, text: string[]): number {
    const cls = this.rng.chance(0.7) ? 'valid' : this.badClass();
    const r = this.ctx.regions;
    if (cls === 'straddle' || cls === 'edge') {
      // Non-NULL pointers up to the end of the mapping: the array has no terminator.
      const addr = (cls === 'straddle' ? USER_LIMIT : r.dataEnd) - 8 * (1 + this.rng.below(4));
      const end = cls === 'straddle' ? USER_LIMIT : r.dataEnd;
      const table = new Uint8Array(end - addr);
      for (let i = 0; i < table.length; i += 8) {
        new DataView(table.buffer).setBigUint64(i, BigInt(this.freshString('arg' + i) || r.dataStart), true);
      }
      this.writes.push([addr, table]);
      this.pointers.push({ arg, cls, addr, len: UNTERMINATED, out: false });
      text.push(`unterminated argv ${hex(addr)}`);
      return addr;
    }
    if (cls !== 'valid') {
      const addr = this.pointerOf(cls);
      this.pointers.push({ arg, cls, addr, len: 8, out: false });
      text.push(`argv ${cls} ${hex(addr)}`);
      return addr;
    }
    const n = this.rng.chance(0.9) ? this.rng.below(5) : MAXARG - 1 + this.rng.below(3);
    const elements: number[] = [];
    const shown: string[] = [];
    for (let i = 0; i < n; i++) {
      if (this.rng.chance(0.9)) {
        elements.push(this.freshString('a' + i) || r.dataStart);
        shown.push(`"a${i}"`);
      } else {
        const ecls = this.classFor(this.rng.pick<PointerClass>(['kernel', 'unmapped', 'noncanonical', 'straddle']), false);
        const addr = this.pointerOf(ecls);
        let len = -1;
        if (ecls === 'straddle') {
          this.unterminated(addr, USER_LIMIT);
          len = UNTERMINATED;
        }
        elements.push(addr);
        this.pointers.push({ arg, cls: ecls, addr, len, out: false });
        shown.push(`${ecls} ${hex(addr)}`);
      }
    }
    elements.push(0);
    const table = new Uint8Array(8 * elements.length);
    elements.forEach((e, i) => new DataView(table.buffer).setBigInt64(8 * i, BigInt(e), true));
    const at = this.reserve(table.length);
    if (at < 0) return 0;
    this.writes.push([at, table]);
    this.pointers.push({ arg, cls: 'valid', addr: at, len: table.length, out: false });
    text.push(`[${shown.join(', ')}]`);
    return at;
  }

  /** A fixed-size structure the kernel reads (random contents) or writes. */
  struct(arg: number, size: number, out: boolean, nullable: boolean, text: string[]): number {
    const cls = this.rng.chance(0.6) ? 'valid' : this.classFor(this.rng.pick(POINTER_CLASSES), nullable);
    let addr: number;
    if (cls === 'valid' && !out) {
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i++) bytes[i] = this.rng.chance(0.5) ? 0 : this.rng.below(256);
      addr = this.reserve(size);
      if (addr < 0) addr = this.ctx.regions.dataStart;
      this.writes.push([addr, bytes]);
    } else {
      addr = cls === 'unmapped' && !nullable && this.rng.chance(0.3) ? 0 : this.pointerOf(cls);
    }
    this.pointers.push({ arg, cls, addr, len: cls === 'null' ? 0 : size, out });
    text.push(`${cls} ${hex(addr)}`);
    return addr;
  }

  /**
   * A buffer pointer; its length is generated with it and stored in `lengths`.
   * With `elementSize` the length counts elements of that size (aio_waitany's ids):
   * the oracle's length is in bytes, and a valid buffer holds the process's own ids.
   */
  buffer(arg: number, out: boolean, lengths: Map<number, number>, lengthArg: number, text: string[], elementSize = 1): number {
    const cls = this.rng.chance(0.6) ? 'valid' : this.badClass();
    const addr = this.pointerOf(cls);
    const r = this.ctx.regions;
    const room = cls === 'straddle' ? USER_LIMIT - addr : cls === 'valid' || cls === 'edge' ? r.dataEnd - addr : 64;
    const len = this.rng.pick([
      0, 1, 8, 64, 512, 4096, 4097, room, room + 1, 0x7fffffff, -1, -0x80000000, 65536, 0x1_0000_0010,
      this.rng.below(8192), this.rng.below(600),
    ]);
    if (elementSize > 1) {
      const count = this.rng.pick([0, 1, 2, 3, 16, 17, -1, 0x7fffffff, 0x4000_0001]);
      lengths.set(lengthArg, count);
      const bytes = (count | 0) * elementSize;
      if (cls === 'valid' && count > 0 && count <= 16) {
        const at = this.reserve(count * elementSize);
        if (at >= 0) {
          const ids = new Uint8Array(count * elementSize);
          for (let i = 0; i < count; i++) new DataView(ids.buffer).setInt32(4 * i, this.intChoice(this.rng.pick<IntChoice>(['aio', 'aio', 0, -1])), true);
          this.writes.push([at, ids]);
          this.pointers.push({ arg, cls, addr: at, len: bytes, out });
          text.push(`${cls} ${hex(at)}`);
          return at;
        }
      }
      this.pointers.push({ arg, cls, addr, len: bytes, out });
      text.push(`${cls} ${hex(addr)}`);
      return addr;
    }
    lengths.set(lengthArg, len);
    this.pointers.push({ arg, cls, addr, len: len | 0, out });
    text.push(`${cls} ${hex(addr)}`);
    return addr;
  }

  /** An integer from the declared domain, boundary values, or random bits. */
  int(name: string, arg: number): number {
    const domain = FUZZ_DECLARATIONS[name]?.ints?.[arg];
    if (domain) return this.intChoice(this.rng.pick(domain));
    return this.rng.chance(0.8) ? this.rng.pick(BOUNDARY_INTS) : (this.rng.below(2 ** 32) | 0);
  }

  private intChoice(c: IntChoice): number {
    if (c === 'self') return this.ctx.selfPid;
    if (c === 'child') return this.ctx.childPids.length > 0 ? this.rng.pick(this.ctx.childPids) : 9999;
    if (c === 'aio') return this.ctx.aioIds?.length ? this.rng.pick(this.ctx.aioIds) : 1;
    return c;
  }

  /** A descriptor: usually a live one, sometimes closed, out of range or with high bits set. */
  fd(): number {
    const live = this.ctx.liveFds;
    if (live.length > 0 && this.rng.chance(0.8)) return this.rng.pick(live);
    const closed = Array.from({ length: 16 }, (_, i) => i).filter((i) => !live.includes(i));
    return this.rng.pick([-1, 16, 17, 100, 0x7fffffff, -0x80000000, 0x1_0000_0001, ...closed.slice(0, 3)]);
  }
}

/** Generate one call of `spec`. */
export function generateCall(rng: Rng, ctx: FuzzContext, spec: SyscallSpec = pickSyscall(rng)): FuzzCall {
  const b = new CallBuilder(rng, ctx);
  const regs = [0, 0, 0, 0, 0, 0];
  const lengths = new Map<number, number>();
  const shown: string[][] = spec.args.map(() => []);
  spec.args.forEach((a: ArgType, i) => {
    switch (a.kind) {
      case 'fd':
        regs[i] = b.fd();
        break;
      case 'path':
        regs[i] = b.string(i, shown[i]);
        break;
      case 'argv':
        regs[i] = b.argv(i, shown[i]);
        break;
      case 'structIn':
      case 'structOut':
        regs[i] = b.struct(i, a.size, a.kind === 'structOut', a.nullable, shown[i]);
        break;
      case 'bufIn':
      case 'bufOut':
        regs[i] = b.buffer(i, a.kind === 'bufOut', lengths, a.lengthArg, shown[i], a.kind === 'bufIn' ? a.element?.size : 1);
        break;
      case 'int':
        break; // after the buffers: a length argument belongs to its buffer
    }
  });
  spec.args.forEach((a, i) => {
    if (a.kind === 'int') regs[i] = lengths.get(i) ?? b.int(spec.name, i);
    if (a.kind === 'int' || a.kind === 'fd') shown[i].push(String(regs[i]));
  });
  return {
    name: spec.name,
    num: spec.num,
    regs,
    writes: b.writes,
    pointers: b.pointers,
    text: `${spec.name}(${shown.map((s) => s.join(' ')).join(', ')})`,
  };
}
