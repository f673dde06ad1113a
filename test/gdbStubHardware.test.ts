// The gdb stub on the machine's own debug mechanisms (machine/debugExceptions.ts),
// driven by real gdb in batch mode under `xk run`: a read watchpoint (Z3) that
// stops after the instruction that READ the variable and not at the store
// before it, a hardware breakpoint (Z1), a single step from it, and Ctrl-C
// through gdb itself (SIGINT to the gdb process, which sends 0x03) on a runaway
// loop, and `monitor symbols` + `add-symbol-file` naming the kernel's entry
// stubs. The oracles are gdb's own reports, objdump's disassembly and the
// kernel text's own symbol table.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { programImage } from '../src/cli/programImage.js';
import { REPO_ROOT } from './guestBuild.js';
import { assembleKernelText } from '../src/kernel/trap/kernelText.js';
import { KERNBASE, KERNEL_TEXT_PHYS, p2v } from '../src/kernel/mem/kernelLayout.js';
import { GDB_MISSING, gdbBatch } from './helpers/gdb.js';

const XK = path.join(REPO_ROOT, 'bin', 'xk.js');

/** Build a C program with xk's compiler into dir/NAME.elf. */
function build(dir: string, name: string, source: string): string {
  const file = path.join(dir, `${name}.c`);
  fs.writeFileSync(file, source);
  const image = programImage('test', file, 'gcc'); // the assertions read gcc's code shape
  assert.ok(typeof image !== 'string', String(image));
  const elf = path.join(dir, `${name}.elf`);
  fs.writeFileSync(elf, image);
  return elf;
}

/**
 * `xk run --gdb 0 ELF`, then gdb in batch mode with `commands`; with
 * `interrupt`, SIGINT goes to gdb a while after it reported the first stop
 * (as Ctrl-C at its terminal would), by then running `continue`. Resolves with gdb's log and xk's stdout and exit code.
 */
