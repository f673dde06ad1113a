// Crash consistency: run a workload on a disk that "loses power" after its k-th
// block write, for every k, then mount the image (log recovery) and check that
// fsck finds nothing wrong and the files are exactly as some prefix of the
// workload's transactions left them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CrashingDisk, DiskCrash, MemoryDisk } from '../src/kernel/fs/blockDevice.js';
import { mountFileSystem, type FileSystem } from '../src/kernel/fs/fileSystem.js';
import { mkfs } from '../src/kernel/fs/mkfs.js';
import { fsck } from '../src/kernel/fs/fsck.js';
import { iput, readi, type Inode } from '../src/kernel/fs/inode.js';
import { readDirents } from '../src/kernel/fs/directory.js';
import { rootInode } from '../src/kernel/fs/path.js';
import { fsLink, fsMkdir, fsOpen, fsUnlink, fsWrite, O_CREATE, O_RDWR } from '../src/kernel/fs/fsOps.js';
import { T_DIR } from '../src/kernel/fs/layout.js';
import { openRootDisk } from '../src/kernel/fs/hostFiles.js';
import * as hostFs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const BLOCKS = 700;

function file(fs: FileSystem, p: string): Inode {
  const ip = fsOpen(fs, p, O_CREATE | O_RDWR);
  if (ip === -1) throw new Error(`open ${p}`);
  return ip;
}

/** A deterministic mix of every kind of operation, including a multi-transaction write and an unlink of an open file. */
function workload(fs: FileSystem): void {
  fsMkdir(fs, '/dir');
  fsMkdir(fs, '/dir/sub');
  for (let i = 0; i < 4; i++) {
    const f = file(fs, `/dir/f${i}`);
    fsWrite(f, 0, new Uint8Array(300 + i * 700).fill(0x41 + i));
    iput(f);
  }
  const big = file(fs, '/dir/sub/big');
  const data = new Uint8Array(40 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff;
  fsWrite(big, 0, data);                       // several transactions
  iput(big);
  fsLink(fs, '/dir/f1', '/link1');
  fsUnlink(fs, '/dir/f1');
  const open = file(fs, '/dir/f2');
  fsUnlink(fs, '/dir/f2');                      // open but unlinked: an orphan if we crash now
  fsWrite(open, open.size, new Uint8Array(2000).fill(9));
  fsMkdir(fs, '/dir/sub/deep');
  iput(open);
  const again = file(fs, '/dir/f3');
  fsWrite(again, 100, new Uint8Array(3000).fill(0x5a));   // overwrite and grow
  iput(again);
  fsUnlink(fs, '/dir/sub/big');
  fsUnlink(fs, '/dir/sub/deep');
  fsMkdir(fs, '/dir/sub/deep2');
}

/** The visible state: every path with its type, link count and contents. */
function dump(fs: FileSystem): string {
  const lines: string[] = [];
  const walk = (dir: Inode, prefix: string): void => {
    for (const e of readDirents(dir)) {
      if (e.inum === 0 || e.name === '.' || e.name === '..') continue;
      const fsIp = fsOpen(fs, `${prefix}/${e.name}`, 0) as Inode;
      const body = fsIp.type === T_DIR ? '' : Buffer.from(readi(fsIp, 0, fsIp.size)).toString('base64');
      lines.push(`${prefix}/${e.name} type=${fsIp.type} nlink=${fsIp.nlink} size=${fsIp.size} ${body.length > 64 ? body.length + ':' + body.slice(0, 64) : body}`);
      if (fsIp.type === T_DIR) walk(fsIp, `${prefix}/${e.name}`);
      iput(fsIp);
    }
  };
  const root = rootInode(fs);
  walk(root, '');
  iput(root);
  return lines.sort().join('\n');
}

/** Mounts a copy of `bytes` (recovering its log) and returns [fsck problems, visible state]. */
function recoverCopy(bytes: Uint8Array): { problems: string[]; state: string } {
  const disk = new MemoryDisk(BLOCKS, bytes);
  const fs = mountFileSystem(disk);
  const problems = fsck(disk);
  return { problems, state: dump(fs) };
}

test('a crash after any block write leaves a consistent image holding a prefix of the transactions', () => {
  const base = new MemoryDisk(BLOCKS);
  mkfs(base);
  const pristine = base.bytes.slice();

  // Reference run: the state after each commit.
  const refDisk = new MemoryDisk(BLOCKS, pristine);
  const counter = new CrashingDisk(refDisk, Number.POSITIVE_INFINITY);
  const refFs = mountFileSystem(counter);
  const states = [recoverCopy(pristine).state];
  refFs.log.onCommit = () => states.push(recoverCopy(refDisk.bytes).state);
  workload(refFs);
  const totalWrites = counter.writes;
  assert.ok(refFs.log.commits > 20, `workload made ${refFs.log.commits} transactions`);
  assert.ok(totalWrites > 100);
  assert.deepEqual(fsck(refDisk), []);

  let sawMidCommitRecovery = 0;
  for (let k = 0; k <= totalWrites; k++) {
    const disk = new MemoryDisk(BLOCKS, pristine);
    const crashing = new CrashingDisk(disk, k);
    const fs = mountFileSystem(crashing);
    let committed = 0;
    fs.log.onCommit = () => { committed = fs.log.commits; };
    try {
      workload(fs);
    } catch (e) {
      if (!(e instanceof DiskCrash)) throw e;
    }
    if (new DataView(disk.bytes.buffer, (2) * 1024, 4).getUint32(0, true) !== 0) sawMidCommitRecovery++;
    const { problems, state } = recoverCopy(disk.bytes);
    assert.deepEqual(problems, [], `crash after ${k} writes: fsck`);
    // Either the transaction in flight made it (its commit record was written) or it did not.
    const ok = state === states[committed] || state === states[committed + 1];
    assert.ok(ok, `crash after ${k} writes (${committed} commits done): state is not a transaction boundary\n${state}`);
  }
  assert.ok(sawMidCommitRecovery > 10, 'some crashes happened between the commit record and the install');
});

test('an image file cut off mid-run (crashn) is recovered at the next open', () => {
  const tmp = hostFs.mkdtempSync(path.join(os.tmpdir(), 'xk-crash-'));
  try {
    for (const n of [3, 17, 40]) {
      const image = path.join(tmp, `disk${n}.img`);
      const first = openRootDisk({ imagePath: image, blocks: BLOCKS });
      const writesBefore = first.disk.writes;
      first.disk.crashAfter(n);
      assert.throws(() => workload(first.fs), DiskCrash);
      assert.equal(first.disk.writes, writesBefore + n, 'power was lost after exactly n more block writes');
      assert.ok(first.disk.crashed);
      first.close();
      const second = openRootDisk({ imagePath: image });
      assert.deepEqual(fsck(second.disk), [], `crash after ${n} more writes`);
      workload(second.fs);    // the recovered file system is fully usable
      assert.deepEqual(fsck(second.disk), []);
      second.close();
    }
  } finally {
    hostFs.rmSync(tmp, { recursive: true, force: true });
  }
});
