import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as hostFs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryDisk } from '../src/kernel/fs/blockDevice.js';
import { mountFileSystem, type FileSystem } from '../src/kernel/fs/fileSystem.js';
import { mkfs, SMALL_TEXT } from '../src/kernel/fs/mkfs.js';
import { fsck } from '../src/kernel/fs/fsck.js';
import { readi, iput, stati, type Inode } from '../src/kernel/fs/inode.js';
import { namei } from '../src/kernel/fs/path.js';
import { readDirents } from '../src/kernel/fs/directory.js';
import { fsChdir, fsLink, fsMkdir, fsMknod, fsOpen, fsUnlink, fsWrite, O_CREATE, O_RDONLY, O_RDWR, O_WRONLY } from '../src/kernel/fs/fsOps.js';
import { T_DEV, T_DIR, T_FILE, BLOCK_SIZE, NDIRECT, NINDIRECT } from '../src/kernel/fs/layout.js';
import { openRootDisk } from '../src/kernel/fs/hostFiles.js';

function freshFs(blocks = 2048): { disk: MemoryDisk; fs: FileSystem } {
  const disk = new MemoryDisk(blocks);
  return { disk, fs: mkfs(disk) };
}

function open(fs: FileSystem, p: string, flags = O_RDONLY, cwd?: Inode): Inode {
  const ip = fsOpen(fs, p, flags, cwd);
  assert.notEqual(ip, -1, `open ${p}`);
  return ip as Inode;
}

function readAll(fs: FileSystem, p: string): string {
  const ip = open(fs, p);
  const s = Buffer.from(readi(ip, 0, ip.size)).toString('latin1');
  iput(ip);
  return s;
}

function names(fs: FileSystem, p: string): string[] {
  const ip = open(fs, p);
  const n = readDirents(ip).filter((e) => e.inum !== 0).map((e) => e.name);
  iput(ip);
  return n;
}

test('mkfs makes a clean file system with the default content', () => {
  const { disk, fs } = freshFs();
  assert.deepEqual(fsck(disk), []);
  assert.deepEqual(names(fs, '/'), ['.', '..', 'README', 'small.txt', 'console']);
  assert.equal(readAll(fs, '/small.txt'), SMALL_TEXT);
  const con = open(fs, '/console', O_RDWR);
  assert.equal(con.type, T_DEV);
  assert.equal(con.major, 1);
  iput(con);
  const root = open(fs, '/');
  assert.deepEqual(stati(root), { type: T_DIR, dev: 1, ino: 1, size: 5 * 16 });
  iput(root);
});

test('open flags: O_CREATE creates or opens, directories are read-only, missing files fail', () => {
  const { disk, fs } = freshFs();
  assert.equal(fsOpen(fs, '/nothere', O_RDONLY), -1);
  const a = open(fs, '/a', O_CREATE | O_WRONLY);
  assert.equal(a.type, T_FILE);
  assert.equal(fsWrite(a, 0, Buffer.from('hello')), 5);
  const again = open(fs, '/a', O_CREATE | O_RDWR);
  assert.equal(again, a, 'same in-memory inode');
  assert.equal(again.size, 5, 'O_CREATE does not truncate');
  iput(again);
  iput(a);
  assert.equal(fsOpen(fs, '/', O_WRONLY), -1);
  assert.equal(fsOpen(fs, '/', O_RDWR), -1);
  assert.equal(fsOpen(fs, '/', O_CREATE | O_RDWR), -1);
  assert.equal(fsOpen(fs, '/a/b', O_CREATE | O_RDWR), -1, 'a file is not a directory');
  assert.deepEqual(fsck(disk), []);
});

test('directories: mkdir, relative paths, chdir, "." and "..", unlink rules, link counts', () => {
  const { disk, fs } = freshFs();
  assert.equal(fsMkdir(fs, '/d'), 0);
  assert.equal(fsMkdir(fs, '/d'), -1, 'exists');
  assert.equal(fsMkdir(fs, 'd/e'), 0);
  const d = fsChdir(fs, '/d');
  assert.notEqual(d, -1);
  const cwd = d as Inode;
  assert.equal(cwd.nlink, 2, 'entry in / plus e/..');
  const f = open(fs, 'e/../f', O_CREATE | O_RDWR, cwd);
  fsWrite(f, 0, Buffer.from('x'));
  iput(f);
  assert.deepEqual(names(fs, '/d'), ['.', '..', 'e', 'f']);
  assert.equal(readAll(fs, '/d/./e/../f'), 'x');
  assert.equal(fsChdir(fs, 'f', cwd), -1, 'chdir to a file');
  assert.equal(fsLink(fs, '/d/f', '/g', cwd), 0);
  assert.equal(fsLink(fs, '/d', '/d2'), -1, 'no links to directories');
  assert.equal(fsLink(fs, '/d/f', '/g'), -1, 'new name exists');
  const g = open(fs, '/g');
  assert.equal(g.nlink, 2);
  iput(g);
  assert.equal(fsUnlink(fs, '/d'), -1, 'not empty');
  assert.equal(fsUnlink(fs, '/d/.'), -1);
  assert.equal(fsUnlink(fs, '/d/..'), -1);
  assert.equal(fsUnlink(fs, 'f', cwd), 0);
  assert.equal(readAll(fs, '/g'), 'x');
  assert.equal(fsUnlink(fs, 'e', cwd), 0);
  assert.equal(cwd.nlink, 1);
  assert.equal(fsUnlink(fs, '/d'), 0, 'now empty (and still our cwd)');
  iput(cwd);
  assert.equal(fsMknod(fs, '/dev0', 1, 0), 0);
  const dev = open(fs, '/dev0', O_CREATE | O_RDWR);
  assert.equal(dev.type, T_DEV, 'O_CREATE on a device opens it');
  iput(dev);
  assert.equal(fsOpen(fs, '/x/y', O_CREATE | O_RDWR), -1, 'missing parent');
  assert.equal(fsMkdir(fs, '/abcdefghijklmnopq'), 0, 'long names are cut to 14 bytes');
  assert.ok(names(fs, '/').includes('abcdefghijklmn'));
  assert.deepEqual(fsck(disk), []);
});

