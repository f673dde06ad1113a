// The gdb stub's other transports, with real gdb: a Unix socket (`--gdb PATH`,
// `target remote PATH`) and a pipe (`--gdb -`, `target remote | xk ...`, the
// protocol on xk's stdin/stdout). Both stop at the image's entry point and step.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildGuest, REPO_ROOT } from './guestBuild.js';
import { GDB_MISSING, gdbBatch } from './helpers/gdb.js';

const XK = path.join(REPO_ROOT, 'bin', 'xk.js');

const values = (log: string): bigint[] => [...log.matchAll(/^\$\d+ = (0x[0-9a-f]+)$/gm)].map((m) => BigInt(m[1]));

test('real gdb over a pipe: target remote | xk boot IMAGE --gdb -', { skip: GDB_MISSING, timeout: 60_000 }, async () => {
  const { elfPath } = buildGuest();
  const log = await gdbBatch([`file ${elfPath}`, `target remote | ${process.execPath} ${XK} boot ${elfPath} --gdb -`, 'p/x $pc', 'stepi', 'p/x $pc', 'kill']);
  const [entry, next] = values(log);
  assert.equal(entry, 0x100000n, log);
  assert.ok(next > entry && next <= entry + 15n, log);
});

test('real gdb over a Unix socket: xk boot IMAGE --gdb PATH, target remote PATH', { skip: GDB_MISSING, timeout: 60_000 }, async () => {
  const { elfPath } = buildGuest();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-gdbsock-'));
  const sock = path.join(dir, 'xk.sock');
  const child = spawn(process.execPath, [XK, 'boot', elfPath, '--gdb', sock], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b) => (err += b));
  try {
    for (let i = 0; i < 2000 && !/waiting for gdb on/.test(err); i++) await new Promise((r) => setTimeout(r, 10));
    assert.match(err, new RegExp(`waiting for gdb on ${sock.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const log = await gdbBatch([`file ${elfPath}`, `target remote ${sock}`, 'p/x $pc', 'stepi', 'p/x $pc', 'kill']);
    const [entry, next] = values(log);
    assert.equal(entry, 0x100000n, log);
    assert.ok(next > entry && next <= entry + 15n, log);
  } finally {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
