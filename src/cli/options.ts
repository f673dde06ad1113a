// Every command of `xk` and every option it accepts, in one table. `xk help`
// and each command's usage text are printed from it, and the parsers accept an
// option only if it is listed here (isOption), so help and parsing cannot
// drift apart (test/cliOptions.test.ts checks both directions).

export interface OptionSpec {
  /** The option as typed, e.g. '--memory'. */
  flag: string;
  /** Other spellings accepted for the same option. */
  aliases?: string[];
  /** The value's placeholder ('MiB', 'FILE') when the option takes one. */
  value?: string;
  help: string;
}

export interface CommandSpec {
  name: string;
  /** What follows the options on the command line. */
  operands: string;
  summary: string;
  options: OptionSpec[];
}

/** The options `xk run` and `xk trace` share (parsed by parseRunArguments). */
export const RUN_OPTIONS: OptionSpec[] = [
  { flag: '--disk', value: 'timed|instant', help: "the file system's disk: timed (the default; commands take machine time and interrupt) or instant (transfers complete at once)" },
  { flag: '--fs', value: 'DIR', help: 'also copy host directory DIR into the root file system (its files win)' },
  { flag: '--image', value: 'FILE', help: 'keep the file system in host file FILE across runs (crash-safe)' },
  { flag: '--memory', value: 'MiB', help: 'physical memory in MiB' },
  { flag: '--timer', value: 'N', help: 'one timer interrupt every N instructions' },
];

export const COMMAND_SPECS: CommandSpec[] = [
  {
    name: 'run', operands: '[PROGRAM [ARGS...]]', summary: 'run a program on the xk kernel (no PROGRAM: boot to the shell)',
    options: [...RUN_OPTIONS, { flag: '--check-fetch', help: 'report a system call that reads the same user address twice' },
      { flag: '--gdb', value: 'PORT', help: "start stopped at the first instruction and wait for gdb's `target remote` (TCP port on 127.0.0.1, 0 = any; a socket path; or -)" },
      { flag: '--cc', value: 'COMPILER', help: 'compiler for a .c PROGRAM: xk (xk cc, the default) or gcc' },
      { flag: '--vm-save-at', value: 'N:STATE', help: "save the first VM the kernel boots (vm IMAGE) after N guest instructions to host file STATE, portable (xk vm --resume STATE continues it), and end it" }],
  },
  {
    name: 'trace', operands: 'PROGRAM [ARGS...]', summary: "run it and show each system call's path",
    options: [
      { flag: '--all', help: 'also show timer interrupts and signal delivery' },
      { flag: '--trace-json', value: 'FILE', help: 'also write the trace for chrome://tracing / Perfetto' },
      { flag: '--cc', value: 'COMPILER', help: 'compiler for a .c PROGRAM: xk (xk cc, the default) or gcc' },
      ...RUN_OPTIONS,
    ],
  },
  {
    name: 'as', operands: 'FILE.s|FILE.S', summary: 'assemble (GNU as syntax)',
    options: [
      { flag: '-o', value: 'FILE', help: 'output object (default a.out)' },
      { flag: '-I', value: 'DIR', help: 'directory for #include in .S files (repeatable)' },
      { flag: '-D', value: 'NAME[=VALUE]', help: 'predefine a macro for .S files' },
      { flag: '-a', help: "print a listing: each instruction's offset, bytes and source line" },
      { flag: '--64', help: 'accepted and ignored (xk assembles 64-bit code only)' },
    ],
  },
  {
    name: 'cc', operands: 'FILE.c...', summary: 'compile C (xk cc; .s/.S and .o files are assembled/linked too)',
    options: [
      { flag: '-S', help: 'stop after compiling: write FILE.s' },
      { flag: '-c', help: 'stop after assembling: write FILE.o' },
      { flag: '-o', value: 'FILE', help: 'output file (default a.out, FILE.s with -S, FILE.o with -c)' },
      { flag: '-I', value: 'DIR', help: 'directory for #include (repeatable; user/include is always searched last)' },
      { flag: '-D', value: 'NAME[=VALUE]', help: 'predefine a macro' },
      { flag: '-U', value: 'NAME', help: 'undefine a macro' },
      { flag: '-O0', help: 'no optimization (the default)' },
      { flag: '-O1', aliases: ['-O', '-O2'], help: 'optimize (constant folding)' },
    ],
  },
  {
    name: 'ld', operands: 'FILES.o', summary: 'link a static ELF64 executable',
    options: [
      { flag: '-o', value: 'FILE', help: 'output executable (default a.out)' },
      { flag: '-e', aliases: ['--entry'], value: 'ENTRY', help: 'entry symbol (default _start)' },
      { flag: '-Ttext', aliases: ['--Ttext'], value: 'ADDR', help: 'address of .text' },
      { flag: '-Map', value: 'FILE', help: 'write the link map to FILE' },
      { flag: '-M', aliases: ['--print-map'], help: 'print the link map' },
      { flag: '-static', aliases: ['-nostdlib', '--static'], help: 'accepted (every xk link is static, without libraries)' },
    ],
  },
  {
    name: 'objdump', operands: 'FILE...', summary: 'disassemble',
    options: [{ flag: '-d', aliases: ['--disassemble'], help: 'disassemble the executable sections (required)' }],
  },
  {
    name: 'boot', operands: 'IMAGE', summary: 'run a kernel image on the bare machine',
    options: [
      { flag: '--max-instructions', value: 'N', help: 'stop after N instructions (default 50000000)' },
      { flag: '--timer', value: 'N', help: 'start the timer at one interrupt every N instructions (default: off until the kernel programs it)' },
      { flag: '--memory', value: 'MiB', help: 'physical memory in MiB (default 16, at most 1024)' },
      { flag: '--gdb', value: 'PORT', help: "start stopped at the entry point and wait for gdb's `target remote` (TCP port on 127.0.0.1, 0 = any; a socket path; or - for stdio)" },
      { flag: '--disk-image', value: 'FILE', help: 'give the machine a disk (ports 0x1F0-0x1FC, IRQ 14) holding FILE, a multiple of 512 bytes (its writes are not saved to FILE)' },
      { flag: '--disk', value: 'timed|instant', help: "the latency of that disk's queued commands: timed (the default; seek + transfer in machine time) or instant (none)" },
    ],
  },
  { name: 'fsck', operands: 'IMAGE', summary: 'recover and check a disk image', options: [] },
  {
    name: 'vm', operands: 'IMAGE', summary: 'run a kernel image as a VM under the trap-and-emulate monitor',
    options: [
      { flag: '--strict', help: 'the machine traps every sensitive instruction at CPL 3' },
      { flag: '--no-patch', help: 'real x86 semantics without patching popf/pushf/sgdt/sidt/smsw/str (shows why patching is needed)' },
      { flag: '--memory', value: 'MiB', help: 'guest memory, 4 to 16 (default 16)' },
      { flag: '--max-instructions', value: 'N', help: 'stop the guest after N of its instructions (default 50000000)' },
      { flag: '--stats', help: "print the monitor's exits by kind on stderr" },
      { flag: '--gdb', value: 'PORT', help: "start stopped at the guest's entry point and wait for gdb (the guest seen as a real machine)" },
      { flag: '--save-at', value: 'N STATE', help: "stop the guest after N of its instructions and write its entire state to the file STATE" },
      { flag: '--resume', value: 'STATE', help: 'continue the VM saved in STATE (instead of IMAGE; --max-instructions counts from the start)' },
      { flag: '--portable', help: "with --save-at: write only the host-independent state, which the xk kernel's vm program also resumes (`vm STATE` in xk's shell)" },
      { flag: '--trace', help: "show each guest system call's path through the host and the monitor (the lecture's VM slide), then the exits by reason" },
      { flag: '--trace-json', value: 'FILE', help: 'also write that trace for chrome://tracing / Perfetto' },
      { flag: '--all', help: 'with --trace: also every exit outside a guest system call (booting, the guest\'s interrupts)' },
    ],
  },
  {
    name: 'fuzz', operands: '', summary: 'fuzz the system calls (--vm: the virtual machine monitor) and report violations',
    options: [
      { flag: '--seconds', value: 'N', help: 'run for N seconds' },
      { flag: '--calls', value: 'N', help: 'make N calls' },
      { flag: '--seed', value: 'S', help: 'seed of the random calls, or of the first guest with --vm (default 1)' },
      { flag: '--vm', help: 'fuzz the monitor instead: random guests on the bare machine and under the monitor must agree' },
      { flag: '--count', value: 'N', help: 'with --vm: check N guests (default 2000; 100 with --kernel)' },
      { flag: '--kernel', help: 'with --vm: run the guests as processes of the xk kernel (its vm program) instead of under xk vm, each compared with the bare machine' },
      { flag: '--save', value: 'FILE', help: 'write the minimized reproducer of a violation to FILE' },
      { flag: '--replay', value: 'FILE', help: 'replay the calls saved in FILE' },
      { flag: '--disk', value: 'timed|instant', help: 'the file system\'s disk: instant (the default; a reproducer replays call by call) or timed (completions interleave with the calls)' },
    ],
  },
];

