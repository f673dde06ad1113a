// The `xk` command: dispatches to one subcommand per tool.
import { ldCommand } from './ldCommand.js';
import { runCommand } from './runCommand.js';
import { traceCommand } from './traceCommand.js';
import { asCommand } from './asCommand.js';
import { bootCommand } from './bootCommand.js';
import { fsckCommand } from './fsckCommand.js';
import { objdumpCommand } from './objdumpCommand.js';
import { fuzzCommand } from './fuzzCommand.js';
import { vmCommand } from './vmCommand.js';
import { ccCommand } from './ccCommand.js';
import { usage } from './options.js';

const USAGE = usage();

type Command = (args: string[]) => Promise<number>;

/** Subcommands register here; each lives in its own file under src/cli/. */
export const COMMANDS = new Map<string, Command>();
COMMANDS.set('ld', ldCommand);
COMMANDS.set('run', runCommand);
COMMANDS.set('trace', traceCommand);
COMMANDS.set('as', asCommand);
COMMANDS.set('boot', bootCommand);
COMMANDS.set('fsck', fsckCommand);
COMMANDS.set('objdump', objdumpCommand);
COMMANDS.set('fuzz', fuzzCommand);
COMMANDS.set('vm', vmCommand);
COMMANDS.set('cc', ccCommand);

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
