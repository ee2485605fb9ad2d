/**
 * One encrypted inference on several worker threads at once (src/runtime/split.ts plans which ops each runs):
 * each thread is a node-seal instance with the client's keys rebuilt from the secret key, Galois keys only for the
 * rotation steps of its own ops; ciphertexts pass between threads as SEAL's bytes over MessagePorts, and a thread
 * that needs one waits on a shared counter (Atomics.wait), so the executor's loop stays synchronous.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { Circuit } from '../circuit/index.js';
import { decodeOutput, encodeInput, PreparedCircuit, type StageDone } from './executor.js';
import { RuntimeError } from './errors.js';
import { argmaxOf, timedEvaluation, type InferenceRecord } from './inference.js';
import { localRefreshClient } from './refresh.js';
import { SealBackend } from './seal-backend.js';
import type { SplitLink, SplitPart } from './split.js';

/** How long a thread waits for a ciphertext before it checks whether another thread failed (ms). */
const WAIT_SLICE_MS = 500;

/** The shared counters: one per thread (bumped when a ciphertext is posted to it), then the abort flag. */
export function splitSignals(workers: number): SharedArrayBuffer {
  return new SharedArrayBuffer(4 * (workers + 1));
}

/** Tell every thread of a split evaluation to stop waiting (another one failed). */
export function abortSplit(signals: SharedArrayBuffer, workers: number): void {
  const sig = new Int32Array(signals);
  Atomics.store(sig, workers, 1);
  for (let w = 0; w < workers; w++) {
    Atomics.add(sig, w, 1);
    Atomics.notify(sig, w);
  }
}

interface Transfer {
  key: string;
  bytes: Uint8Array;
}

/**
 * The link between this thread (`self`) and the others: `ports[w]` reaches thread w. Transfers are keyed by
 * evaluation number and transfer id, so a message that arrives early waits for its receive.
 */
class ThreadLink implements SplitLink {
  /** The evaluation in progress (transfer keys carry it). */
  evaluation = 0;
  /** Time spent waiting for ciphertexts from other threads (ms), and bytes sent to them. */
  waitedMs = 0;
  sentBytes = 0;
  readonly #be: SealBackend;
  readonly #ports: (MessagePort | null)[];
  readonly #sig: Int32Array;
  readonly #self: number;
  readonly #workers: number;
  readonly #early = new Map<string, Uint8Array>();

  constructor(be: SealBackend, ports: (MessagePort | null)[], signals: SharedArrayBuffer, self: number) {
    this.#be = be;
    this.#ports = ports;
    this.#sig = new Int32Array(signals);
    this.#self = self;
    this.#workers = ports.length;
  }

