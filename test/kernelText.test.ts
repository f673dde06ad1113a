import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assembleKernelText, trapPathInstructions } from '../src/kernel/trap/kernelText.js';
import { TRAP_FRAME_FIELDS, TRAP_FRAME_SIZE, trapFrameOffset } from '../src/kernel/trap/trapFrame.js';
import { pushesErrorCode } from '../src/machine/exceptions.js';

test("xk's assembler and GNU as (+ld) build the same kernel entry code", async () => {
  const xk = await assembleKernelText('xk');
  const gnu = await assembleKernelText('gnu');
  for (const [name, offset] of xk.symbols) assert.equal(gnu.symbols.get(name), offset, name);
  const named = [...xk.symbols.keys()].filter((n) => !/^vector\d+$/.test(n)).sort();
  assert.deepEqual(named, ['alltraps', 'idle', 'iret', 'slowret', 'syscall_entry', 'sysret', 'trap', 'trapret']);
  assert.equal(xk.symbols.size, named.length + 256);
  assert.deepEqual(Buffer.from(xk.bytes).toString('hex'), Buffer.from(gnu.bytes).toString('hex'));
});

test('alltraps pushes r15 first and rax last, so the frame matches struct trap_frame', async () => {
  const text = await assembleKernelText('gnu');
  const at = text.symbols.get('alltraps')!;
  // push %r15 .. push %r8 are 41 57 .. 41 50; push %rdi .. %rax are 57 56 55 52 51 53 50.
  const expected = [0x41, 0x57, 0x41, 0x56, 0x41, 0x55, 0x41, 0x54, 0x41, 0x53, 0x41, 0x52, 0x41, 0x51, 0x41, 0x50,
    0x57, 0x56, 0x55, 0x52, 0x51, 0x53, 0x50];
  assert.deepEqual([...text.bytes.subarray(at, at + expected.length)], expected);
  assert.equal(TRAP_FRAME_SIZE, 176);
  assert.equal(trapFrameOffset('rax'), 0);
  assert.equal(trapFrameOffset('trapno'), 120);
  assert.equal(trapFrameOffset('rip'), 136);
  assert.equal(trapFrameOffset('ss'), 168);
  assert.equal(TRAP_FRAME_FIELDS.length, 22);
});

test('vector stubs push a zero error code only where the processor pushes none', async () => {
  const text = await assembleKernelText('gnu');
  for (const v of [0, 8, 13, 14, 32, 64, 200]) {
    const at = text.symbols.get(`vector${v}`)!;
    const b = text.bytes;
    if (pushesErrorCode(v)) {
      assert.equal(b[at], v < 128 ? 0x6a : 0x68, `vector${v} pushes only the trap number`);
    } else {
      assert.deepEqual([b[at], b[at + 1]], [0x6a, 0x00], `vector${v} pushes 0 first`);
    }
  }
});

test("the trap path's instructions, which a VM's clock leaves out: stub + alltraps in, slowret out", async () => {
  const path = trapPathInstructions(await assembleKernelText('gnu'));
  // In: [push $0;] push $n; jmp alltraps; then 15 pushes, mov %rsp,%rdi, call trap. Out: 15 pops, add $16,%rsp, iretq.
  for (let v = 0; v < 256; v++) assert.equal(path.entry[v], (pushesErrorCode(v) ? 2 : 3) + 17, `vector${v}`);
  assert.equal(path.iretExit, 17);
  assert.deepEqual(trapPathInstructions(await assembleKernelText('xk')), path);
});
