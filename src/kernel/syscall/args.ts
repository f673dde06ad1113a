// What every sys_* function uses, and nothing else: fetch its arguments from the
// trap frame (%rdi %rsi %rdx %rcx %r8 %r9), trace them, and put its result in rax.
// A leaf module: the dispatcher (syscall.ts) imports the sys_* files, and they
// import this, never the dispatcher.

import { copyinstr, fetchRecorder } from '../mem/copyin.js';
import type { OpenFile } from '../files/fileLayer.js';
import type { Kernel } from '../kernel.js';
import type { Blocking, Proc } from '../proc/proc.js';
import { MAXPATH, NOFILE } from './syscallTable.js';

/** A system call's implementation: a result now, or a generator that may wait. */
export type SyscallFunction = (k: Kernel, p: Proc) => number | Blocking;

/** Argument n as a C int (the low 32 bits, signed). */
export function argInt(p: Proc, n: number): number {
  return p.tf.int(p.tf.arg(n));
}

/** Argument n as an address (unsigned; values beyond 2^53 stay huge, and copyin rejects them). */
export function argAddr(p: Proc, n: number): number {
  return p.tf.unsigned(p.tf.arg(n));
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

/** The result goes into the trap frame's rax (unless the process has exited). */
export function finishSyscall(k: Kernel, p: Proc, name: string, value: number): void {
  fetchRecorder()?.end?.(p);
  if (p.state === 'zombie') return;
  p.tf.set('rax', value);
  k.emit(p, 'kernel', 'return', `sys_${name} returns ${value}: tf->rax = ${value}`, { name, value });
}
