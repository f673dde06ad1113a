// Descriptor builders and parsers against the well-known encodings (the values
// every x86-64 kernel's GDT holds) and round trips.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  codeSegment64, dataSegment, encodeGate, interruptGate, parseGate, parseSegmentDescriptor, parseTssDescriptor,
  selector, trapGate, tssDescriptor, writeTss, TSS_RSP0, TSS_SIZE, TYPE_INTERRUPT_GATE, TYPE_TRAP_GATE,
  joinAddress, splitAddress,
} from '../src/machine/descriptors.js';
import { PhysicalMemory } from '../src/machine/memory.js';

function asBigInt(b: Uint8Array, offset = 0): bigint {
  return new DataView(b.buffer, b.byteOffset).getBigUint64(offset, true);
}

test('code and data segment descriptors match the standard 64-bit GDT values', () => {
  assert.equal(asBigInt(codeSegment64(0)), 0x00af9a000000ffffn);
  assert.equal(asBigInt(dataSegment(0)), 0x00cf92000000ffffn);
  assert.equal(asBigInt(codeSegment64(3)), 0x00affa000000ffffn);
  assert.equal(asBigInt(dataSegment(3)), 0x00cff2000000ffffn);
  const d = parseSegmentDescriptor(codeSegment64(3));
  assert.equal(d.dpl, 3);
  assert.equal(d.long, true);
  assert.equal(d.present, true);
  assert.equal(d.codeOrData, true);
  assert.equal(d.type & 8, 8);
  assert.equal(selector(5, 3), 0x2b);
});

test('TSS descriptor: 16 bytes, type 9, full 64-bit base', () => {
  const base = -(2 ** 47) + 0x12345000; // 0xffff800012345000
  const b = tssDescriptor(base);
  assert.equal(b.length, 16);
  assert.equal(asBigInt(b, 0), 0x1200893450000067n);
  assert.equal(asBigInt(b, 8), 0xffff8000n);
  const d = parseTssDescriptor(b);
  assert.equal(d.type, 9);
  assert.equal(d.codeOrData, false);
  assert.equal(d.limit, TSS_SIZE - 1);
  assert.equal(d.base64, base);
  const mem = new PhysicalMemory(8192);
  writeTss(mem, 0x1000, 0x7000);
  assert.equal(mem.read32(0x1000 + TSS_RSP0), 0x7000);
});

test('IDT gates: layout and round trip', () => {
  const handler = -(2 ** 47) + 0x10203040; // 0xffff800010203040
  const g = interruptGate(handler, 0x08, 3, 2);
  // offset 15..0, selector, ist, attr (P=1 DPL=3 type E), offset 31..16, offset 63..32.
  assert.deepEqual([...g], [0x40, 0x30, 0x08, 0x00, 0x02, 0xee, 0x20, 0x10, 0x00, 0x80, 0xff, 0xff, 0, 0, 0, 0]);
  const p = parseGate(g);
  assert.equal(p.offset, handler);
  assert.equal(p.selector, 8);
  assert.equal(p.dpl, 3);
  assert.equal(p.ist, 2);
  assert.equal(p.type, TYPE_INTERRUPT_GATE);
  assert.equal(p.present, true);
  assert.equal(parseGate(trapGate(0x1000, 8)).type, TYPE_TRAP_GATE);
  const absent = encodeGate({ offset: 0x1000, selector: 8, ist: 0, type: 0xe, dpl: 0, present: false });
  assert.equal(parseGate(absent).present, false);
});

test('address halves', () => {
  assert.deepEqual(splitAddress(-1), [0xffffffff, 0xffffffff]);
  assert.deepEqual(splitAddress(-(2 ** 47)), [0, 0xffff8000]);
  assert.equal(joinAddress(0, 0xffff8000), -(2 ** 47));
  assert.equal(joinAddress(0x1000, 0), 0x1000);
});
