// The user programs built by xk's OWN toolchain (user/*.c through xk cc, crt0.S + usys.S,
// all through xk's assembler and linker) run on xk: `xk run` with no program boots
// to the shell, the user tests pass, and `xk run prog.s` links a hand-written
// program with the user library (printf).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildUserBinaries, buildUserPrograms } from '../src/build/userPrograms.js';
import { runToCompletion } from '../src/kernel/boot/session.js';
import { README_TEXT, SMALL_TEXT } from '../src/kernel/fs/mkfs.js';
import { gccVersion } from '../src/build/gcc.js';
import { REPO_ROOT } from './helpers/userBuild.js';

const XK = path.join(REPO_ROOT, 'bin', 'xk.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-userxk-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function xk(args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('node', [XK, ...args], { input, encoding: 'latin1', timeout: 50_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** wc's line, word and byte counts, computed here rather than by the program under test. */
function counts(text: string): string {
  const lines = text.split('').filter((c) => c === '\n').length;
  const words = text.split(/[ \t\r\n\v]+/).filter((w) => w !== '').length;
  return `${lines} ${words} ${Buffer.byteLength(text, 'latin1')}`;
}

const binaries = buildUserBinaries();

test('xk\'s toolchain builds every user program and user test as an ELF executable', () => {
  for (const name of ['init', 'sh', 'cat', 'echo', 'ls', 'grep', 'wc', 'mkdir', 'rm', 'ln', 'kill']) {
    const elf = binaries.programs.get(name);
    assert.ok(elf, `${name} was built`);
    assert.deepEqual([...elf.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46], `${name} is ELF`);
  }
  assert.ok(binaries.tests.size >= 1);
  assert.equal(buildUserPrograms().size, binaries.programs.size + binaries.tests.size);
});

test('`xk run` with no program boots /init and the shell on the terminal', () => {
  const script = ['echo hello | wc', 'cat README | grep xk', 'wc README', 'ls', 'cat small.txt | wc', ''].join('\n');
  const r = xk(['run'], script);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^init: starting sh\n/);
  const out = r.stdout.replaceAll('$ ', '');
  assert.ok(out.includes(`${counts('hello\n')} \n`), out);
  const grepped = README_TEXT.split('\n').filter((l) => l.includes('xk')).map((l) => l + '\n').join('');
  assert.ok(grepped.length > 0);
  assert.ok(out.includes(grepped), out);
  assert.ok(out.includes(`${counts(README_TEXT)} README\n`), out);
  assert.ok(out.includes(`${counts(SMALL_TEXT)} \n`), out);
  // ls: NAME TYPE INODE SIZE; every program is a file (type 2) of the size xk's linker made.
  const listed = new Map<string, string[]>();
  for (const m of out.matchAll(/^(\S+) +(\d+) (\d+) (\d+)$/gm)) listed.set(m[1], [m[2], m[4]]);
  for (const [name, elf] of buildUserPrograms()) assert.deepEqual(listed.get(name), ['2', String(elf.length)], `ls shows ${name}`);
  assert.deepEqual(listed.get('README'), ['2', String(README_TEXT.length)]);
});

test('`xk run --fs DIR` replaces a default program with the host directory\'s file', () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'fs-'));
  fs.writeFileSync(path.join(dir, 'note.txt'), 'from the host\n');
  fs.writeFileSync(path.join(dir, 'README'), 'the host README wins\n');
  const r = xk(['run', '--fs', dir], 'cat note.txt\ncat README\n');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /from the host\n/);
  // The host directory's files win over the default content (README -> the host's).
  assert.match(r.stdout, /the host README wins\n/);
  assert.ok(!r.stdout.includes(README_TEXT.split('\n')[0]), 'the default README is replaced');
});

test('`xk run --image FILE` keeps the file system in FILE across runs', () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'image-'));
  const image = path.join(dir, 'disk.img');
  const first = xk(['run', '--image', image], 'echo kept across runs > note\n');
  assert.equal(first.status, 0, first.stderr);
  assert.ok(fs.existsSync(image), 'the image file was created');
  const second = xk(['run', '--image', image], 'cat note\n');
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stdout, /kept across runs\n/);
  const fresh = xk(['run'], 'cat note\n');
  assert.doesNotMatch(fresh.stdout, /kept across runs/, 'without --image nothing is kept');
});

