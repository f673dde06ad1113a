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
