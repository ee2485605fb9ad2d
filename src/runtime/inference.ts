/**
 * End-to-end inference on a backend that holds both keys (the sim backend, or a SEAL backend built with the
 * client's keys): encode → encrypt → evaluate → decrypt → decode, timed per stage.
 */
import type { Circuit } from '../circuit/index.js';
import { decodeBatch, decodeOutput, encodeBatch, encodeInput, PreparedCircuit, type StageTiming } from './executor.js';
import type { CipherHandle } from './backend.js';
import { InputError } from './errors.js';
import { SimBackend } from './sim-backend.js';
import { localRefreshClient, seededMasks } from './refresh.js';

/** One input's result: its logits, the predicted class and per-stage timings. */
export interface InferenceRecord {
  logits: Float64Array;
  prediction: number;
  /** encode+encrypt, each circuit stage, decrypt+decode. */
  timings: StageTiming[];
}

/** Index of the largest value. */
export function argmaxOf(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/** A sim backend with the circuit's parameters. */
export function simBackendFor(circuit: Circuit, noise?: { seed: number; scaleFactor?: number }): SimBackend {
  return new SimBackend({ params: circuit.params, ...(noise ? { noise } : {}) });
}

/**
 * One evaluation, timed: encrypt the slot vectors, evaluate (the whole circuit, or one part of a split), decrypt and decode; every ciphertext is freed even
 * when a step throws.
 */
export function timedEvaluation(
  prepared: PreparedCircuit,
  slotVectors: () => Float64Array[],
  decode: (decrypted: Float64Array[]) => Float64Array[],
  evaluate: (cts: CipherHandle[]) => { outputs: CipherHandle[]; timings: StageTiming[] } = (cts) => prepared.evaluateBatch(cts),
): { logits: Float64Array[]; timings: StageTiming[] } {
  const be = prepared.backend;
  const t0 = performance.now();
  const cts = slotVectors().map((v) => be.encrypt(v, prepared.circuit.inputScale));
  const t1 = performance.now();
  let result;
  try {
    result = evaluate(cts);
  } finally {
    for (const ct of cts) be.free(ct);
  }
  const t2 = performance.now();
  let logits: Float64Array[];
  try {
    logits = decode(result.outputs.map((o) => be.decrypt(o)));
  } finally {
    for (const o of result.outputs) be.free(o);
  }
  const t3 = performance.now();
  return { logits, timings: [{ name: 'encode+encrypt', ms: t1 - t0 }, ...result.timings, { name: 'decrypt+decode', ms: t3 - t2 }] };
}

/**
 * Run `count` inputs (back to back, each circuit.inputLayout.length long) through a prepared circuit: one per
 * evaluation in latency mode; in throughput mode batches of up to N/2 (slot b = input b), each record carrying
 * its batch's stage times divided by the batch size (the amortised cost per input).
 */
export function runInferences(
  prepared: PreparedCircuit,
  inputs: Float64Array,
  count: number,
  onProgress?: (done: number, total: number) => void,
): InferenceRecord[] {
  const circuit = prepared.circuit;
  const size = circuit.inputLayout.length;
  if (inputs.length !== count * size) throw new InputError(`expected ${count} inputs of ${size} values, got ${inputs.length} values`);
  const batch = circuit.mode === 'throughput' ? prepared.backend.slotCount : 1;
  const out: InferenceRecord[] = [];
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    const x = inputs.subarray(start * size, (start + n) * size);
    const { logits, timings } =
      circuit.mode === 'throughput'
        ? timedEvaluation(
            prepared,
            () => encodeBatch(circuit, x, n),
            (d) => decodeBatch(circuit, d, n),
          )
        : timedEvaluation(
            prepared,
            () => [encodeInput(circuit, x)],
            (d) => [decodeOutput(circuit, d[0]!)],
          );
    const perInput = n === 1 ? timings : timings.map((t) => ({ name: t.name, ms: t.ms / n }));
    for (const l of logits) out.push({ logits: l, prediction: argmaxOf(l), timings: perInput });
    onProgress?.(start + n, count);
  }
  return out;
}

/** Convenience: a fresh sim backend, prepared, run, disposed. */
export function runSim(
  circuit: Circuit,
  inputs: Float64Array,
  count: number,
  options: { noise?: { seed: number; scaleFactor?: number }; onProgress?: (done: number, total: number) => void } = {},
): InferenceRecord[] {
  const be = simBackendFor(circuit, options.noise);
  const prepared = new PreparedCircuit(circuit, be);
  prepared.refreshClient = localRefreshClient(be);
  // seeded masks keep a seeded sim run reproducible (x + r − r rounds differently for every r)
  prepared.masks = seededMasks(options.noise?.seed ?? 0);
  try {
    return runInferences(prepared, inputs, count, options.onProgress);
  } finally {
    prepared.dispose();
    be.dispose();
  }
}
