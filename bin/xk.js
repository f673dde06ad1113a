#!/usr/bin/env node
// The `xk` command. The TypeScript sources are compiled to dist/ by `npm install` (prepare).
import { main } from '../dist/src/cli/main.js';
import { jitSettings } from '../dist/src/machine/jit/settings.js';

// --no-jit, anywhere on the line: the interpreter and its block tier alone (as XK_JIT=0).
const args = process.argv.slice(2).filter((a) => a !== '--no-jit');
if (args.length !== process.argv.length - 2) jitSettings.enabled = false;

/**
 * Exit once stdout and stderr have drained: when they are pipes, a write can
 * still be queued in Node when main() returns, and process.exit would drop it
 * (seen as a guest's serial output cut short under `xk boot | ...`).
 */
function exitAfterFlush(status) {
  let pending = 2;
  const done = () => { if (--pending === 0) process.exit(status); };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

main(args).then(
  (status) => exitAfterFlush(status),
  (err) => {
    process.stderr.write(`xk: internal error: ${err && err.stack ? err.stack : err}\n`);
    exitAfterFlush(70);
  },
);
