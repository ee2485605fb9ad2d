#!/usr/bin/env node
// Entry point of the `pann` command: runs the compiled CLI (build with `npm run build`; `npm ci` builds it).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('pann: the compiled CLI is missing (dist/src/cli/main.js); run `npm run build` first\n');
  process.exit(1);
}
// `pann … | head` closes the pipe early: stop quietly, as other Unix tools do, instead of an EPIPE stack trace
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}
await import(main.href);
