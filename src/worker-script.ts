/**
 * Where a worker thread's compiled module is. Worker threads run JavaScript: from dist/ the module sits next to its
 * caller; when the caller runs from TypeScript sources (vitest), its twin under dist/ (built by `npm test`,
 * `npm run bench` and `npm ci`) is used.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The compiled worker `fileName` that belongs with the module at `callerUrl` (import.meta.url). When it is missing
 * (sources not built), throws the caller's own error, made by `missing` from the path and the shared advice.
 */
export function compiledWorkerScript(callerUrl: string, fileName: string, missing: (path: string, advice: string) => Error): string {
  const here = fileURLToPath(callerUrl);
  const path = here.endsWith('.ts')
    ? join(resolve(dirname(here), '..', '..'), 'dist', 'src', basename(dirname(here)), fileName)
    : join(dirname(here), fileName);
  if (!existsSync(path)) throw missing(path, 'run `npx tsc -p tsconfig.json` first');
  return path;
}
