// The gcc-built user tests and the shell, run on xk itself: each user test must
// print "NAME: PASS" and exit 0; a shell script exercises pipes, redirection,
// cd, ';' and '&' through the real programs on the real file system.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildUserProgramsWithGcc } from './helpers/userBuild.js';
import { runToCompletion } from '../src/kernel/boot/session.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-userrun-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const build = buildUserProgramsWithGcc(tmp);
const programs = new Map([...build.programs].map(([name, file]) => [name, new Uint8Array(fs.readFileSync(file))]));

async function run(name: string, file: string, input?: string): Promise<{ status: number | null; output: string; message: string }> {
  let output = '';
  const r = await runToCompletion({
    program: { path: name, image: new Uint8Array(fs.readFileSync(file)), argv: [name] },
    programs,
    assembler: 'gnu',
    memoryBytes: 32 * 1024 * 1024,
    output: (b) => { output += Buffer.from(b).toString('latin1'); },
    input,
  });
  return { status: r.status, output, message: r.message };
}

for (const [name, file] of build.tests) {
  test(`user test ${name} passes on xk`, async () => {
    const r = await run(name, file);
    assert.equal(r.status, 0, `${name}: ${r.message}\n${r.output}`);
    assert.match(r.output, new RegExp(`${name}: PASS`));
  });
}

test('the shell runs pipelines, redirections, cd, ; and & on xk', async () => {
  const script = [
    'echo hello world | wc',
    'mkdir d; cd d; echo hi > f; echo there >> f; cat f',
    'echo replaced > f; cat < f | grep rep',
    'ln f g; rm f; cat g; cd /',
    'grep ^b.*b$ small.txt',
    'rm d/g; rm d; cat d/g',
    'echo bg &',
    'nosuch',
    'exit 7',
    '',
  ].join('\n');
  const r = await run('sh', build.programs.get('sh')!, script);
  assert.equal(r.status, 7, r.message);
  const out = r.output.replaceAll('$ ', '');
  assert.match(out, /^1 2 12 \n/);
  assert.match(out, /hi\nthere\nreplaced\nreplaced\nbbbbbbbbbb\n/);
  assert.match(out, /cat: cannot open d\/g\n/);
  assert.match(out, /\[\d+\]\n/);
  assert.match(out, /bg\n/);
  assert.match(out, /sh: exec nosuch failed\n/);
});
