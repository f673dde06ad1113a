import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryDisk } from '../src/kernel/fs/blockDevice.js';
import { mkfs } from '../src/kernel/fs/mkfs.js';
import { fsck } from '../src/kernel/fs/fsck.js';
import { iput, type Inode } from '../src/kernel/fs/inode.js';
import { rootInode } from '../src/kernel/fs/path.js';
import { fsUnlink } from '../src/kernel/fs/fsOps.js';
import { decodeDirent, DIRENT_SIZE, T_DEV, T_FILE } from '../src/kernel/fs/layout.js';
import {
  fileClose, fileDup, fileOpen, fileOpenConsole, filePipe, fileRead, fileStat, fileWaitChannel, fileWrite, openFileCount, resetFileTable,
  NFILE, O_CREATE, O_RDONLY, O_RDWR, O_WRONLY, type File,
} from '../src/kernel/files/file.js';
import { consoleInput, consoleReadable, resetConsole, setConsoleOutput } from '../src/kernel/files/console.js';

function setup(): { disk: MemoryDisk; root: Inode } {
  resetFileTable();
  const disk = new MemoryDisk(2048);
  const fs = mkfs(disk);
  return { disk, root: rootInode(fs) };
}

function must(f: File | -1): File {
  assert.notEqual(f, -1);
  return f as File;
}

function str(r: Uint8Array | 'block' | -1): string | 'block' | -1 {
  return r instanceof Uint8Array ? Buffer.from(r).toString('latin1') : r;
}

test('files: shared offsets across dup, independent across opens, access modes', () => {
  const { disk, root } = setup();
  const w = must(fileOpen('/f', O_CREATE | O_WRONLY, root));
  assert.equal(fileRead(w, 1), -1, 'write-only');
  assert.equal(fileWrite(w, Buffer.from('hello ')), 6);
  const w2 = fileDup(w);
  assert.equal(fileWrite(w2, Buffer.from('world')), 5, 'dup shares the offset: appends');
  const r = must(fileOpen('f', O_RDONLY, root));
  assert.equal(fileWrite(r, Buffer.from('x')), -1, 'read-only');
  assert.equal(str(fileRead(r, 5)), 'hello');
  assert.equal(str(fileRead(r, 100)), ' world');
  assert.equal(str(fileRead(r, 100)), '', 'end of file');
  const rw = must(fileOpen('/f', O_RDWR, root));
  assert.equal(fileWrite(rw, Buffer.from('J')), 1, 'overwrite at offset 0');
  assert.equal(str(fileRead(rw, 4)), 'ello');
  assert.deepEqual(fileStat(rw), { type: T_FILE, dev: 1, ino: (fileStat(rw) as { ino: number }).ino, size: 11 });
  for (const f of [w, w2, r, rw]) fileClose(f);
  assert.equal(openFileCount(), 0);
  assert.throws(() => fileClose(r), /not open/);
  assert.equal(fileOpen('/', O_WRONLY, root), -1);
  assert.equal(fileOpen('/nope', O_RDONLY, root), -1);
  iput(root);
  assert.deepEqual(fsck(disk), []);
});

test('files: directories read as struct dirent records', () => {
  const { root } = setup();
  const d = must(fileOpen('/', O_RDONLY, root));
  const data = fileRead(d, 1000) as Uint8Array;
  const names = [];
  for (let off = 0; off < data.length; off += DIRENT_SIZE) names.push(decodeDirent(data, off).name);
  assert.deepEqual(names, ['.', '..', 'README', 'small.txt', 'console']);
  fileClose(d);
});

test('files: the table holds NFILE files', () => {
  const { root } = setup();
  const files: File[] = [];
  for (let i = 0; i < NFILE; i++) files.push(must(fileOpen('/small.txt', O_RDONLY, root)));
  assert.equal(fileOpen('/small.txt', O_RDONLY, root), -1);
  assert.equal(filePipe(), -1);
  fileClose(files.pop()!);
  assert.equal(filePipe(), -1, 'a pipe needs two');
  assert.notEqual(fileOpen('/small.txt', O_RDONLY, root), -1);
  resetFileTable();
});

test('files: pipes through the file table', () => {
  resetFileTable();
  const p = filePipe();
  assert.notEqual(p, -1);
  const { readEnd, writeEnd } = p as { readEnd: File; writeEnd: File };
  assert.equal(fileWrite(readEnd, Buffer.from('x')), -1);
  assert.equal(fileRead(writeEnd, 1), -1);
  assert.equal(fileRead(readEnd, 10), 'block');
  assert.equal(fileWaitChannel(readEnd, 'read'), readEnd.pipe!.readable);
  assert.equal(fileWrite(writeEnd, new Uint8Array(600)), 512, 'partial write');
  assert.equal(fileWrite(writeEnd, new Uint8Array(88)), 'block');
  assert.equal(fileStat(readEnd), -1);
  const extra = fileDup(writeEnd);
  fileClose(writeEnd);
  assert.equal((fileRead(readEnd, 1000) as Uint8Array).length, 512);
  assert.equal(fileRead(readEnd, 10), 'block', 'a writer remains');
  fileClose(extra);
  assert.equal(str(fileRead(readEnd, 10)), '', 'EOF');
  const q = filePipe() as { readEnd: File; writeEnd: File };
  fileClose(q.readEnd);
  assert.equal(fileWrite(q.writeEnd, Buffer.from('x')), -1, 'broken pipe');
});

test('files: the console device through /console', () => {
  const { root } = setup();
  resetConsole();
  const out: string[] = [];
  setConsoleOutput((b) => out.push(Buffer.from(b).toString()));
  const c = must(fileOpen('/console', O_RDWR, root));
  assert.equal(c.type, 'device');
  assert.equal((fileStat(c) as { type: number }).type, T_DEV);
  assert.equal(fileWrite(c, Buffer.from('$ ')), 2);
  assert.deepEqual(out, ['$ ']);
  assert.equal(fileRead(c, 100), 'block');
  assert.equal(fileWaitChannel(c, 'read'), consoleReadable);
  consoleInput(Buffer.from('ls\n'));
  assert.equal(str(fileRead(c, 100)), 'ls\n');
  fileClose(c);
  resetConsole();
});

test('files: an unlinked open file lives until its last close', () => {
  const { disk, root } = setup();
  const f = must(fileOpen('/tmp', O_CREATE | O_RDWR, root));
  fileWrite(f, new Uint8Array(9000).fill(3));
  assert.equal(fsUnlink(root.fs, '/tmp'), 0);
  f.offset = 8999;
  assert.deepEqual(fileRead(f, 10), Uint8Array.of(3));
  fileClose(f);
  iput(root);
  assert.deepEqual(fsck(disk), []);
});

test('files: a console file without a path (fds 0-2 of a bare program run)', () => {
  resetFileTable();
  resetConsole();
  const out: string[] = [];
  setConsoleOutput((b) => out.push(Buffer.from(b).toString()));
  const c = must(fileOpenConsole());
  assert.deepEqual(fileStat(c), { type: T_DEV, dev: 1, ino: 0, size: 0 });
  assert.equal(fileWrite(c, Buffer.from('ok')), 2);
  assert.deepEqual(out, ['ok']);
  fileClose(c);
  assert.equal(openFileCount(), 0);
  resetConsole();
});
