/**
 * SEAL running out of its 4 GiB WebAssembly heap, for real, in a child process (the built dist/; `npm test` builds
 * first) so this process's SEAL heap stays healthy and a hang shows up as a timeout instead of a stuck test run.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dist = (path: string) => `${root}dist/src/ckks/${path}`;

/**
 * The child: a small context, keys and a ciphertext; then 64 MiB plaintexts from SEAL's global pool until the heap
 * is full (reserve() takes heap without touching its pages, so this costs ~50 ms and little RSS). Each of these
 * spun forever before the fix: encrypting after the failure (a size SEAL's pool had not seen yet), freeing one of
 * those plaintexts, and the garbage collector running node-seal's finalizers on them.
 */
const CHILD = `
import { CkksContext, CkksEncryptor, CkksEvaluator, Plaintext, generateKeys, wasmHeapBytes, wasmStatus } from ${JSON.stringify(pathToFileURL(dist('index.js')).href)};
import { callSeal, sealLibrary } from ${JSON.stringify(pathToFileURL(dist('wasm.js')).href)};
const out = {};
const ctx = await CkksContext.create({ polyModulusDegree: 8192, coeffModulusBits: [60, 40, 40, 60] });
const keys = generateKeys(ctx);
const enc = new CkksEncryptor(keys);
const ev = new CkksEvaluator(ctx, keys.evaluationKeys());
const ct = enc.encryptSymmetric(Float64Array.of(1, 2, 3), 2 ** 40);
const seal = sealLibrary();
const fillers = [];
for (let i = 0; i < 200 && !out.oom; i++) {
  try {
    const pt = callSeal('fill heap', () => seal.PlainText({ pool: ctx.pool }));
    fillers.push(new Plaintext(ctx, pt, 0, 2 ** 40, false));
    callSeal('fill heap', () => pt.reserve(2 ** 23));
  } catch (err) {
    out.oom = { name: err.name, message: err.message, heapMiB: wasmHeapBytes() / 2 ** 20 };
  }
}
out.broken = wasmStatus().broken;
const t = performance.now();
out.later = [() => ev.negate(ct), () => enc.encrypt(Float64Array.of(1), 2 ** 40), () => enc.decrypt(ct)].map((op) => {
  try { op(); return 'no error'; } catch (err) { return err.message; }
});
out.laterMs = performance.now() - t;
for (const pt of fillers) pt.free();
ct.free();
enc.dispose();
keys.dispose();
ctx.dispose();
out.freed = true;
fillers.length = 0;
for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 50)); }
out.collected = true;
process.stdout.write(JSON.stringify(out));
`;

interface ChildResult {
  oom?: { name: string; message: string; heapMiB: number };
  broken: string | null;
  later: string[];
  laterMs: number;
  freed: boolean;
  collected: boolean;
}

/** Run the child; a child still running after `timeoutMs` is killed and the promise rejects naming the hang. */
function runChild(timeoutMs: number): Promise<ChildResult> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--input-type=module', '-e', CHILD],
      { timeout: timeoutMs, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        const ms = performance.now() - start;
        if (err) reject(new Error(`child ${err.killed ? `hung (killed after ${Math.round(ms)} ms)` : 'failed'}: ${stderr || err.message}`));
        else resolve(JSON.parse(stdout) as ChildResult);
      },
    );
  });
}

describe('SEAL running out of WebAssembly heap', () => {
  it('gives a CkksError naming the full heap, refuses later calls at once, and frees without hanging', async () => {
    if (!existsSync(dist('index.js'))) throw new Error(`${dist('index.js')} is missing: run \`npx tsc -p tsconfig.json\` first`);
    const result = await runChild(30_000);
    expect(result.oom?.name).toBe('CkksError');
    expect(result.oom?.message).toMatch(
      /^fill heap: SEAL's WebAssembly heap is full \(\d+ MiB of its 4 GiB limit\): std::bad_alloc; this thread's SEAL instance is now unusable, restart the process or worker/,
    );
    expect(result.oom?.heapMiB).toBeGreaterThan(100);
    expect(result.broken).toMatch(/^SEAL's WebAssembly heap ran out at \d+ MiB of its 4 GiB limit$/);
    expect(result.later).toHaveLength(3);
    // encrypt's first SEAL call is its encode
    ['negate', 'encode', 'decrypt'].forEach((op, i) =>
      expect(result.later[i]).toMatch(
        new RegExp(
          `^${op}: this thread's SEAL instance is unusable \\(SEAL's WebAssembly heap ran out .*\\); restart the process or worker$`,
        ),
      ),
    );
    expect(result.laterMs).toBeLessThan(100);
    expect(result).toMatchObject({ freed: true, collected: true });
  });
});
