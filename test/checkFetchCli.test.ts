// `xk run --check-fetch` and XK_CHECK_FETCH=1 are one switch for one checker
// (docs/security.md, src/kernel/mem/fetchChecker.ts): the built bin/xk.js is run
// as a user runs it. The checker reports what it watched at the end of the run,
// so a test can tell it was on; it tolerates the aliasing docs/security.md names
// (an argv string lying inside the exec path) where a plain recorder would call
// it a double fetch, and sh's exec(argv[0], argv) reads the path once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { have } from './helpers/tools.js';

const XK = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'xk.js');
const SUMMARY = /xk --check-fetch: (\d+) system calls checked, (\d+) double fetches, (\d+) aliased arguments tolerated/;

/** Run xk outside the test runner's own checker (the child must not inherit NODE_TEST_CONTEXT). */
function xk(args: string[], input: string, extraEnv: Record<string, string> = {}): { stdout: string; stderr: string; status: number | null } {
  const env: Record<string, string | undefined> = { ...process.env, ...extraEnv };
  delete env.NODE_TEST_CONTEXT;
  if (!('XK_CHECK_FETCH' in extraEnv)) delete env.XK_CHECK_FETCH;
  const r = spawnSync(process.execPath, [XK, ...args], { input, env, encoding: 'utf8', timeout: 120_000 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

test('--check-fetch: the checker watches `echo hi` in the shell and finds no double fetch', () => {
  const r = xk(['run', '--check-fetch'], 'echo hi\n');
  assert.match(r.stdout, /\$ hi\n/);
  const m = SUMMARY.exec(r.stderr);
  assert.ok(m, `a checker summary on stderr; got: ${r.stderr}`);
  assert.ok(Number(m[1]) > 10, 'it watched the shell\'s system calls');
  assert.equal(m[2], '0', r.stderr);
  assert.equal(m[3], '0', "sh's exec(argv[0], argv) reads the path once: nothing to tolerate");
  assert.doesNotMatch(r.stderr, /double fetch:|twice/);
});

test('XK_CHECK_FETCH=1 turns the same checker on without the flag; neither: no checker', () => {
  const on = xk(['run'], 'echo hi\n', { XK_CHECK_FETCH: '1' });
  assert.match(on.stdout, /\$ hi\n/);
  assert.match(on.stderr, SUMMARY, `XK_CHECK_FETCH=1 without --check-fetch keeps the checker on; got: ${on.stderr}`);
  const off = xk(['run'], 'echo hi\n');
  assert.match(off.stdout, /\$ hi\n/);
  assert.doesNotMatch(off.stderr, /check-fetch/);
});

test('--check-fetch is the lenient checker: an argv string inside the exec path is aliasing, not a double fetch', (t) => {
  if (!have('gcc')) { t.skip('gcc not installed'); return; }
  const dir = mkdtempSync(join(tmpdir(), 'xk-checkfetch-'));
  try {
    const prog = join(dir, 'alias.c');
    writeFileSync(prog, `int exec(const char *path, char **argv);
int main(void) {
  char *path = "/echo";
  char *argv[] = { path + 1, "aliased", 0 }; /* argv[0] = "echo", the tail of "/echo" */
  exec(path, argv);
  return 1;
}
`);
    for (const [args, env] of [[['run', '--check-fetch', prog], {}], [['run', prog], { XK_CHECK_FETCH: '1' }]] as const) {
      const r = xk([...args], '', env);
      assert.match(r.stdout, /aliased\n/, r.stderr);
      const m = SUMMARY.exec(r.stderr);
      assert.ok(m, `a checker summary; got: ${r.stderr}`);
      assert.equal(m[2], '0', `no double fetch reported: ${r.stderr}`);
      // At least once: on the timed disk exec may wait for a block and start again (a new call).
      assert.ok(Number(m[3]) >= 1, `the aliased argv[0] is counted as aliasing: ${r.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
