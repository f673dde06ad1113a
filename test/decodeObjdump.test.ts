// The decoder against GNU as: every form of the table, with registers, addressing
// modes and immediates at their boundaries, is assembled by GNU as in one batch;
// each instruction must decode to the form it was written as, with the length
// objdump reports.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBytes } from '../src/isa/decode.js';
import { FORMS } from '../src/isa/table.js';
import { allSamples } from './decodeSamples.js';
import { assembleAndDump } from './disassemblerOracle.js';

const VMA = 0x100000;

test('every table form decodes as GNU as encoded it (form and length)', () => {
  const samples = allSamples();
  const { bytes, instructions } = assembleAndDump(samples.map((s) => s.asm), VMA);
  assert.equal(instructions.length, samples.length, 'objdump should list one instruction per sample line');
  const failures: string[] = [];
  const covered = new Set<number>();
  instructions.forEach((insn, i) => {
    const sample = samples[i];
    const d = decodeBytes(bytes, insn.address - VMA);
    const raw = Array.from(bytes.subarray(insn.address - VMA, insn.address - VMA + insn.length), (b) => b.toString(16).padStart(2, '0')).join(' ');
    if (d.fault !== 0 || d.form?.id !== sample.form.id || d.length !== insn.length) {
      failures.push(`${sample.asm} [${raw}]: decoded ${d.form ? d.form.mnemonic + '/' + d.form.opsize + ' #' + d.form.id : 'fault ' + d.fault} length ${d.length}; want ${sample.form.mnemonic}/${sample.form.opsize} #${sample.form.id} length ${insn.length}`);
    } else {
      covered.add(d.form.id);
    }
  });
  assert.deepEqual(failures.slice(0, 20), []);
  const missing = FORMS.filter((f) => !covered.has(f.id)).map((f) => `${f.mnemonic}/${f.opsize}`);
  console.log(`decoder: ${samples.length} instructions, ${covered.size} of ${FORMS.length} forms covered`);
  assert.deepEqual(missing, [], 'every form has at least one sample');
});
