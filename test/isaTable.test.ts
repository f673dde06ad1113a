import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FORMS, FORMS_BY_MNEMONIC } from '../src/isa/table.js';

test('table expands v-sized rows into 16/32/64-bit forms', () => {
  const adds = FORMS_BY_MNEMONIC.get('add')!;
  const rmR = adds.filter((f) => f.opcode === 0x01);
  assert.deepEqual(rmR.map((f) => [f.opsize, f.sizeRule]), [[16, 'o16'], [32, 'o32'], [64, 'w']]);
});

test('condition-code rows expand to all 16 conditions', () => {
  const jne = FORMS_BY_MNEMONIC.get('jne')!;
  assert.deepEqual(jne.map((f) => [f.map, f.opcode]), [[0, 0x75], [1, 0x85]]);
  assert.equal(FORMS.filter((f) => f.family === 'setcc').length, 16);
});

test('push defaults to 64-bit operand size with a 16-bit variant', () => {
  const push = FORMS_BY_MNEMONIC.get('push')!.filter((f) => f.opcode === 0x50);
  assert.deepEqual(push.map((f) => [f.opsize, f.sizeRule]), [[64, 'any'], [16, 'o16']]);
});

test('mandatory prefixes and fixed ModRM bytes are parsed', () => {
  const endbr = FORMS_BY_MNEMONIC.get('endbr64')![0];
  assert.equal(endbr.mandatory, 0xf3);
  assert.equal(endbr.map, 1);
  assert.equal(endbr.opcode, 0x1e);
  assert.equal(endbr.modrmByte, 0xfa);
  const swapgs = FORMS_BY_MNEMONIC.get('swapgs')![0];
  assert.equal(swapgs.modrmByte, 0xf8);
  assert.equal(swapgs.cpl0, true);
});

test('form ids are their indexes', () => {
  FORMS.forEach((f, i) => assert.equal(f.id, i));
});
