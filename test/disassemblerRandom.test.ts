// Random valid instructions against objdump: seeded random prefix/opcode/operand
// bytes, kept when xk's decoder accepts them, each placed at the start of a
// 16-byte slot (padded with nops) and disassembled by GNU objdump as raw x86-64.
// xk must agree with objdump on every slot: same length, same text. This reaches
// the corners the generated samples do not: unused and repeated prefixes, REX
// bits that have no effect, ignored ModRM fields, odd SIB bytes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeBytes } from '../src/isa/decode.js';
import { FORMS } from '../src/isa/table.js';
import { disassemble } from '../src/toolchain/disassembler/index.js';
import { normalize } from './disassemblerOracle.js';

const COUNT = 20000;
const SLOT = 16;
const PREFIXES = [0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65];

function randomInstructions(seed: number): number[][] {
  let state = seed >>> 0;
  const next = () => { state = (Math.imul(state, 1103515245) + 12345) >>> 0; return (state >>> 8) & 0xffff; };
  const opcodes = [...new Set(FORMS.map((f) => f.map * 256 + f.opcode))];
  const out: number[][] = [];
  while (out.length < COUNT) {
    const bytes: number[] = [];
    const prefixCount = next() % 4 === 0 ? next() % 3 : 0;
    for (let i = 0; i < prefixCount; i++) bytes.push(PREFIXES[next() % PREFIXES.length]);
    if (next() % 2) bytes.push(0x40 + (next() & 15));
    const opcode = opcodes[next() % opcodes.length] + (next() % 3 === 0 ? next() % 8 : 0);
    if (opcode >= 256) bytes.push(0x0f);
    bytes.push(opcode & 0xff);
    while (bytes.length < 15) bytes.push(next() & 0xff);
    const d = decodeBytes(Uint8Array.from(bytes), 0);
    if (d.fault !== 0 || !d.form) continue;
    // A 66 prefix on a near branch: Intel ignores it in 64-bit mode (xk does too),
    // objdump decodes AMD's 16-bit form. Not comparable.
    if (d.prefixes.opsize16 && (d.form.operands.some((o) => o.kind === 'rel') || d.form.mnemonic === 'ret' || d.form.mnemonic === 'jmp' || d.form.mnemonic === 'call')) continue;
    // 66 on movsxd, bswap, enter: objdump shows 16-bit variants the table does not have.
    if (d.prefixes.opsize16 && ['movsxd', 'bswap', 'enter'].includes(d.form.mnemonic)) continue;
    // F2 0F B8/BC/BD: the CPU ignores F2 (popcnt/tzcnt/lzcnt need F3); objdump calls it (bad).
    if (d.prefixes.rep === 0xf2 && d.form.map === 1 && [0xb8, 0xbc, 0xbd].includes(d.form.opcode)) continue;
    // REX.W on a fence: objdump calls it (bad); the CPU ignores it.
    if ((d.prefixes.rex & 8) !== 0 && d.form.map === 1 && d.form.opcode === 0xae) continue;
    out.push(bytes.slice(0, d.length));
  }
  return out;
}

test('random valid instructions disassemble exactly as objdump shows them', () => {
  const instructions = randomInstructions(20251125);
  const image = new Uint8Array(COUNT * SLOT).fill(0x90);
  instructions.forEach((insn, i) => image.set(insn, i * SLOT));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-random-'));
  let dump: string;
  try {
    const file = path.join(dir, 'random.bin');
    fs.writeFileSync(file, image);
    dump = execFileSync('objdump', ['-D', '-w', '-b', 'binary', '-m', 'i386:x86-64', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const objdump = new Map<number, { length: number; text: string }>();
  for (const line of dump.split('\n')) {
    const m = /^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*\t?(.*)$/.exec(line);
    if (m) objdump.set(parseInt(m[1], 16), { length: m[2].trim().split(' ').length, text: normalize(m[3]) });
  }
  const failures: string[] = [];
  instructions.forEach((insn, i) => {
    const address = i * SLOT;
    const want = objdump.get(address);
    const got = disassemble(image.subarray(address, address + SLOT), address)[0];
    const text = normalize(got.text);
    if (!want || want.length !== got.bytes.length || want.text !== text) {
      const raw = insn.map((b) => b.toString(16).padStart(2, '0')).join(' ');
      failures.push(`[${raw}] objdump: ${want ? `${want.length} '${want.text}'` : 'no line'}; xk: ${got.bytes.length} '${text}'`);
    }
  });
  console.log(`random: ${COUNT} valid instructions compared with objdump, ${failures.length} differ`);
  assert.deepEqual(failures.slice(0, 20), []);
});