  #port(w: number): MessagePort {
    const p = this.#ports[w];
    if (!p) throw new RuntimeError(`split evaluation: thread ${this.#self} has no link to thread ${w}`);
    return p;
  }

  send(id: number, to: number, ct: Parameters<SealBackend['saveCiphertext']>[0]): void {
    const bytes = this.#be.saveCiphertext(ct);
    const m: Transfer = { key: `${this.evaluation}:${id}`, bytes };
    this.sentBytes += bytes.byteLength;
    this.#port(to).postMessage(m, [bytes.buffer as ArrayBuffer]);
    Atomics.add(this.#sig, to, 1);
    Atomics.notify(this.#sig, to);
  }

  recv(id: number, from: number): ReturnType<SealBackend['loadCiphertext']> {
    const key = `${this.evaluation}:${id}`;
    const port = this.#port(from);
    for (;;) {
      const seen = Atomics.load(this.#sig, this.#self);
      for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
        const t = m.message as Transfer;
        this.#early.set(t.key, t.bytes);
      }
      const bytes = this.#early.get(key);
      if (bytes) {
        this.#early.delete(key);
        return this.#be.loadCiphertext(bytes);
      }
      if (Atomics.load(this.#sig, this.#workers) !== 0)
        throw new RuntimeError(`split evaluation: thread ${this.#self} stopped, another thread failed`);
      const t = performance.now();
      Atomics.wait(this.#sig, this.#self, seen, WAIT_SLICE_MS);
      this.waitedMs += performance.now() - t;
    }
  }
}

/** The plaintexts one part's ops use (the ones its thread encodes). */
export function partPlaintexts(circuit: Circuit, part: SplitPart): Set<number> {
  const ids = new Set<number>();
  for (const s of part.steps) {
    if (s.kind !== 'op') continue;
    const op = circuit.ops[s.i]!;
    if (op.op === 'mulPlain' || op.op === 'addPlain') ids.add(op.pt);
  }
  return ids;
}

/** The rotation steps one part's ops use (the Galois keys its thread needs). */
export function partRotationSteps(circuit: Circuit, part: SplitPart): number[] {
  const steps = new Set<number>();
  for (const s of part.steps) {
    if (s.kind !== 'op') continue;
    const op = circuit.ops[s.i]!;
    if (op.op === 'rotate') steps.add(op.steps);
  }
  return [...steps].sort((a, b) => a - b);
}

export interface SealPartOptions {
  secretKey: Uint8Array;
  ports: (MessagePort | null)[];
  signals: SharedArrayBuffer;
  onSetup?: (stage: string, ms?: number) => void;
  onStage?: (stage: StageDone) => void;
  onProgress?: (done: number, total: number) => void;
}

/**
 * This thread's part of `count` split inferences, one after another: thread 0 encrypts each input, runs its part
 * (with the refresh rounds) and decrypts; the others run theirs. Returns thread 0's records (others: none).
 */
export async function runSealPart(
  circuit: Circuit,
  part: SplitPart,
  inputs: Float64Array,
  count: number,
  options: SealPartOptions,
): Promise<InferenceRecord[]> {
  const steps = partRotationSteps(circuit, part);
  const keysStage = `context + keys (N=${circuit.params.polyModulusDegree}, ${steps.length} Galois keys)`;
  options.onSetup?.(keysStage);
  let t = performance.now();
  const be = await SealBackend.create(circuit.params, { rotationSteps: steps, secretKey: options.secretKey });
  options.onSetup?.(keysStage, performance.now() - t);
  let prepared: PreparedCircuit | null = null;
  try {
    const plaintexts = partPlaintexts(circuit, part);
    const encodeStage = `encode ${plaintexts.size} plaintexts`;
    options.onSetup?.(encodeStage);
    t = performance.now();
    prepared = new PreparedCircuit(circuit, be);
    prepared.encodeAll(plaintexts);
    options.onSetup?.(encodeStage, performance.now() - t);
    prepared.onStageDone = options.onStage;
    prepared.refreshClient = localRefreshClient(be);
    const link = new ThreadLink(be, options.ports, options.signals, part.worker);
    const size = circuit.inputLayout.length;
    const records: InferenceRecord[] = [];
    for (let n = 0; n < count; n++) {
      link.evaluation = n;
      if (part.worker !== 0) {
        prepared.evaluatePart(part, link, []);
        continue;
      }
      const x = inputs.subarray(n * size, (n + 1) * size);
      const { logits, timings } = timedEvaluation(
        prepared,
        () => [encodeInput(circuit, x)],
        (d) => [decodeOutput(circuit, d[0]!)],
        (cts) => prepared!.evaluatePart(part, link, cts),
      );
      records.push({ logits: logits[0]!, prediction: argmaxOf(logits[0]!), timings });
      options.onProgress?.(n + 1, count);
    }
    // how well the split kept this thread busy: the time it waited for the others, and what it sent them
    options.onSetup?.(
      `waited for ciphertexts from other threads (${count} input(s), sent ${(link.sentBytes / 1e6).toFixed(0)} MB)`,
      link.waitedMs,
    );
    return records;
  } finally {
    prepared?.dispose();
    be.dispose();
  }
}