test('an unlinked file stays readable while open and is freed at the last iput', () => {
  const { disk, fs } = freshFs();
  const a = open(fs, '/a', O_CREATE | O_RDWR);
  fsWrite(a, 0, new Uint8Array(5000).fill(7));
  assert.equal(fsUnlink(fs, '/a'), 0);
  assert.equal(readi(a, 4999, 10)[0], 7);
  assert.ok(fsck(disk).some((p) => p.includes('not in any directory')), 'fsck sees the open orphan');
  iput(a);
  assert.deepEqual(fsck(disk), []);
});

test('big files use indirect and doubly-indirect blocks', () => {
  const { disk, fs } = freshFs(4096);
  const size = (NDIRECT + NINDIRECT + 40) * BLOCK_SIZE + 123;   // ~ 300 KiB
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 7 + (i >> 10)) & 0xff;
  const f = open(fs, '/big', O_CREATE | O_RDWR);
  // Write in odd-sized pieces to cross block boundaries.
  let off = 0;
  while (off < size) {
    const n = Math.min(3001, size - off);
    assert.equal(fsWrite(f, off, data.subarray(off, off + n)), n);
    off += n;
  }
  assert.equal(f.size, size);
  iput(f);
  assert.deepEqual(fsck(disk), []);
  const again = mountFileSystem(disk);
  const g = open(again, '/big');
  assert.deepEqual(readi(g, 0, size + 10), data);
  assert.deepEqual(readi(g, size - 5, 100), data.subarray(size - 5));
  iput(g);
  assert.equal(fsUnlink(again, '/big'), 0);
  assert.deepEqual(fsck(disk), []);
});

test('a full disk makes writes short, not broken', () => {
  const { disk, fs } = freshFs(200);
  const f = open(fs, '/fill', O_CREATE | O_RDWR);
  const n = fsWrite(f, 0, new Uint8Array(400 * BLOCK_SIZE));
  assert.ok(n > 0 && n < 400 * BLOCK_SIZE, `wrote ${n}`);
  assert.equal(fsWrite(f, f.size, new Uint8Array(10)), -1);
  iput(f);
  assert.deepEqual(fsck(disk), []);
});

test('image files: created, reopened, host directories imported', () => {
  const tmp = hostFs.mkdtempSync(path.join(os.tmpdir(), 'xk-fs-'));
  try {
    const host = path.join(tmp, 'host');
    hostFs.mkdirSync(path.join(host, 'sub', 'deeper'), { recursive: true });
    hostFs.writeFileSync(path.join(host, 'hello.txt'), 'hello from the host\n');
    hostFs.writeFileSync(path.join(host, 'sub', 'deeper', 'x'), Buffer.alloc(20000, 1));
    const image = path.join(tmp, 'disk.img');
    const programs = new Map([['prog', new Uint8Array([0x7f, 0x45, 0x4c, 0x46])]]);
    const first = openRootDisk({ imagePath: image, hostDir: host, programs, blocks: 1024 });
    const f = open(first.fs, '/mine', O_CREATE | O_RDWR);
    fsWrite(f, 0, Buffer.from('kept'));
    iput(f);
    first.close();
    assert.equal(hostFs.statSync(image).size, 1024 * BLOCK_SIZE);
    const second = openRootDisk({ imagePath: image });
    assert.equal(readAll(second.fs, '/mine'), 'kept');
    assert.equal(readAll(second.fs, '/hello.txt'), 'hello from the host\n');
    assert.equal(readAll(second.fs, '/sub/deeper/x').length, 20000);
    assert.equal(readAll(second.fs, '/prog'), '\x7fELF');
    assert.deepEqual(fsck(second.disk), []);
    second.close();
    hostFs.writeFileSync(path.join(tmp, 'bad.img'), 'not a disk');
    assert.throws(() => openRootDisk({ imagePath: path.join(tmp, 'bad.img') }), /not a whole number/);
    hostFs.writeFileSync(path.join(tmp, 'zero.img'), Buffer.alloc(4096));
    assert.throws(() => openRootDisk({ imagePath: path.join(tmp, 'zero.img') }), /not an xk file system/);
    hostFs.writeFileSync(path.join(host, 'a-name-too-long-for-xk'), '');
    assert.throws(() => openRootDisk({ hostDir: host, blocks: 1024 }), /at most 14/);
  } finally {
    hostFs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('namei resolves absolute and relative paths', () => {
  const { fs } = freshFs();
  fsMkdir(fs, '/a');
  fsMkdir(fs, '/a/b');
  const b = namei(fs, '/a/b')!;
  const up = namei(fs, '../..', b)!;
  assert.equal(up.inum, 1);
  assert.equal(namei(fs, '//a///b//', undefined)!.inum, b.inum);
  assert.equal(namei(fs, ''), undefined);
  assert.equal(namei(fs, 'small.txt/x'), undefined);
});
