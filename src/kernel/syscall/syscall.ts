// syscall(): find the system call named by %rax in the one table, run it, and put
// its result in the trap frame's rax, which trapret restores into %rax.
//
// Every sys_* function reads like the lecture slide: fetch and check the
// arguments (from the trap frame: %rdi %rsi %rdx %rcx %r8 %r9), copy user data in
// (copyin.ts, the only door to user memory), do the operation, copy results out.
// A call that has to wait returns a generator (Blocking) that yields the channel to
// sleep on; the scheduler resumes it after wakeup and the generator returns the result.

import type { Kernel } from '../kernel.js';
import type { Blocking, Proc } from '../proc/proc.js';
import { sleep } from '../proc/sleep.js';
import { SYSCALL_BY_NUMBER, SYSCALLS } from './syscallTable.js';
import { fetchRecorder } from '../mem/copyin.js';
import { finishSyscall, type SyscallFunction } from './args.js';
import '../mem/fetchChecker.js'; // --check-fetch: on under node --test and with XK_CHECK_FETCH=1
import { SYSPROC } from './sysproc.js';
import { SYSFILE } from './sysfile.js';
import { SIGNAL_SYSCALLS } from '../signals/signalSyscalls.js';
import { VM_SYSCALLS } from './sysvm.js';
import { AIO_SYSCALLS } from './sysaio.js';

/** name -> implementation. The sys_* modules import args.ts, never this dispatcher. */
const FUNCTIONS: ReadonlyMap<string, SyscallFunction> = new Map([...SYSPROC, ...SYSFILE, ...SIGNAL_SYSCALLS, ...VM_SYSCALLS, ...AIO_SYSCALLS]);
export function syscallFunction(name: string): SyscallFunction | undefined {
  return FUNCTIONS.get(name);
}

/** Rows of the table without an implementation (a test asserts there are none). */
export function unimplementedSyscalls(): string[] {
  return SYSCALLS.filter((s) => !syscallFunction(s.name)).map((s) => s.name);
}

export function syscall(k: Kernel, p: Proc): void {
  const num = p.tf.signed('rax'); // all 64 bits: 0x1_0000_000f is not open
  const spec = SYSCALL_BY_NUMBER.get(num);
  const fn = spec && syscallFunction(spec.name);
  if (!spec || !fn) {
    k.print(`pid ${p.pid} ${p.name}: unknown sys call ${num}\n`);
    k.emit(p, 'kernel', 'syscall', `syscall(): unknown system call ${num} -> -1`, { num });
    p.tf.set('rax', -1);
    return;
  }
  k.emit(p, 'kernel', 'syscall', `syscall(): rax = ${num} -> sys_${spec.name}`, { num, name: spec.name });
  fetchRecorder()?.begin(spec.name, p);
  const before = k.files.transactions().begun;
  let call: Blocking;
  let first: IteratorResult<object, number>;
  try {
    // On the timed disk, a block that is not cached or a log that is committing
    // interrupts the call before it has changed anything (fs/bufferCache.ts, fs/log.ts).
    const result = k.files.waitForDisk(() => fn(k, p));
    // exit (closing the last reference to an unlinked file, releasing the cwd) may
    // begin transactions, but a zombie never sleeps until they are durable: that
    // sleep would make it 'sleeping', and the wakeup would run it again (a fuzzer
    // finding on the timed disk). The log commits them by interrupt all the same.
    if (p.state === 'zombie') {
      finishSyscall(k, p, spec.name, 0); // (a zombie's rax is not set)
      return;
    }
    if (typeof result === 'number' && k.files.transactions().begun === before) {
      finishSyscall(k, p, spec.name, result);
      return;
    }
    call = untilDurable(k, result, before);
    first = k.files.waitForDisk(() => call.next());
  } catch (e) {
    const channel = k.files.diskWaitChannel(e);
    if (!channel) throw e;
    restartAfterDisk(k, p, spec.name, channel);
    return;
  }
  if (first.done) {
    finishSyscall(k, p, spec.name, first.value);
  } else {
    p.pending = call;
    p.pendingName = spec.name;
    k.emit(p, 'kernel', 'sleep', `sys_${spec.name} sleeps`, { name: spec.name });
    sleep(p, first.value);
  }
}

/**
 * The call must wait for the disk and then start again, as if it had not run:
 * %rip goes back over the 2-byte `int $64` and %rax still holds the call's
 * number, so the process repeats the system call when it wakes up (the way
 * Unix restarts a call). This sleep is not interrupted by signals (Unix's
 * "disk wait" state): the disk is never far away.
 */
function restartAfterDisk(k: Kernel, p: Proc, name: string, channel: object): void {
  fetchRecorder()?.end?.(p);
  p.tf.set('rip', p.tf.unsigned('rip') - 2);
  k.emit(p, 'kernel', 'disk-wait', `sys_${name} waits for the disk (${(channel as { name?: string }).name ?? 'disk'}), then starts again`, { name });
  sleep(p, channel);
}

/**
 * Finish a call (a value or a generator), then wait until every file-system
 * transaction it began is on the disk: a system call returns only when its
 * changes are durable, as with XK's synchronous log. (A signal during that
 * last wait does not undo the call: it returns its result.)
 */
function* untilDurable(k: Kernel, result: number | Blocking, before: number): Blocking {
  const value = typeof result === 'number' ? result : yield* result;
  const { begun } = k.files.transactions();
  try {
    while (begun > before && k.files.transactions().durable < begun) yield k.files.logChannel();
  } finally {
    return value; // eslint-disable-line no-unsafe-finally
  }
}
