// xk cc's pipeline for one C file: preprocess -> parse -> generate assembly.
// No Node dependency: the caller passes the file reader (the browser passes
// its own), and gets the diagnostics back as gcc prints them.

import { CompileError } from './diagnostics.js';
import { Preprocessor } from './preprocessor.js';
import { parse } from './parser.js';
import { generate } from './codegen.js';

export interface CompileOptions {
  includeDirs: string[];
  defines: Record<string, string>;
  undefines?: string[];
  /** 0 or 1 (-O0, -O1). */
  optimize: number;
  readFile: (path: string) => string | null;
}

export interface CompileResult {
  /** The assembly text; undefined when there were errors. */
  assembly?: string;
  errors: string[];
  warnings: string[];
}

/** Compiles `source` (named `fileName` in messages) to GNU as assembly. */
export function compileC(source: string, fileName: string, options: CompileOptions): CompileResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  try {
    const pp = new Preprocessor({
      includeDirs: options.includeDirs, defines: options.defines, undefines: options.undefines,
      readFile: options.readFile, warn: (t) => warnings.push(t),
    });
    const tokens = pp.preprocessFile(source, fileName);
    const unit = parse(tokens, {
      warn: (at, m) => warnings.push(`${at.file}:${at.line}:${at.col}: warning: ${m}`),
      error: (e) => errors.push(e.message),
    });
    if (errors.length > 0) return { errors, warnings };
    return { assembly: generate(unit, { optimize: options.optimize, fileName }), errors, warnings };
  } catch (e) {
    if (e instanceof CompileError) errors.push(e.message);
    else if (e instanceof RangeError) errors.push(`${fileName}: error: program too deeply nested for xk cc (${e.message})`);
    else errors.push(`${fileName}: internal compiler error: ${(e as Error).message}`);
    return { errors, warnings };
  }
}