test("the README's list of default programs is the list xk builds", () => {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const listed = readme.match(/the user programs \(`([^`]+)`\)/)?.[1].split(' ');
  assert.ok(listed, 'README names the user programs');
  const programs = fs.readdirSync(path.join(REPO_ROOT, 'user', 'programs')).filter((f) => f.endsWith('.c')).map((f) => f.replace(/\.c$/, ''));
  assert.deepEqual([...listed].sort(), programs.sort());
  for (const name of programs) assert.ok(buildUserPrograms().has(name), `xk builds ${name}`);
});

async function runOnXk(name: string, image: Uint8Array, input?: string): Promise<{ status: number | null; output: string; message: string }> {
  let output = '';
  const r = await runToCompletion({
    program: { path: name, image, argv: [name] },
    programs: buildUserPrograms(),
    memoryBytes: 32 * 1024 * 1024,
    output: (b) => { output += Buffer.from(b).toString('latin1'); },
    input,
  });
  return { status: r.status, output, message: r.message };
}

for (const [name, image] of binaries.tests) {
  test(`user test ${name}, built by xk's toolchain, passes on xk`, async () => {
    const r = await runOnXk(name, image);
    assert.equal(r.status, 0, `${name}: ${r.message}\n${r.output}`);
    assert.match(r.output, new RegExp(`${name}: PASS`));
  });
}

test('the xk-built shell runs pipelines, redirections, cd, ; and &', async () => {
  const script = [
    'echo hello world | wc',
    'mkdir d; cd d; echo hi > f; echo there >> f; cat f',
    'echo replaced > f; cat < f | grep rep',
    'ln f g; rm f; cat g; cd /',
    'grep ^b.*b$ small.txt',
    'rm d/g; rm d; cat d/g',
    'echo bg &',
    'nosuch',
    'exit 7',
    '',
  ].join('\n');
  const r = await runOnXk('sh', binaries.programs.get('sh')!, script);
  assert.equal(r.status, 7, r.message);
  const out = r.output.replaceAll('$ ', '');
  assert.ok(out.startsWith(`${counts('hello world\n')} \n`), out);
  assert.match(out, /hi\nthere\nreplaced\nreplaced\nbbbbbbbbbb\n/);
  assert.match(out, /cat: cannot open d\/g\n/);
  assert.match(out, /bg\n/);
  assert.match(out, /sh: exec nosuch failed\n/);
});

const HELLO_S = `# main(argc, argv): printf through the user library; crt0 calls main.
  .section .rodata
fmt: .asciz "%s has %d arguments, 0x%x in hex, %s\\n"
  .text
  .globl main
main:
  pushq %rbx
  movl %edi, %ebx            # argc
  movq (%rsi), %rsi          # argv[0]
  movl %ebx, %edx
  movl $48879, %ecx          # 0xbeef
  leaq last(%rip), %r8
  leaq fmt(%rip), %rdi
  xorl %eax, %eax
  call printf
  movl %ebx, %eax            # exit status = argc
  popq %rbx
  ret
  .data
last: .asciz "done"
`;

test('`xk run prog.s` links a hand-written program with printf from the user library', () => {
  const file = path.join(tmp, 'hello.s');
  fs.writeFileSync(file, HELLO_S);
  const r = xk(['run', file, 'a', 'b']);
  assert.equal(r.stdout, 'hello has 3 arguments, 0xbeef in hex, done\n', r.stderr);
  assert.equal(r.status, 3);
});

test('like ld with an archive, a program may define its own library function (strlen)', () => {
  const file = path.join(tmp, 'ownstrlen.s');
  fs.writeFileSync(file, `  .text
  .globl strlen
strlen:                      # this program's strlen: always 99
  movl $99, %eax
  ret
  .globl main
main:
  subq $8, %rsp
  leaq word(%rip), %rdi
  call strlen
  leaq fmt(%rip), %rdi
  movl %eax, %esi
  xorl %eax, %eax
  call printf
  xorl %eax, %eax
  addq $8, %rsp
  ret
  .data
word: .asciz "ab"
fmt: .asciz "%d\\n"
`);
  const r = xk(['run', file]);
  assert.equal(r.stdout, '99\n', r.stderr);
  assert.equal(r.status, 0);
});

test('`xk run prog.c` compiles with gcc -S, then xk assembles and links it', (t) => {
  if (gccVersion() === null) return t.skip('gcc is not installed');
  const file = path.join(tmp, 'sum.c');
  fs.writeFileSync(file, '#include "user.h"\nint main(int argc, char **argv) {\n'
    + '  char *p = malloc(32); strcpy(p, argv[1]);\n'
    + '  printf("%s:%d:%d\\n", p, atoi(argv[1]) + atoi(argv[2]), (int)strlen(p));\n  return 0;\n}\n');
  const r = xk(['run', file, '40', '2']);
  assert.equal(r.stdout, '40:42:2\n', r.stderr);
  assert.equal(r.status, 0);
});

test('`xk run` names a bad source file clearly', () => {
  const file = path.join(tmp, 'bad.s');
  fs.writeFileSync(file, '  .text\n  .globl main\nmain:\n  call nosuchfunction\n  ret\n');
  const r = xk(['run', file]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /nosuchfunction/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});
