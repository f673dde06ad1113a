// The devices on their own: port bus, interrupt controller (8259-style priority
// and EOI), the instruction-count timer and the serial port registers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PortBus } from '../src/machine/ports.js';
import { Pic, PIC_COMMAND, PIC_DATA, PIC_EOI } from '../src/machine/devices/pic.js';
import { Timer, TIMER_CONTROL, TIMER_RELOAD } from '../src/machine/devices/timer.js';
import { COM1, Serial, SERIAL_IRQ } from '../src/machine/devices/serial.js';

test('port bus: unclaimed ports read all ones; overlapping claims are refused', () => {
  const bus = new PortBus();
  assert.equal(bus.in(0x80, 1), 0xff);
  assert.equal(bus.in(0x80, 4), 0xffffffff);
  const pic = new Pic();
  bus.register(0x20, 2, pic);
  assert.throws(() => bus.register(0x21, 1, pic), /already claimed/);
  bus.out(PIC_DATA, 1, 0xfe);
  assert.equal(bus.in(PIC_DATA, 1), 0xfe);
});

test('PIC: priority, in-service blocking and EOI', () => {
  const pic = new Pic();
  assert.equal(pic.pendingLine(), -1);
  pic.raise(4);
  pic.raise(0);
  assert.equal(pic.pendingLine(), 0);
  assert.equal(pic.acknowledge(0), 32);
  // IRQ 0 in service blocks IRQ 4 (lower priority) and a second IRQ 0.
  pic.raise(0);
  assert.equal(pic.pendingLine(), -1);
  pic.write(PIC_COMMAND, 1, PIC_EOI);
  assert.equal(pic.pendingLine(), 0);
  assert.equal(pic.acknowledge(0), 32);
  pic.write(PIC_COMMAND, 1, PIC_EOI);
  assert.equal(pic.pendingLine(), 4);
  // Masking.
  pic.write(PIC_DATA, 1, 1 << 4);
  assert.equal(pic.pendingLine(), -1);
  pic.write(PIC_DATA, 1, 0);
  assert.equal(pic.acknowledge(pic.pendingLine()), 36);
  // Reinitialization with a new vector base (ICW1..ICW4 as a PC BIOS sends them).
  for (const [port, v] of [[0x20, 0x11], [0x21, 0x40], [0x21, 0x04], [0x21, 0x01]]) pic.write(port, 1, v);
  pic.raise(1);
  assert.equal(pic.acknowledge(pic.pendingLine()), 0x41);
});

test('timer: IRQ 0 every N instructions of the clock, programmable through ports', () => {
  let now = 0;
  const raised: number[] = [];
  const timer = new Timer(() => now, (irq) => raised.push(now * 10 + irq));
  timer.setInterval(100);
  for (now = 0; now <= 350; now++) timer.tick(now);
  assert.deepEqual(raised, [1000, 2000, 3000]);
  // Guest programming: reload 50, enable.
  raised.length = 0;
  now = 1000;
  timer.write(TIMER_RELOAD, 4, 50);
  timer.write(TIMER_CONTROL, 1, 1);
  assert.equal(timer.read(TIMER_RELOAD, 4), 50);
  for (; now <= 1120; now++) timer.tick(now);
  assert.deepEqual(raised, [10500, 11000]);
  timer.write(TIMER_CONTROL, 1, 0);
  for (; now <= 2000; now++) timer.tick(now);
  assert.equal(raised.length, 2);
  assert.throws(() => timer.setInterval(-1), /non-negative integer/);
});

test('serial: output to the host, input queue, line status and receive interrupt', () => {
  const out: number[] = [];
  const irqs: number[] = [];
  const serial = new Serial((b) => out.push(...b), (irq) => irqs.push(irq));
  const bus = new PortBus();
  bus.register(COM1, 8, serial);
  assert.equal(bus.in(COM1 + 5, 1) & 0x61, 0x60); // THR empty, transmitter empty, no data
  for (const c of 'hi\n') bus.out(COM1, 1, c.charCodeAt(0));
  assert.equal(String.fromCharCode(...out), 'hi\n');
  serial.feed('ab');
  assert.equal(irqs.length, 0); // interrupts not enabled
  assert.equal(bus.in(COM1 + 5, 1) & 1, 1);
  assert.equal(bus.in(COM1 + 2, 1), 0x01);
  bus.out(COM1 + 1, 1, 1); // IER: received-data interrupt
  assert.deepEqual(irqs, [SERIAL_IRQ]);
  assert.equal(bus.in(COM1 + 2, 1), 0x04);
  assert.equal(bus.in(COM1, 1), 'a'.charCodeAt(0));
  assert.deepEqual(irqs, [SERIAL_IRQ, SERIAL_IRQ]); // more data waiting
  assert.equal(bus.in(COM1, 1), 'b'.charCodeAt(0));
  assert.equal(irqs.length, 2);
  assert.equal(bus.in(COM1 + 5, 1) & 1, 0);
  bus.out(COM1 + 7, 1, 0x5a);
  assert.equal(bus.in(COM1 + 7, 1), 0x5a);
});

test('disk: PIO read and write of a sector, DMA both ways, errors', async () => {
  const { Disk, DISK_COMMAND, DISK_DATA, DISK_SECTOR, DISK_DMA_ADDRESS, DISK_READ, DISK_WRITE, DISK_DMA_READ, DISK_DMA_WRITE } =
    await import('../src/machine/devices/disk.js');
  const { PhysicalMemory } = await import('../src/machine/memory.js');
  const image = new Uint8Array(4 * 512);
  for (let i = 0; i < image.length; i++) image[i] = (i * 7) & 0xff;
  const mem = new PhysicalMemory(8192);
  const dma: number[] = [];
  const disk = new Disk(image, mem, (p, n) => dma.push(p, n));
  const bus = new PortBus();
  bus.register(DISK_DATA, 9, disk);
  bus.out(DISK_SECTOR, 4, 2);
  bus.out(DISK_COMMAND, 1, DISK_READ);
  assert.equal(bus.in(DISK_COMMAND, 1), 0x48);
  const first = bus.in(DISK_DATA, 4);
  assert.equal(first, (image[1024] | (image[1025] << 8) | (image[1026] << 16) | (image[1027] << 24)) >>> 0);
  for (let i = 4; i < 512; i += 2) bus.in(DISK_DATA, 2);
  assert.equal(bus.in(DISK_COMMAND, 1), 0x40);
  // PIO write of sector 1.
  bus.out(DISK_SECTOR, 4, 1);
  bus.out(DISK_COMMAND, 1, DISK_WRITE);
  for (let i = 0; i < 512; i++) bus.out(DISK_DATA, 1, 0xab);
  assert.ok(image.subarray(512, 1024).every((b) => b === 0xab));
  // DMA: sector 1 to memory 0x1000, then memory back to sector 3.
  bus.out(DISK_DMA_ADDRESS, 4, 0x1000);
  bus.out(DISK_COMMAND, 1, DISK_DMA_READ);
  assert.equal(mem.read32(0x1000), 0xabababab);
  assert.deepEqual(dma, [0x1000, 512]);
  bus.out(DISK_SECTOR, 4, 3);
  bus.out(DISK_COMMAND, 1, DISK_DMA_WRITE);
  assert.equal(image[3 * 512 + 100], 0xab);
  bus.out(DISK_SECTOR, 4, 4);
  bus.out(DISK_COMMAND, 1, DISK_READ);
  assert.equal(bus.in(DISK_COMMAND, 1) & 1, 1);
  assert.throws(() => new Disk(new Uint8Array(100), mem), /multiple of 512/);
});
