// ^C at the console: the kernel's line discipline drops the typed line and sends
// SIGINT to the foreground (signals/consoleInterrupt.ts); the shell survives.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSession, type Session } from '../src/kernel/boot/session.js';
import { buildUserPrograms } from '../src/build/userPrograms.js';

async function shell(): Promise<{ session: Session; output: () => string; until: (text: string, from: number) => number }> {
  let out = '';
  const session = await startSession({ programs: buildUserPrograms(), output: (b) => { out += String.fromCharCode(...b); } });
  /** Runs until `text` appears in the output after position `from`; its end position. */
  const until = (text: string, from: number): number => {
    for (let i = 0; i < 400; i++) {
      const at = out.indexOf(text, from);
      if (at >= 0) return at + text.length;
      if (session.run(100_000)) break;
    }
    assert.fail(`no '${text}' in the output after ${from}:\n${out}`);
  };
  return { session, output: () => out, until };
}

test('^C kills the command the shell is running (cat waiting for input), not the shell', async () => {
  const { session, output, until } = await shell();
  try {
    let at = until('$ ', 0);
    session.machine.devices.serial.feed('cat\n');
    session.run(2_000_000); // cat starts and sleeps reading the console
    const cat = session.kernel.procs.live().find((p) => p.name === 'cat');
    assert.ok(cat && cat.state === 'sleeping', 'cat is waiting for a line');
    session.machine.devices.serial.feed('half a line\x03');
    at = until('$ ', at);
    assert.ok(!session.kernel.procs.live().some((p) => p.name === 'cat' && p.state !== 'zombie'), 'cat is gone');
    session.machine.devices.serial.feed('echo after\n');
    until('after', at);
    assert.doesNotMatch(output(), /half a line/, 'the discarded line never reached cat');
  } finally {
    session.close();
  }
});

test('^C at the prompt leaves the shell running', async () => {
  const { session, until } = await shell();
  try {
    const at = until('$ ', 0);
    session.machine.devices.serial.feed('\x03');
    session.run(1_000_000);
    session.machine.devices.serial.feed('echo still here\n');
    until('still here', at);
  } finally {
    session.close();
  }
});
