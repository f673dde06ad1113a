// How the system-call fuzzer calls each system call: declared once per call, beside
// the one table (syscallTable.ts). The table's argument TYPES drive generation (an
// 'fd' comes from the caller's live descriptors, a 'path' is a string somewhere, a
// 'bufOut' is a pointer plus the length argument it names, ...); this file only adds
// what the types cannot say: how often to call it, which integers are interesting,
// and which calls or values would end the experiment rather than test the kernel.
//
// A test checks that every row of the table has a declaration here, so a new system
// call cannot be forgotten by the fuzzer.

/** Integers that sit on boundaries: sign, page size, C int limits, high garbage bits. */
export const BOUNDARY_INTS: readonly number[] = [
  0, 1, 2, 3, -1, -2, 7, 8, 15, 16, 17, 100, 511, 512, 4095, 4096, 4097, 65536,
  0x7fffffff, -0x80000000, 0x1_0000_0003, // high bits set: the kernel must use the low 32 only
];

/**
 * An integer argument's domain: numbers, or a role the fuzzer fills in at call time.
 * 'self' = the fuzzing process's pid, 'child' = one of its children's pids. Never the
 * supervisor that restarts it (pid 1), and no 0 or -1 for kill2 (process group and
 * broadcast reach the supervisor too): killing it would end the experiment.
 * 'aio' = an id an asynchronous I/O request of the fuzzing process got.
 */
export type IntChoice = number | 'self' | 'child' | 'aio';

export interface FuzzDeclaration {
  /** Relative frequency (0 = never called; say why in `excluded`). */
  weight: number;
  /** Argument index -> the only integers to draw from (else BOUNDARY_INTS and random ones). */
  ints?: Record<number, readonly IntChoice[]>;
  /** Why the call is not fuzzed. */
  excluded?: string;
}

const PIDS: readonly IntChoice[] = ['self', 'child', 'child', 9999, 0x7fffffff, -0x80000000, 64];
const AIO_SIGNALS: readonly IntChoice[] = [0, 0, 0, 0, 17, 23, 28, 9, 10, -1, 32, 64];
const AIO_IDS: readonly IntChoice[] = ['aio', 'aio', 'aio', 'aio', 0, -1, 9999, 0x7fffffff];
const SIGNALS: readonly IntChoice[] = [0, 1, 2, 9, 10, 12, 13, 14, 15, 17, 18, 19, 20, 29, 31, 32, 64, -1];

export const FUZZ_DECLARATIONS: Readonly<Record<string, FuzzDeclaration>> = {
  fork: { weight: 2 },
  exit: { weight: 0.2 },
  wait: { weight: 2 },
  pipe: { weight: 3 },
  read: { weight: 10 },
  kill: { weight: 0.5, ints: { 0: PIDS } },
  exec: { weight: 3 }, // paths never name an executable (fuzzPaths), so exec always fails after checking argv
  fstat: { weight: 4 },
  chdir: { weight: 2 },
  dup: { weight: 4 },
  getpid: { weight: 1 },
  sbrk: { weight: 2, ints: { 0: [0, 1, 4096, -4096, 8192, -1, 65536, -65536, 0x7fffffff, -0x80000000] } },
  sleep: { weight: 1, ints: { 0: [0, 1, 2, -1, -0x80000000] } },
  uptime: { weight: 1 },
  open: { weight: 6, ints: { 1: [0, 1, 2, 0x200, 0x201, 0x202, -1, 0x7fffffff, 0x1_0000_0000] } },
  write: { weight: 10 },
  mknod: { weight: 1, ints: { 1: [0, 1, 2, -1, 99], 2: [0, 1, -1, 99] } },
  unlink: { weight: 2 },
  link: { weight: 2 },
  mkdir: { weight: 2 },
  close: { weight: 5 },
  sysinfo: { weight: 2 },
  waitstatus: { weight: 2 },
  exitstatus: { weight: 0.2, ints: { 0: [0, 1, -1, 255] } },
  crashn: { weight: 0, excluded: 'the disk stops after n writes: the machine ends, nothing more to test' },
  rt_sigaction: { weight: 2, ints: { 0: SIGNALS } },
  sigprocmask: { weight: 2, ints: { 0: [0, 1, 2, 3, -1] } },
  sigpending: { weight: 1 },
  sigsuspend: { weight: 0.3 },
  sigaltstack: { weight: 1 },
  sigreturn: { weight: 0.5 },
  kill2: { weight: 0.5, ints: { 0: PIDS, 1: SIGNALS } },
  alarm: { weight: 0.3, ints: { 0: [0, 1, 5, 100, -1] } },
  setitimer: { weight: 0.3, ints: { 0: [0, 1, 2, -1, 99], 1: [0, 1, 10, -1], 2: [0, 1, 10, -1] } },
  pause: { weight: 0.2 },
  // F_SETFL (4) and F_SETOWN (8) once threw in the host on a regular file (a fuzzer
  // finding, fixed; test/fuzzFindings.test.ts keeps the reproducer).
  // The owner for F_SETOWN is never pid 1: SIGIO's default action would end the fuzzer's supervisor.
  fcntl: { weight: 2, ints: { 1: [0, 1, 2, 3, 4, 5, 6, 8, 9, -1, 99], 2: [0, 0x2000, 2, -1, 99999] } },
  vmrun: { weight: 1 },
  // Asynchronous I/O: completion signals the fuzzing process survives (0 = none, SIGCHLD/SIGURG/SIGWINCH
  // are ignored by default), a few that end it (SIGKILL, SIGUSR1), and bad numbers. Ids: its own recent ones.
  aio_read: { weight: 4, ints: { 1: [0, 1, 100, 1023, 1024, 4096, 65536, -1, 0x7fffffff], 4: AIO_SIGNALS } },
  aio_write: { weight: 3, ints: { 1: [0, 1, 100, 1023, 1024, 4096, 65536, -1, 0x7fffffff], 4: AIO_SIGNALS } },
  aio_status: { weight: 2, ints: { 0: AIO_IDS } },
  aio_return: { weight: 2, ints: { 0: AIO_IDS } },
  aio_waitany: { weight: 1, ints: { 1: [0, 1, 2, 3, 16, 17, -1] } },
  aio_cancel: { weight: 1, ints: { 0: AIO_IDS } }, // paths never name a boot image (fuzzPaths), so vmrun always fails after reading the file
};

/** Strings the fuzzer passes as paths: existing, missing, long, odd. None is an executable. */
export const FUZZ_PATHS: readonly string[] = [
  '/', '.', '..', '', '/README', 'fz0', 'fz1', '/fzdir', '/fzdir/a', 'fzdir/../fz0',
  '/nonexistent/x', '/console', 'a'.repeat(13), 'b'.repeat(14), 'c'.repeat(127), 'd'.repeat(200),
];
