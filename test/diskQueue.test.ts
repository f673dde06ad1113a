// The disk that takes time: queued DMA commands complete after the latency
// model's time (retired instructions), shortest seek first, each with a
// completion read at 0x1FC and IRQ 14; bad commands are error completions.
// And the same driven by guest code: IRQ 14 reaches vector 46 through the
// slave PIC, and hlt sleeps until the disk interrupts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Disk, DISK_COMMAND, DISK_COUNT, DISK_DMA_ADDRESS, DISK_IRQ, DISK_NO_COMPLETION, DISK_PORT_COUNT,
  DISK_QUEUED_READ, DISK_QUEUED_WRITE, DISK_SECTOR, DISK_TAG, DISK_DATA, DISK_COMPLETION_FAILED,
  DISK_STATUS_COMPLETION, DISK_STATUS_ERROR, COMMAND_OVERHEAD, TRANSFER_PER_SECTOR, QUEUE_DEPTH, seekTime,
} from '../src/machine/devices/disk.js';
import { PhysicalMemory } from '../src/machine/memory.js';
import { PortBus } from '../src/machine/ports.js';
import { Pic } from '../src/machine/devices/pic.js';
import { boot, setGate, q, LAYOUT } from './systemHelpers.js';

function rig(sectors = 64) {
  const image = new Uint8Array(sectors * 512);
  for (let i = 0; i < image.length; i++) image[i] = (i >> 9) & 0xff; // every byte of sector s is s
  const mem = new PhysicalMemory(64 * 1024);
  let now = 0;
  const irqs: number[] = [];
  const disk = new Disk(image, mem, () => {}, () => now, (irq) => irqs.push(irq));
  const bus = new PortBus();
  bus.register(DISK_DATA, DISK_PORT_COUNT, disk);
  const queue = (tag: number, cmd: number, sector: number, count: number, dma: number) => {
    bus.out(DISK_TAG, 1, tag);
    bus.out(DISK_SECTOR, 4, sector);
    bus.out(DISK_COUNT, 1, count);
    bus.out(DISK_DMA_ADDRESS, 4, dma);
    bus.out(DISK_COMMAND, 1, cmd);
    return bus.in(DISK_COMMAND, 1);
  };
  const advance = (to: number) => { now = to; disk.tick(now); };
  return { image, mem, disk, bus, queue, advance, irqs, now: () => now };
}

test('disk: a queued read completes after overhead + seek + transfer, with a completion and IRQ 14', () => {
  const r = rig();
  assert.equal(r.queue(3, DISK_QUEUED_READ, 40, 2, 0x1000) & DISK_STATUS_ERROR, 0);
  const time = COMMAND_OVERHEAD + seekTime(40) + 2 * TRANSFER_PER_SECTOR;
  assert.equal(r.disk.deadline, time);
  r.advance(time - 1);
  assert.equal(r.mem.read8(0x1000), 0, 'no data before the deadline');
  assert.equal(r.bus.in(DISK_TAG, 1), DISK_NO_COMPLETION);
  assert.deepEqual(r.irqs, []);
  r.advance(time);
  assert.equal(r.mem.read8(0x1000), 40);
  assert.equal(r.mem.read8(0x1000 + 512), 41);
  assert.deepEqual(r.irqs, [DISK_IRQ]);
  assert.ok(r.bus.in(DISK_COMMAND, 1) & DISK_STATUS_COMPLETION);
  assert.equal(r.bus.in(DISK_TAG, 1), 3);
  assert.equal(r.bus.in(DISK_TAG, 1), DISK_NO_COMPLETION);
  assert.equal(r.disk.deadline, Infinity);
  assert.equal(r.disk.head, 42);
});

test('disk: shortest seek first, so completions come out of order; writes land at completion', () => {
  const r = rig();
  r.mem.bytes.fill(0xee, 0x3000, 0x3200);
  r.queue(0, DISK_QUEUED_READ, 60, 1, 0x1000); // starts at once (the disk was idle), head 0 -> 60
  r.queue(1, DISK_QUEUED_READ, 2, 1, 0x1200);
  r.queue(2, DISK_QUEUED_WRITE, 58, 1, 0x3000);
  assert.equal(r.disk.outstanding, 3);
  const order: number[] = [];
  for (let t = 0; t < 200_000 && r.disk.outstanding > 0; t += 100) {
    r.advance(t);
    for (let c = r.bus.in(DISK_TAG, 1); c !== DISK_NO_COMPLETION; c = r.bus.in(DISK_TAG, 1)) order.push(c);
  }
  // After sector 60 the head is at 61: sector 58 (distance 3) comes before sector 2 (distance 59).
  assert.deepEqual(order, [0, 2, 1]);
  assert.equal(r.image[58 * 512], 0xee);
  assert.equal(r.mem.read8(0x1200), 2);
});

