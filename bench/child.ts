/**
 * Benches that run SEAL measure each configuration in its own child process (a fresh node-seal WASM heap: run back
 * to back in one process, large configurations fragment the 4 GB heap). The child prints one result line.
 */
import { spawnSync } from 'node:child_process';

const CHILD_TIMEOUT_MS = 30 * 60 * 1000;

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
  const why = (r.stderr ?? '').trim().split('\n').slice(-3).join(' / ') || `exit ${r.status ?? r.signal}`;
  return { error: `${label}: ${why}` };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
