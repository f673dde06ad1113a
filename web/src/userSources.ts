// The user/ sources, bundled into the page as text, in the shape src/build/userBuild.ts reads.
import type { UserSourceFiles } from '../../src/build/userBuild.js';

const files = import.meta.glob(['../../user/**/*.s', '../../user/**/*.S', '../../user/include/*.h', '../../guest/*.S', '../../guest/*.h'], {
  query: '?raw', import: 'default', eager: true,
}) as Record<string, string>;

/** '../../user/lib/crt0.S' -> 'user/lib/crt0.S' */
const byPath = new Map(Object.entries(files).map(([k, v]) => [k.replace(/^(\.\.\/)+/, ''), v]));

export const bundledSources: UserSourceFiles = {
  read: (relativePath) => byPath.get(relativePath.replace(/^\.\//, '')),
  generated: (folder) => [...byPath.keys()].filter((p) => p.startsWith(`user/gen/${folder}/`) && p.endsWith('.s')).sort(),
};

/** The guest kernel's sources (guest/*.S) in link order, for `vm guest.elf`. */
export function guestSources(): { name: string; text: string }[] {
  const order = ['boot.S', 'trap.S', 'proc.S', 'vm.S', 'timer.S', 'console.S', 'user.S'];
  return order.map((name) => ({ name, text: byPath.get(`guest/${name}`) ?? '' })).filter((f) => f.text !== '');
}
