/**
 * Where a worker thread's compiled module is. Worker threads run JavaScript: from dist/ the module sits next to its
 * caller; when the caller runs from TypeScript sources (vitest), its twin under dist/ (built by `npm test`,
 * `npm run bench` and `npm ci`) is used.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled worker `fileName` that belongs with the module at `callerUrl` (import.meta.url), and whether it exists. */
export function compiledWorkerScript(callerUrl: string, fileName: string): { path: string; exists: boolean } {
  const here = fileURLToPath(callerUrl);
  const path = here.endsWith('.ts')
    ? join(resolve(dirname(here), '..', '..'), 'dist', 'src', basename(dirname(here)), fileName)
    : join(dirname(here), fileName);
  return { path, exists: existsSync(path) };
}
