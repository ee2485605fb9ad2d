/**
 * A worker thread of `runSealParallel` (src/runtime/seal-parallel.ts): runs its share of the inputs through
 * `runSeal` with the client's keys rebuilt from the secret key it is given, and posts the records back.
 * Started from compiled JS only.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Circuit } from '../circuit/index.js';
import { PannError, errorMessage } from '../errors.js';
import type { StageDone } from './executor.js';
import { runSeal } from './seal-inference.js';
import { runSealPart } from './seal-split.js';
import type { SplitPart } from './split.js';

/** What each worker is started with. */
export interface SealWorkerData {
  circuit: Circuit;
  secretKey: Uint8Array;
  /** This worker's inputs, back to back (`count` × the circuit's input length). */
  inputs: Float64Array;
  count: number;
  /** One inference split over several threads: this thread's part, its ports to the others, the shared counters. */
  split?: { part: SplitPart; ports: (MessagePort | null)[]; signals: SharedArrayBuffer };
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
  const callbacks = {
    onSetup: (name: string, ms?: number) => post(ms === undefined ? { type: 'setup', name } : { type: 'setup', name, ms }),
    onStage: (stage: StageDone) => post({ type: 'stage', stage }),
    onProgress: (done: number) => post({ type: 'progress', done }),
  };
  const run = data.split
    ? runSealPart(data.circuit, data.split.part, data.inputs, data.count, { secretKey: data.secretKey, ...data.split, ...callbacks })
    : runSeal(data.circuit, data.inputs, data.count, { secretKey: data.secretKey, ...callbacks });
  run.then(
    (result) => {
      const records = Array.isArray(result) ? result : result.records;
      post({ type: 'done', logits: records.map((r) => r.logits), timings: records.map((r) => r.timings) });
    },
    (err: unknown) => post({ type: 'error', name: err instanceof PannError ? err.name : 'Error', message: errorMessage(err) }),
  );
}
