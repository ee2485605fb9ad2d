/**
 * A worker thread of `runSealParallel` (src/runtime/seal-parallel.ts): runs its share of the inputs through
 * `runSeal` with the client's keys rebuilt from the secret key it is given, and posts the records back.
 * Started from compiled JS only.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Circuit } from '../circuit/index.js';
import { PannError, errorMessage } from '../errors.js';
import type { StageDone } from './executor.js';
import { runSeal } from './seal-inference.js';

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
  | { type: 'setup'; name: string; ms?: number }
  | { type: 'stage'; stage: StageDone }
  | { type: 'progress'; done: number }
  | { type: 'done'; logits: Float64Array[]; timings: { name: string; ms: number }[][] }
  | { type: 'error'; name: string; message: string };

const port = parentPort;
if (port) {
  const post = (m: SealWorkerMessage) => port.postMessage(m);
  const data = workerData as SealWorkerData;
  runSeal(data.circuit, data.inputs, data.count, {
    secretKey: data.secretKey,
    onSetup: (name, ms) => post(ms === undefined ? { type: 'setup', name } : { type: 'setup', name, ms }),
    onStage: (stage) => post({ type: 'stage', stage }),
    onProgress: (done) => post({ type: 'progress', done }),
  }).then(
    ({ records }) => post({ type: 'done', logits: records.map((r) => r.logits), timings: records.map((r) => r.timings) }),
    (err: unknown) => post({ type: 'error', name: err instanceof PannError ? err.name : 'Error', message: errorMessage(err) }),
  );
}
