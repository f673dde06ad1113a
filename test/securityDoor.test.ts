// One door to user memory, enforced by the type system (docs/security.md).
//
// Kernel code gets a Kernel and a Proc, and from them it cannot reach a view of
// physical memory: the memory is an ES private field of the few objects that
// need it (kernel.ts explains which), the processor is seen through KernelCpu
// (no memory access), the machine through KernelHardware (no memory), and the
// frames behind a page table open only with the copy module's FrameKey, which
// no other module can make. So a system call that reads user memory any way but
// copyin/copyout/copyinstr does not compile.
//
// This test proves it with the TypeScript compiler itself: it type-checks small
// system calls placed (virtually) in src/kernel/syscall/ against the real kernel
// sources. Each attempt to go around the door must fail with the compiler error
// named below; the legal system call must type-check without any error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import ts from 'typescript';
import { repositoryRoot } from '../src/kernel/trap/kernelTextFiles.js';
import { startSession } from '../src/kernel/boot/session.js';
import { buildAsmProgram } from './kernelHelpers.js';

const ROOT = repositoryRoot();
const HEADER = `
import type { Kernel } from '../kernel.js';
import type { Proc } from '../proc/proc.js';
import { argAddr } from './args.js';
`;

interface Attempt {
  name: string;
  body: string;
  /** The TypeScript error code the compiler must report, and words its message must contain. */
  code: number;
  says: string;
}

const ATTEMPTS: Attempt[] = [
  {
    name: 'reads through the kernel state',
    body: `export function sysPeek(k: Kernel, p: Proc): number { return k.mem.read32(argAddr(p, 0)); }`,
    code: 2339, says: "'mem' does not exist on type 'Kernel'",
  },
  {
    name: 'takes an alias of the memory',
    body: `export function sysPeek(k: Kernel, p: Proc): number { const m = k.mem; return m.bytes[argAddr(p, 0)]; }`,
    code: 2339, says: "'mem' does not exist on type 'Kernel'",
  },
  {
    name: 'hands the machine memory to a helper',
    body: `import { writeAddress } from '../../machine/descriptors.js';
export function sysPoke(k: Kernel, p: Proc): number { writeAddress(k.hw.memory, argAddr(p, 0), 0); return 0; }`,
    code: 2339, says: "'memory' does not exist on type 'KernelHardware'",
  },
  {
    name: 'reads user memory through the processor (linear read with the current page table)',
    body: `export function sysPeek(k: Kernel, p: Proc): number { return k.cpu.readMem(argAddr(p, 0), 4); }`,
    code: 2339, says: "'readMem' does not exist on type 'KernelCpu'",
  },
  {
    name: "takes the processor's memory",
    body: `export function sysPeek(k: Kernel, p: Proc): number { return k.cpu.memory.read32(argAddr(p, 0)); }`,
    code: 2339, says: "'memory' does not exist on type 'KernelCpu'",
  },
  {
    name: "walks the process's page table to the frame",
    body: `export function sysPeek(k: Kernel, p: Proc): number {
  const page = p.vm.lookup(argAddr(p, 0));
  return page ? p.vm.mem.bytes[page.addr] : -1;
}`,
    code: 2339, says: "'mem' does not exist on type 'AddressSpace'",
  },
  {
    name: 'goes through the trap frame',
    body: `export function sysPeek(k: Kernel, p: Proc): number { return p.tf.mem.read32(argAddr(p, 0)); }`,
    code: 2339, says: "'mem' does not exist on type 'TrapFrame'",
  },
  {
    name: 'goes through the page allocator',
    body: `export function sysPeek(k: Kernel, p: Proc): number { return k.allocator.mem.read32(argAddr(p, 0)); }`,
    code: 2339, says: "'mem' does not exist on type 'PageAllocator'",
  },
  {
    name: 'makes its own key to the frames',
    body: `import { FrameKey } from '../mem/copyin.js';
export function sysPeek(k: Kernel, p: Proc): number { return p.vm.frames(new FrameKey()).read32(argAddr(p, 0)); }`,
    code: 1362, says: "'FrameKey' cannot be used as a value because it was exported using 'export type'",
  },
  {
    name: 'fakes the key with an object of the same shape',
    body: `export function sysPeek(k: Kernel, p: Proc): number { return p.vm.frames({ door: 'copyin.ts' }).read32(argAddr(p, 0)); }`,
    code: 2345, says: "Property 'door' is private in type 'FrameKey'",
  },
];

