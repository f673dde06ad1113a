// The double-fetch detector (--check-fetch).
//
// "Copy, then check, then use": a system call must copy each argument that lives
// in user memory into the kernel ONCE, check the copy, and use only the copy. If it
// reads the same user byte twice, another agent (a second process, a signal
// handler, a timer) could change the byte in between, and the check and the use
// would see different values: a time-of-check-to-time-of-use bug.
//
// FetchChecker watches the one door (copyin.ts): for every system call of every
// process it keeps the user ranges read so far, as a short list of intervals, and
// reports any byte read a second time, naming the system call and the address.
// A byte the kernel itself wrote in between (copyout) may be read back: that is a
// read-then-write probe, not a fetch of user data. A call that sleeps keeps its
// list until it returns, so a re-read after wakeup is caught too.
//
// Aliased arguments: exec("/prog", argv) with argv[0] = "prog" (gcc merges the
// string literal into the tail of "/prog") reads those bytes twice, once per
// argument, and uses each copy once: harmless, and a kernel cannot avoid it. (The
// common case of the SAME pointer twice, sh's exec(argv[0], argv), the kernel does
// avoid: exec copies the path once and reuses the copy for argv[0], exec.ts.) The
// address alone cannot tell that from a real re-read, so there are two modes:
// strict (the fuzzer, which never passes aliased arguments): every re-read counts;
// lenient (tests, XK_CHECK_FETCH=1): in a call that reads several user strings or
// buffers (exec's path and argv strings, link's two paths), a fetch lying wholly
// inside an earlier one, or wholly covering it, counts as aliasing (`aliased`).
// Partial overlaps always count, and so does any re-read in a call with a single
// user input (read, write, open, ...): there, no two arguments can alias.
//
// One checker, one switch (enableFetchCheck): it is on in every test (the node test
// runner sets NODE_TEST_CONTEXT; a double fetch then throws, failing the test), and
// lenient with a report on stderr for `xk run --check-fetch` or XK_CHECK_FETCH=1
// (either one; the flag never switches the environment's checker off).

import { fetchRecorder, setFetchRecorder, type FetchObserver, type UserSpace } from './copyin.js';
import { SYSCALL_BY_NAME } from '../syscall/syscallTable.js';

/** Whether two user inputs of this call can alias: an argv array, or two or more inputs. */
function canAlias(syscall: string): boolean {
  const spec = SYSCALL_BY_NAME.get(syscall);
  if (!spec) return false;
  const inputs = spec.args.filter((a) => a.kind === 'path' || a.kind === 'bufIn' || a.kind === 'structIn' || a.kind === 'argv');
  return inputs.length >= 2 || inputs.some((a) => a.kind === 'argv');
}

export interface DoubleFetch {
  syscall: string;
  addr: number;
}

interface CallFetches {
  syscall: string;
  /** Half-open user ranges read during this call: [start, end). */
  ranges: Array<[number, number]>;
}

export class FetchChecker implements FetchObserver {
  /** Every double fetch seen so far, in order. */
  readonly doubleFetches: DoubleFetch[] = [];
  /** The call each process (address-space owner) is in. */
  private calls = new WeakMap<object, CallFetches>();
  /** Ranges read without a known process (kept for the current call). */
  private anonymous: CallFetches = { syscall: '', ranges: [] };
  private last: CallFetches = this.anonymous;
  /** Re-reads tolerated as aliased arguments (lenient mode). */
  aliased = 0;
  /** System calls watched so far. */
  checkedCalls = 0;

  constructor(
    private readonly onDoubleFetch?: (d: DoubleFetch) => void,
    private readonly lenient = false,
  ) {}

  /** Forget every call (a new run). */
  reset(): void {
    this.calls = new WeakMap();
    this.anonymous = this.last = { syscall: '', ranges: [] };
    this.doubleFetches.length = 0;
    this.aliased = 0;
    this.checkedCalls = 0;
  }

  begin(syscall: string, space?: UserSpace): void {
    this.checkedCalls++;
    const call: CallFetches = { syscall, ranges: [] };
    if (space) this.calls.set(space, call);
    else this.anonymous = call;
    this.last = call;
  }

  /** The call returned: later reads by this process (a fault handler's, say) belong to no call. */
  end(space: UserSpace): void {
    const call = this.calls.get(space);
    this.calls.delete(space);
    if (call && this.last === call) this.last = this.anonymous = { syscall: '', ranges: [] };
  }

  record(addr: number, len: number, space?: UserSpace): void {
    if (len <= 0) return;
    const call = space ? this.calls.get(space) : this.last;
    if (!call) return; // not inside a system call of this process
    const end = addr + len;
    for (const [s, e] of call.ranges) {
      if (addr < e && s < end) {
        if (this.lenient && canAlias(call.syscall) && ((s <= addr && end <= e) || (addr <= s && e <= end))) {
          this.aliased++;
          continue;
        }
        const d = { syscall: call.syscall, addr: Math.max(s, addr) };
        this.doubleFetches.push(d);
        this.onDoubleFetch?.(d);
        break; // one report per fetch is enough
      }
    }
    call.ranges.push([addr, end]);
  }

  recordWrite(addr: number, len: number, space?: UserSpace): void {
    const call = space ? this.calls.get(space) : this.last;
    if (!call || call.ranges.length === 0 || len <= 0) return;
    const end = addr + len;
    const kept: Array<[number, number]> = [];
    for (const [s, e] of call.ranges) {
      if (e <= addr || end <= s) kept.push([s, e]);
      else {
        if (s < addr) kept.push([s, addr]);
        if (end < e) kept.push([end, e]);
      }
    }
    call.ranges = kept;
  }
}

/** One line naming the call and the address. */
export function describeDoubleFetch(d: DoubleFetch): string {
  return `double fetch: sys_${d.syscall} read user address 0x${d.addr.toString(16)} twice`;
}

export class DoubleFetchError extends Error {}

/**
 * The one switch for --check-fetch: install the (lenient) checker, reporting each
 * double fetch to `report`, unless a checker is already on (the test runner's, or
 * XK_CHECK_FETCH=1's); returns the checker in charge.
 */
export function enableFetchCheck(report: (line: string) => void): FetchChecker {
  const current = fetchRecorder();
  if (current instanceof FetchChecker) return current;
  const checker = new FetchChecker((d) => report(describeDoubleFetch(d)), true);
  setFetchRecorder(checker);
  return checker;
}

/** From the environment: under the node test runner a double fetch throws; with XK_CHECK_FETCH=1 it is printed. */
function installFromEnvironment(): void {
  const env = typeof process !== 'undefined' ? process.env : {};
  if (env.NODE_TEST_CONTEXT !== undefined && env.XK_CHECK_FETCH !== '0') {
    enableFetchCheck((line) => {
      throw new DoubleFetchError(line);
    });
  } else if (env.XK_CHECK_FETCH === '1') {
    enableFetchCheck((line) => console.error(`xk --check-fetch: ${line}`)); // stderr, in Node and in a page
  }
}
installFromEnvironment();

/** The checker's closing line for a run: how many calls it watched and what it found. */
export function fetchCheckSummary(checker: FetchChecker): string {
  return `${checker.checkedCalls} system calls checked, ${checker.doubleFetches.length} double fetches, ${checker.aliased} aliased arguments tolerated`;
}
