import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DiskCrash } from '../src/kernel/fs/blockDevice.js';
import { openRootDisk } from '../src/kernel/fs/hostFiles.js';
import { fsMkdir } from '../src/kernel/fs/fsOps.js';
import { bitmapBlock, BLOCK_SIZE, decodeSuperblock } from '../src/kernel/fs/layout.js';

const xk = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'xk.js');

function fsckImage(image: string): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [xk, 'fsck', image]);
  return { status: r.status, out: r.stdout.toString(), err: r.stderr.toString() };
}

test('xk fsck recovers a crashed image, reports damage, and explains bad input', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-fsck-'));
  try {
    const image = path.join(tmp, 'disk.img');
    const d = openRootDisk({ imagePath: image, blocks: 512 });
    // mkdir writes a few log blocks, then the commit record: stop right after it.
    const before = d.disk.writes;
    fsMkdir(d.fs, '/probe');
    const perMkdir = d.disk.writes - before;       // n log blocks + header + n installs + header
    const n = (perMkdir - 2) / 2;
    d.disk.crashAfter(n + 1);
    assert.throws(() => fsMkdir(d.fs, '/lost'), DiskCrash);
    d.close();
    let r = fsckImage(image);
    assert.equal(r.status, 0, r.err + r.out);
    assert.match(r.out, /recovered a committed transaction of \d+ blocks/);
    assert.match(r.out, /clean/);

    // Damage: mark a free block used in the bitmap.
    const bytes = fs.readFileSync(image);
    const sb = decodeSuperblock(bytes.subarray(BLOCK_SIZE, 2 * BLOCK_SIZE));
    bytes[bitmapBlock(sb, 500) * BLOCK_SIZE + (500 >> 3)] |= 1 << (500 % 8);
    fs.writeFileSync(image, bytes);
    r = fsckImage(image);
    assert.equal(r.status, 1);
    assert.match(r.out, /block 500: bitmap says used but it is free/);

    r = fsckImage(path.join(tmp, 'missing.img'));
    assert.equal(r.status, 2);
    assert.match(r.err, /cannot open disk image/);
    assert.doesNotMatch(r.err, /at .*\.js/, 'no stack trace');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
