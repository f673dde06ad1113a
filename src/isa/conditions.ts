// The 16 x86 condition codes, in encoding order (the low nibble of Jcc/SETcc/CMOVcc).
// The first name of each is the one objdump prints; the rest are aliases GNU as accepts.

export const CONDITIONS: readonly (readonly string[])[] = [
  ['o'], ['no'], ['b', 'c', 'nae'], ['ae', 'nb', 'nc'],
  ['e', 'z'], ['ne', 'nz'], ['be', 'na'], ['a', 'nbe'],
  ['s'], ['ns'], ['p', 'pe'], ['np', 'po'],
  ['l', 'nge'], ['ge', 'nl'], ['le', 'ng'], ['g', 'nle'],
];

/** Condition-code number for a suffix such as 'nz', or -1. */
export function conditionNumber(name: string): number {
  for (let cc = 0; cc < 16; cc++) if (CONDITIONS[cc].includes(name)) return cc;
  return -1;
}
