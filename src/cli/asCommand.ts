// `xk as FILE.s -o FILE.o`: the GNU as compatible assembler.
//   -o FILE     output object (default a.out, as GNU as does)
//   -I DIR      directory for #include in .S files (repeatable)
//   -D NAME[=V] predefine a macro for .S files
//   -a          print a listing: each instruction's section offset, bytes and source line
//   --64        accepted and ignored (xk only assembles 64-bit code)

import fs from 'node:fs';
import { AssembleResult, assemble } from '../toolchain/assembler/assembler.js';
import { AssemblyErrors } from '../toolchain/assembler/assemblyError.js';
import { commandUsage, isOption } from './options.js';

const USAGE = commandUsage('as');

export async function asCommand(args: string[]): Promise<number> {
  let input: string | undefined;
  let output = 'a.out';
  const includeDirs: string[] = [];
  const defines: Record<string, string> = {};
  let listing = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (flag: string) => {
      if (a.length > flag.length) return a.slice(flag.length);
      const v = args[++i];
      if (v === undefined) throw new Error(`option ${flag} needs a value`);
      return v;
    };
    try {
      // -o, -I and -D also take their value glued on (-oFILE): the table lists the option letter.
      if (a.startsWith('-') && a !== '-' && !isOption('as', /^-[oID]./.test(a) ? a.slice(0, 2) : a)) {
        process.stderr.write(`xk as: unknown option '${a}'\n${USAGE}`);
        return 2;
      }
      if (a === '--64') continue;
      if (a === '-a') {
        listing = true;
        continue;
      }
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
    process.stderr.write(`xk as: cannot read '${input}': ${reason(e)}\n`);
    return 1;
  }
  try {
    const result = assemble(source, { fileName: input, includeDirs, defines, readFile: (p) => fs.readFileSync(p, 'utf8') });
    fs.writeFileSync(output, result.object);
    if (listing) process.stdout.write(formatListing(result, source.split('\n'), input));
    return 0;
  } catch (e) {
    if (e instanceof AssemblyErrors) {
      process.stderr.write(e.errors.map((x) => x.message).join('\n') + '\n');
      return 1;
    }
    if (e instanceof Error && 'code' in e) {
      process.stderr.write(`xk as: cannot write '${output}': ${reason(e)}\n`);
      return 1;
    }
    throw e;
  }
}

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const known: Record<string, string> = { ENOENT: 'no such file or directory', EISDIR: 'is a directory', EACCES: 'permission denied', ENOTDIR: 'not a directory' };
  return (code && known[code]) ?? (e as Error).message;
}

/** One line per instruction: source line number, section:offset, the bytes, the source text. */
function formatListing(result: AssembleResult, lines: string[], input: string): string {
  const out: string[] = [];
  for (const e of result.listing) {
    const section = result.model.sections.find((s) => s.name === e.section);
    const bytes = section ? [...section.data.subarray(e.offset, e.offset + e.length)].map((b) => b.toString(16).padStart(2, '0')).join(' ') : '';
    const text = e.file === input ? (lines[e.line - 1] ?? '').trim() : `(${e.file}:${e.line})`;
    out.push(`${String(e.line).padStart(5)}  ${e.section}+${e.offset.toString(16).padStart(4, '0')}  ${bytes.padEnd(30)} ${text}`);
  }
  return out.join('\n') + '\n';
}
