#!/usr/bin/env node
// Entry point of the `pann` command: runs the compiled CLI (build with `npm run build`; `npm ci` builds it).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('pann: the compiled CLI is missing (dist/src/cli/main.js); run `npm run build` first\n');
  process.exit(1);
}
await import(main.href);
