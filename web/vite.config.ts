// The playground page: `npm run web` (dev server), `npm run web:build` (web/dist/).
//
// The page runs the same src/ as the CLI: machine, toolchain, kernel, VMM. The few
// Node-only paths in those layers (a host disk image, --fs DIR, GNU as for tests,
// the on-disk program cache) import node: modules; here those imports resolve to
// nodeStubs.ts, whose functions throw a clear error, and the page never calls them.
import { defineConfig, type Plugin } from 'vite';
import { fileURLToPath } from 'node:url';
import { buildUserBinariesFrom, buildUserLibrary, type ObjectInput } from '../src/build/userBuild.js';
import { repositorySources } from '../src/build/userPrograms.js';
import { buildGuestImage } from '../src/build/guestImage.js';

/**
 * `virtual:xk-user-programs`: the user library's objects, every user program and
 * the guest kernel (guest.elf), built at build time by the same code (userBuild.ts) the worker would run, so
 * the shell is up without assembling them in the page first. The editor's
 * programs are still assembled and linked in the page.
 */
function prebuiltUserPrograms(): Plugin {
  const id = 'virtual:xk-user-programs';
  return {
    name: 'xk-user-programs',
    resolveId: (source) => (source === id ? '\0' + id : null),
    load(resolved) {
      if (resolved !== '\0' + id) return null;
      const sources = repositorySources();
      const library = buildUserLibrary(sources);
      const { programs, tests } = buildUserBinariesFrom(sources, library);
      const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
      const object = (o: ObjectInput) => ({ name: o.name, bytes: b64(o.bytes) });
      return `export default ${JSON.stringify({
        library: { crt0: object(library.crt0), members: library.members.map(object) },
        programs: [...programs, ...tests].map(([name, bytes]) => ({ name, bytes: b64(bytes) })),
        guest: b64(buildGuestImage(sources.read)),
      })};`;
    },
  };
}

const stubs = fileURLToPath(new URL('./src/nodeStubs.ts', import.meta.url));
const nodeModules = ['fs', 'path', 'os', 'url', 'crypto', 'child_process', 'net'];

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  resolve: {
    alias: nodeModules.flatMap((m) => [
      { find: new RegExp(`^node:${m}$`), replacement: stubs },
    ]),
  },
  plugins: [prebuiltUserPrograms()],
  worker: { format: 'es', plugins: () => [prebuiltUserPrograms()] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
  },
  server: { fs: { allow: ['..'] } },
});
