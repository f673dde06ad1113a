// docs/debugging.md's worked session is true: its gdb commands, run by real gdb
// against `xk run --gdb` on the program the page shows (built with `xk cc` as
// the page says), print the lines the page shows, in that order (in each of
// gdb's two streams and the program's output, which interleave as the host
// schedules them). Addresses of
// five hex digits or more are compared as "an address" (the kernel's text and
// the C library may move); every other number, instruction and name must match.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './guestBuild.js';
import { GDB_MISSING, gdbBatchStreams } from './helpers/gdb.js';

const XK = path.join(REPO_ROOT, 'bin', 'xk.js');

/** A line as compared: the remark (`<- ...`) dropped, spaces collapsed, long hex numbers masked. */
function normal(line: string): string {
  return line.replace(/\s+<-.*$/, '').replace(/0x0*([0-9a-f]+)/g, (_, digits: string) => (digits.length >= 5 ? 'ADDR' : '0x' + digits))
    .replace(/\s+/g, ' ').trim();
}

test('docs/debugging.md: the worked session prints what the page says', { skip: GDB_MISSING, timeout: 120_000 }, async () => {
  const page = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'debugging.md'), 'utf8');
  const section = page.slice(page.indexOf('## A worked session'));
  const source = /```c\n([\s\S]*?)```/.exec(section)?.[1];
  const session = /```text\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(source && session, 'the section has the program and the session');
  const lines = session.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('$ ') && !l.startsWith('xk run: waiting'));
  const commands = lines.filter((l) => l.startsWith('(gdb) ')).map((l) => l.slice(6).replace(/\s+<-.*$/, '').trim());
  const expected = lines.filter((l) => !l.startsWith('(gdb) ')).map(normal);
  assert.equal(commands[0], 'target remote 127.0.0.1:1234');
  assert.equal(commands[commands.length - 1], 'detach');

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-gdbdoc-'));
  const child = (() => {
    fs.writeFileSync(path.join(dir, 'watch.c'), source);
    execFileSync(process.execPath, [XK, 'cc', 'watch.c', '-o', 'watch.elf'], { cwd: dir, stdio: 'pipe' });
    return spawn(process.execPath, [XK, 'run', '--gdb', '0', 'watch.elf'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  })();
  try {
    let out = '', err = '';
    child.stdout!.on('data', (b) => (out += b));
    child.stderr!.on('data', (b) => (err += b));
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    for (let i = 0; i < 2000 && !/waiting for gdb on/.test(err); i++) await new Promise((r) => setTimeout(r, 10));
    const port = /waiting for gdb on (\S+)/.exec(err)?.[1];
    assert.ok(port, `xk run --gdb listens: ${err}`);
    const gdb = await gdbBatchStreams([`file ${path.join(dir, 'watch.elf')}`, `target remote ${port}`, ...commands.slice(1)]);
    await closed; // after detach the program runs to its end
    const streams = [gdb.stdout, gdb.stderr, out].map((text) => ({ lines: text.split('\n').map(normal), at: 0 }));
    for (const want of expected) {
      const stream = streams.find((s) => s.lines.indexOf(want, s.at) >= 0);
      assert.ok(stream, `docs/debugging.md shows "${want}", which gdb did not print next; gdb printed:\n${gdb.both}\nand the program:\n${out}`);
      stream.at = stream.lines.indexOf(want, stream.at) + 1;
    }
  } finally {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
