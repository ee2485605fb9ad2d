/**
 * Benchmark of the encrypted inference server: `pann serve` in its own process (2 worker threads) with the MNIST
 * MLP circuit (N=8192), clients in this process.
 * - Load: 8 concurrent clients × 10 requests, each its own session: every answer checked against the sim
 *   backend's prediction, none dropped; client latency p50/p95 and throughput.
 * - Memory: the same sessions carry on to 500 inferences; server RSS and each worker's WASM heap sampled.
 * - Sizes: bytes uploaded for keys and per inference against the compiler's predictions, and the key set
 *   against the all-power-of-two Galois keys (with the key switches a power-of-two set would cost).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { predictSizes } from '../src/ckks/index.js';
import type { Circuit } from '../src/circuit/index.js';
import { loadCircuit } from '../src/circuit/index.js';
import { loadMnistSplit } from '../src/nn/mnist.js';
import { runSim } from '../src/runtime/inference.js';
import { PannClient, type ClientSession } from '../src/server/client.js';
import { summariseLatencies } from '../src/server/metrics.js';

export const CIRCUIT = 'circuits/mnist-cnn1-relu-poly6.json';
export const MODEL = 'mnist-cnn1-relu-poly6';
const CLIENTS = 8;
const REQUESTS = 10;
const MEMORY_TOTAL = 500;
const SAMPLE_EVERY = 50;

interface ServerMetrics {
  requests: number;
  errors: number;
  process: { rssBytes: number };
  workers: { index: number; sessions: number; wasmHeapBytes: number; tasks: number }[];
}

/** Start `pann serve` on the CNN circuit on a free port (`extra` flags after); resolves with its URL once it listens. */
export function startServer(root: string, extra: readonly string[] = []): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['bin/pann.js', 'serve', `${MODEL}=${CIRCUIT}`, '--port', '0', '--workers', '2', '--key-memory', '4000', '--quiet', ...extra],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return new Promise((resolveUrl, rejectUrl) => {
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/[^\s/]+)\/v1/.exec(err);
      if (m) resolveUrl({ url: m[1]!, child });
    });
    child.on('exit', (code) => rejectUrl(new Error(`pann serve exited with ${code}: ${err}`)));
  });
}

const mb = (b: number) => (b / 1e6).toFixed(2);

/** Minimum number of ±2^i terms summing to k (non-adjacent form weight): key switches with power-of-two keys only. */
function nafWeight(k: number): number {
  let w = 0;
  while (k !== 0) {
    if (k & 1) {
      const digit = 2 - (((k % 4) + 4) % 4);
      k -= digit;
      w++;
    }
    k /= 2;
  }
  return w;
}

function sizeTable(circuit: Circuit, session: ClientSession, perInference: { sent: number; received: number }): string[] {
  const p = circuit.report.predicted;
  const params = { polyModulusDegree: circuit.params.polyModulusDegree, coeffModulusBits: circuit.params.coeffModulusBits };
  const slots = params.polyModulusDegree / 2;
  const powers: number[] = [];
  for (let s = 1; s < slots; s *= 2) powers.push(s, slots - s);
  const pow2 = predictSizes(params, powers);
  const steps = new Set(powers.map((s) => s % slots));
  const rotations = circuit.ops.filter((o): o is Extract<typeof o, { op: 'rotate' }> => o.op === 'rotate');
  const switchesPow2 = rotations.reduce((s, o) => {
    const k = ((o.steps % slots) + slots) % slots;
    return s + Math.min(nafWeight(k), nafWeight(k - slots) || Infinity);
  }, 0);
  return [
    '| quantity | measured | compiler predicted |',
    '|---|---:|---:|',
    `| key upload (envelope), MB | ${mb(session.setup.bytesSent)} | ${mb(p.evaluationKeyUploadBytes)} (keys) |`,
    `| keys inside it (relin + ${circuit.rotationSteps.length} Galois, seeded), MB | ${mb(session.setup.keyBytes)} | ${mb(p.evaluationKeyUploadBytes)} |`,
    `| per inference sent (seeded ciphertext), kB | ${(perInference.sent / 1e3).toFixed(1)} | ${(p.seededCiphertextBytes / 1e3).toFixed(1)} |`,
    `| per inference received (result at level 0), kB | ${(perInference.received / 1e3).toFixed(1)} | ${(p.outputCiphertextBytes / 1e3).toFixed(1)} |`,
    '',
    "| Galois key set | steps | seeded upload, MB | key switches for this circuit's rotations |",
    '|---|---:|---:|---:|',
    `| exactly the circuit's steps (pann) | ${circuit.rotationSteps.length} | ${mb(p.galoisKeyBytes)} | ${rotations.length} |`,
    `| all powers of two, both directions (SEAL's default, + 1 conjugation key not counted) | ${steps.size} | ${mb(pow2.seededGaloisKeys ?? 0)} | ${switchesPow2} |`,
  ];
}

