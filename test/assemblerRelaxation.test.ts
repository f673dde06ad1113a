// Oracle test for branch relaxation: random programs (seeded) full of jumps whose
// targets sit near the rel8 limit, where growing one jump to rel32 pushes others out
// of range, plus alignment that shifts with every change. xk must pick exactly the
// same short and long forms as GNU as.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assemble } from '../src/toolchain/assembler/assembler.js';
import { seededUint32 } from './helpers/random.js';

/** A choice in [0, n) from the shared seeded generator, so every run sees the same programs. */
function random(seed: number): (n: number) => number {
  const next = seededUint32(seed);
  return (n) => next() % n;
}

const CONDITIONS = ['jz', 'jnz', 'jb', 'jae', 'jl', 'jge', 'jle', 'jg', 'js', 'jc', 'jnae', 'jnbe'];

function program(seed: number): string {
  const r = random(seed);
  const labels = 40;
  const lines = ['\t.text', '\t.globl entry', 'entry:'];
  for (let i = 0; i < labels; i++) {
    lines.push(`.L${i}:`);
    for (let k = 0; k < 6; k++) {
      const target = `.L${r(labels)}`;
      switch (r(9)) {
        case 0: lines.push(`\tjmp ${target}`); break;
        case 1: lines.push(`\t${CONDITIONS[r(CONDITIONS.length)]} ${target}`); break;
        case 2: lines.push(`\t.skip ${20 + r(40)}, 0x90`); break;
        case 3: lines.push(`\t.p2align ${2 + r(3)}`); break;
        case 4: lines.push(`\tcall ${target}`); break;
        case 5: lines.push(`\tjmp ${r(2) ? '1f' : 'entry'}`, `\taddl $${r(300)}, %eax`, '1:'); break;
        case 6: lines.push(`\tjne far_${r(3)}`); break;
        default: lines.push(`\tmovq ${r(200) - 100}(%rbp), %rax`); break;
      }
    }
  }
  lines.push('\t.section .text.other,"ax",@progbits', 'far_0: far_1: far_2: ret');
  return lines.join('\n') + '\n';
}

test('branch relaxation picks the same rel8/rel32 forms as GNU as', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-asrelax-'));
  try {
    let longs = 0;
    let shorts = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const source = program(seed);
      const src = path.join(dir, `p${seed}.s`);
      fs.writeFileSync(src, source);
      run(src, dir);
      const gnu = fs.readFileSync(path.join(dir, 'gnu.bin'));
      const xk = assemble(source, { fileName: src });
      const text = Buffer.from(xk.model.sections.find((s) => s.name === '.text')!.data);
      assert.equal(text.toString('hex'), gnu.toString('hex'), `program ${seed}`);
      for (const e of xk.listing) {
        if (e.length === 2 && (text[e.offset] === 0xeb || (text[e.offset] & 0xf0) === 0x70)) shorts++;
        if ((e.length === 5 && text[e.offset] === 0xe9) || (e.length === 6 && text[e.offset] === 0x0f)) longs++;
      }
    }
    console.log(`relaxation: ${shorts} short and ${longs} long branches agree with GNU as`);
    assert.ok(shorts > 100 && longs > 100, 'both forms were exercised');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function run(src: string, dir: string): void {
  const obj = path.join(dir, 'gnu.o');
  execFileSync('as', ['--64', src, '-o', obj]);
  execFileSync('objcopy', ['-O', 'binary', '-j', '.text', obj, path.join(dir, 'gnu.bin')]);
}