async function session(elf: string, commands: string[], interrupt = false): Promise<{ log: string; out: string; code: number | null }> {
  const xk = spawn(process.execPath, [XK, 'run', '--gdb', '0', elf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  xk.stdout!.on('data', (b) => (out += b));
  xk.stderr!.on('data', (b) => (err += b));
  const closed = new Promise<number | null>((resolve) => xk.on('close', (code) => resolve(code)));
  try {
    for (let i = 0; i < 2000 && !/waiting for gdb on/.test(err); i++) await new Promise((r) => setTimeout(r, 10));
    const port = /waiting for gdb on (\S+)/.exec(err)?.[1];
    assert.ok(port, `xk run --gdb listens: ${err}`);
    const log = await new Promise<string>((resolve, reject) => {
      const g = spawn('gdb', ['-batch', '-nx', `-ex=file ${elf}`, `-ex=target remote ${port}`, ...commands.map((c) => `-ex=${c}`)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      let sent = false;
      const seen = (b: Buffer): void => {
        text += b;
        // gdb's stdout is a pipe, so "Continuing." may sit in its buffer: wait a while after the first stop instead.
        if (interrupt && !sent && /0x[0-9a-f]+ in /.test(text)) {
          sent = true;
          setTimeout(() => g.kill('SIGINT'), 1500);
        }
      };
      g.stdout.on('data', seen);
      g.stderr.on('data', seen);
      const timer = setTimeout(() => { g.kill('SIGKILL'); reject(new Error(`gdb timed out:\n${text}`)); }, 60_000);
      g.on('close', () => { clearTimeout(timer); resolve(text); });
    });
    const timer = setTimeout(() => xk.kill('SIGKILL'), 30_000);
    const code = await closed;
    clearTimeout(timer);
    return { log, out, code };
  } finally {
    xk.kill('SIGKILL');
  }
}

/** objdump's instruction lines of `elf`, as [address, text]. */
function instructions(elf: string): [bigint, string][] {
  return execFileSync('objdump', ['-d', '-w', elf], { encoding: 'utf8' }).split('\n')
    .map((l) => /^\s+([0-9a-f]+):\t(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [BigInt('0x' + m[1]), m[2]]);
}

const values = (log: string): bigint[] => [...log.matchAll(/^\$\d+ = (0x[0-9a-f]+)$/gm)].map((m) => BigInt(m[1]));

test('real gdb: rwatch stops after the read, not at the store before it; hbreak stops at the first instruction of the function and stepi steps from it', { skip: GDB_MISSING, timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-gdbhw-'));
  try {
    const elf = build(dir, 'rwatch', [
      '#include "user.h"', 'volatile int counter;',
      'int main(int argc, char **argv) {', '  counter = 7;', '  int v = counter;', '  printf("seen %d\\n", v);', '  return 0;', '}', '',
    ].join('\n'));
    const plain = execFileSync(process.execPath, [XK, 'run', elf], { encoding: 'utf8' });
    const { log, out, code } = await session(elf, [
      'break main', 'continue', 'delete',
      'rwatch *(int *)&counter', 'continue', 'p/x $pc', 'delete',
      'hbreak *printf', 'continue', 'p/x $pc', 'stepi', 'p/x $pc', 'delete', 'detach',
    ]);
    assert.match(log, /Hardware read watchpoint 2: \*\(int \*\)&counter\s+Value = 7/, log);
    assert.match(log, /Hardware assisted breakpoint 3 at/, log);
    const [afterRead, atPrintf, stepped] = values(log);
    const lines = instructions(elf);
    const i = lines.findIndex(([a]) => a === afterRead);
    assert.ok(i > 0, `pc ${afterRead.toString(16)} is an instruction boundary`);
    assert.match(lines[i - 1][1], /mov\s+0x[0-9a-f]+\(%rip\),%e\w+\s+# [0-9a-f]+ <counter>/, 'the instruction before is the load of counter');
    assert.match(lines[i - 2][1], /movl\s+\$0x7,/, 'and the store before it did not stop gdb');
    const symbols = execFileSync('nm', [elf], { encoding: 'utf8' });
    assert.equal(atPrintf, BigInt('0x' + /^([0-9a-f]+) T printf$/m.exec(symbols)![1]), 'hbreak stopped at printf');
    const j = lines.findIndex(([a]) => a === atPrintf);
    assert.equal(stepped, lines[j + 1][0], 'stepi: the next instruction');
    assert.equal(code, 0);
    assert.equal(out, plain, 'after detach the program finishes with its usual output');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('real gdb: Ctrl-C (SIGINT to gdb) interrupts a runaway user loop, which then is at main', { skip: GDB_MISSING, timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-gdbint-'));
  try {
    const elf = build(dir, 'spin', ['#include "user.h"', 'volatile long spins;', 'int main(int argc, char **argv) {', '  for (;;) spins++;', '}', ''].join('\n'));
    const { log } = await session(elf, ['continue', 'p/x $pc', 'p *(long *)&spins', 'kill'], true);
    assert.match(log, /Program received signal SIGINT, Interrupt\./, log);
    const pc = values(log)[0];
    const symbols = execFileSync('nm', ['-n', elf], { encoding: 'utf8' }).split('\n');
    const main = symbols.findIndex((l) => / T main$/.test(l));
    const start = BigInt('0x' + symbols[main].split(' ')[0]);
    const end = BigInt('0x' + symbols[main + 1].split(' ')[0]);
    assert.ok(pc >= start && pc < end, `stopped in main's loop (pc ${pc.toString(16)})`);
    const spins = Number(/^\$\d+ = (\d+)$/m.exec(log)![1]);
    assert.ok(spins > 0, 'the loop ran');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('real gdb: monitor symbols writes an ELF that add-symbol-file loads; break alltraps stops there by name', { skip: GDB_MISSING, timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-gdbsym-'));
  try {
    const elf = build(dir, 'hello', ['#include "user.h"', 'int main(int argc, char **argv) {', '  printf("hello\\n");', '  return 0;', '}', ''].join('\n'));
    const symbols = path.join(dir, 'entry.elf');
    const { log } = await session(elf, [
      `monitor symbols ${symbols}`, `add-symbol-file ${symbols}`, 'break alltraps', 'continue', 'p/x $pc', 'x/3i vector64', 'kill',
    ]);
    assert.match(log, /wrote \d+ entry-stub symbols/, log);
    const text = await assembleKernelText();
    const alltraps = BigInt.asUintN(64, BigInt(p2v(KERNEL_TEXT_PHYS) + text.symbols.get('alltraps')!));
    assert.match(log, /Breakpoint 1, 0x[0-9a-f]+ in alltraps \(\)/, log);
    assert.equal(values(log)[0], alltraps);
    assert.match(log, /<vector64>:\s+push\s+\$0x0\s+.*<vector64\+2>:\s+push\s+\$0x40\s+.*<vector64\+4>:\s+jmp\s+0x[0-9a-f]+ <alltraps>/s, log);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('real gdb on a rep stosb: stepi does one iteration (pc stays, rcx goes down by one), a watchpoint stops after the iteration that wrote', { skip: GDB_MISSING, timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-gdbrep-'));
  try {
    const source = path.join(dir, 'rep.s');
    fs.writeFileSync(source, [
      '  .text', '  .globl main', '  .globl fill', 'main:', '  lea buf(%rip), %rdi', '  mov $4, %ecx', '  mov $0x41, %eax',
      'fill:', '  rep stosb', '  mov buf(%rip), %eax', '  sub $0x41414141, %eax', '  ret', '  .data', '  .globl buf', 'buf: .quad 0', '',
    ].join('\n'));
    const image = programImage('test', source);
    assert.ok(typeof image !== 'string', String(image));
    const elf = path.join(dir, 'rep.elf');
    fs.writeFileSync(elf, image);
    const { log, code } = await session(elf, [
      'break fill', 'continue', 'delete', 'p/x $rcx',
      'stepi', 'p/x $pc', 'p/x $rcx',
      'watch *((char *)&buf + 2)', 'continue', 'p/x $pc', 'p/x $rcx', 'p/x $rdi', 'delete', 'detach',
    ]);
    const symbols = execFileSync('nm', [elf], { encoding: 'utf8' });
    const fill = BigInt('0x' + /^([0-9a-f]+) T fill$/m.exec(symbols)![1]);
    const buf = BigInt('0x' + /^([0-9a-f]+) [dDbB] buf$/m.exec(symbols)![1]);
    assert.match(log, /Hardware watchpoint 2: \*\(\(char \*\)&buf \+ 2\)\s+Old value = 0 '\\000'\s+New value = 65 'A'/, log);
    assert.deepEqual(values(log), [4n, fill, 3n, fill, 1n, buf + 3n], log);
    assert.equal(code, 0, 'after detach the program finishes (buf was filled)');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('real gdb: the monitor\'s tf, files, signals and pt at trapret agree with gdb\'s own reads (the frame at %rsp, a page walk through the kernel\'s map of physical memory) and the program\'s fstat', { skip: GDB_MISSING, timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-gdbmon-'));
  try {
    const elf = build(dir, 'mon', [
      '#include "user.h"', '#include "signal.h"', '#include "stat.h"', 'volatile int counter;',
      'int main(int argc, char **argv) {',
      '  sigset_t b = 0;', '  sigaddset(&b, SIGUSR1);', '  sigprocmask(SIG_BLOCK, &b, 0);', '  raise(SIGUSR1);',
      '  int fd = open("ls", 0);', '  counter = fd;',
      '  struct stat st;', '  fstat(fd, &st);', '  printf("fd %d inode %d size %d\\n", fd, st.ino, st.size);', '  return 0;', '}', '',
    ].join('\n'));
    const text = await assembleKernelText();
    const trapret = BigInt.asUintN(64, BigInt(p2v(KERNEL_TEXT_PHYS) + text.symbols.get('trapret')!));
    const counter = BigInt('0x' + /^([0-9a-f]+) [bBdD] counter$/m.exec(execFileSync('nm', [elf], { encoding: 'utf8' }))![1]);
    // gdb's own walk of counter's address: each level's entry read through the kernel's map of physical memory (p2v).
    const kb = '0x' + BigInt.asUintN(64, BigInt(KERNBASE)).toString(16);
    const index = (level: number): bigint => (counter >> BigInt(39 - 9 * level)) & 511n;
    const walk = [
      `set $e0 = *(unsigned long *)(${kb} + ($cr3 & ~0xfff) + 8 * ${index(0)})`,
      ...[1, 2, 3].map((l) => `set $e${l} = *(unsigned long *)(${kb} + ($e${l - 1} & 0xffffffffff000) + 8 * ${index(l)})`),
      'p/x $e0', 'p/x $e1', 'p/x $e2', 'p/x $e3',
      `p/x *(int *)(${kb} + ($e3 & 0xffffffffff000) + ${counter & 0xfffn})`,
    ];
    const { log, out, code } = await session(elf, [
      'watch *(int *)&counter', 'continue', 'delete',
      // The next trap of the program (fstat) comes back through trapret with %rsp at its trap frame.
      `break *0x${trapret.toString(16)}`, 'continue', 'delete',
      'x/22gx $rsp', 'monitor tf', 'monitor files', 'monitor signals', `monitor pt 0x${counter.toString(16)}`, ...walk,
      'x/1gx 0', 'monitor pt 0', 'detach',
    ]);
    const frame = [...log.matchAll(/^0x[0-9a-f]+:\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)$/gm)].flatMap((m) => [BigInt(m[1]), BigInt(m[2])]);
    assert.equal(frame.length, 22, log);
    const tf = [...log.matchAll(/^ {2}(\w+)\s+(0x[0-9a-f]+)$/gm)].map((m) => [m[1], BigInt(m[2])] as const);
    assert.deepEqual(tf.map(([, v]) => v), frame, 'monitor tf is the frame at %rsp');
    assert.deepEqual(tf.slice(15, 19).map(([f]) => f), ['trapno', 'err', 'rip', 'cs']);
    assert.equal(tf[15][1], 64n, 'a system call');
    const printed = /fd (\d+) inode (\d+) size (\d+)/.exec(out);
    assert.ok(printed, out);
    assert.match(log, new RegExp(`fd ${printed[1]}: file inode ${printed[2]}, ${printed[3]} bytes`), 'monitor files names the open file as fstat does');
    assert.match(log, /fd 0: device/, log);
    assert.match(log, /pending SIGUSR1; blocked SIGUSR1/, log);
    const counterWalk = log.slice(log.indexOf(`walk of 0x${counter.toString(16)} `), log.indexOf('walk of 0x0 '));
    const entries = [...counterWalk.matchAll(/^ {2}(?:PML4|PDPT|PD|PT)\[(\d+)\] at phys 0x[0-9a-f]+ = (0x[0-9a-f]+) /gm)];
    const [e0, e1, e2, e3, value] = values(log);
    assert.deepEqual(entries.map((m) => BigInt(m[1])), [0, 1, 2, 3].map(index), log);
    assert.deepEqual(entries.map((m) => BigInt(m[2])), [e0, e1, e2, e3], 'monitor pt reads the same entries as gdb');
    assert.match(counterWalk, /^ {2}PT\[\d+\] at phys 0x[0-9a-f]+ = 0x[0-9a-f]+ PWU/m, 'a user page, writable');
    assert.equal(value, BigInt(printed[1]), 'the walk ends at counter\'s physical address (it holds fd)');
    assert.match(log, /Cannot access memory at address 0x0/, 'an unmapped address is an error gdb reports');
    assert.match(log, /walk of 0x0 under cr3 0x[0-9a-f]+:\n {2}PML4\[0\][^\n]*\n {2}PDPT\[0\][^\n]*\n {2}PD\[0\][^\n]*\n(?: {2}PT\[0\][^\n]*\n)? {2}not present/, 'and monitor pt says where the walk ends');
    assert.equal(code, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('real gdb: xk run --gdb with no program stops before init, the shell\'s first process (monitor ps), and kill ends it', { skip: GDB_MISSING, timeout: 120_000 }, async () => {
  const xk = spawn(process.execPath, [XK, 'run', '--gdb', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  xk.stderr!.on('data', (b) => (err += b));
  const closed = new Promise<number | null>((resolve) => xk.on('close', (code) => resolve(code)));
  try {
    for (let i = 0; i < 2000 && !/waiting for gdb on/.test(err); i++) await new Promise((r) => setTimeout(r, 10));
    const port = /waiting for gdb on (\S+)/.exec(err)?.[1];
    assert.ok(port, `xk run --gdb listens: ${err}`);
    const log = await gdbBatch([`target remote ${port}`, 'monitor ps', 'kill']);
    assert.match(log, /PID\s+PPID\s+STATE\s+NAME\s*\n\*\s+1\s+-\s+running\s+init/, log);
    assert.match(log, /\[Inferior 1 \(Remote target\) killed\]/, log);
    const timer = setTimeout(() => xk.kill('SIGKILL'), 30_000);
    await closed;
    clearTimeout(timer);
  } finally {
    xk.kill('SIGKILL');
  }
});

test('real gdb: awatch (Z4) stops after the store and again after the load of the same variable', { skip: GDB_MISSING, timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-gdbaw-'));
  try {
    const elf = build(dir, 'awatch', [
      '#include "user.h"', 'volatile int counter;',
      'int main(int argc, char **argv) {', '  counter = 7;', '  int v = counter;', '  printf("seen %d\\n", v);', '  return 0;', '}', '',
    ].join('\n'));
    const { log, code } = await session(elf, [
      'break main', 'continue', 'delete', 'awatch *(int *)&counter', 'continue', 'p/x $pc', 'continue', 'p/x $pc', 'delete', 'detach',
    ]);
    assert.match(log, /Hardware access \(read\/write\) watchpoint 2: \*\(int \*\)&counter\s+Value = 7/, log);
    const [afterStore, afterLoad] = values(log);
    const lines = instructions(elf);
    const i = lines.findIndex(([a]) => a === afterStore), j = lines.findIndex(([a]) => a === afterLoad);
    assert.ok(i > 0 && j > i, log);
    assert.match(lines[i - 1][1], /movl\s+\$0x7,/, 'the first stop is after the store');
    assert.match(lines[j - 1][1], /mov\s+0x[0-9a-f]+\(%rip\),%e\w+\s+# [0-9a-f]+ <counter>/, 'the second after the load');
    assert.equal(code, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
