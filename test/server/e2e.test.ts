import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Circuit } from '../../src/circuit/index.js';
import { loadCircuit } from '../../src/circuit/index.js';
import { loadMnistSplit } from '../../src/nn/mnist.js';
import { runSim } from '../../src/runtime/inference.js';
import { PannClient, type ClientSession } from '../../src/server/client.js';
import { type RequestLogEntry, sessionTag } from '../../src/server/logging.js';
import { PannServer } from '../../src/server/server.js';

const CIRCUIT = 'circuits/mnist-mlp-relu-k6.json';
const COUNT = 20;

/** MNIST through a real server on 127.0.0.1 (two worker threads, real SEAL) and the typed client. */
describe('encrypted MNIST inference over HTTP', () => {
  let circuit: Circuit;
  let server: PannServer;
  let client: PannClient;
  let session: ClientSession;
  const logs: RequestLogEntry[] = [];
  const progress: [number, number][] = [];
  const test = loadMnistSplit('test');
  const digit = (i: number) => test.inputs.subarray(i * 784, (i + 1) * 784);

  beforeAll(async () => {
    circuit = loadCircuit(CIRCUIT);
    server = await PannServer.start({ models: [{ id: 'mlp', circuit }], port: 0, limits: { workers: 2 }, onLog: (e) => logs.push(e) });
    client = new PannClient(server.url);
    session = await client.openSession('mlp', { onProgress: (sent, total) => progress.push([sent, total]) });
  });
  afterAll(async () => {
    await session?.close();
    client?.close();
    await server?.close();
  });

  it(`${COUNT} test digits: the server's encrypted predictions equal the sim backend's`, async () => {
    const sim = runSim(circuit, test.inputs.subarray(0, COUNT * 784), COUNT);
    let maxErr = 0;
    for (let i = 0; i < COUNT; i++) {
      const r = await session.infer(digit(i));
      expect(r.prediction).toBe(sim[i]!.prediction);
      r.logits.forEach((v, j) => (maxErr = Math.max(maxErr, Math.abs(v - sim[i]!.logits[j]!))));
      expect(r.timings.serverEvalMs).toBeGreaterThan(0);
      expect(r.timings.roundTripMs).toBeGreaterThanOrEqual(r.timings.serverEvalMs);
    }
    // CKKS noise at a 2^24 scale through depth 6, not a wrong computation (logits span about ±10)
    expect(maxErr).toBeGreaterThan(0);
    expect(maxErr).toBeLessThan(0.5);
  });

  it("uploads exactly the compiler's predicted sizes: seeded keys for the needed steps only, seeded ciphertexts", async () => {
    const p = circuit.report.predicted;
    expect(session.setup.keyBytes).toBe(p.evaluationKeyUploadBytes);
    expect(session.model.rotationSteps).toEqual(circuit.rotationSteps);
    expect(session.setup.bytesSent).toBeGreaterThan(p.evaluationKeyUploadBytes);
    expect(session.setup.bytesSent - p.evaluationKeyUploadBytes).toBeLessThan(200); // the envelope's prefix and header
    const r = await session.infer(digit(0));
    expect(r.bytesSent).toBe(p.seededCiphertextBytes);
    expect(r.bytesReceived).toBe(p.outputCiphertextBytes);
    // upload progress is reported as the body is written, up to the whole envelope
    expect(progress.length).toBeGreaterThan(10);
    expect(progress.at(-1)).toEqual([session.setup.bytesSent, session.setup.bytesSent]);
    expect(progress.every(([s], i) => i === 0 || s >= progress[i - 1]![0])).toBe(true);
  });

  it('GET /v1/health answers while an inference runs in a worker', async () => {
    let inferDone = false;
    const running = session.infer(digit(1)).then((r) => ((inferDone = true), r));
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    const health = await client.health();
    const ms = performance.now() - t0;
    expect(health.status).toBe('ok');
    expect(inferDone).toBe(false);
    expect(ms).toBeLessThan(100);
    await running;
  });

  it('logs and metrics carry session, model, bytes and latency percentiles', () => {
    const infers = logs.filter((e) => e.route === 'POST /v1/sessions/:id/infer');
    expect(infers.length).toBe(COUNT + 2);
    for (const e of infers) {
      // the id is a bearer secret: logs carry its tag only
      expect(e).toMatchObject({
        status: 200,
        session: sessionTag(session.id),
        model: 'mlp',
        bytesIn: circuit.report.predicted.seededCiphertextBytes,
      });
      expect(e.workerMs).toBeGreaterThan(0);
    }
    expect(JSON.stringify(logs)).not.toContain(session.id);
    const m = server.metrics();
    const lat = m.routes['POST /v1/sessions/:id/infer']!.latencyMs;
    expect(lat.count).toBe(COUNT + 2);
    expect(lat.p50).toBeGreaterThan(0);
    expect(lat.p95).toBeGreaterThanOrEqual(lat.p50);
    expect(m.workers.reduce((s, w) => s + w.sessions, 0)).toBe(1);
    expect(m.workers.find((w) => w.sessions === 1)!.wasmHeapBytes).toBeGreaterThan(m.sessions.memoryBytes);
  });

  it('pann client infer --image: a PNG of a test digit gets the same prediction as the digit itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pann-client-'));
    try {
      const i = 3;
      const png = new PNG({ width: 28, height: 28, colorType: 0 });
      // black ink on white paper, as a scanner or phone would give: the client inverts it back
      digit(i).forEach((v, k) => {
        const g = Math.round(255 * (1 - v));
        png.data.set([g, g, g, 255], 4 * k);
      });
      const file = join(dir, 'digit.png');
      writeFileSync(file, PNG.sync.write(png));
      const { stdout } = await promisify(execFile)(
        'node',
        ['bin/pann.js', 'client', 'infer', '--server', server.url, '--model', 'mlp', '--image', file, '--json'],
        {
          maxBuffer: 1 << 20,
        },
      );
      const out = JSON.parse(stdout) as { results: { prediction: number; bytesSent: number }[]; session: { keyBytes: number } };
      expect(out.results[0]!.prediction).toBe(runSim(circuit, digit(i), 1)[0]!.prediction);
      expect(out.session.keyBytes).toBe(circuit.report.predicted.evaluationKeyUploadBytes);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
