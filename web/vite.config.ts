// The playground page: `npm run web` (dev server), `npm run web:build` (web/dist/).
//
// The page runs the same src/ as the CLI: machine, toolchain, kernel, VMM. The few
// Node-only paths in those layers (a host disk image, --fs DIR, GNU as for tests,
// the on-disk program cache) import node: modules; here those imports resolve to
// nodeStubs.ts, whose functions throw a clear error, and the page never calls them.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

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
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
  },
  server: { fs: { allow: ['..'] } },
});
