/**
 * Benchmarks of the fitter: median time of a Remez fit (the solver alone) and of a Chebyshev interpolant on ReLU
 * on [−1, 1] at degrees 7, 15, 27, 63, 127, the time to measure the error of such a fit, the O(n²) DCT at its
 * largest size, and the whole catalog: on this thread (as `pann fit --catalog`) and on 2 worker threads, wall
 * and CPU time (a 2-core machine shared with other work shows it in the load average printed with it).
 * Targets (2-core machine): Remez degree 27 ≤ 10 ms, degree 127 ≤ 200 ms, catalog ≤ 3 s. Prints markdown tables.
 */
import { loadavg } from 'node:os';
import { parseActivation } from '../src/approx/activations.js';
import { buildCatalog, buildCatalogInParallel, type Catalog } from '../src/approx/catalog.js';
import { chebyshevCoefficients, chebyshevInterpolant } from '../src/approx/chebyshev.js';
import { measureMaxError } from '../src/approx/max-error.js';
import { fitMinimax } from '../src/approx/remez.js';

const DEGREES = [7, 15, 27, 63, 127];
const TARGETS_MS: Record<number, number> = { 27: 10, 127: 200 };
const CATALOG_TARGET_S = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeMs(fn: () => void, repeats: number): number {
  fn(); // warm-up (JIT)
  const ts: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

export async function run(): Promise<void> {
  const relu = parseActivation('relu');
  const f = (x: number) => relu.f(x);
  const out = process.stdout;
  out.write('ReLU on [-1, 1] (median of 15 runs after one warm-up; Remez = solver only, measure = max-error measurement)\n\n');
  out.write(
    '| degree | Remez ms | target | iterations | converged | Chebyshev ms | measure ms | Remez max error | Chebyshev max error |\n',
  );
  out.write('|---:|---:|:---|---:|:---|---:|---:|---:|---:|\n');
  for (const d of DEGREES) {
    let iterations = 0;
    let converged = false;
    let remezPoly = null as ReturnType<typeof fitMinimax>['polynomial'] | null;
    const remezMs = timeMs(() => {
      const r = fitMinimax(f, { intervals: [[-1, 1]], degree: d, parity: relu.parity });
      iterations = r.iterations;
      converged = r.converged;
      remezPoly = r.polynomial;
    }, 15);
    let chebPoly = null as ReturnType<typeof chebyshevInterpolant> | null;
    const chebMs = timeMs(() => {
      chebPoly = chebyshevInterpolant(f, [-1, 1], d, { parity: relu.parity });
    }, 15);
    const approx = (p: NonNullable<typeof remezPoly>) => ({
      activation: 'relu',
      method: 'remez' as const,
      interval: [-1, 1] as const,
      stages: [p],
      finish: 'none' as const,
    });
    let remezErr = 0;
    const measureMs = timeMs(() => {
      remezErr = measureMaxError(f, approx(remezPoly!)).maxError;
    }, 5);
    const chebErr = measureMaxError(f, approx(chebPoly!)).maxError;
    const target = TARGETS_MS[d];
    const verdict = target === undefined ? '' : `≤ ${target} ms ${remezMs <= target ? 'met' : 'MISSED'}`;
    out.write(
      `| ${d} | ${remezMs.toFixed(2)} | ${verdict} | ${iterations} | ${converged ? 'yes' : 'no'} | ${chebMs.toFixed(3)} | ${measureMs.toFixed(2)} | ${remezErr.toExponential(3)} | ${chebErr.toExponential(3)} |\n`,
    );
  }
  // a fit without parity (full basis, kink in f'' at 0): ULU(a1=0.5, a2=2) on [−8, 8]
  const ulu = parseActivation('ulu:a1=0.5,a2=2');
  out.write(
    '\nULU(a1=0.5, a2=2) on [-8, 8], no parity (full basis), median of 7:\n\n| degree | Remez ms | iterations | converged |\n|---:|---:|---:|:---|\n',
  );
  for (const d of [27, 127, 255]) {
    let iterations = 0;
    let converged = false;
    const ms = timeMs(() => {
      const r = fitMinimax((x) => ulu.f(x), { intervals: [[-8, 8]], degree: d });
      iterations = r.iterations;
      converged = r.converged;
    }, 7);
    out.write(`| ${d} | ${ms.toFixed(2)} | ${iterations} | ${converged ? 'yes' : 'no'} |\n`);
  }
  const n = 1025;
  const values = Float64Array.from({ length: n }, (_, i) => Math.sin(i));
  const dctMs = timeMs(() => chebyshevCoefficients(values, 2), 9);
  out.write(`\nO(n²) DCT (Chebyshev coefficients) at n = ${n}: ${dctMs.toFixed(2)} ms (median of 9)\n`);

  out.write('\nWhole catalog (209 entries, not written), one run each; CPU = user time of the whole process (all threads):\n\n');
  const groups = new Map<string, number>();
  let last = performance.now();
  const timed = async (build: () => Catalog | Promise<Catalog>) => {
    const load = loadavg()[0]!;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    last = t0;
    const catalog = await build();
    return { catalog, wallS: (performance.now() - t0) / 1000, cpuS: process.cpuUsage(cpu0).user / 1e6, load };
  };
  const sequential = await timed(() =>
    buildCatalog({
      onProgress: (_done, _total, s) => {
        const now = performance.now();
        const g = `${s.activation} [${s.interval.join(', ')}]`;
        groups.set(g, (groups.get(g) ?? 0) + now - last);
        last = now;
      },
    }),
  );
  const parallel = await timed(() => buildCatalogInParallel({ threads: 2 }));
  const same =
    parallel.catalog.indexText === sequential.catalog.indexText &&
    [...sequential.catalog.files].every(([name, text]) => parallel.catalog.files.get(name) === text);
  const unreachable = sequential.catalog.entries.filter((e) => 'unreachable' in e).length;
  const verdict = (s: number) => `${s <= CATALOG_TARGET_S ? 'met' : 'MISSED'}`;
  out.write(`| build | wall s | CPU s | load average (1 min) at start | target ≤ ${CATALOG_TARGET_S} s |\n|:---|---:|---:|---:|:---|\n`);
  out.write(
    `| this thread (pann fit --catalog) | ${sequential.wallS.toFixed(2)} | ${sequential.cpuS.toFixed(2)} | ${sequential.load.toFixed(2)} | ${verdict(sequential.wallS)} |\n`,
  );
  out.write(
    `| 2 worker threads | ${parallel.wallS.toFixed(2)} | ${parallel.cpuS.toFixed(2)} | ${parallel.load.toFixed(2)} | ${verdict(parallel.wallS)} |\n`,
  );
  out.write(
    `\n${sequential.catalog.files.size} files, ${unreachable} unreachable; the two builds are byte-identical: ${same ? 'yes' : 'NO'}\n\n`,
  );
  out.write('| group (k = 4..14), this thread | seconds |\n|:---|---:|\n');
  for (const [g, ms] of [...groups].sort((a, b) => b[1] - a[1])) out.write(`| ${g} | ${(ms / 1000).toFixed(2)} |\n`);
}
