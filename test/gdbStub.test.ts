// The GDB stub: real gdb in batch mode against `xk boot --gdb` (the oracle is
// gdb itself and xk's own machine run without the stub), and the protocol
// spoken over a socket by hand: Ctrl-C on a runaway loop, malformed packets.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as net from 'node:net';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { programImage } from '../src/cli/programImage.js';
import { assembleKernelText } from '../src/kernel/trap/kernelText.js';
import { KERNEL_TEXT_PHYS, p2v } from '../src/kernel/mem/kernelLayout.js';
import { buildGuest, guestSymbols, REPO_ROOT } from './guestBuild.js';
import { prepareBoot, bootImage } from '../src/cli/bootCommand.js';
import { Machine } from '../src/machine/machine.js';
import { MachineTarget } from '../src/gdb/machineTarget.js';
import { serveGdb } from '../src/gdb/server.js';
import { frame } from '../src/gdb/packets.js';
import { GDB_MISSING, gdbBatch, gdbBatchStreams } from './helpers/gdb.js';

const XK = path.join(REPO_ROOT, 'bin', 'xk.js');

/** Start `xk boot IMAGE --gdb 0`; resolves with the child and the port it announced. */
function startBoot(image: string): Promise<{ child: ReturnType<typeof spawn>; port: string; stdout: () => string }> {
  const child = spawn(process.execPath, [XK, 'boot', image, '--gdb', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout!.on('data', (b) => (out += b));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill(); reject(new Error(`no gdb announcement: ${err}`)); }, 20_000);
    child.stderr!.on('data', (b) => {
      err += b;
      const m = /waiting for gdb on (127\.0\.0\.1:\d+)/.exec(err);
      if (m) { clearTimeout(timer); resolve({ child, port: m[1], stdout: () => out }); }
    });
  });
}

const exited = (child: ReturnType<typeof spawn>): Promise<number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null && child.stdout?.readableEnded !== false) resolve(child.exitCode);
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(null); }, 60_000);
    child.on('close', (code) => { clearTimeout(timer); resolve(code); }); // 'close': stdout is drained too
  });

test('real gdb: break in the guest kernel, step, registers match xk run without the stub; detach finishes with the same output', { skip: GDB_MISSING, timeout: 120_000 }, async () => {
  const build = buildGuest();
  const symbols = guestSymbols(build);
  const gdtInit = symbols.get('gdt_init')!;
  assert.ok(gdtInit !== undefined);
  // xk's own answer: run to gdt_init, then 4 more instructions.
  const { machine } = prepareBoot(build.elf, 'guest.elf');
  while (machine.cpu.rip !== gdtInit) machine.run(1);
  for (let i = 0; i < 4; i++) machine.run(1);
  const expected = { rip: machine.cpu.rip, rsp: Number(machine.cpu.getReg64(4)), rax: machine.cpu.getReg64(0) };
  // Then xk's own trace of the next STEPS instructions, one at a time: rip, rsp, rax, rflags after each.
  const STEPS = 12;
  const trace: bigint[] = [];
  for (let i = 0; i < STEPS; i++) {
    machine.run(1);
    trace.push(BigInt(machine.cpu.rip), machine.cpu.getReg64(4), machine.cpu.getReg64(0), BigInt(machine.cpu.getRflags()));
  }

  const plain = execFileSync(process.execPath, [XK, 'boot', build.elfPath], { encoding: 'utf8' });
  const { child, port, stdout } = await startBoot(build.elfPath);
  try {
    const out = await gdbBatch([
      `file ${build.elfPath}`, `target remote ${port}`, 'p/x $pc', 'break gdt_init', 'continue', 'p/x $pc',
      'stepi 4', 'p/x $pc', 'p/x $rsp', 'p/x $rax', 'p/x $cr0', 'x/1xb _start',
      ...Array.from({ length: STEPS }, () => ['stepi', 'p/x $pc', 'p/x $rsp', 'p/x $rax', 'p/x $eflags']).flat(),
      'detach',
    ]);
    const values = [...out.matchAll(/^\$\d+ = (0x[0-9a-f]+)$/gm)].map((m) => BigInt(m[1]));
    assert.equal(values.length, 6 + 4 * STEPS, out);
    assert.deepEqual(values.slice(6), trace, 'stepi by stepi: the same rip, rsp, rax and rflags as xk\'s own run');
    assert.equal(values[0], 0x100000n, 'stopped at the entry point');
    assert.match(out, /0x0*100000 in _start \(\)/, 'which gdb names _start');
    assert.equal(values[1], BigInt(gdtInit), 'the breakpoint');
    assert.equal(values[2], BigInt(expected.rip));
    assert.equal(values[3], BigInt(expected.rsp));
    assert.equal(values[4], expected.rax);
    assert.match(out, /_start>:\s+0x[0-9a-f]{2}/, 'memory reads work');
    assert.equal(await exited(child), bootImage(build.elf, 'guest.elf').shutdownStatus ?? 0);
    assert.equal(stdout(), plain, 'after detach the guest finishes with its usual output');
  } finally {
    child.kill('SIGKILL');
  }
});

