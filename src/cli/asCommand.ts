// `xk as FILE.s -o FILE.o`: the GNU as compatible assembler.
//   -o FILE     output object (default a.out, as GNU as does)
//   -I DIR      directory for #include in .S files (repeatable)
//   -D NAME[=V] predefine a macro for .S files
//   --64        accepted and ignored (xk only assembles 64-bit code)

import fs from 'node:fs';
import { assemble } from '../toolchain/assembler/assembler.js';
import { AssemblyErrors } from '../toolchain/assembler/assemblyError.js';

const USAGE = 'usage: xk as [--64] [-I DIR] [-D NAME[=VALUE]] FILE.s|FILE.S [-o FILE.o]\n';

export async function asCommand(args: string[]): Promise<number> {
  let input: string | undefined;
  let output = 'a.out';
  const includeDirs: string[] = [];
  const defines: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (flag: string) => {
      if (a.length > flag.length) return a.slice(flag.length);
      const v = args[++i];
      if (v === undefined) throw new Error(`option ${flag} needs a value`);
      return v;
    };
    try {
      if (a === '--64') continue;
      if (a === '-h' || a === '--help') {
        process.stdout.write(USAGE);
        return 0;
      }
      if (a.startsWith('-o')) output = value('-o');
      else if (a.startsWith('-I')) includeDirs.push(value('-I'));
      else if (a.startsWith('-D')) {
        const [name, v = '1'] = value('-D').split(/=(.*)/s);
        defines[name] = v;
      } else if (a.startsWith('-') && a !== '-') {
        process.stderr.write(`xk as: unknown option '${a}'\n${USAGE}`);
        return 2;
      } else if (input === undefined) input = a;
      else {
        process.stderr.write(`xk as: more than one input file ('${input}', '${a}')\n`);
        return 2;
      }
    } catch (e) {
      process.stderr.write(`xk as: ${(e as Error).message}\n`);
      return 2;
    }
  }
  if (input === undefined) {
    process.stderr.write(`xk as: no input file\n${USAGE}`);
    return 2;
  }
  let source: string;
  try {
    source = fs.readFileSync(input === '-' ? 0 : input, 'utf8');
  } catch (e) {
    process.stderr.write(`xk as: cannot read '${input}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
    return 1;
  }
  try {
    const { object } = assemble(source, { fileName: input, includeDirs, defines });
    fs.writeFileSync(output, object);
    return 0;
  } catch (e) {
    if (e instanceof AssemblyErrors) {
      process.stderr.write(e.errors.map((x) => x.message).join('\n') + '\n');
      return 1;
    }
    if (e instanceof Error && 'code' in e) {
      process.stderr.write(`xk as: cannot write '${output}': ${(e as NodeJS.ErrnoException).code}\n`);
      return 1;
    }
    throw e;
  }
}
