// The headers of user/ (for the editor's programs) and the guest kernel's sources,
// bundled into the page as text, in the shape src/build/userBuild.ts reads.
import type { UserSourceFiles } from '../../src/build/userBuild.js';

const files = import.meta.glob(['../../user/include/*.h', '../../guest/*.S', '../../guest/*.h'], {
  query: '?raw', import: 'default', eager: true,
}) as Record<string, string>;

/** '../../user/lib/crt0.S' -> 'user/lib/crt0.S' */
const byPath = new Map(Object.entries(files).map(([k, v]) => [k.replace(/^(\.\.\/)+/, ''), v]));

export const bundledSources: UserSourceFiles = {
  read: (relativePath) => byPath.get(relativePath.replace(/^\.\//, '')),
  cSources: (folder) => [...byPath.keys()].filter((p) => p.startsWith(`user/${folder}/`) && !p.slice(folder.length + 6).includes('/') && p.endsWith('.c')).sort(),
};
