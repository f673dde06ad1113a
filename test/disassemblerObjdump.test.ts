// The disassembler against GNU objdump: the same generated instructions (every
// form of the table), assembled by GNU as, must print exactly as objdump -d prints
// them, modulo whitespace; branch targets and RIP-relative comments carry <start+0x..>.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBytes } from '../src/isa/decode.js';
import { formatInstruction, makeSymbolTable } from '../src/toolchain/disassembler/index.js';
import { allSamples } from './decodeSamples.js';
import { FORMS } from '../src/isa/table.js';
import { assembleAndDump, normalize } from './disassemblerOracle.js';

const VMA = 0x100000;

test('disassembly text matches objdump for every table form', () => {
  const samples = allSamples();
  const { bytes, instructions } = assembleAndDump(samples.map((s) => s.asm), VMA);
  const symbols = makeSymbolTable([{ name: 'start', address: VMA }]);
  const failures: string[] = [];
  const forms = new Set<number>();
  for (const insn of instructions) {
    const d = decodeBytes(bytes, insn.address - VMA);
    if (d.form) forms.add(d.form.id);
    const text = normalize(formatInstruction(d, insn.address, symbols));
    if (text !== insn.text) failures.push(`at 0x${insn.address.toString(16)}: objdump '${insn.text}', xk '${text}'`);
  }
  console.log(`disassembler: ${instructions.length} instructions compared with objdump, ${failures.length} differ`);
  assert.deepEqual(failures.slice(0, 20), []);
  // Nothing left out: objdump's lines cover every byte, every sample gave at least one line, every form was met.
  assert.equal(instructions.reduce((n, i) => n + i.length, 0), bytes.length, 'objdump lines cover all the assembled bytes');
  assert.ok(instructions.length >= samples.length, `${instructions.length} instructions for ${samples.length} samples`);
  assert.deepEqual(FORMS.filter((f) => !forms.has(f.id)).map((f) => f.mnemonic), [], 'every table form was compared');
});
