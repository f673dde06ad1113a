// exit on the timed disk (a fuzzer finding, `xk fuzz --disk timed`): exit that
// closes the last descriptor of an unlinked file begins a transaction (the file
// is truncated and freed). syscall() used to make the caller sleep until that
// transaction was on the disk, which turned the zombie into a sleeper: the log's
// wakeup ran it again, and exit returned into the program (which then ran
// with no files and no current directory).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCProgram, runProgram, C_PROTOTYPES } from './kernelHelpers.js';

const PROGRAM = C_PROTOTYPES + `
int main(void) {
  static char data[5000];
  for (int round = 0; round < 3; round++) {
    int pid = fork();
    if (pid == 0) {
      int fd = open("doomed", 0x202);       /* O_CREATE|O_RDWR */
      if (fd < 0) { puts("open failed\\n"); exitstatus(2); }
      if (write(fd, data, sizeof data) != sizeof data) { puts("write failed\\n"); exitstatus(3); }
      if (unlink("doomed") != 0) { puts("unlink failed\\n"); exitstatus(4); }
      exit();                                /* closes fd: the inode is freed in a transaction */
      exitstatus(5);                         /* never reached: exit does not return */
    }
    int status = -1;
    if (waitstatus(&status) != pid) { puts("wait failed\\n"); return 6; }
    if (status != 0) { puts("the child ran after exit: status "); putint(status); puts("\\n"); return 7; }
  }
  puts("done\\n");
  return 0;
}`;

test('exit that frees an unlinked file on the timed disk: the process stays dead and is reaped', async () => {
  for (const disk of ['timed', 'instant'] as const) {
    const run = await runProgram(buildCProgram(PROGRAM), ['prog'], { disk, trace: () => {} });
    assert.equal(run.status, 0, `${disk}: ${run.message}\n${run.output}`);
    assert.equal(run.output, 'done\n', disk);
  }
});
