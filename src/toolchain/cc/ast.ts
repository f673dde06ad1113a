// The abstract syntax tree the parser builds and the code generator walks.
// Every expression node has its C type (set by the parser through
// semantics.ts); implicit conversions are explicit 'cast' nodes, so the code
// generator never has to work out a conversion itself.

import type { SourceLocation } from './diagnostics.js';
import type { Type } from './types.js';

/** A named object: a local variable, a parameter, or a global (function or data). */
export interface Variable {
  name: string;
  type: Type;
  isLocal: boolean;
  /** Assembly symbol for globals and static locals. */
  symbol: string;
  isStatic: boolean;
  isExtern: boolean;
  /** A definition with storage (not just `extern`), for globals. */
  isDefinition: boolean;
  isTentative?: boolean;
  isFunction?: boolean;
  isInline?: boolean;
  /** Global data: its initial bytes and the addresses stored in it. */
  init?: StaticInit;
  /** Locals: the frame offset from %rbp (set by the code generator). */
  offset?: number;
  /** `register long x __asm__("rdi")`: an asm operand of x is placed in that register (gcc's local register variables). */
  asmRegister?: string;
  /** -O1: the callee-saved register holding this local, if any. */
  register?: string;
  /** Its address is taken (&x, arrays, records, asm memory operands): it must live in memory. */
  addressTaken?: boolean;
  /** How often it is used (-O1 register choice). */
  uses?: number;
  align?: number;
  section?: string;
  isUsedAttr?: boolean;
  weak?: boolean;
  isReferenced?: boolean;
  location?: SourceLocation;
}

export interface Relocation {
  offset: number;
  symbol: string;
  addend: number;
}

export interface StaticInit {
  bytes: Uint8Array;
  relocations: Relocation[];
}

export type NodeKind =
  // expressions
  | 'num' | 'var' | 'str' | 'member' | 'deref' | 'addr' | 'cast' | 'neg' | 'not' | 'bitnot'
  | 'add' | 'sub' | 'mul' | 'div' | 'mod' | 'shl' | 'shr' | 'bitand' | 'bitor' | 'bitxor'
  | 'eq' | 'ne' | 'lt' | 'le' | 'logand' | 'logor' | 'assign' | 'cond' | 'comma' | 'call'
  | 'preinc' | 'postinc' | 'compound' | 'stmtexpr' | 'memzero' | 'vastart' | 'vaarg' | 'vacopy'
  | 'xchg' | 'atomicload' | 'atomicstore' | 'nop'
  // statements
  | 'block' | 'exprstmt' | 'if' | 'for' | 'dowhile' | 'switch' | 'case' | 'break' | 'continue'
  | 'return' | 'goto' | 'label' | 'asm' | 'decl';

export interface AsmOperand {
  constraint: string;
  expr: Node;
  name?: string;
}

export interface Node {
  kind: NodeKind;
  type?: Type;
  location: SourceLocation;
  lhs?: Node;
  rhs?: Node;
  // 'num'
  value?: bigint;
  // 'var'
  variable?: Variable;
  // 'str': the bytes including the final NUL; the label is set by codegen
  bytes?: Uint8Array;
  // 'member'
  offset?: number;
  bitWidth?: number;
  bitOffset?: number;
  // 'cond', 'if', 'for', 'dowhile'
  cond?: Node;
  then?: Node;
  else?: Node;
  init?: Node;
  inc?: Node;
  body?: Node;
  // 'block', 'stmtexpr', 'decl' (initializing assignments)
  stmts?: Node[];
  // 'call'
  callee?: Node;
  args?: Node[];
  /** The called function's type. */
  funcType?: Type;
  /** A frame temporary for a returned struct (set by the parser, placed by codegen). */
  temp?: Variable;
  // 'switch'
  cases?: Node[];
  defaultCase?: Node;
  // 'case'
  low?: bigint;
  high?: bigint;
  // labels: 'goto', 'label', 'case', 'break'/'continue' targets
  label?: string;
  uniqueLabel?: string;
  /** 'break'/'continue': the enclosing statement. */
  target?: Node;
  /** 'break' target label of loops and switch. */
  breakLabel?: string;
  continueLabel?: string;
  // 'asm'
  template?: string;
  outputs?: AsmOperand[];
  inputs?: AsmOperand[];
  clobbers?: string[];
  isBasicAsm?: boolean;
  // 'memzero' (clear a local before its initializer)
  size?: number;
}

export interface FunctionDef {
  variable: Variable;
  params: Variable[];
  locals: Variable[];
  body: Node;
  /** The hidden pointer for a struct returned in memory. */
  returnPointer?: Variable;
  /** va_start's register save area (variadic functions). */
  vaArea?: Variable;
  hasAsm: boolean;
  /** Calls setjmp-like functions or otherwise needs every local in memory. */
  location: SourceLocation;
}

export interface TranslationUnit {
  functions: FunctionDef[];
  globals: Variable[];
  /** Top-level `__asm__("...")` blocks, in order, with the function index they precede. */
  topLevelAsm: { text: string; before: number }[];
  /** String literals used in static initializers: symbol -> bytes. */
  literals: Map<string, Uint8Array>;
}
