// Decoder facts from the Intel SDM (Vol. 2, chapter 2: instruction format), checked
// on hand-written encodings: operands, prefixes, special cases and invalid encodings.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_RIP, decodeBytes, SEG_FS, SEG_SS } from '../src/isa/decode.js';
import type { Decoded } from '../src/isa/decode.js';

function dec(hex: string): Decoded {
  return decodeBytes(Uint8Array.from(hex.split(' ').map((b) => parseInt(b, 16))), 0);
}

test('ModRM, SIB and displacement forms', () => {
  // lea 0x8(%rax,%rbx,4),%rcx
  const lea = dec('48 8d 4c 98 08');
  assert.equal(lea.form?.mnemonic, 'lea');
  assert.equal(lea.length, 5);
  assert.deepEqual(lea.operands[0], { type: 'reg', reg: 1, size: 64, high8: false });
  assert.deepEqual(lea.operands[1], { type: 'mem', base: 0, index: 3, scale: 4, disp: 8, size: 0, segment: 3, dispSize: 8, sib: 0x98 });
  // mod=00 rm=101 is RIP-relative in 64-bit mode: mov -0x10(%rip),%eax
  const rip = dec('8b 05 f0 ff ff ff').operands[1];
  assert.equal(rip.type === 'mem' && rip.base, BASE_RIP);
  assert.equal(rip.type === 'mem' && rip.disp, -16);
  // SIB with base=101 and mod=00: no base, disp32 only: mov 0x10(,%rcx,8),%eax
  const nobase = dec('8b 04 cd 10 00 00 00').operands[1];
  assert.deepEqual(nobase.type === 'mem' && [nobase.base, nobase.index, nobase.scale, nobase.disp], [-1, 1, 8, 16]);
  // index 100 means none, but with REX.X it is r12: mov (%rax,%r12,2),%eax
  const r12 = dec('42 8b 04 60').operands[1];
  assert.deepEqual(r12.type === 'mem' && [r12.base, r12.index, r12.scale], [0, 12, 2]);
  // (%r13) needs a disp8 of 0 (mod=01), like (%rbp); %rsp/%r12 as base need a SIB
  assert.equal(dec('41 8b 45 00').length, 4);
  assert.equal(dec('41 8b 04 24').length, 4);
  // rsp/rbp bases default to the stack segment
  const stack = dec('8b 44 24 08').operands[1];
  assert.equal(stack.type === 'mem' && stack.segment, SEG_SS);
  // disp32 boundary: 0x80 does not fit a disp8
  assert.equal(dec('8b 80 80 00 00 00').length, 6);
});

test('register operands: REX extensions and the legacy high bytes', () => {
  // mov %ah,%dh has no REX: reg 4 and 6 are ah and dh
  const high = dec('88 e6');
  assert.deepEqual(high.operands, [
    { type: 'reg', reg: 2, size: 8, high8: true }, { type: 'reg', reg: 0, size: 8, high8: true }]);
  // with any REX they are spl and sil
  const rex = dec('40 88 e6');
  assert.deepEqual(rex.operands, [
    { type: 'reg', reg: 6, size: 8, high8: false }, { type: 'reg', reg: 4, size: 8, high8: false }]);
  // mov %r15,%r8
  assert.deepEqual(dec('4d 89 f8').operands.map((o) => o.type === 'reg' && o.reg), [8, 15]);
  // push %r12 (opcode+r with REX.B)
  const push = dec('41 54');
  assert.equal(push.form?.mnemonic, 'push');
  assert.deepEqual(push.operands[0], { type: 'reg', reg: 12, size: 64, high8: false });
});

test('immediates are extended to the operand size', () => {
  // add $-1,%rax (83 /0 ib): sign-extended to 64 bits
  assert.deepEqual(dec('48 83 c0 ff').operands[1], { type: 'imm', lo: 0xffffffff, hi: 0xffffffff, size: 64 });
  // add $0x80000000 sign-extends too at 64 bits (imm32)
  assert.deepEqual(dec('48 05 00 00 00 80').operands[1], { type: 'imm', lo: 0x80000000, hi: 0xffffffff, size: 64 });
  // at 32 bits the imm32 stays as is
  assert.deepEqual(dec('05 00 00 00 80').operands[1], { type: 'imm', lo: 0x80000000, hi: 0, size: 32 });
  // 16-bit: 66 83 /0 with 0xff is 0xffff
  assert.deepEqual(dec('66 83 c0 ff').operands[1], { type: 'imm', lo: 0xffff, hi: 0, size: 16 });
  // movabs $imm64
  assert.deepEqual(dec('48 b8 88 77 66 55 44 33 22 11').operands[1], { type: 'imm', lo: 0x55667788, hi: 0x11223344, size: 64 });
  // shift counts stay 8-bit
  assert.deepEqual(dec('c1 e0 03').operands[1], { type: 'imm', lo: 3, hi: 0, size: 8 });
  // rel8 / rel32 are signed
  assert.deepEqual(dec('eb fe').operands[0], { type: 'rel', disp: -2 });
  assert.deepEqual(dec('e8 00 00 00 80').operands[0], { type: 'rel', disp: -0x80000000 });
});

