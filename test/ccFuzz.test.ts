// xk cc's front end on malformed C: seeded mutants of the corpus and feature programs
// (bytes deleted, duplicated, replaced by C punctuation or keywords, lines
// swapped, the file cut short) must each give diagnostics or assembly, at -O0
// and -O1, and never an internal compiler error or an exception out of
// compileC. CC_FUZZ_CASES=N for a longer run.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileC } from '../src/toolchain/cc/compile.js';
import { REPO_ROOT } from './helpers/userBuild.js';
import { seededRandom } from './helpers/random.js';
import { featurePrograms } from './helpers/ccFeatureFamilies.js';

const CORPUS = path.join(REPO_ROOT, 'test', 'cc');
// the corpus and the differential suite's feature programs (test/cc/features)
const sources = [
  ...fs.readdirSync(CORPUS).filter((f) => f.endsWith('.c')).sort().map((f) => fs.readFileSync(path.join(CORPUS, f), 'utf8')),
  ...featurePrograms().map((p) => p.source),
];
const CASES = Number(process.env.CC_FUZZ_CASES ?? 200);
const PIECES = ['(', ')', '{', '}', '[', ']', ';', ',', '*', '&', '=', '==', '->', '.', '...', '"', "'", '/*', '//', '#',
  '#define', '#if', '#endif', 'struct', 'union', 'int', 'char', 'unsigned', 'typedef', 'return', 'goto', 'case', 'switch',
  'sizeof', '__asm__', '0x', '1e', '\\', '\n', ' ', '??', '##', '__attribute__((', 'static', 'extern', 'void'];

const INCLUDE = [CORPUS, path.join(REPO_ROOT, 'user', 'include')];

function readFile(p: string): string | null {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return null;
  }
}

function mutate(source: string, random: () => number): string {
  const int = (n: number): number => Math.floor(random() * n);
  let s = source;
  for (let k = 1 + int(4); k > 0; k--) {
    const at = int(s.length);
    const len = 1 + int(12);
    switch (int(6)) {
      case 0: s = s.slice(0, at) + s.slice(at + len); break;
      case 1: s = s.slice(0, at) + s.slice(at, at + len) + s.slice(at); break;
      case 2: s = s.slice(0, at) + PIECES[int(PIECES.length)] + s.slice(at + int(2)); break;
      case 3: { const lines = s.split('\n'); const i = int(lines.length), j = int(lines.length); [lines[i], lines[j]] = [lines[j], lines[i]]; s = lines.join('\n'); break; }
      case 4: s = s.slice(0, at); break;
      default: s = s.slice(0, at) + String.fromCharCode(int(128)) + s.slice(at + 1);
    }
  }
  return s;
}

test('the unmutated corpus programs compile (so the mutants start from valid C)', () => {
  for (const source of sources) {
    const r = compileC(source, 'fuzz.c', { includeDirs: INCLUDE, defines: { XK: '1' }, optimize: 1, readFile });
    assert.deepEqual(r.errors, []);
  }
});

test('mutated corpus programs get diagnostics or code from xk cc, never an internal error', () => {
  const random = seededRandom(15);
  const bad: string[] = [];
  let rejected = 0;
  for (let i = 0; i < CASES; i++) {
    const source = mutate(sources[i % sources.length], random);
    for (const optimize of [0, 1]) {
      let r;
      try {
        r = compileC(source, 'fuzz.c', { includeDirs: INCLUDE, defines: { XK: '1' }, optimize, readFile });
      } catch (e) {
        bad.push(`case ${i} -O${optimize}: threw ${(e as Error).message}`);
        continue;
      }
      const internal = r.errors.find((e) => /internal/.test(e));
      if (internal) bad.push(`case ${i} -O${optimize}: ${internal}`);
      else if (r.assembly === undefined) rejected++;
      else if (r.errors.length > 0) bad.push(`case ${i} -O${optimize}: assembly despite errors`);
    }
  }
  assert.deepEqual(bad, [], bad.slice(0, 10).join('\n'));
  assert.ok(rejected > CASES / 4, `${rejected} rejected: the mutants do break programs`);
});
