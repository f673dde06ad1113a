// The guest kernel's image: it builds with GNU binutils, has the documented
// layout, uses only instructions of xk's ISA, and loads as a boot image.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { buildGuest, guestSymbols, GUEST_SOURCES } from './guestBuild.js';
import { buildGuestWithXk } from './guestBuildXk.js';
import { bootImage } from '../src/cli/bootCommand.js';
import * as path from 'node:path';
import { decodeBytes } from '../src/isa/decode.js';
import { readBootImage, loadBootImage, BootImageError } from '../src/toolchain/bootImage.js';
import { PhysicalMemory } from '../src/machine/memory.js';

test('the guest links with _start at 0x100000 and ends below the page allocator (0x200000)', () => {
  const build = buildGuest();
  const symbols = guestSymbols(build);
  assert.equal(symbols.get('_start'), 0x100000);
  const image = readBootImage(build.elf, 'guest.elf');
  assert.equal(image.entry, 0x100000);
  for (const s of image.segments) assert.ok(s.paddr + s.memsz <= 0x200000, `segment at ${s.paddr.toString(16)} ends below 2 MiB`);
  // The user image is page-aligned: it is mapped page by page at 0x40000000.
  assert.equal(symbols.get('user_start')! % 4096, 0);
  assert.equal(symbols.get('user_end')! % 4096, 0);
});

test('every guest instruction decodes with xk\'s decoder to the length GNU objdump gives', () => {
  const build = buildGuest();
  const symbols = guestSymbols(build);
  const image = readBootImage(build.elf, 'guest.elf');
  const memory = new PhysicalMemory(4 * 1024 * 1024);
  loadBootImage(memory, image);
  // The user image keeps its strings after its code: skip them.
  const dataStart = symbols.get('msg_a_fresh')!;
  const dataEnd = symbols.get('user_end')!;
  const listing = execFileSync('objdump', ['-d', '-w', build.elfPath], { encoding: 'utf8' });
  let checked = 0;
  for (const line of listing.split('\n')) {
    const m = line.match(/^\s*([0-9a-f]+):\t([0-9a-f ]+)\t(.*)$/);
    if (!m) continue;
    const address = parseInt(m[1], 16);
    const length = m[2].trim().split(/\s+/).length;
    const text = m[3].trim();
    if (address >= dataStart && address < dataEnd) continue;
    if (/^(int3|nop|cs nop|data16)/.test(text)) continue; // alignment padding between functions
    const d = decodeBytes(memory.bytes, address);
    assert.ok(d.form, `xk cannot decode '${text}' at 0x${address.toString(16)}`);
    assert.equal(d.length, length, `length of '${text}' at 0x${address.toString(16)}`);
    checked++;
  }
  assert.ok(checked > 500, `checked ${checked} instructions`);
});

test('loadBootImage copies segments to their physical addresses and zeroes the bss', () => {
  const build = buildGuest();
  const image = readBootImage(build.elf, 'guest.elf');
  const memory = new PhysicalMemory(4 * 1024 * 1024);
  memory.bytes.fill(0xaa);
  loadBootImage(memory, image);
  const symbols = guestSymbols(build);
  assert.equal(memory.read8(0x100000), 0xfa, 'cli is the first instruction');
  assert.equal(memory.read32(symbols.get('procs')!), 0, 'bss is zeroed');
  assert.throws(() => loadBootImage(new PhysicalMemory(1024 * 1024), image), /does not fit in 1 MiB/);
});

test('readBootImage refuses what it cannot boot, naming the problem', () => {
  assert.throws(() => readBootImage(new TextEncoder().encode('hello'), 'x.bin'), (e: unknown) =>
    e instanceof BootImageError && /x\.bin/.test(e.message));
  const build = buildGuest();
  const object = new Uint8Array(fs.readFileSync(`${build.dir}/boot.o`));
  assert.throws(() => readBootImage(object, 'boot.o'), /boot\.o: not an executable/);
});

