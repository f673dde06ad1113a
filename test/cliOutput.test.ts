// Every byte a command writes reaches a slow reader. The guest kernel writes its
// serial output a byte at a time; when stdout is a socket pair (as Node makes
// for a child's pipes) and the reader is busy, those writes queue inside Node,
// and exiting before they drain would cut the output short.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as path from 'node:path';
import { buildGuest, REPO_ROOT } from './guestBuild.js';

const XK = path.join(REPO_ROOT, 'bin', 'xk.js');

test('xk boot: a reader that is busy while the guest runs still gets all of its output', async () => {
  const build = buildGuest();
  const plain = execFileSync(process.execPath, [XK, 'boot', build.elfPath], { encoding: 'utf8' });
  assert.match(plain, /\[guest\] shutdown\n$/);
  const child = spawn(process.execPath, [XK, 'boot', build.elfPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  const until = Date.now() + 3000;
  while (Date.now() < until); // read nothing for 3 s: the child finishes meanwhile
  assert.equal(await closed, 0);
  assert.equal(out, plain);
});
