/**
 * A worker thread of `runSealParallel` (src/runtime/seal-parallel.ts): rebuilds the client's keys from the secret
 * key it is given, runs its share of the inputs through the circuit under SEAL, and posts the records back.
 * Started from compiled JS only.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Circuit } from '../compiler/circuit.js';
import { CkksContext } from '../ckks/context.js';
import { loadClientKeys } from '../ckks/keys.js';
import { PannError, errorMessage } from '../errors.js';
import { PreparedCircuit } from './executor.js';
import { runInferences } from './inference.js';
import { SealBackend } from './seal-backend.js';

/** What each worker is started with. */
export interface SealWorkerData {
  circuit: Circuit;
  secretKey: Uint8Array;
  /** This worker's inputs, back to back (`count` × the circuit's input length). */
  inputs: Float64Array;
  count: number;
}

/** Worker → main thread. */
export type SealWorkerMessage =
  | { type: 'setup'; name: string; ms: number }
  | { type: 'progress'; done: number }
  | { type: 'done'; logits: Float64Array[]; timings: { name: string; ms: number }[][] }
  | { type: 'error'; name: string; message: string };

async function work(data: SealWorkerData, post: (m: SealWorkerMessage) => void): Promise<void> {
  const { circuit } = data;
  let t = performance.now();
  const context = await CkksContext.create({
    polyModulusDegree: circuit.params.polyModulusDegree,
    coeffModulusBits: circuit.params.coeffModulusBits,
  });
  let backend: SealBackend | null = null;
  let prepared: PreparedCircuit | null = null;
  const keys = (() => {
    try {
      return loadClientKeys(context, data.secretKey, { rotationSteps: circuit.rotationSteps });
    } catch (err) {
      context.dispose();
      throw err;
    }
  })();
  try {
    backend = new SealBackend(context, { clientKeys: keys, evaluationKeys: keys.evaluationKeys() });
    post({ type: 'setup', name: 'context + keys', ms: performance.now() - t });
    t = performance.now();
    prepared = new PreparedCircuit(circuit, backend);
    prepared.encodeAll();
    post({ type: 'setup', name: `encode ${circuit.plaintexts.length} plaintexts`, ms: performance.now() - t });
    const records = runInferences(prepared, data.inputs, data.count, (done) => post({ type: 'progress', done }));
    post({ type: 'done', logits: records.map((r) => r.logits), timings: records.map((r) => r.timings) });
  } finally {
    prepared?.dispose();
    backend?.dispose();
    keys.dispose();
    context.dispose();
  }
}

const port = parentPort;
if (port) {
  const post = (m: SealWorkerMessage) => port.postMessage(m);
  work(workerData as SealWorkerData, post).catch((err: unknown) =>
    post({ type: 'error', name: err instanceof PannError ? err.name : 'Error', message: errorMessage(err) }),
  );
}