test('xk\'s assembler gives every guest object the same section bytes as GNU as', () => {
  const gnu = buildGuest();
  const xk = buildGuestWithXk();
  for (const source of GUEST_SOURCES) {
    const object = source.replace(/\.S$/, '.o');
    for (const section of ['.text', '.rodata', '.data']) {
      const bytes = (dir: string) => {
        const out = path.join(dir, `${object}${section}.bin`);
        execFileSync('objcopy', ['-O', 'binary', `--only-section=${section}`, path.join(dir, object), out], { stdio: 'pipe' });
        return fs.readFileSync(out);
      };
      assert.ok(bytes(xk.dir).equals(bytes(gnu.dir)), `${object} ${section}`);
    }
  }
});

test('the guest linked by xk\'s linker boots with the same serial output as the GNU-linked one', () => {
  const run = (elf: Uint8Array) => {
    let out = '';
    const r = bootImage(elf, 'guest.elf', { serialOut: (b) => { out += Buffer.from(b).toString('latin1'); } });
    assert.equal(r.shutdownStatus, 0, r.message);
    return out;
  };
  const gnu = run(buildGuest().elf);
  // Addresses printed by the guest (its cr3, a rip) depend on the linker's layout; the rest must agree.
  const strip = (o: string) => o.replace(/0x[0-9a-f]+/g, 'ADDR');
  assert.equal(strip(run(buildGuestWithXk().elf)), strip(gnu));
});

// docs/popek-goldberg.md, "What the xk guest actually executes": the sensitive
// instructions in the guest's code are exactly the ones it lists.
test('the guest contains exactly the sensitive instructions docs/popek-goldberg.md says it executes', () => {
  const build = buildGuest();
  const symbols = guestSymbols(build);
  const image = readBootImage(build.elf, 'guest.elf');
  const memory = new PhysicalMemory(4 * 1024 * 1024);
  loadBootImage(memory, image);
  const dataStart = symbols.get('msg_a_fresh')!;
  const dataEnd = symbols.get('user_end')!;
  const SENSITIVE = new Set(['cli', 'sti', 'hlt', 'lgdt', 'lidt', 'sgdt', 'sidt', 'smsw', 'lmsw', 'str', 'ltr', 'invlpg', 'swapgs',
    'rdmsr', 'wrmsr', 'in', 'out', 'pushf', 'popf', 'iretq', 'iret', 'int', 'int3']);
  const found = new Set<string>();
  for (const line of execFileSync('objdump', ['-d', '-w', build.elfPath], { encoding: 'utf8' }).split('\n')) {
    const m = line.match(/^\s*([0-9a-f]+):\t([0-9a-f ]+)\t(.*)$/);
    if (!m) continue;
    const address = parseInt(m[1], 16);
    if ((address >= dataStart && address < dataEnd) || /^(int3|nop|cs nop|data16)/.test(m[3].trim())) continue;
    const d = decodeBytes(memory.bytes, address);
    if (!d.form) continue;
    const f = d.form;
    if (f.mnemonic === 'mov' && f.operands.some((o) => o.kind === 'creg')) found.add(f.operands[0].kind === 'creg' ? 'mov to %crN' : 'mov from %crN');
    else if (f.mnemonic === 'mov' && f.operands.some((o) => o.kind === 'sreg')) found.add(f.operands[0].kind === 'sreg' ? 'mov to %sreg' : 'mov from %sreg');
    else if (SENSITIVE.has(f.mnemonic)) found.add(f.mnemonic);
  }
  // cli; lgdt lidt ltr; mov to %ds %es %ss; iretq; mov from and to %crN; invlpg; in and out; hlt;
  // and int $64, the system calls of the guest's user processes.
  assert.deepEqual([...found].sort(), ['cli', 'hlt', 'in', 'int', 'invlpg', 'iretq', 'lgdt', 'lidt', 'ltr', 'mov from %crN', 'mov to %crN', 'mov to %sreg', 'out'].sort());
});
