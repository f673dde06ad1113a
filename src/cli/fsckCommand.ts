// `xk fsck IMAGE`: mounts a disk image (replaying its log, as the kernel does
// after a crash) and checks the file system's invariants.

import { ImageFileDisk } from '../kernel/fs/hostFiles.js';
import { mountFileSystem } from '../kernel/fs/fileSystem.js';
import { fsck } from '../kernel/fs/fsck.js';
import { commandUsage, HELP_FLAGS } from './options.js';

export async function fsckCommand(args: string[]): Promise<number> {
  if (args.length === 1 && HELP_FLAGS.includes(args[0])) { process.stdout.write(commandUsage('fsck')); return 0; }
  if (args.length !== 1 || args[0].startsWith('-')) {
    process.stderr.write(commandUsage('fsck'));
    return 2;
  }
  let disk: ImageFileDisk;
  try {
    disk = new ImageFileDisk(args[0]);
  } catch (e) {
    process.stderr.write(`xk fsck: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    const fs = mountFileSystem(disk);
    const { logBlocks, orphans } = fs.recovered;
    if (logBlocks > 0) process.stdout.write(`recovered a committed transaction of ${logBlocks} blocks from the log\n`);
    if (orphans > 0) process.stdout.write(`freed ${orphans} unlinked inodes that were still open at the crash\n`);
    const problems = fsck(disk);
    for (const p of problems) process.stdout.write(`${p}\n`);
    process.stdout.write(problems.length === 0 ? `${args[0]}: clean\n` : `${args[0]}: ${problems.length} problems\n`);
    return problems.length === 0 ? 0 : 1;
  } catch (e) {
    process.stderr.write(`xk fsck: ${args[0]}: ${(e as Error).message}\n`);
    return 1;
  } finally {
    disk.close();
  }
}
