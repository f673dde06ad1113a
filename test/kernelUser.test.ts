import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildUserProgramsWithGcc } from './helpers/userBuild.js';
import { runProgram } from './kernelHelpers.js';
import { README_TEXT } from '../src/kernel/fs/mkfs.js';

let dir = '';
const files = new Map<string, Uint8Array>();
let testNames: string[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'xk-user-'));
  const build = buildUserProgramsWithGcc(dir);
  for (const [name, path] of [...build.programs, ...build.tests]) files.set(name, new Uint8Array(readFileSync(path)));
  testNames = [...build.tests.keys()];
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('the user tests (built with gcc + GNU ld) pass on xk and exit 0', async () => {
  assert.ok(testNames.length > 0, 'there are user tests');
  for (const name of testNames) {
    const run = await runProgram(files.get(name)!, [name], { programs: files, timerInterval: 20000 });
    assert.equal(run.status, 0, `${name}:\n${run.output}`);
    assert.match(run.output, /PASS/, name);
  }
});

test('a pipeline through sh: cat README | grep x | wc', async () => {
  const run = await runProgram(files.get('sh')!, ['sh'], {
    programs: files, input: 'cat README | grep x | wc\n', inputEnds: true, trace: () => {},
  });
  const lines = README_TEXT.split('\n').filter((l) => l.includes('x')).map((l) => l + '\n').join('');
  const words = lines.split(/[ \r\t\n\v]+/).filter((w) => w !== '').length;
  const expected = `${lines.split('\n').length - 1} ${words} ${lines.length} \n`;
  assert.equal(run.status, 0, run.output);
  assert.equal(run.output.replace(/\$ /g, ''), expected);
});
