// Fuzzing the decoder with seeded random bytes: no exception may escape, every
// result is 1..15 bytes long, the decoder never reads past the 15th byte, and a
// valid result carries one operand per form operand. The disassembler must format
// every result without throwing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, MAX_INSTRUCTION_LENGTH } from '../src/isa/decode.js';
import { formatInstruction } from '../src/toolchain/disassembler/index.js';
import { seededUint32 as random } from './helpers/random.js';


const PREFIXES = [0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65, 0x40, 0x48, 0x41, 0x4f, 0x0f];

test('200k random byte strings decode without escaping exceptions', () => {
  const next = random(0x5eed1234);
  const bytes = new Uint8Array(32);
  let valid = 0, ud = 0, gp = 0;
  for (let n = 0; n < 200_000; n++) {
    for (let i = 0; i < bytes.length; i++) {
      const r = next();
      // a quarter of the strings start with a run of prefixes (and 0F escapes)
      bytes[i] = n % 4 === 0 && i < (r >>> 28) ? PREFIXES[(r >>> 8) % PREFIXES.length] : r & 0xff;
    }
    let furthest = -1;
    const d = decode((offset) => {
      assert.ok(offset < MAX_INSTRUCTION_LENGTH, `decoder read byte ${offset}`);
      if (offset > furthest) furthest = offset;
      return bytes[offset];
    });
    assert.ok(d.length >= 1 && d.length <= MAX_INSTRUCTION_LENGTH, `length ${d.length}`);
    if (d.fault === 0) {
      valid++;
      assert.ok(d.form);
      assert.equal(d.length, furthest + 1, 'a valid instruction is exactly the bytes read');
      assert.equal(d.operands.length, d.form.operands.length);
    } else if (d.fault === 6) ud++;
    else { gp++; assert.equal(d.fault, 13); }
    formatInstruction(d, 0x401000);
  }
  console.log(`fuzz: ${valid} valid, ${ud} #UD, ${gp} too long`);
  assert.ok(valid > 50_000 && ud > 1000 && gp > 0);
});

test('a fetch that throws (a page fault) propagates out of decode', () => {
  const fault = new Error('page fault');
  assert.throws(() => decode((offset) => { if (offset === 2) throw fault; return 0x48; }), (e) => e === fault);
});
