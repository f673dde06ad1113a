// The README's build recipes, run as written (issue 18, item 5): the hello.c
// example, the "With gcc and GNU ld" commands, the "With xk's toolchain"
// commands and `xk run hello.s`, each must print what hello.c prints. `npx xk`
// is this checkout's bin/xk.js; `user/` is this checkout's user/.

import { test } from 'node:test';
import { have } from './helpers/tools.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './helpers/userBuild.js';

const README = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

/** The fenced block of `lang` that follows `marker` in the README. */
function blockAfter(marker: string, lang: string): string {
  const at = README.indexOf(marker);
  assert.ok(at >= 0, `README has '${marker}'`);
  const m = README.slice(at).match(new RegExp('```' + lang + '\\n([\\s\\S]*?)```'));
  assert.ok(m, `a ${lang} block follows '${marker}'`);
  return m[1];
}

const skip = !have('gcc') || !have('ld') || !have('ar') ? 'gcc, ld or ar not installed' : false;

test("the README's hello.c builds and runs both ways it shows, printing what it says", { skip, timeout: 300_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-readme-'));
  try {
    fs.symlinkSync(path.join(REPO_ROOT, 'user'), path.join(dir, 'user'));
    fs.writeFileSync(path.join(dir, 'hello.c'), blockAfter('Build one either way', 'c'));
    const gccRecipe = blockAfter('With gcc and GNU ld:', 'sh');
    const xkRecipe = blockAfter("With xk's toolchain", 'sh');
    const oneStep = blockAfter('or in one step', 'sh');
    // `npx xk ...` runs this checkout's xk.
    const prelude = `set -e\nnpx() { [ "$1" = xk ] && shift; node ${JSON.stringify(path.join(REPO_ROOT, 'bin', 'xk.js'))} "$@"; }\n`;
    const sh = (script: string) => {
      const r = spawnSync('bash', ['-c', prelude + script], { cwd: dir, encoding: 'utf8', timeout: 240_000 });
      assert.equal(r.status, 0, `${script}\n${r.stderr}`);
      return r.stdout;
    };
    const want = 'hello from hello with 3 arguments\n'; // argv[0] is the program's name
    assert.equal(sh(gccRecipe), want, 'With gcc and GNU ld');
    // The xk recipe assembles hello.s, "your own, or gcc -S $CFLAGS output": make it with the README's CFLAGS.
    const cflags = gccRecipe.match(/CFLAGS="([^"]*)"/)![1].replace(/\\\n\s*/g, '');
    sh(`CFLAGS="${cflags}"; gcc -S $CFLAGS hello.c -o hello.s`);
    assert.ok(!fs.existsSync(path.join(dir, 'hello')), 'the gcc recipe built out/hello; the xk recipe must make ./hello itself');
    assert.equal(sh(xkRecipe), want, "With xk's toolchain");
    const oneStepLines = oneStep.trim().split('\n');
    assert.ok(oneStepLines.length >= 2, 'the one-step block shows xk run of hello.s and of hello.c');
    for (const line of oneStepLines) assert.equal(sh(line), want, line);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the README's no-host-compiler block runs with no gcc, as, ld or cc on PATH", { timeout: 300_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-readme-nocc-'));
  try {
    fs.symlinkSync(path.join(REPO_ROOT, 'user'), path.join(dir, 'user'));
    fs.writeFileSync(path.join(dir, 'hello.c'), blockAfter('Build one either way', 'c'));
    const lines = blockAfter('With no host compiler at all', 'sh').trim().split('\n').map((l) => l.replace(/\s+#.*$/, ''));
    assert.ok(lines.length >= 2, 'the block shows xk run hello.c and xk cc');
    // PATH names an empty directory: only this node (by its full path) and bash's builtins remain.
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-empty-path-'));
    const prelude = `set -e\nnpx() { [ "$1" = xk ] && shift; ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(REPO_ROOT, 'bin', 'xk.js'))} "$@"; }\n`;
    const want = 'hello from hello with 3 arguments\n';
    for (const line of lines) {
      const r = spawnSync('/bin/bash', ['-c', prelude + line], { cwd: dir, encoding: 'utf8', timeout: 240_000, env: { HOME: dir, PATH: empty } });
      assert.equal(r.status, 0, `${line}\n${r.stderr}`);
      assert.equal(r.stdout, want, line);
    }
    fs.rmSync(empty, { recursive: true, force: true });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
