#!/usr/bin/env node
// The `xk` command. The TypeScript sources are compiled to dist/ by `npm install` (prepare).
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (err) => {
    process.stderr.write(`xk: internal error: ${err && err.stack ? err.stack : err}\n`);
    process.exit(70);
  },
);
