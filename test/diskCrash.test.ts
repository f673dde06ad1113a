// Issue 19 item 2: the write-ahead log stays crash-safe with requests in flight.
// On the timed disk a commit's four steps are queued disk commands, several in
// flight at once and completed in the disk's (shortest-seek) order, while two
// processes write files at the same time. The disk loses power (crashn(k)) after
// its k-th block write, for many k, with other commands still queued; then the
// image is mounted (log recovery) and must pass fsck, and each file must hold a
// whole number of its 1024-byte writes (each write is one transaction): all of a
// transaction or none of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCProgram, C_PROTOTYPES } from './kernelHelpers.js';
import { runToCompletion } from '../src/kernel/boot/session.js';
import { MemoryDisk } from '../src/kernel/fs/blockDevice.js';
import { mountFileSystem } from '../src/kernel/fs/fileSystem.js';
import { fsck } from '../src/kernel/fs/fsck.js';
import { fsOpen } from '../src/kernel/fs/fsOps.js';
import { iput, readi, type Inode } from '../src/kernel/fs/inode.js';

const WRITES = 5;
const PROGRAM = buildCProgram(C_PROTOTYPES + `
int crashn(int);
int main(int argc, char **argv) {
  int k = 0;
  for (char *s = argv[1]; *s; s++) k = 10 * k + (*s - '0');
  if (crashn(k) != 0) return 1;
  int pid = fork();
  static char buf[1024];
  char c = pid == 0 ? 'a' : 'b';
  for (int i = 0; i < 1024; i++) buf[i] = c + i % 7;
  int fd = open(pid == 0 ? "/a" : "/b", 0x202);
  for (int i = 0; i < ${WRITES}; i++) write(fd, buf, 1024);
  close(fd);
  if (pid == 0) { mkdir("/d"); exit(); }
  unlink("/small.txt");
  wait();
  return 0;
}`);

function expected(c: string, size: number): Buffer {
  return Buffer.from(Array.from({ length: size }, (_, i) => c.charCodeAt(0) + (i % 1024) % 7));
}

test('power loss after the k-th block write on the timed disk, with commands in flight: the recovered image is consistent', async (t) => {
  let inFlightAtCrash = 0;
  let crashes = 0;
  let midCommit = 0;
  let finished = false;
  for (let k = 0; k < 400 && !finished; k += 3) {
    const r = await runToCompletion({ program: { path: 'crash', image: PROGRAM, argv: ['crash', String(k)] }, output: () => {} });
    const kernel = r.session.kernel;
    const outstanding = kernel.disk?.outstanding ?? 0;
    if (r.status === 0) { finished = true; continue; }
    assert.match(r.message, /the disk crashed/, `k = ${k}: ${r.message}`);
    crashes++;
    if (outstanding > 1) inFlightAtCrash++;
    const image = (r.session.disk.disk.disk as MemoryDisk).bytes;
    if (new DataView(image.buffer, image.byteOffset + r.session.disk.fs.sb.logStart * 1024, 4).getUint32(0, true) !== 0) midCommit++;
    const copy = new MemoryDisk(image.length / 1024, image);
    const fs = mountFileSystem(copy);
    assert.deepEqual(fsck(copy), [], `crash after ${k} writes: fsck`);
    for (const [name, c] of [['/a', 'a'], ['/b', 'b']]) {
      const ip = fsOpen(fs, name, 0);
      if (ip === -1) continue;
      const size = (ip as Inode).size;
      assert.equal(size % 1024, 0, `crash after ${k} writes: ${name} holds part of a write (${size} bytes)`);
      assert.ok(size <= WRITES * 1024);
      assert.ok(Buffer.from(readi(ip as Inode, 0, size)).equals(expected(c, size)), `crash after ${k} writes: ${name}'s bytes`);
      iput(ip as Inode);
    }
  }
  assert.ok(finished, 'with a large enough k the program finishes');
  t.diagnostic(`${crashes} crashes, ${inFlightAtCrash} with other commands in flight, ${midCommit} between the commit record and the install`);
  assert.ok(crashes >= 15, `${crashes} crashes`);
  assert.ok(inFlightAtCrash >= crashes / 3, `${inFlightAtCrash} of ${crashes} crashes had other commands in flight`);
  assert.ok(midCommit >= 2, `${midCommit} crashes between the commit record and the install`);
});
