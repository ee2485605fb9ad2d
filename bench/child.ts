/**
 * Benches that run SEAL measure each configuration in its own child process (a fresh node-seal WASM heap: run back
 * to back in one process, large configurations fragment the 4 GB heap). The child prints one result line.
 */
import { spawnSync } from 'node:child_process';

/** A child's time limit: PANN_BENCH_CHILD_MINUTES (default 30). */
const CHILD_TIMEOUT_MS = Number(process.env['PANN_BENCH_CHILD_MINUTES'] ?? 30) * 60 * 1000;

/** Run `script args…` in a child node process and parse its `prefix`-marked JSON line, or say why it failed. */
export function inChild<T>(script: string, args: readonly string[], prefix: string, label: string): T | { error: string } {
  const r = spawnSync(process.execPath, [script, ...args], {
    encoding: 'utf8',
    env: process.env,
    maxBuffer: 64 * 2 ** 20,
    timeout: CHILD_TIMEOUT_MS,
  });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith(prefix));
  if (r.status === 0 && line) return JSON.parse(line.slice(prefix.length)) as T;
  const lines = (r.stderr ?? '').trim().split('\n');
  // the first error line (a stack's message line), else the last lines
  const first = lines.findIndex((l) => /^\w*Error\b|^\w+Error:|RuntimeError|Aborted|out of memory/i.test(l.trim()));
  const why =
    (first >= 0 ? lines.slice(first, first + 2) : lines.slice(-3)).join(' / ') ||
    `exit ${r.status ?? r.signal}${r.signal === 'SIGTERM' ? ` (over the ${CHILD_TIMEOUT_MS / 60_000} min limit, PANN_BENCH_CHILD_MINUTES)` : ''}`;
  return { error: `${label}: ${why}` };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
