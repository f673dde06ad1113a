// xk cc's struct/union layout (src/toolchain/cc/types.ts, System V rules incl.
// bit-fields and packed records) against gcc: sizeof, alignment and each
// member's offset as a natively run gcc-built program prints them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CHAR, INT, LONG, SHORT, UINT, layoutRecord, type MemberDecl, type Type } from '../src/toolchain/cc/types.js';
import { seededRandom } from './helpers/random.js';

const at = { file: 't.c', line: 1, col: 1 };
const SCALARS: [string, Type][] = [['char', CHAR], ['short', SHORT], ['int', INT], ['unsigned', UINT], ['long', LONG]];

test('random structs and unions with bit-fields are laid out as gcc lays them out', () => {
  const rand = seededRandom(1515);
  const records: { c: string; t: Type; names: string[] }[] = [];
  for (let r = 0; r < 60; r++) {
    const kind = rand() < 0.8 ? 'struct' : 'union';
    const packed = rand() < 0.15;
    const decls: MemberDecl[] = [];
    const lines: string[] = [];
    const names: string[] = [];
    const n = 1 + Math.floor(rand() * 7);
    for (let i = 0; i < n; i++) {
      const [cName, type] = SCALARS[Math.floor(rand() * SCALARS.length)];
      const bits = rand() < 0.5 ? Math.floor(rand() * (type.size * 8 + 1)) : undefined;
      const named = bits !== 0;
      const name = named ? `m${i}` : null;
      decls.push({ name, type, bitWidth: bits, location: at });
      lines.push(`${cName} ${name ?? ''}${bits !== undefined ? ` : ${bits}` : ''};`);
      if (name && bits === undefined) names.push(name);
    }
    if (names.length === 0 && decls.every((d) => d.bitWidth !== undefined && d.name === null)) continue;
    const t: Type = { kind, size: 0, align: 1, unsigned: false, record: {} };
    layoutRecord(t, decls, packed, 1);
    records.push({ c: `${kind} ${packed ? '__attribute__((packed)) ' : ''}R${r} { ${lines.join(' ')} };`, t, names });
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-cc-layout-'));
  try {
    const prints = records.map((r, i) => {
      const tag = r.c.split(' ')[0] + ' R' + r.c.match(/R(\d+)/)![1];
      return `printf("${i} %zu %zu${r.names.map(() => ' %zu').join('')}\\n", sizeof(${tag}), _Alignof(${tag})${r.names.map((m) => `, offsetof(${tag}, ${m})`).join('')});`;
    });
    fs.writeFileSync(path.join(dir, 'l.c'), `#include <stdio.h>\n#include <stddef.h>\n${records.map((r) => r.c).join('\n')}\nint main(void) {\n${prints.join('\n')}\nreturn 0; }\n`);
    execFileSync('gcc', ['-w', '-o', path.join(dir, 'l'), path.join(dir, 'l.c')]);
    const lines = execFileSync(path.join(dir, 'l')).toString().trim().split('\n');
    assert.equal(lines.length, records.length);
    records.forEach((r, i) => {
      const ours = [i, r.t.size, r.t.align, ...r.names.map((m) => r.t.members!.find((x) => x.name === m)!.offset)].join(' ');
      assert.equal(ours, lines[i], r.c);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