test('moffs is 8 bytes (4 with a 67 prefix)', () => {
  const m = dec('a1 88 77 66 55 44 33 22 11');
  assert.equal(m.length, 9);
  assert.deepEqual(m.operands[1], { type: 'moffs', lo: 0x55667788, hi: 0x11223344, size: 32, segment: 3 });
  assert.equal(dec('67 a1 88 77 66 55').length, 6);
  assert.equal(dec('64 48 a1 00 00 00 00 00 00 00 00').operands[1].type === 'moffs' && dec('64 48 a1 00 00 00 00 00 00 00 00').prefixes.segment, SEG_FS);
});

test('prefixes: REX must come last; operand size; segments; mandatory F3', () => {
  // 48 66 01 c0: the REX is followed by a prefix, so it is ignored -> add %ax,%ax
  const ignored = dec('48 66 01 c0');
  assert.equal(ignored.prefixes.rex, 0);
  assert.equal(ignored.opsize, 16);
  // 66 48 01 c0: REX.W wins over 66
  assert.equal(dec('66 48 01 c0').opsize, 64);
  // push defaults to 64 bits; 66 makes it 16
  assert.equal(dec('50').opsize, 64);
  assert.equal(dec('66 50').opsize, 16);
  // 90 is nop, f3 90 pause, 41 90 xchg %eax,%r8d
  assert.equal(dec('90').form?.mnemonic, 'nop');
  assert.equal(dec('f3 90').form?.mnemonic, 'pause');
  assert.equal(dec('f3 90').prefixes.rep, 0, 'a mandatory prefix is not a rep prefix');
  assert.equal(dec('41 90').form?.mnemonic, 'xchg');
  assert.equal(dec('f3 0f 1e fa').form?.mnemonic, 'endbr64');
  assert.equal(dec('f3 0f bc c0').form?.mnemonic, 'tzcnt');
  assert.equal(dec('0f bc c0').form?.mnemonic, 'bsf');
  // rep stosq
  const rep = dec('f3 48 ab');
  assert.equal(rep.form?.mnemonic, 'stos');
  assert.equal(rep.prefixes.rep, 0xf3);
  assert.equal(rep.opsize, 64);
  // an es/cs/ss/ds override does not cancel fs in 64-bit mode
  assert.equal(dec('64 3e 8b 00').prefixes.segment, SEG_FS);
  // smsw to memory stores 16 bits
  const smsw = dec('0f 01 20').operands[0];
  assert.equal(smsw.type === 'mem' && smsw.size, 16);
});

test('invalid encodings are #UD, over-long ones #GP', () => {
  const ud = (hex: string) => assert.equal(dec(hex).fault, 6, hex);
  ud('06'); // push %es does not exist in 64-bit mode
  ud('0f ff'); // 0F FF (ud0) is not in the table
  ud('f0 01 c0'); // lock with a register destination
  ud('f0 8b 00'); // lock on mov
  ud('0f 01 d0'); // lgdt needs memory (mod=11 here)
  ud('8d c0'); // lea needs memory
  ud('8e c8'); // mov to %cs
  ud('0f 20 c8'); // %cr1
  assert.equal(dec('f0 01 00').fault, 0); // lock add %eax,(%rax) is fine
  assert.equal(dec('0f 0b').form?.mnemonic, 'ud2');
  // 15 bytes is the limit: 14 prefixes + nop is fine, 15 prefixes + nop is #GP
  assert.equal(dec('66 '.repeat(14) + '90').fault, 0);
  const long = dec('66 '.repeat(15) + '90');
  assert.equal(long.fault, 13);
  assert.equal(long.length, 15);
  // bytes ending mid-instruction (decodeBytes only)
  assert.equal(dec('48 8b').fault, 6);
});
