// syscall(): find the system call named by %rax in the one table, run it, and put
// its result in the trap frame's rax, which trapret restores into %rax.
//
// Every sys_* function reads like the lecture slide: fetch and check the
// arguments (from the trap frame: %rdi %rsi %rdx %rcx %r8 %r9), copy user data in
// (copyin.ts, the only door to user memory), do the operation, copy results out.
// A call that has to wait returns a generator (Blocking) that yields the channel to
// sleep on; the scheduler resumes it after wakeup and the generator returns the result.

import { copyinstr } from '../mem/copyin.js';
import type { OpenFile } from '../files/fileLayer.js';
import type { Kernel } from '../kernel.js';
import type { Blocking, Proc } from '../proc/proc.js';
import { sleep } from '../proc/scheduler.js';
import { MAXPATH, NOFILE, SYSCALL_BY_NUMBER, SYSCALLS } from './syscallTable.js';
import { ARGUMENT_REGISTERS } from '../trap/trapFrame.js';
import { fetchRecorder } from '../mem/copyin.js';
import '../mem/fetchChecker.js'; // --check-fetch: on under node --test and with XK_CHECK_FETCH=1
import { SYSPROC } from './sysproc.js';
import { SYSFILE } from './sysfile.js';
import { SIGNAL_SYSCALLS } from '../signals/signalSyscalls.js';
import { VM_SYSCALLS } from './sysvm.js';

/** A system call's implementation: a result now, or a generator that may wait. */
export type SyscallFunction = (k: Kernel, p: Proc) => number | Blocking;

/** name -> implementation (built on first use: sysproc.ts and sysfile.ts import this module). */
let functions: Map<string, SyscallFunction> | null = null;
export function syscallFunction(name: string): SyscallFunction | undefined {
  functions ??= new Map([...SYSPROC, ...SYSFILE, ...SIGNAL_SYSCALLS, ...VM_SYSCALLS]);
  return functions.get(name);
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
  const result = fn(k, p);
  if (typeof result === 'number') {
    finishSyscall(k, p, spec.name, result);
    return;
  }
  const step = result.next();
  if (step.done) {
    finishSyscall(k, p, spec.name, step.value);
  } else {
    p.pending = result;
    p.pendingName = spec.name;
    k.emit(p, 'kernel', 'sleep', `sys_${spec.name} sleeps`, { name: spec.name });
    sleep(p, step.value);
  }
}

/** The result goes into the trap frame's rax (unless the process has exited). */
export function finishSyscall(k: Kernel, p: Proc, name: string, value: number): void {
  fetchRecorder()?.end?.(p);
  if (p.state === 'zombie') return;
  p.tf.set('rax', value);
  k.emit(p, 'kernel', 'return', `sys_${name} returns ${value}: tf->rax = ${value}`, { name, value });
}

// ---------------------------------------------------------------------------
// Fetching arguments from the trap frame.

/** Argument n as a C int (the low 32 bits, signed). */
export function argInt(p: Proc, n: number): number {
  return p.tf.int(ARGUMENT_REGISTERS[n]);
}

/** Argument n as an address (unsigned; values beyond 2^53 stay huge, and copyin rejects them). */
export function argAddr(p: Proc, n: number): number {
  return p.tf.unsigned(ARGUMENT_REGISTERS[n]);
}

/** Argument n as a file descriptor of p: the descriptor and its open file, or undefined. */
export function argFd(p: Proc, n: number): { fd: number; file: OpenFile } | undefined {
  const fd = argInt(p, n);
  if (fd < 0 || fd >= NOFILE) return undefined;
  const file = p.ofile[fd];
  return file ? { fd, file } : undefined;
}

/** Argument n as a path string copied in from user memory, or -1. */
export function argPath(p: Proc, n: number): string | -1 {
  return copyinstr(p, argAddr(p, n), MAXPATH);
}

/** The lowest free descriptor of p, now holding f; -1 when all NOFILE are in use. */
export function fdAlloc(p: Proc, f: OpenFile): number {
  const fd = p.ofile.indexOf(null);
  if (fd < 0) return -1;
  p.ofile[fd] = f;
  return fd;
}

/** A user address, shown in hex in traces. */
export interface UserPointer {
  pointer: number;
}
export const ptr = (pointer: number): UserPointer => ({ pointer });

/** Trace the arguments as checked: sys_open("/small.txt", 0), sys_read(3, 0x402010, 100). */
export function traceArgs(k: Kernel, p: Proc, name: string, args: Array<string | number | UserPointer>): void {
  if (!k.trace) return;
  const show = (a: string | number | UserPointer): string =>
    typeof a === 'string' ? JSON.stringify(a) : typeof a === 'number' ? String(a) : '0x' + a.pointer.toString(16);
  const shown = args.map(show).join(', ');
  k.emit(p, 'kernel', 'sys', `sys_${name}(${shown})`, { name, args: shown });
}

/** Trace the operation a system call performs: fileOpen("/small.txt", 0) -> file. */
export function traceOperation(k: Kernel, p: Proc, text: string): void {
  k.emit(p, 'kernel', 'op', text);
}
