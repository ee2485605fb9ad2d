/**
 * The bench runner (`npm run bench`): runs every bench module below in order; each prints its own table.
 * `node dist/bench/run.js fit nn` runs only the named modules. Add one line per module to BENCHES.
 */
interface BenchModule {
  run(): Promise<void> | void;
}

const BENCHES: readonly { readonly name: string; readonly load: () => Promise<BenchModule> }[] = [
  { name: 'fit', load: () => import('./fit.js') },
  { name: 'nn', load: () => import('./nn.js') },
  { name: 'ckks-ops', load: () => import('./ckks-ops.js') },
  { name: 'e2e', load: () => import('./e2e.js') },
  { name: 'refresh', load: () => import('./refresh.js') },
  { name: 'study', load: () => import('./study.js') },
  { name: 'server', load: () => import('./server.js') },
  { name: 'server-hardening', load: () => import('./server-hardening.js') },
  { name: 'circuit-load', load: () => import('./circuit-load.js') },
  { name: 'resnet', load: () => import('./resnet.js') },
];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !BENCHES.some((b) => b.name === w));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown module(s) ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}\n`);
  process.exitCode = 2;
} else {
  for (const b of BENCHES) {
    if (wanted.length > 0 && !wanted.includes(b.name)) continue;
    process.stdout.write(`\n## bench: ${b.name}\n\n`);
    const t0 = performance.now();
    await (await b.load()).run();
    process.stdout.write(`\n(${b.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  }
}
