// `xk help` tells the truth about the options (issue 18, item 5). The table in
// src/cli/options.ts is what help prints and what the parsers accept; this test
// checks it against the parsers' source (every option literal a command's code
// handles is in its table row, and every table option appears in that code),
// against `xk help` and each command's --help text, and against the parsers
// themselves (each listed option is accepted, an unlisted one is refused).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMAND_SPECS, RUN_OPTIONS, commandSpec } from '../src/cli/options.js';
import { main } from '../src/cli/main.js';
import { REPO_ROOT } from './helpers/userBuild.js';

const CLI = path.join(REPO_ROOT, 'src', 'cli');

/** The source files whose code parses a command's options. */
const PARSER_FILES: Record<string, string[]> = {
  run: ['runCommand.ts'], trace: ['traceCommand.ts', 'runCommand.ts'], as: ['asCommand.ts'], ld: ['ldCommand.ts'],
  objdump: ['objdumpCommand.ts'], boot: ['bootCommand.ts'], fsck: ['fsckCommand.ts'], vm: ['vmCommand.ts'], fuzz: ['fuzzCommand.ts'], cc: ['ccCommand.ts'],
};

/** Option-like string literals ('-o', '--check-fetch') in the code of a file, comments removed. */
function optionLiterals(file: string): string[] {
  const code = fs.readFileSync(path.join(CLI, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  return [...code.matchAll(/(['"])(--?[A-Za-z0-9][\w-]*)\1/g)].map((m) => m[2]);
}

const spellings = (name: string) => commandSpec(name).options.flatMap((o) => [o.flag, ...(o.aliases ?? [])]);

test('every option a command parses is in its row of the table, and every row option is parsed', () => {
  assert.deepEqual(Object.keys(PARSER_FILES).sort(), COMMAND_SPECS.map((c) => c.name).sort(), 'every command has its parser files here');
  let literals = 0;
  for (const [name, files] of Object.entries(PARSER_FILES)) {
    const known = new Set([...spellings(name), '-h', '--help']);
    // run's file also holds trace's shared options; each command owns only its own literals there.
    const own = files.flatMap(optionLiterals).filter((l) => name !== 'trace' || (!l.startsWith('--check') && l !== '--gdb' && l !== '--vm-save-at'));
    for (const literal of own) assert.ok(known.has(literal), `xk ${name} parses '${literal}' but the table (src/cli/options.ts) does not list it`);
    literals += own.length;
    const code = new Set([...files.flatMap(optionLiterals), ...(['run', 'trace'].includes(name) ? RUN_OPTIONS.map((o) => o.flag) : [])]);
    for (const flag of spellings(name)) assert.ok(code.has(flag), `the table lists '${flag}' for xk ${name} but its parser never handles it`);
  }
  assert.ok(literals > 30, `only ${literals} option literals found`);
});

/** Run `xk ARGS` in this process; its status, stdout and stderr. */
async function xk(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '', stderr = '';
  const out = process.stdout.write, err = process.stderr.write;
  process.stdout.write = ((s: string | Uint8Array) => { stdout += String(s); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => { stderr += String(s); return true; }) as typeof process.stderr.write;
  try {
    return { status: await main(args), stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

test('xk help lists every command with every option it accepts', async () => {
  const help = await xk(['help']);
  assert.equal(help.status, 0);
  // Sections: a command line at two spaces, its lines below at six.
  const sections = new Map<string, string>();
  for (const block of help.stdout.split(/\n(?=  \S)/)) {
    const m = block.match(/^  (\S+)/);
    if (m) sections.set(m[1], block);
  }
  for (const spec of COMMAND_SPECS) {
    const section = sections.get(spec.name);
    assert.ok(section, `xk help has no section for ${spec.name}`);
    for (const o of spec.options) {
      for (const flag of [o.flag, ...(o.aliases ?? [])]) {
        assert.match(section, new RegExp(`^ {6}(.*[ ,])?${flag.replace(/[-]/g, '\\-')}(?=[ ,]|$)`, 'm'), `xk help does not list ${flag} under ${spec.name}`);
      }
      if (o.value) assert.ok(section.includes(`${o.flag}${o.aliases?.length ? ', ' + o.aliases.join(', ') : ''} ${o.value}`), `${spec.name} ${o.flag} shows its value ${o.value}`);
    }
  }
});

/** A value each placeholder accepts. */
const SAMPLE: Record<string, string> = { DIR: '/tmp', FILE: 'x.out', MiB: '8', N: '5', S: '3', ENTRY: '_start', ADDR: '0x401000', 'NAME[=VALUE]': 'X=1', PORT: '0', NAME: 'X', COMPILER: 'gcc', 'N STATE': '5', 'N:STATE': '5:vm.state', STATE: 'vm.state', 'timed|instant': 'instant' };

test('each listed option is accepted by its command (then --help prints its usage); others are refused', async () => {
  let accepted = 0;
  for (const spec of COMMAND_SPECS) {
    const help = await xk([spec.name, '--help']);
    assert.equal(help.status, 0, `xk ${spec.name} --help: ${help.stderr}`);
    assert.ok(help.stdout.startsWith(`usage: xk ${spec.name}`), `xk ${spec.name} --help prints its usage`);
    for (const o of spec.options) {
      for (const flag of [o.flag, ...(o.aliases ?? [])]) {
        const args = [spec.name, flag, ...(o.value ? [SAMPLE[o.value]] : []), '--help'];
        const r = await xk(args);
        assert.equal(r.status, 0, `xk ${args.join(' ')}: ${r.stderr}`);
        assert.equal(r.stdout, help.stdout, `xk ${args.join(' ')} reaches --help`);
        accepted++;
      }
    }
    const bad = await xk([spec.name, '--no-such-option', 'x']);
    assert.notEqual(bad.status, 0, `xk ${spec.name} refuses an unknown option`);
    assert.match(bad.stderr, spec.name === 'fsck' ? /usage: xk fsck/ : /unknown option '--no-such-option'/);
  }
  assert.ok(accepted > 35, `${accepted} options tried`);
});
