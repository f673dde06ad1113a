// The bad-pointer class program (issue 6), shared by test/securityClasses.test.ts and
// test/securityMutation.test.ts: every class of bad user pointer, each printed with
// the value the system call returned, then fork/wait to show the process goes on.
import { buildCProgram, runProgram, C_PROTOTYPES } from './kernelHelpers.js';

/** Each CHECK prints "label value"; the test compares every line with the expected value. */
export const CLASSES = C_PROTOTYPES + `
#define KERNEL ((char*)0xffff800000010000UL)   /* kernel text in the direct map */
#define CHECK(label, e) do { puts(label " "); putint(e); puts("\\n"); } while (0)
static const char rodata[64] = "read-only";
char buf[64];
int main(int argc, char **argv) {
  if (argc > 1) return 99;                      /* exec with a bad argv must never get here */
  int fd = open("/small.txt", 0);
  CHECK("open", fd);
  /* pointer into kernel memory, both directions */
  CHECK("read-into-kernel", read(fd, KERNEL, 10));
  CHECK("write-from-kernel", write(1, KERNEL, 10));
  CHECK("fstat-into-kernel", fstat(fd, KERNEL));
  CHECK("pipe-into-kernel", pipe((int*)KERNEL));
  CHECK("waitstatus-into-kernel", waitstatus((int*)KERNEL));
  CHECK("open-kernel-path", open(KERNEL, 0));
  CHECK("user-limit", write(1, (char*)0x80000000UL, 1));
  CHECK("noncanonical-alias", write(1, (char*)((1UL << 48) + (unsigned long)buf), 4));
  /* unmapped */
  CHECK("read-unmapped", read(fd, (char*)0x10, 10));
  CHECK("write-unmapped", write(1, (char*)0x10, 10));
  CHECK("open-unmapped", open((char*)0x10, 0));
  /* read-only page as an output buffer (but fine as input) */
  CHECK("read-into-rodata", read(fd, (char*)rodata, 4));
  CHECK("fstat-into-rodata", fstat(fd, (char*)rodata));
  CHECK("pipe-into-rodata", pipe((int*)rodata));
  CHECK("write-from-rodata", write(1, rodata, 0));
  /* lengths: negative, huge, wrapping the address space */
  CHECK("read-negative", read(fd, buf, -1));
  CHECK("write-negative", write(1, buf, -5));
  CHECK("read-huge", read(fd, buf, 0x7fffffff));
  CHECK("write-wraps", write(1, (char*)0xfffffffffffffff0UL, 32));
  /* straddling the user/kernel boundary (the stack ends at USER_LIMIT) */
  CHECK("write-straddle", write(1, (char*)0x7ffffff8UL, 16));
  CHECK("read-straddle", read(fd, (char*)0x7ffffffcUL, 8));
  CHECK("fstat-straddle", fstat(fd, (char*)0x7ffffff8UL));
  /* strings with no terminator: into an unmapped page, and up to the user limit */
  char *heap = sbrk(4096);
  char *end = sbrk(0);
  for (char *p = heap; p < end; p++) *p = 'a';
  CHECK("open-unterminated-unmapped", open(end - 100, 0));
  CHECK("mkdir-unterminated-unmapped", mkdir(end - 1));
  for (char *p = (char*)0x7fffff00UL; p < (char*)0x80000000UL; p++) *p = 'b';
  CHECK("open-unterminated-limit", open((char*)0x7fffff00UL, 0));
  /* argv: unterminated, pointing to kernel memory, elements in kernel memory (path is a real program) */
  char **table = (char**)heap;
  for (int i = 0; i < 4096 / 8; i++) table[i] = "x";
  CHECK("exec-argv-unterminated", exec("/prog", table));
  CHECK("exec-argv-kernel", exec("/prog", (char**)KERNEL));
  char *kernelElement[] = { "prog", KERNEL, 0 };
  CHECK("exec-argv-element-kernel", exec("/prog", kernelElement));
  char *unmappedElement[] = { "prog", (char*)0x10, 0 };
  CHECK("exec-argv-element-unmapped", exec("/prog", unmappedElement));
  CHECK("exec-argv-straddle", exec("/prog", (char**)0x7ffffffcUL));
  /* the process goes on: the failed reads did not move the offset; fork and wait work */
  CHECK("read-after", read(fd, buf, 4));
  CHECK("first-byte-is-a", buf[0] == 'a');
  int pid = fork();
  if (pid == 0) exitstatus(7);
  int status = 0;
  CHECK("wait-child", waitstatus(&status) == pid);
  CHECK("child-status", status);
  exitstatus(0); /* not return: the string test above overwrote the top of the stack, main's return address too */
}`;

export const EXPECTED: Record<string, number> = {
  open: 3,
  'read-into-kernel': -1, 'write-from-kernel': -1, 'fstat-into-kernel': -1, 'pipe-into-kernel': -1,
  'waitstatus-into-kernel': -1, 'open-kernel-path': -1, 'user-limit': -1, 'noncanonical-alias': -1,
  'read-unmapped': -1, 'write-unmapped': -1, 'open-unmapped': -1,
  'read-into-rodata': -1, 'fstat-into-rodata': -1, 'pipe-into-rodata': -1, 'write-from-rodata': 0,
  'read-negative': -1, 'write-negative': -1, 'read-huge': -1, 'write-wraps': -1,
  'write-straddle': -1, 'read-straddle': -1, 'fstat-straddle': -1,
  'open-unterminated-unmapped': -1, 'mkdir-unterminated-unmapped': -1, 'open-unterminated-limit': -1,
  'exec-argv-unterminated': -1, 'exec-argv-kernel': -1, 'exec-argv-element-kernel': -1,
  'exec-argv-element-unmapped': -1, 'exec-argv-straddle': -1,
  'read-after': 4, 'first-byte-is-a': 1, 'wait-child': 1, 'child-status': 7,
};

let image: Uint8Array | null = null;
/** The class program, built once. */
export function classProgram(): Uint8Array {
  image ??= buildCProgram(CLASSES);
  return image;
}

/** Run it: label -> value, the exit status, and the raw output. */
export async function runClasses(): Promise<{ values: Map<string, number>; status: number | null; output: string }> {
  const prog = classProgram();
  const run = await runProgram(prog, ['prog'], { programs: new Map([['prog', prog]]), trace: () => {} });
  const values = new Map<string, number>();
  for (const m of run.output.matchAll(/^([a-z-]+) (-?\d+)$/gm)) values.set(m[1], Number(m[2]));
  return { values, status: run.status, output: run.output };
}

/** Labels whose value differs from EXPECTED (a missing line counts as different). */
export function wrongClasses(values: Map<string, number>): string[] {
  return Object.entries(EXPECTED).filter(([k, v]) => values.get(k) !== v).map(([k, v]) => `${k}: got ${values.get(k)}, want ${v}`);
}

