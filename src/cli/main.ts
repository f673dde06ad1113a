// The `xk` command: dispatches to one subcommand per tool.
import { ldCommand } from './ldCommand.js';
import { asCommand } from './asCommand.js';
import { bootCommand } from './bootCommand.js';

const USAGE = `usage: xk <command> [options]

commands:
  run [--fs DIR] [--image FILE] PROGRAM [ARGS...]   run a user program on the xk kernel
  trace PROGRAM [ARGS...]                           run it and show each system call's path
  as FILE.s -o FILE.o                               assemble (GNU as syntax)
  ld FILES.o -o PROG                                link a static ELF64 executable
  objdump -d FILE                                   disassemble
  help                                              this text
`;

type Command = (args: string[]) => Promise<number>;

/** Subcommands register here; each lives in its own file under src/cli/. */
export const COMMANDS = new Map<string, Command>();
COMMANDS.set('ld', ldCommand);
COMMANDS.set('as', asCommand);
COMMANDS.set('boot', bootCommand);

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.get(name);
  if (!command) {
    process.stderr.write(`xk: unknown command '${name}'\n${USAGE}`);
    return 2;
  }
  return command(rest);
}
