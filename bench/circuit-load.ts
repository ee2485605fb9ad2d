/**
 * How long `loadCircuit` takes (read, JSON.parse, schema check, decode, replay): median and fastest of
 * interleaved runs (on a shared machine both move by 10–20 % from run to run: compare several runs).
 *
 *   node --expose-gc dist/bench/circuit-load.js [--baseline <dist/src/circuit/file.js of another build>] [--runs n] [circuit.json ...]
 *
 * With --baseline the other build's loadCircuit runs in the same process, alternating with this one (which goes
 * first alternates too), so both see the same machine load. With --expose-gc a full collection runs before each
 * timed load, so neither pays for the other's garbage. Without circuit arguments: the shipped circuits. Prints a
 * markdown table. A baseline build of another revision, e.g.:
 *
 *   git archive <rev> src tsconfig.json package.json | tar -x -C /tmp/base && ln -s $PWD/node_modules /tmp/base/ &&
 *   (cd /tmp/base && npx tsc -p tsconfig.json)   # then --baseline /tmp/base/dist/src/circuit/file.js
 */
import { statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadCircuit } from '../src/circuit/file.js';

type Loader = (path: string) => unknown;

const SHIPPED = ['circuits/mnist-mlp-relu-k6.json', 'circuits/mnist-cnn1-relu-poly6.json'];

interface Timing {
  median: number;
  min: number;
}

function timing(xs: number[]): Timing {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]! };
}

const cell = (t: Timing) => `${t.median.toFixed(1)} (${t.min.toFixed(1)})`;

const collect = (globalThis as { gc?: () => void }).gc;

function timeOnce(load: Loader, path: string): number {
  collect?.();
  const t0 = performance.now();
  load(path);
  return performance.now() - t0;
}

/** Milliseconds per loader, runs alternating between the loaders (after one warm-up load each). */
function measure(loaders: Loader[], path: string, runs: number): Timing[] {
  for (const load of loaders) load(path);
  const times = loaders.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) {
    const order = r % 2 === 0 ? loaders.map((_, i) => i) : loaders.map((_, i) => loaders.length - 1 - i);
    for (const i of order) times[i]!.push(timeOnce(loaders[i]!, path));
  }
  return times.map(timing);
}

export async function run(args: string[] = []): Promise<void> {
  let baseline: Loader | undefined;
  let runs = 9;
  const paths: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--baseline') {
      const mod = (await import(pathToFileURL(resolve(args[++i]!)).href)) as { loadCircuit: Loader };
      baseline = mod.loadCircuit;
    } else if (args[i] === '--runs') runs = Number(args[++i]);
    else paths.push(args[i]!);
  }
  const loaders: Loader[] = baseline ? [baseline, loadCircuit] : [loadCircuit];
  const out = process.stdout;
  const gc = collect ? ', a full GC before each' : '';
  out.write(`loadCircuit, ms: median (fastest) of ${runs} runs after a warm-up${gc} (load average ${loadavg()[0]!.toFixed(2)})\n\n`);
  out.write(
    baseline
      ? '| circuit | MB | baseline | this build | ratio of medians (of fastest) |\n|---|---:|---:|---:|---:|\n'
      : '| circuit | MB | ms |\n|---|---:|---:|\n',
  );
  for (const path of paths.length > 0 ? paths : SHIPPED) {
    const { size } = statSync(path);
    const ms = measure(loaders, path, runs);
    const mb = (size / 2 ** 20).toFixed(1);
    const [a, b] = ms as [Timing, Timing?];
    if (b)
      out.write(`| ${path} | ${mb} | ${cell(a)} | ${cell(b)} | ${(b.median / a.median).toFixed(2)} (${(b.min / a.min).toFixed(2)}) |\n`);
    else out.write(`| ${path} | ${mb} | ${cell(a)} |\n`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run(process.argv.slice(2));
