/**
 * Local encrypted inference: context and keys (Galois keys for exactly the circuit's rotation steps) are made
 * for the circuit, its plaintexts encoded once, then each input goes encode → encrypt → evaluate → decrypt.
 * This is the in-process path (`pann run --backend seal`, the demo, tests); the client/server split uses the
 * same pieces across HTTP.
 */
import type { Circuit } from '../circuit/index.js';
import { PreparedCircuit, type StageDone } from './executor.js';
import { localRefreshClient } from './refresh.js';
import { type InferenceRecord, runInferences } from './inference.js';
import { SealBackend } from './seal-backend.js';

/** Options of {@link runSeal}. */
export interface SealRunOptions {
  onProgress?: (done: number, total: number) => void;
  /** Called as each setup stage starts (ms undefined) and as it finishes (ms set). */
  onSetup?: (stage: string, ms?: number) => void;
  /** Called as each circuit stage of an evaluation finishes (a throughput batch takes minutes). */
  onStage?: (stage: StageDone) => void;
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
  let t = 0;
  const start = (name: string) => {
    options.onSetup?.(name);
    t = performance.now();
    return name;
  };
  const mark = (name: string) => {
    const ms = performance.now() - t;
    setup.push({ name, ms });
    options.onSetup?.(name, ms);
  };
  const keys = start(`context + keys (N=${circuit.params.polyModulusDegree}, ${circuit.rotationSteps.length} Galois keys)`);
  const backend = await sealBackendFor(circuit, options.secretKey);
  mark(keys);
  let prepared: PreparedCircuit | null = null;
  try {
    const encode = start(`encode ${circuit.plaintexts.length} plaintexts`);
    prepared = new PreparedCircuit(circuit, backend);
    prepared.encodeAll();
    mark(encode);
    prepared.onStageDone = options.onStage;
    // pann run plays both roles: the key holder's refresh rounds run in this process with this backend's keys
    prepared.refreshClient = localRefreshClient(backend);
    const records = runInferences(prepared, inputs, count, options.onProgress);
    return { records, setup };
  } finally {
    prepared?.dispose();
    backend.dispose();
  }
}