/** A machine spinning in `jmp .` at address 0, served on an ephemeral port in this process. */
async function runawayStub(): Promise<{ socket: net.Socket; replies: () => string; done: Promise<string> }> {
  const machine = new Machine({ memoryBytes: 1 << 20 });
  machine.memory.load(0x1000, Uint8Array.from([0x48, 0xff, 0xc0, 0xeb, 0xfb])); // inc %rax; jmp .-3
  machine.cpu.rip = 0x1000;
  let announced!: (p: string) => void;
  const where = new Promise<string>((r) => (announced = r));
  const done = serveGdb(new MachineTarget(machine), { port: 0 }, announced);
  const [host, port] = (await where).split(':');
  const socket = net.connect(Number(port), host);
  let text = '';
  socket.on('data', (b) => (text += b.toString('latin1')));
  await new Promise((r) => socket.on('connect', r));
  return { socket, replies: () => text, done };
}

async function until(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(pred(), what);
}

test('Ctrl-C interrupts a runaway loop; registers and memory errors over the socket', { timeout: 30_000 }, async () => {
  const { socket, replies, done } = await runawayStub();
  socket.write(frame('c'));
  await new Promise((r) => setTimeout(r, 100));
  socket.write(Buffer.from([3]));
  await until(() => /\$T02/.test(replies()), 'a SIGINT stop reply');
  socket.write(frame('p0')); // rax counts the loop's iterations
  await until(() => /\$[0-9a-f]{16}#/.test(replies().split('T02')[1] ?? ''), 'rax');
  const rax = /\$([0-9a-f]{16})#/.exec(replies().split('T02')[1])![1];
  assert.ok(Buffer.from(rax, 'hex').readBigUInt64LE() > 0n, 'the loop ran');
  socket.write(frame('m7fffffff000,4')); // beyond physical memory: an error, not a crash
  await until(() => /\$E14#/.test(replies()), 'E14 for an unmapped address');
  socket.write(frame('k'));
  assert.equal(await done, 'kill');
  socket.destroy();
});

/** Send one packet, resolve with the payload of the stub's next reply (and whether a `+` came before it). */
function exchanger(socket: net.Socket, replies: () => string): (packet: string | Buffer) => Promise<{ payload: string; acked: boolean }> {
  let seen = replies().length;
  return async (packet) => {
    socket.write(typeof packet === 'string' ? frame(packet) : packet);
    let m: RegExpExecArray | null = null;
    await until(() => (m = /^(\+?)\$([^#]*)#[0-9a-f]{2}/.exec(replies().slice(seen))) !== null, `a reply to ${String(packet).slice(0, 40)}`);
    seen += m![0].length;
    return { payload: m![2], acked: m![1] === '+' };
  };
}

test('the packets gdb needs, by hand: qSupported, ?, qAttached, qC, qOffsets, target.xml with cr0-cr4/efer, g/G/p/P, M/X/m, Z0-Z4, vCont, no-ack mode, D', { timeout: 30_000 }, async () => {
  const { socket, replies, done } = await runawayStub(); // inc %rax at 0x1000, jmp back at 0x1003
  const ask = exchanger(socket, replies);
  const say = async (packet: string | Buffer): Promise<string> => (await ask(packet)).payload;
  const supported = await say('qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386');
  for (const feature of ['PacketSize=', 'qXfer:features:read+', 'QStartNoAckMode+', 'vContSupported+']) assert.ok(supported.includes(feature), supported);
  assert.equal(await say('?'), 'S05');
  assert.equal(await say('qAttached'), '1');
  assert.equal(await say('qC'), 'QC1');
  assert.equal(await say('qOffsets'), 'Text=0;Data=0;Bss=0');
  // The target description, in pieces as gdb reads it.
  let xml = '';
  for (let more = true; more;) {
    const part = await say(`qXfer:features:read:target.xml:${xml.length.toString(16)},200`);
    assert.match(part, /^[ml]/);
    xml += part.slice(1);
    more = part[0] === 'm';
  }
  assert.match(xml, /<architecture>i386:x86-64<\/architecture>/);
  const control = /<feature name="org\.xk\.x86-64\.control">([\s\S]*?)<\/feature>/.exec(xml);
  assert.ok(control, xml);
  for (const reg of ['cr0', 'cr2', 'cr3', 'cr4', 'efer']) assert.match(control[1], new RegExp(`<reg name="${reg}" bitsize="64"`), reg);
  for (const reg of ['rip', 'eflags', 'cs', 'ss', 'fs_base', 'gs_base']) assert.match(xml, new RegExp(`<reg name="${reg}"`), reg);
  // Registers: the whole set is as long as the description says; one written and read back; G takes g's answer.
  const bits = [...xml.matchAll(/bitsize="(\d+)"/g)].reduce((n, m) => n + Number(m[1]), 0);
  const all = await say('g');
  assert.equal(all.length, bits / 4);
  assert.equal(await say('P0=efcdab8967452301'), 'OK');
  assert.equal(await say('p0'), 'efcdab8967452301');
  assert.equal(await say('G' + all), 'OK');
  assert.equal(await say('p0'), all.slice(0, 16), 'G wrote rax back');
  assert.equal(await say('p10'), '0010000000000000', 'rip (register 16) at the loop');
  // Memory: hex and binary writes, read back.
  assert.equal(await say('M2000,4:deadbeef'), 'OK');
  assert.equal(await say(rawX()), 'OK');
  assert.equal(await say('m2000,4'), '017dbeef', 'X: the escaped byte 0x7d arrived as itself');
  // A software breakpoint on the jmp, continued to with vCont.
  assert.equal(await say('vCont?'), 'vCont;c;C;s;S');
  assert.equal(await say('Z0,1003,1'), 'OK');
  assert.match(await say('vCont;c:1'), /^T05/);
  assert.equal(await say('p10'), '0310000000000000');
  assert.equal(await say('z0,1003,1'), 'OK');
  assert.match(await say('vCont;s:1'), /^T05/);
  assert.equal(await say('p10'), '0010000000000000', 'one step: the jmp');
  // A hardware breakpoint (Z1) where it is: continuing runs the loop once round to it.
  assert.equal(await say('Z1,1000,1'), 'OK');
  assert.match(await say('c'), /^T05/);
  assert.equal(await say('p10'), '0010000000000000');
  assert.equal(await say('z1,1000,1'), 'OK');
  // Watchpoints take the debug-register slots: aligned ranges of 1, 2, 4 or 8 bytes, four at most.
  assert.equal(await say('Z2,2000,4'), 'OK');
  assert.equal(await say('Z3,2008,8'), 'OK');
  assert.equal(await say('Z4,2010,2'), 'OK');
  assert.equal(await say('Z2,2003,4'), 'E01', 'a range one debug register cannot cover');
  assert.equal(await say('Z1,1000,1'), 'OK');
  assert.equal(await say('Z2,2020,1'), 'E01', 'a fifth slot');
  for (const z of ['z2,2000,4', 'z3,2008,8', 'z4,2010,2', 'z1,1000,1']) assert.equal(await say(z), 'OK', z);
  assert.equal(await say('z2,2000,4'), 'E01', 'nothing left to remove');
  // No-ack mode: the OK is still acknowledged, later packets are not.
  assert.deepEqual(await ask('QStartNoAckMode'), { payload: 'OK', acked: true });
  assert.deepEqual(await ask('qC'), { payload: 'QC1', acked: false });
  assert.equal(await say('D'), 'OK');
  assert.equal(await done, 'detach');
  socket.destroy();

  /** X2000,2 with the binary bytes 0x01 and 0x7d (escaped as 0x7d 0x5d), framed by hand. */
  function rawX(): Buffer {
    const body = Buffer.concat([Buffer.from('X2000,2:', 'latin1'), Buffer.from([0x01, 0x7d, 0x5d])]);
    let sum = 0;
    for (const b of body) sum = (sum + b) & 0xff;
    return Buffer.concat([Buffer.from('$'), body, Buffer.from('#' + sum.toString(16).padStart(2, '0'))]);
  }
});

test('protocol fuzz: malformed packets get "-" or an error and the stub keeps answering', { timeout: 30_000 }, async () => {
  const { socket, replies, done } = await runawayStub();
  const bad = [
    '$g#00', // bad checksum
    '$m1000,4#z1', // checksum not hex
    '$m1000', // truncated (a new packet follows)
    '$' + 'A'.repeat(0x5000) + '#00', // oversized
    'garbage',
  ];
  for (const b of bad) socket.write(Buffer.from(b, 'latin1'));
  // Random packets with valid framing: whatever they say, the stub answers each one.
  let seed = 12345;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const letters = 'mMXpPgGZzqQvH?';
  for (let i = 0; i < 200; i++) {
    let p = letters[Math.floor(rand() * letters.length)];
    const n = Math.floor(rand() * 20);
    for (let j = 0; j < n; j++) p += '0123456789abcdef,:;=xX'[Math.floor(rand() * 22)];
    if (p.startsWith('Z') || p.startsWith('z') || p === 'c' || p.startsWith('v') || p === 'k' || p.startsWith('D')) continue;
    socket.write(frame(p));
  }
  socket.write(frame('qC'));
  await until(() => replies().includes('$QC1#'), 'a later valid packet is still answered');
  assert.ok((replies().match(/-/g) ?? []).length >= 4, 'malformed packets were refused with "-"');
  socket.write(frame('xyzzy'));
  await until(() => replies().endsWith('$#00'), 'an unknown packet gets the empty reply');
  socket.write(frame('k'));
  assert.equal(await done, 'kill');
  socket.destroy();
});

test('real gdb under xk run: alltraps during open() has rax 15 in the trap frame, a watchpoint stops after the write, monitor ps, detach keeps the output', { skip: GDB_MISSING, timeout: 180_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-gdb-'));
  try {
    const source = path.join(dir, 'watch.c');
    fs.writeFileSync(source, [
      '#include "user.h"', 'int counter;',
      'int main(int argc, char **argv) {', '  int fd = open("ls", 0);', '  counter = 7;',
      '  printf("counter %d fd %d\\n", counter, fd >= 0);', '  close(fd);', '  return 0;', '}', '',
    ].join('\n'));
    const image = programImage('test', source);
    assert.ok(typeof image !== 'string', String(image));
    const elf = path.join(dir, 'watch.elf');
    fs.writeFileSync(elf, image);
    const text = await assembleKernelText();
    const alltraps = p2v(KERNEL_TEXT_PHYS) + text.symbols.get('alltraps')!;
    const plain = execFileSync(process.execPath, [XK, 'run', elf], { encoding: 'utf8' });

    const child = spawn(process.execPath, [XK, 'run', '--gdb', '0', elf], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout!.on('data', (b) => (out += b));
    child.stderr!.on('data', (b) => (err += b));
    try {
      await until(() => /waiting for gdb on/.test(err), 'the stub is listening');
      const port = /waiting for gdb on (\S+)/.exec(err)![1];
      const at = '0x' + BigInt.asUintN(64, BigInt(alltraps)).toString(16);
      // The two streams apart: monitor output and gdb's own can interleave mid-line in `both`.
      const { stdout, stderr, both: log } = await gdbBatchStreams([
        `file ${elf}`, `target remote ${port}`, 'monitor ps', 'break main', 'continue', 'delete',
        // At alltraps %rsp points at the trap number the vector stub pushed: stop on the first int $64.
        `break *${at} if *(long *)$rsp == 64`, 'continue', 'delete', 'stepi 16', 'x/22gx $rsp',
        'watch *(int *)&counter', 'continue', 'p/x $pc', 'p *(int *)&counter', 'delete', 'detach',
      ]);
      const ps = /PID\s+PPID\s+STATE\s+NAME\s*\n\*\s+1\s+-\s+running\s+watch\.elf/;
      assert.ok(ps.test(stdout) || ps.test(stderr), log);
      const dump = [...stdout.matchAll(/^0x[0-9a-f]+:\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)$/gm)].flatMap((m) => [BigInt(m[1]), BigInt(m[2])]);
      assert.equal(dump.length, 22, log);
      assert.equal(dump[0], 15n, 'rax: open is system call 15');
      assert.equal(dump[15], 64n, 'trapno 64');
      assert.equal(dump[18], 0x23n, 'cs: user code');
      assert.match(stdout, /Old value = 0\s+New value = 7/);
      const pc = BigInt(/^\$\d+ = (0x[0-9a-f]+)$/m.exec(stdout)![1]);
      // The instruction just before the stop is the store to counter (objdump is the oracle).
      const disassembly = execFileSync('objdump', ['-d', '-w', elf], { encoding: 'utf8' });
      const lines = disassembly.split('\n').filter((l) => /^\s+[0-9a-f]+:\t/.test(l));
      const index = lines.findIndex((l) => BigInt('0x' + l.trim().split(':')[0]) === pc);
      assert.ok(index > 0, `pc ${pc.toString(16)} is an instruction boundary`);
      assert.match(lines[index - 1], /mov.*\$0x7/, lines[index - 1]);
      assert.equal(await exited(child), 0);
      assert.equal(out, plain, 'after detach the program finishes with its usual output');
    } finally {
      child.kill('SIGKILL');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Start `xk COMMAND IMAGE --gdb 0` and run gdb's commands against it; the gdb log. */
async function gdbAgainst(command: 'boot' | 'vm', image: string, commands: string[]): Promise<string> {
  const child = spawn(process.execPath, [XK, command, image, '--gdb', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b) => (err += b));
  try {
    await until(() => /waiting for gdb on/.test(err), `xk ${command} --gdb listens`);
    const port = /waiting for gdb on (\S+)/.exec(err)![1];
    return await gdbBatch([`file ${image}`, `target remote ${port}`, ...commands, 'kill']);
  } finally {
    child.kill('SIGKILL');
  }
}

test('real gdb under xk vm sees the guest as the bare machine shows it: CS, CR3, RFLAGS, stack at a breakpoint with paging on', { skip: GDB_MISSING, timeout: 180_000 }, async () => {
  const build = buildGuest();
  const commands = ['break schedule', 'continue', 'p/x $pc', 'p/x $cs', 'p/x $cr3', 'p/x $cr0', 'p/x $eflags & 0x200', 'p/x $rsp', 'x/1gx $rsp', 'stepi 3', 'p/x $pc'];
  const values = (log: string): string[] => [...log.matchAll(/^(?:\$\d+ = (0x[0-9a-f]+)|0x[0-9a-f]+(?: <[^>]*>)?:\s+(0x[0-9a-f]+))$/gm)].map((m) => m[1] ?? m[2]);
  const bare = values(await gdbAgainst('boot', build.elfPath, commands));
  const vm = values(await gdbAgainst('vm', build.elfPath, commands));
  assert.equal(bare.length, 8, bare.join(' '));
  assert.ok((BigInt(bare[3]) & 0x80000000n) !== 0n, 'schedule runs with paging on');
  assert.deepEqual(vm, bare, 'the VM shows the same state the bare machine does');
});

test('real gdb under xk vm: a watchpoint on a guest variable that an instruction the monitor emulates (pushfq) writes stops after it, as under xk boot', { skip: GDB_MISSING, timeout: 180_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xk-gdbwatch-'));
  try {
    const s = path.join(dir, 'w.s'), o = path.join(dir, 'w.o'), elf = path.join(dir, 'w.elf');
    fs.writeFileSync(s, `
    .text
    .globl _start
_start:
    lea 8+status(%rip), %rsp
    pushfq                # onto status: an instruction the monitor runs for the guest (the loader patched it)
after_push:
    nop
    movl $7, plain(%rip)  # a store the real CPU does
after_store:
    nop
    mov $0, %al
    out %al, $0xf4
    hlt
    .data
    .balign 8
status: .quad 0
plain:  .quad 0
`);
    execFileSync('as', ['--64', s, '-o', o], { stdio: 'pipe' });
    execFileSync('ld', ['-nostdlib', '-static', '-z', 'max-page-size=4096', '-Ttext=0x100000', '-e', '_start', o, '-o', elf], { stdio: 'pipe' });
    const symbols = new Map(execFileSync('nm', [elf], { encoding: 'utf8' }).trim().split('\n').map((l) => {
      const [addr, , name] = l.trim().split(/\s+/);
      return [name, BigInt('0x' + addr)] as const;
    }));
    const commands = ['watch *(long *)&status', 'watch *(long *)&plain', 'continue', 'p/x $pc', 'continue', 'p/x $pc', 'continue'];
    const pcs = (log: string): bigint[] => [...log.matchAll(/^\$\d+ = (0x[0-9a-f]+)$/gm)].map((m) => BigInt(m[1]));
    const bare = await gdbAgainst('boot', elf, commands);
    const vm = await gdbAgainst('vm', elf, commands);
    for (const [name, log] of [['boot', bare], ['vm', vm]]) {
      assert.deepEqual(pcs(log), [symbols.get('after_push'), symbols.get('after_store')], `xk ${name}:\n${log}`);
      assert.match(log, /Hardware watchpoint 1: \*\(long \*\)&status\s+Old value = 0\s+New value = 2\b/, `xk ${name}`);
      assert.match(log, /Hardware watchpoint 2: \*\(long \*\)&plain\s+Old value = 0\s+New value = 7/, `xk ${name}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
