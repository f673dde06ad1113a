// Errors found while assembling. Each names the place (file:line:column) and what
// was wrong; the command prints them like a compiler does and exits with status 1.

/** Where a piece of source text came from (after #include and #define expansion). */
export interface SourcePosition {
  file: string;
  line: number; // 1-based
  column: number; // 1-based
}

export class AssemblyError extends Error {
  constructor(readonly position: SourcePosition, readonly detail: string) {
    super(`${position.file}:${position.line}:${position.column}: error: ${detail}`);
    this.name = 'AssemblyError';
  }
}

/** Thrown by `assemble` when the source has errors: all of them, in source order. */
export class AssemblyErrors extends Error {
  constructor(readonly errors: AssemblyError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'AssemblyErrors';
  }
}