/** Every command accepts these (print its usage). */
export const HELP_FLAGS = ['-h', '--help'];

export function commandSpec(name: string): CommandSpec {
  const spec = COMMAND_SPECS.find((c) => c.name === name);
  if (!spec) throw new Error(`no command '${name}' in COMMAND_SPECS`);
  return spec;
}

/** The option of `command` spelled `flag` (or one of its aliases), if the table lists it. */
export function findOption(command: string, flag: string): OptionSpec | undefined {
  return commandSpec(command).options.find((o) => o.flag === flag || (o.aliases ?? []).includes(flag));
}

/** Whether `command` accepts `flag` (its options, their aliases, -h/--help). */
export function isOption(command: string, flag: string): boolean {
  return HELP_FLAGS.includes(flag) || findOption(command, flag) !== undefined;
}

function optionLines(options: OptionSpec[], indent: string): string {
  const left = options.map((o) => [o.flag, ...(o.aliases ?? [])].join(', ') + (o.value ? ' ' + o.value : ''));
  const width = Math.max(0, ...left.map((l) => l.length)) + 2;
  return options.map((o, i) => `${indent}${left[i].padEnd(width)}${o.help}\n`).join('');
}

/** `usage: xk NAME [options] OPERANDS` and one line per option; `notes` is appended. */
export function commandUsage(name: string, notes = ''): string {
  const spec = commandSpec(name);
  const head = `usage: xk ${spec.name}${spec.options.length ? ' [options]' : ''}${spec.operands ? ' ' + spec.operands : ''}\n`;
  return head + `  ${spec.summary}\n` + optionLines(spec.options, '  ') + (notes ? '\n' + notes : '');
}

/** The text of `xk help`: every command with every option it accepts. */
export function usage(): string {
  const commands = COMMAND_SPECS.map((c) =>
    `  ${c.name}${c.options.length ? ' [options]' : ''}${c.operands ? ' ' + c.operands : ''}\n      ${c.summary}\n${optionLines(c.options, '      ')}`);
  return `usage: xk <command> [options]\n\ncommands:\n${commands.join('')}  help\n      this text\n\nEvery command also accepts -h or --help.\n`;
}
