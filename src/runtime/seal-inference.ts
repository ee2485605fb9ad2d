/**
 * Local encrypted inference: context and keys (Galois keys for exactly the circuit's rotation steps) are made
 * for the circuit, its plaintexts encoded once, then each input goes encode → encrypt → evaluate → decrypt.
 * This is the in-process path (`pann run --backend seal`, the demo, tests); the client/server split uses the
 * same pieces across HTTP.
 */
import type { Circuit } from '../circuit/index.js';
import { PreparedCircuit } from './executor.js';
import { type InferenceRecord, runInferences } from './inference.js';
import { SealBackend } from './seal-backend.js';

/** Options of {@link runSeal}. */
export interface SealRunOptions {
  onProgress?: (done: number, total: number) => void;
  /** Called with each setup stage as it finishes. */
  onSetup?: (stage: string, ms: number) => void;
  /** Rebuild the keys from this saved secret key instead of generating fresh ones. */
  secretKey?: Uint8Array;
}

/** A SEAL backend with keys for this circuit, fresh or from `secretKey` (the caller disposes it). */
export async function sealBackendFor(circuit: Circuit, secretKey?: Uint8Array): Promise<SealBackend> {
  return SealBackend.create(circuit.params, { rotationSteps: circuit.rotationSteps, ...(secretKey ? { secretKey } : {}) });
}

/** Encrypted inference on `count` inputs; returns per-input records and the one-off setup times. */
export async function runSeal(
  circuit: Circuit,
  inputs: Float64Array,
  count: number,
  options: SealRunOptions = {},
): Promise<{ records: InferenceRecord[]; setup: { name: string; ms: number }[] }> {
  const setup: { name: string; ms: number }[] = [];
  const mark = (name: string, t0: number) => {
    const ms = performance.now() - t0;
    setup.push({ name, ms });
    options.onSetup?.(name, ms);
  };
  let t = performance.now();
  const backend = await sealBackendFor(circuit, options.secretKey);
  mark('context + keys', t);
  let prepared: PreparedCircuit | null = null;
  try {
    t = performance.now();
    prepared = new PreparedCircuit(circuit, backend);
    prepared.encodeAll();
    mark(`encode ${circuit.plaintexts.length} plaintexts`, t);
    const records = runInferences(prepared, inputs, count, options.onProgress);
    return { records, setup };
  } finally {
    prepared?.dispose();
    backend.dispose();
  }
}