test('disk: bad commands are refused or fail at completion; never a host exception', () => {
  const r = rig(8);
  assert.ok(r.queue(0, DISK_QUEUED_READ, 1, 0, 0x1000) & DISK_STATUS_ERROR, 'count 0');
  assert.ok(r.queue(0, DISK_QUEUED_READ, 1, 9, 0x1000) & DISK_STATUS_ERROR, 'count too large');
  assert.ok(r.queue(QUEUE_DEPTH, DISK_QUEUED_READ, 1, 1, 0x1000) & DISK_STATUS_ERROR, 'tag out of range');
  assert.equal(r.queue(0, DISK_QUEUED_READ, 7, 2, 0x1000) & DISK_STATUS_ERROR, 0, 'accepted: fails at completion');
  assert.ok(r.queue(0, DISK_QUEUED_READ, 1, 1, 0x1000) & DISK_STATUS_ERROR, 'tag in use');
  assert.equal(r.queue(1, DISK_QUEUED_READ, 1, 1, 0xffff0000) & DISK_STATUS_ERROR, 0);
  r.advance(1_000_000);
  assert.equal(r.bus.in(DISK_TAG, 1), 0 | DISK_COMPLETION_FAILED, 'sectors 7..8 of an 8-sector disk');
  assert.equal(r.bus.in(DISK_TAG, 1), 1 | DISK_COMPLETION_FAILED, 'DMA beyond memory');
  assert.equal(r.mem.read8(0x1000), 0);
  // A disk without a clock (the bare device) refuses queued commands.
  const plain = new Disk(new Uint8Array(1024), new PhysicalMemory(8192));
  plain.write(DISK_COMMAND, 1, DISK_QUEUED_READ);
  assert.ok(plain.read(DISK_COMMAND, 1) & DISK_STATUS_ERROR);
});

test('pic: slave lines use the slave base, put the cascade line in service, and need both EOIs', () => {
  const pic = new Pic();
  pic.raise(14);
  pic.raise(5);
  assert.equal(pic.pendingLine(), 14, 'slave lines rank at line 2, above line 5');
  assert.equal(pic.acknowledge(14), 46);
  assert.equal(pic.pendingLine(), -1, 'line 5 is below the cascade line in service');
  pic.raise(1);
  assert.equal(pic.pendingLine(), 1);
  pic.write(0xa0, 1, 0x20); // EOI to the slave
  assert.equal(pic.pendingLine(), 1);
  assert.equal(pic.isr, 1 << 2, 'the master still serves the cascade line');
  pic.write(0x20, 1, 0x20);
  assert.equal(pic.isr, 0);
  pic.write(0xa1, 1, 0x40); // mask line 14
  pic.raise(14);
  assert.equal(pic.imr, 0x4000);
  assert.equal(pic.acknowledge(pic.pendingLine()), 33);
});

test('disk driven by guest code: queue two reads, hlt, IRQ 14 at vector 46 collects both completions', () => {
  const D = LAYOUT.data;
  const image = new Uint8Array(64 * 512);
  for (let i = 0; i < image.length; i++) image[i] = (i >> 9) & 0xff;
  const program = (tag: number, sector: number, dma: number) => `
  mov $${tag}, %al
  mov $0x1fc, %dx
  outb %al, %dx
  mov $${sector}, %eax
  mov $0x1f3, %dx
  outl %eax, %dx
  mov $1, %al
  mov $0x1f2, %dx
  outb %al, %dx
  mov $${dma}, %eax
  mov $0x1f8, %dx
  outl %eax, %dx
  mov $0x60, %al
  mov $0x1f7, %dx
  outb %al, %dx
`;
  const b = boot('', `
kmain:
  mov $0x7000, %rsp
${program(1, 50, 0x30000)}
${program(2, 10, 0x30200)}
  sti
1:
  hlt
  cmpq $2, ${D}
  jne 1b
  cli
  hlt
diskirq:
  push %rax
  push %rdx
  mov $0x1fc, %dx
2:
  inb %dx, %al
  cmp $0xff, %al
  je 3f
  incq ${D}
  movzbq %al, %rax
  mov %rax, ${D + 8}
  jmp 2b
3:
  mov $0x20, %al
  outb %al, $0xa0
  outb %al, $0x20
  pop %rdx
  pop %rax
  iretq
`, 0x2, { disk: image });
  b.m.cpu.rip = b.at('kmain');
  setGate(b.m, 46, b.at('diskirq'));
  const reason = b.m.run(100_000);
  assert.equal(reason, 'halted');
  assert.equal(q(b.m, D), 2n, 'two completions');
  assert.equal(q(b.m, D + 8), 2n, 'sector 50 started at once (the disk was idle), so tag 2 completes last');
  assert.equal(b.m.memory.read8(0x30000), 50);
  assert.equal(b.m.memory.read8(0x30200), 10);
  assert.ok(b.m.interrupts.idleTicks > 0, 'hlt skipped the disk time');
  assert.equal(b.m.devices.disk!.completed, 2);
});