export async function run(): Promise<void> {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const circuit = loadCircuit(`${root}/${CIRCUIT}`);
  const test = loadMnistSplit('test');
  const digit = (i: number) => test.inputs.subarray((i % test.count) * 784, ((i % test.count) + 1) * 784);
  const simPredictions = runSim(circuit, test.inputs.subarray(0, MEMORY_TOTAL * 784), MEMORY_TOTAL).map((r) => r.prediction);

  const { url, child } = await startServer(root);
  const client = new PannClient(url);
  const metrics = async () => (await (await fetch(`${url}/v1/metrics`)).json()) as ServerMetrics;
  const sessions: ClientSession[] = [];
  try {
    const t0 = performance.now();
    for (let c = 0; c < CLIENTS; c++) sessions.push(await client.openSession(MODEL));
    const setupS = (performance.now() - t0) / 1000;
    const keygen = summariseLatencies(sessions.map((s) => s.setup.keygenMs));
    const open = summariseLatencies(sessions.map((s) => s.setup.openMs));

    // load: CLIENTS concurrent clients, REQUESTS each, every answer checked
    let next = 0;
    let wrong = 0;
    let failed = 0;
    const latencies: number[] = [];
    const evals: number[] = [];
    let perInference = { sent: 0, received: 0 };
    const tLoad = performance.now();
    await Promise.all(
      sessions.map(async (s) => {
        for (let r = 0; r < REQUESTS; r++) {
          const i = next++;
          try {
            const res = await s.infer(digit(i));
            latencies.push(res.timings.totalMs);
            evals.push(res.timings.serverEvalMs);
            perInference = { sent: res.bytesSent, received: res.bytesReceived };
            if (res.prediction !== simPredictions[i]) wrong++;
          } catch {
            failed++;
          }
        }
      }),
    );
    const loadS = (performance.now() - tLoad) / 1000;
    const lat = summariseLatencies(latencies);
    const ev = summariseLatencies(evals);
    process.stdout.write(
      [
        `server: pann serve ${CIRCUIT} (N=${circuit.params.polyModulusDegree}, depth ${circuit.report.depth}), 2 worker threads, separate process; clients in the bench process`,
        `setup: ${CLIENTS} sessions in ${setupS.toFixed(1)} s (keygen p50 ${keygen.p50.toFixed(0)} ms here; upload + server key load p50 ${open.p50.toFixed(0)} ms)`,
        '',
        `| load | requests | correct (= sim) | failed/dropped | p50 ms | p95 ms | max ms | throughput /s | server eval p50 ms |`,
        '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
        `| ${CLIENTS} clients × ${REQUESTS} | ${latencies.length + failed} | ${latencies.length - wrong} | ${failed} | ${lat.p50.toFixed(0)} | ${lat.p95.toFixed(0)} | ${lat.max.toFixed(0)} | ${(latencies.length / loadS).toFixed(2)} | ${ev.p50.toFixed(0)} |`,
        '',
      ].join('\n') + '\n',
    );

    // memory: carry on to MEMORY_TOTAL inferences, sampling the server's RSS and WASM heaps
    const rows: string[] = [
      '| inferences | server RSS MB | WASM heap worker 0 MB | WASM heap worker 1 MB | errors |',
      '|---:|---:|---:|---:|---:|',
    ];
    const sample = async (done: number) => {
      const m = await metrics();
      const heap = (w: number) => mb(m.workers.find((x) => x.index === w)?.wasmHeapBytes ?? 0);
      rows.push(`| ${done} | ${mb(m.process.rssBytes)} | ${heap(0)} | ${heap(1)} | ${m.errors} |`);
    };
    await sample(next);
    let sampledAt = next;
    let memWrong = 0;
    await Promise.all(
      sessions.map(async (s) => {
        while (next < MEMORY_TOTAL) {
          const i = next++;
          const res = await s.infer(digit(i));
          if (res.prediction !== simPredictions[i]) memWrong++;
          if (next - sampledAt >= SAMPLE_EVERY) {
            sampledAt = next;
            await sample(next);
          }
        }
      }),
    );
    await sample(next);
    process.stdout.write(`${rows.join('\n')}\n(${MEMORY_TOTAL} inferences, ${memWrong + wrong} predictions differing from sim)\n\n`);
    process.stdout.write(`${sizeTable(circuit, sessions[0]!, perInference).join('\n')}\n`);
  } finally {
    await Promise.all(sessions.map((s) => s.close().catch(() => undefined)));
    client.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}
