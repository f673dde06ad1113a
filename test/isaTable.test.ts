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

test('port I/O has ax/eax forms only (REX.W is ignored by in/out)', () => {
  const ins = FORMS_BY_MNEMONIC.get('in')!;
  assert.deepEqual(ins.map((f) => [f.opcode, f.opsize, f.sizeRule]),
    [[0xe4, 8, 'any'], [0xe5, 16, 'o16'], [0xe5, 32, 'any'], [0xec, 8, 'any'], [0xed, 16, 'o16'], [0xed, 32, 'any']]);
  assert.ok(FORMS.every((f) => !((f.mnemonic === 'in' || f.mnemonic === 'out') && f.opsize === 64)));
});

test('push imm8, pushf, popf and leave come in 64-bit and 16-bit (66) forms', () => {
  for (const [name, opcode] of [['push', 0x6a], ['pushf', 0x9c], ['popf', 0x9d], ['leave', 0xc9]] as const) {
    const forms = FORMS_BY_MNEMONIC.get(name)!.filter((f) => f.opcode === opcode);
    assert.deepEqual(forms.map((f) => [f.opsize, f.sizeRule]), [[64, 'any'], [16, 'o16']], name);
  }
  const pushImm8 = FORMS_BY_MNEMONIC.get('push')!.find((f) => f.opcode === 0x6a)!;
  assert.deepEqual(pushImm8.operands, [{ kind: 'simm', size: 8 }]);
});

test('F3 0F B8/BC/BD are popcnt/tzcnt/lzcnt with a mandatory prefix', () => {
  for (const [name, opcode] of [['popcnt', 0xb8], ['tzcnt', 0xbc], ['lzcnt', 0xbd]] as const) {
    const forms = FORMS_BY_MNEMONIC.get(name)!;
    assert.deepEqual(forms.map((f) => [f.map, f.opcode, f.mandatory, f.opsize]), [[1, opcode, 0xf3, 16], [1, opcode, 0xf3, 32], [1, opcode, 0xf3, 64]]);
  }
});

test('16-bit movzx/movsx and 32-bit movsxd exist', () => {
  const movzx16 = FORMS_BY_MNEMONIC.get('movzx')!.find((f) => f.opsize === 16 && f.operands[1].size === 16)!;
  assert.equal(movzx16.sizeRule, 'o16');
  const movsxd = FORMS_BY_MNEMONIC.get('movsxd')!;
  assert.deepEqual(movsxd.map((f) => [f.opsize, f.sizeRule]), [[64, 'w'], [32, 'any']]);
});

test('flag rules: what the manuals define and leave undefined, per form and count', async () => {
  const { flagEffect, mayLeaveUndefined, FLAG_CF, FLAG_OF, FLAG_AF, FLAG_ZF, FLAG_SF, FLAG_PF } = await import('../src/isa/table.js');
  const form = (m: string, size: number, kind: string) => FORMS.find((f) => f.mnemonic === m && f.opsize === size && f.operands.some((o) => o.kind === kind))!;
  const shl8 = form('shl', 8, 'cl');
  assert.deepEqual(flagEffect(shl8, { count: 0 }), { reads: 0, defined: 0, undefined: 0, resultUndefined: false });
  assert.equal(flagEffect(shl8, { count: 32 }).defined, 0, 'the count is masked to 5 bits');
  assert.equal(flagEffect(shl8, { count: 1 }).defined & FLAG_OF, FLAG_OF);
  assert.equal(flagEffect(shl8, { count: 2 }).undefined, FLAG_OF | FLAG_AF);
  assert.equal(flagEffect(shl8, { count: 8 }).undefined, FLAG_OF | FLAG_AF | FLAG_CF, 'CF undefined once every bit is shifted out');
  assert.equal(flagEffect(form('sar', 8, 'cl'), { count: 8 }).undefined & FLAG_CF, 0, 'sar: CF is the sign');
  assert.equal(flagEffect(form('rcl', 32, 'cl'), { count: 0 }).reads, 0);
  assert.equal(flagEffect(form('rcl', 32, 'cl'), { count: 3 }).reads, FLAG_CF);
  assert.equal(flagEffect(form('shld', 16, 'cl'), { count: 17 }).resultUndefined, true);
  assert.equal(flagEffect(form('bsf', 64, 'rm'), { sourceZero: true }).resultUndefined, true);
  assert.equal(flagEffect(form('mul', 64, 'rm')).undefined, FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF);
  assert.equal(flagEffect(FORMS.find((f) => f.mnemonic === 'jbe')!).reads, FLAG_CF | FLAG_ZF);
  assert.equal(flagEffect(FORMS.find((f) => f.mnemonic === 'cmpsb')!, { repeatCount: 0 }).defined, 0);
  // No flag is both defined and undefined, and plain moves touch none.
  for (const f of FORMS) for (const count of [0, 1, 2, 31]) {
    const e = flagEffect(f, { count });
    assert.equal(e.defined & e.undefined, 0, f.mnemonic);
  }
  assert.equal(mayLeaveUndefined(form('mov', 64, 'rm')), 0);
});
