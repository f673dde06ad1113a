import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { SYSCALLS } from '../src/kernel/syscall/syscallTable.js';
import { generatedFiles, repositoryRoot } from '../src/build/generateUserStubs.js';

test('the XK system calls keep their numbers 1..23, each once', () => {
  const names = ['fork', 'exit', 'wait', 'pipe', 'read', 'kill', 'exec', 'fstat', 'chdir', 'dup', 'getpid',
    'sbrk', 'sleep', 'uptime', 'open', 'write', 'mknod', 'unlink', 'link', 'mkdir', 'close', 'sysinfo', 'crashn'];
  names.forEach((name, i) => assert.equal(SYSCALLS.find((s) => s.name === name)?.num, i + 1, name));
  assert.equal(new Set(SYSCALLS.map((s) => s.num)).size, SYSCALLS.length);
});

test('buffer arguments name a length argument that is an int', () => {
  for (const s of SYSCALLS) {
    for (const a of s.args) {
      if (a.kind === 'bufIn' || a.kind === 'bufOut') assert.equal(s.args[a.lengthArg]?.kind, 'int', s.name);
    }
    assert.ok(s.args.length <= 6, `${s.name} has at most six register arguments`);
  }
});

test('committed user/usys.S and user/include/syscall.h equal the generated output (run `npm run gen`)', () => {
  const root = repositoryRoot();
  for (const [relative, text] of generatedFiles()) {
    assert.equal(readFileSync(join(root, relative), 'utf8'), text, `${relative} is stale: run npm run gen`);
  }
});

test('GNU as assembles each stub to movl $n,%eax; int $64; ret', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xk-usys-'));
  writeFileSync(join(dir, 'usys.S'), generatedFiles().get('user/usys.S')!);
  execFileSync('as', ['--64', '-o', join(dir, 'usys.o'), join(dir, 'usys.S')]);
  execFileSync('objcopy', ['-O', 'binary', '-j', '.text', join(dir, 'usys.o'), join(dir, 'usys.bin')]);
  const bytes = readFileSync(join(dir, 'usys.bin'));
  assert.equal(bytes.length, SYSCALLS.length * 8);
  SYSCALLS.forEach((s, i) => {
    assert.deepEqual([...bytes.subarray(i * 8, i * 8 + 8)], [0xb8, s.num, 0, 0, 0, 0xcd, 0x40, 0xc3], s.name);
  });
});
