// Compiler diagnostics in gcc's form: `file:line:col: error: message`.
// The compiler stops at the first error (it throws CompileError); warnings are
// collected and printed by the driver. Nothing in the compiler may throw any
// other exception on bad input: the driver turns a stray one into an
// "internal compiler error" message instead of a host stack trace.

/** A place in a source file (1-based line and column). */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

export class CompileError extends Error {
  constructor(readonly location: SourceLocation | null, readonly detail: string) {
    super(location ? `${location.file}:${location.line}:${location.col}: error: ${detail}` : `xk cc: error: ${detail}`);
  }
}

/** Throws the error for `detail` at `location`. */
export function fail(location: SourceLocation | null, detail: string): never {
  throw new CompileError(location, detail);
}

export function warningText(location: SourceLocation, detail: string): string {
  return `${location.file}:${location.line}:${location.col}: warning: ${detail}`;
}

/** Floating point is the one big part of C11 xk cc leaves out; every use names it. */
export const NO_FLOATING_POINT = 'floating point is not supported by xk cc (integer C only)';

/** Limits that keep malformed or hostile input from exhausting the host. */
export const LIMITS = {
  /** Nesting of parenthesised expressions, declarators and statements. */
  nesting: 200,
  /** #include depth. */
  includeDepth: 200,
  /** Nested macro-argument expansion. */
  macroDepth: 200,
  /** Tokens produced by macro expansion of one file (stops runaway recursion). */
  expandedTokens: 50_000_000,
};
