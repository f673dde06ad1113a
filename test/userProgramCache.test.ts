// The on-disk cache of xk-built user programs: its key follows the sources, and
// what it returns is byte for byte what was stored.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildKey, readCache, writeCache } from '../src/build/userProgramCache.js';

test('the cache key changes when a user source changes, and only then', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-cachekey-'));
  try {
    fs.mkdirSync(path.join(root, 'user', 'gen', 'programs'), { recursive: true });
    const file = path.join(root, 'user', 'gen', 'programs', 'a.s');
    fs.writeFileSync(file, '  ret\n');
    fs.writeFileSync(path.join(root, 'user', 'notes.txt'), 'not an input');
    const k1 = buildKey(root);
    assert.equal(buildKey(root), k1);
    fs.writeFileSync(path.join(root, 'user', 'notes.txt'), 'still not an input');
    assert.equal(buildKey(root), k1);
    fs.writeFileSync(file, '  nop\n  ret\n');
    assert.notEqual(buildKey(root), k1);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('what the cache stores it returns unchanged; an unknown key is a miss', (t) => {
  const key = 'f'.repeat(32);
  const binaries = new Map([['programs/x', new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 255])], ['tests/y', new Uint8Array(0)]]);
  writeCache(key, binaries);
  const back = readCache(key);
  if (back === null) { t.skip('no usable private cache folder on this host'); return; }
  assert.deepEqual(back, binaries);
  assert.equal(readCache('0'.repeat(32)), null);
});