const LEGAL = `import { copyin, copyinstr, copyout } from '../mem/copyin.js';
/** A legal system call: check, copy in, operate, copy out. */
export function sysEcho(k: Kernel, p: Proc): number {
  const from = argAddr(p, 0);
  const bytes = copyin(p, from, 16);
  if (bytes === -1) return -1;
  const name = copyinstr(p, argAddr(p, 1), 64);
  if (name === -1) return -1;
  p.tf.set('rbx', k.cpu.instructionCount);
  return copyout(p, argAddr(p, 2), bytes);
}`;

/** Type-check the given files (virtual, in src/kernel/syscall/) with the project's options; diagnostics per file. */
function typeCheck(files: Map<string, string>): Map<string, ts.Diagnostic[]> {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const options = { ...config.options, noEmit: true };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => files.has(f) || fileExists.call(host, f);
  host.readFile = (f) => files.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, version, ...rest) =>
    files.has(f) ? ts.createSourceFile(f, files.get(f)!, version) : getSourceFile.call(host, f, version, ...rest);
  const program = ts.createProgram([...files.keys()], options, host);
  const out = new Map<string, ts.Diagnostic[]>();
  for (const f of files.keys()) out.set(f, [...program.getSyntacticDiagnostics(program.getSourceFile(f)), ...program.getSemanticDiagnostics(program.getSourceFile(f))]);
  return out;
}

test('a system call cannot reach user memory except through copyin/copyout/copyinstr: the compiler refuses every other way', () => {
  const dir = join(ROOT, 'src', 'kernel', 'syscall');
  const files = new Map<string, string>();
  ATTEMPTS.forEach((a, i) => files.set(join(dir, `doorAttempt${i}.ts`), HEADER + a.body + '\n'));
  const legal = join(dir, 'doorLegal.ts');
  files.set(legal, HEADER + LEGAL + '\n');
  const diagnostics = typeCheck(files);

  const text = (d: ts.Diagnostic): string => `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  assert.deepEqual(diagnostics.get(legal)!.map(text), [], 'the legal system call type-checks');
  ATTEMPTS.forEach((a, i) => {
    const found = diagnostics.get(join(dir, `doorAttempt${i}.ts`))!;
    assert.ok(
      found.some((d) => d.code === a.code && text(d).includes(a.says)),
      `a system call that ${a.name} must not compile (expected TS${a.code} "${a.says}"); the compiler said: ${found.map(text).join(' | ') || 'nothing'}`,
    );
  });
});

test('the narrow accessors hold at run time too: no memory behind k.hw, no trap frame on a user page, no frames without the key', async () => {
  const session = await startSession({
    program: { path: 'spin', image: buildAsmProgram('.globl _start\n_start: jmp _start\n'), argv: ['spin'] },
    output: () => {},
  });
  try {
    session.run(10_000);
    const k = session.kernel;
    const p = k.initProc!;
    assert.equal((k.hw as unknown as { memory?: unknown }).memory, undefined, 'k.hw carries no memory, even after a cast');
    const user = p.vm.lookup(0x400000);
    assert.ok(user, 'the program has a user page at 0x400000');
    assert.throws(() => k.trapFrameAt(user.addr), /not on a kernel stack/);
    assert.equal(k.trapFrameAt(p.tf.phys), p.tf);
    assert.throws(() => p.vm.frames({ door: 'copyin.ts' } as never), /only the copy module/);
  } finally {
    session.close();
  }
});
