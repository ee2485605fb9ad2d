/**
 * What the server's hardening costs and buys (docs/server.md: clients and quotas, sessions on disk), measured in
 * one run on the shipped CNN circuit (N=8192) with `pann serve` in its own process (2 worker threads):
 * - load, 8 clients × 10 requests, each client its own session, first as before (no --auth, sessions in memory),
 *   then with --auth (each client its own token) and --state-dir: p50/p95 and throughput, every answer checked
 *   against the simulator; the ratio of the two;
 * - restart: the server killed with SIGKILL and started again on its state directory; the time from the new
 *   process's start to the first inference answered on an old session (its keys loaded on that request), against
 *   a fresh session's setup (key generation here + upload + key load);
 * - bytes on disk per persisted session.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCircuit } from '../src/circuit/index.js';
import { loadMnistSplit } from '../src/nn/mnist.js';
import { runSim } from '../src/runtime/inference.js';
import { createToken } from '../src/server/auth.js';
import { PannClient, type ClientSession } from '../src/server/client.js';
import { summariseLatencies } from '../src/server/metrics.js';
import { CIRCUIT, MODEL, startServer } from './server.js';

const CLIENTS = 8;
const REQUESTS = 10;

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

interface Load {
  p50: number;
  p95: number;
  perSecond: number;
  correct: number;
  total: number;
}

async function load(sessions: ClientSession[], digit: (i: number) => Float64Array, sim: number[]): Promise<Load> {
  let next = 0;
  let correct = 0;
  const latencies: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    sessions.map(async (s) => {
      for (let r = 0; r < REQUESTS; r++) {
        const i = next++;
        const res = await s.infer(digit(i));
        latencies.push(res.timings.totalMs);
        if (res.prediction === sim[i]) correct++;
      }
    }),
  );
  const lat = summariseLatencies(latencies);
  return { p50: lat.p50, p95: lat.p95, perSecond: latencies.length / ((performance.now() - t0) / 1000), correct, total: latencies.length };
}

export async function run(): Promise<void> {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const circuit = loadCircuit(`${root}/${CIRCUIT}`);
  const test = loadMnistSplit('test');
  const digit = (i: number) => test.inputs.subarray((i % test.count) * 784, ((i % test.count) + 1) * 784);
  const sim = runSim(circuit, test.inputs.subarray(0, CLIENTS * REQUESTS * 784), CLIENTS * REQUESTS).map((r) => r.prediction);
  const dir = mkdtempSync(join(tmpdir(), 'pann-bench-hardening-'));
  const state = join(dir, 'state');
  const tokensFile = join(dir, 'tokens.json');
  const tokens = Array.from({ length: CLIENTS }, (_, c) =>
    createToken(tokensFile, `client-${c}`, { maxSessions: 2, requestsPerMinute: 6000 }),
  );
  const rows: string[] = [];
  try {
    const measureConfig = async (label: string, extra: string[], token: (c: number) => string | undefined) => {
      const { url, child } = await startServer(root, extra);
      const clients = Array.from({ length: CLIENTS }, (_, c) => new PannClient(url, token(c) ? { token: token(c)! } : {}));
      try {
        const sessions: ClientSession[] = [];
        for (const c of clients) sessions.push(await c.openSession(MODEL));
        const result = await load(sessions, digit, sim);
        rows.push(
          `| ${label} | ${result.correct}/${result.total} | ${result.p50.toFixed(0)} | ${result.p95.toFixed(0)} | ${result.perSecond.toFixed(2)} |`,
        );
        return { result, url, child, clients, sessions };
      } catch (err) {
        await stop(child, 'SIGKILL');
        throw err;
      }
    };
    const plain = await measureConfig('no --auth, sessions in memory', [], () => undefined);
    await stop(plain.child, 'SIGTERM');
    for (const c of plain.clients) c.close();
    const hardened = await measureConfig('--auth (8 tokens) --state-dir', ['--auth', tokensFile, '--state-dir', state], (c) => tokens[c]);
    const setup = summariseLatencies(hardened.sessions.map((s) => s.setup.keygenMs + s.setup.openMs));
    const files = readdirSync(state).filter((f) => f.endsWith('.session'));
    const perSession = files.length ? statSync(join(state, files[0]!)).size : 0;
    // restart: kill -9, start again on the state directory, first inference on an old session
    await stop(hardened.child, 'SIGKILL');
    const t0 = performance.now();
    const port = new URL(hardened.url).port;
    const again = await startServer(root, ['--auth', tokensFile, '--state-dir', state, '--port', port]); // same address
    const listening = performance.now() - t0;
    let firstMs = 0;
    let secondMs = 0;
    try {
      const old = hardened.sessions[0]!; // the client keeps its session id and keys; the server lost everything in memory
      const first = await old.infer(digit(0));
      firstMs = performance.now() - t0;
      const second = await old.infer(digit(1));
      secondMs = second.timings.totalMs;
      if (first.prediction !== sim[0] || second.prediction !== sim[1]) throw new Error('a revived session answered wrongly');
    } finally {
      for (const c of hardened.clients) c.close();
      await stop(again.child, 'SIGTERM');
    }
    process.stdout.write(
      [
        `server: pann serve ${CIRCUIT} (N=${circuit.params.polyModulusDegree}), 2 worker threads, separate process; ${CLIENTS} clients in the bench process`,
        '',
        '| configuration | correct (= sim) | p50 ms | p95 ms | inferences/s |',
        '|---|---:|---:|---:|---:|',
        ...rows,
        '',
        `throughput with --auth and --state-dir: ${(hardened.result.perSecond / plain.result.perSecond).toFixed(2)}× the plain server's (same run)`,
        `on disk: ${(perSession / 1e6).toFixed(1)} MB per session (${files.length} files)`,
        `restart (SIGKILL, then start on the state directory): listening after ${(listening / 1000).toFixed(1)} s; first inference on an old session answered ${(firstMs / 1000).toFixed(1)} s after the start (its keys loaded on that request); the next inference ${secondMs.toFixed(0)} ms`,
        `a new session instead: key generation + upload + key load p50 ${(setup.p50 / 1000).toFixed(1)} s (and ${(perSession / 1e6).toFixed(0)} MB uploaded)`,
      ].join('\n') + '\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
