// All instruction handlers of the CPU core, by mnemonic (or by family for the
// condition-code forms: 'jcc', 'setcc', 'cmovcc'). decodeCache.ts binds each
// form of the table to one of these once.

import type { Exec } from './decodeCache.js';
import { ARITHMETIC_HANDLERS } from './executeArithmetic.js';
import { BIT_HANDLERS } from './executeBits.js';
import { CONTROL_HANDLERS } from './executeControl.js';
import { DATA_HANDLERS } from './executeData.js';
import { LOGIC_HANDLERS } from './executeLogic.js';
import { STRING_HANDLERS } from './executeStrings.js';

export const HANDLERS: ReadonlyMap<string, Exec> = new Map([
  ...ARITHMETIC_HANDLERS, ...LOGIC_HANDLERS, ...BIT_HANDLERS, ...DATA_HANDLERS, ...CONTROL_HANDLERS, ...STRING_HANDLERS,
]);

/**
 * Mnemonics (or families) whose instructions only ever continue at the next
 * instruction and change nothing the run loop watches: the block tier
 * (blocks.ts) may run another instruction after them in the same block. rdtsc
 * reads the instruction count, which a block adds up only at its end.
 */
export const STRAIGHT_MNEMONICS: ReadonlySet<string> = new Set([
  ...[...ARITHMETIC_HANDLERS, ...LOGIC_HANDLERS, ...BIT_HANDLERS, ...DATA_HANDLERS].map(([name]) => name),
  'setcc',
].filter((name) => name !== 'rdtsc' && name !== 'ud2'));
