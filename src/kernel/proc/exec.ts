// exec(path, argv): replace the caller's program with the executable at `path`.
//
// The ELF file is checked by the toolchain's loader (src/toolchain/loader.ts); exec
// builds a complete new address space (segments, then the stack with the argument
// strings and the argv array) and only then commits: on any failure the caller
// keeps its old program and gets -1.
//
// The new user stack, from USER_STACK_TOP down, on as few pages as it needs (one
// for a short command line; the stack grows on demand later, pageFault.ts):
//   the argument strings (each NUL-terminated, 8-byte aligned)
//   argv[0] .. argv[argc-1], 0          <- %rsi = argv, 16-byte aligned
//   FAKE_RETURN_ADDRESS                 <- %rsp
// and the program starts at e_entry with %rdi = argc, %rsi = argv. The stack is
// what a C function sees on entry (a return address on top, %rsp+8 16-byte aligned),
// so the entry may be xk's crt0 `_start` or, as XK links programs, `main` itself;
// main returning to the fake address faults and the process is killed, as on XK.
//
// Segments may start at address 0 (`ld -N -Ttext 0`: one RWX segment, XK's layout);
// the loader does not require file offsets to be page-congruent, since exec copies
// the bytes into fresh pages.

import { LoaderError, loadExecutable } from '../../toolchain/loader.js';
import { copyout, fetchargv } from '../mem/copyin.js';
import type { Kernel } from '../kernel.js';
import {
  FAKE_RETURN_ADDRESS, PAGE_SIZE, RFLAGS_IF, USER_BASE, USER_CS, USER_DS, USER_HEAP_LIMIT, USER_STACK_BOTTOM,
  USER_STACK_TOP,
} from '../mem/kernelLayout.js';
import type { Proc } from './proc.js';
import { argAddr, argPath, traceArgs, traceOperation } from '../syscall/args.js';
import { MAXARG, MAXARGLEN } from '../syscall/syscallTable.js';
import { TRAP_FRAME_FIELDS } from '../trap/trapFrame.js';
import { AddressSpace, PTE_U, PTE_W } from '../mem/vm.js';
import { execSignals } from '../signals/signals.js';

/** Largest single segment exec accepts. */
const MAX_SEGMENT_BYTES = 256 * 1024 * 1024;

export function sysExec(k: Kernel, p: Proc): number {
  const path = argPath(p, 0);
  if (path === -1) return -1;
  // The path is often argv[0] itself (sh: exec(argv[0], argv)): copied once, used twice.
  const argv = fetchargv(p, argAddr(p, 1), MAXARG, MAXARGLEN, new Map([[argAddr(p, 0), path]]));
  if (argv === -1) return -1;
  traceArgs(k, p, 'exec', [path, JSON.stringify(argv)]);
  const image = k.files.readFile(path, p.cwd!);
  if (typeof image === 'number') return image;
  return execImage(k, p, path, image, argv);
}

/** Load `image` into `p` with arguments `argv`; argc, or -1 with p unchanged. */
export function execImage(k: Kernel, p: Proc, path: string, image: Uint8Array, argv: string[]): number {
  let program;
  try {
    program = loadExecutable(image, {
      userBase: USER_BASE, userLimit: USER_HEAP_LIMIT, maxSegmentBytes: MAX_SEGMENT_BYTES, congruentOffsets: false,
    });
  } catch (e) {
    if (!(e instanceof LoaderError)) throw e;
    k.print(`${e.message} (${path})\n`);
    return -1;
  }
  let vm: AddressSpace;
  try {
    vm = k.kernelVm.newProcessSpace();
  } catch {
    return -1;
  }
  const user = { vm };
  const fail = (): number => {
    vm.destroy();
    return -1;
  };

  // The segments: map writable, copy the file bytes (the rest stays zero: bss), then
  // take write permission away from segments that are not writable.
  for (const s of program.segments) {
    if (!vm.allocUser(s.vaddr, s.vaddr + s.memsz, PTE_U | PTE_W)) return fail();
    if (copyout(user, s.vaddr, s.data) < 0) return fail();
  }
  for (const s of program.segments) {
    if (!s.writable) vm.protect(s.vaddr, s.vaddr + s.memsz, PTE_U);
  }

  // The stack, with the arguments on it.
  const stack = stackLayout(argv);
  if (stack === null) return fail();
  const sp = stack.sp;
  if (!vm.allocUser(Math.floor(sp / PAGE_SIZE) * PAGE_SIZE, USER_STACK_TOP, PTE_U | PTE_W)) return fail();
  for (const [addr, bytes] of stack.writes) if (copyout(user, addr, bytes) < 0) return fail();

  // Commit: the new address space, a fresh trap frame, and the old memory freed.
  const old = p.vm;
  p.vm = vm;
  p.heapBase = p.brk = Math.ceil(program.end / PAGE_SIZE) * PAGE_SIZE;
  p.name = path.split('/').filter((s) => s !== '').pop() ?? path;
  for (const field of TRAP_FRAME_FIELDS) if (field !== 'trapno' && field !== 'err') p.tf.set(field, 0);
  p.tf.set('rip', program.entry);
  p.tf.set('rsp', sp);
  p.tf.set('rdi', argv.length);
  p.tf.set('rsi', stack.argv);
  p.tf.set('cs', USER_CS);
  p.tf.set('ss', USER_DS);
  p.tf.set('rflags', RFLAGS_IF | 2);
  if (k.cpu.cr3 === old.root) {
    k.cpu.cr3 = vm.root;
    k.hw.mmu.flush();
  }
  old.destroy();
  execSignals(p); // handlers were in the old program (signals.ts)
  traceOperation(k, p, `exec: ${path} entry ${'0x' + program.entry.toString(16)}, argc ${argv.length}`);
  return argv.length;
}

/** Where exec puts each argument string, the argv array and the return address; null when they do not fit. */
function stackLayout(argv: string[]): { sp: number; argv: number; writes: Array<[number, Uint8Array]> } | null {
  const writes: Array<[number, Uint8Array]> = [];
  let sp = USER_STACK_TOP;
  const pointers: number[] = [];
  for (const arg of argv) {
    const bytes = Uint8Array.from(arg + '\0', (c) => c.charCodeAt(0) & 0xff); // latin1
    sp = Math.floor((sp - bytes.length) / 8) * 8;
    writes.push([sp, bytes]);
    pointers.push(sp);
  }
  pointers.push(0);
  const table = new Uint8Array(8 * pointers.length);
  pointers.forEach((ptr, i) => new DataView(table.buffer).setBigUint64(8 * i, BigInt(ptr), true));
  sp = Math.floor((sp - table.length) / 16) * 16;
  writes.push([sp, table]);
  const argvAddress = sp;
  const ret = new Uint8Array(8);
  new DataView(ret.buffer).setBigInt64(0, BigInt(FAKE_RETURN_ADDRESS), true);
  sp -= 8;
  writes.push([sp, ret]);
  return sp < USER_STACK_BOTTOM ? null : { sp, argv: argvAddress, writes };
}
