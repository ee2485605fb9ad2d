/**
 * An evaluation worker thread: its own SEAL instance, a CKKS context per served model, and the sessions pinned
 * to it (evaluation keys + a prepared circuit each). It runs one task at a time, sent by EvaluationPool: an
 * inference's first segment, or the segment after one of its refresh rounds. Nothing of an inference stays here
 * between rounds: a task brings the ciphertexts and what re-derives the masks.
 * Every input is validated by src/ckks before WASM sees it; a rejected input is answered as a 4xx and leaves
 * the thread and every other session as they were. If SEAL itself becomes unusable (a trap, or its heap ran out), the worker answers
 * and exits, and the pool replaces it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  CkksContext,
  loadEvaluationKeys,
  wasmHeapBytes,
  wasmStatus,
  type CiphertextExpectation,
  type EvaluationKeys,
} from '../ckks/index.js';
import type { Circuit } from '../circuit/index.js';
import { parseCircuit } from '../circuit/index.js';
import { PannError, ServerError, errorMessage } from '../errors.js';
import type { CipherHandle } from '../runtime/backend.js';
import { PreparedCircuit, type EvaluationStep } from '../runtime/executor.js';
import { prfMasks, type RoundMasks } from '../runtime/refresh.js';
import { SealBackend } from '../runtime/seal-backend.js';
import type { InferenceMasks, InferResult, WorkerData, WorkerReply, WorkerTask } from './worker-messages.js';

interface Served {
  circuit: Circuit;
  context: CkksContext;
}

interface Session {
  model: string;
  keys: EvaluationKeys;
  backend: SealBackend;
  prepared: PreparedCircuit;
}

const port = parentPort;
if (!port) throw new Error('src/server/worker.ts runs as a worker thread');

const models = new Map<string, Served>();
const sessions = new Map<string, Session>();

function served(id: string): Served {
  const m = models.get(id);
  if (!m) throw new ServerError(404, 'unknown_model', `model ${JSON.stringify(id)} is not served by this worker`);
  return m;
}

function session(id: string): Session {
  const s = sessions.get(id);
  if (!s) throw new ServerError(404, 'unknown_session', `session ${id} does not exist on this worker`);
  return s;
}

/** Rejections from src/ckks and the runtime's validation become 4xx with `code`; anything else is a 500. */
function rejected(err: unknown, status: number, code: string, what: string): ServerError {
  if (err instanceof ServerError) return err;
  if (err instanceof PannError) return new ServerError(status, code, `${what}: ${err.message}`, { cause: err });
  return new ServerError(500, 'internal', `${what}: ${errorMessage(err)}`, { cause: err });
}

function open(task: Extract<WorkerTask, { type: 'open' }>): { keyBytes: number; rotationSteps: number } {
  if (sessions.has(task.session)) throw new ServerError(409, 'session_exists', `session ${task.session} already exists`);
  const { circuit, context } = served(task.model);
  let keys: EvaluationKeys;
  try {
    keys = loadEvaluationKeys(
      context,
      { relin: task.relin, galois: task.galois.length > 0 ? task.galois : null },
      { rotationSteps: circuit.rotationSteps },
    );
  } catch (err) {
    throw rejected(err, 400, 'bad_keys', `keys for model ${task.model}`);
  }
  let backend: SealBackend | null = null;
  let prepared: PreparedCircuit | null = null;
  try {
    backend = new SealBackend(context, { evaluationKeys: keys });
    prepared = new PreparedCircuit(circuit, backend);
    prepared.encodeAll();
  } catch (err) {
    prepared?.dispose();
    backend?.dispose();
    keys.dispose();
    throw rejected(err, 500, 'internal', 'preparing the session');
  }
  sessions.set(task.session, { model: task.model, keys, backend, prepared });
  return { keyBytes: keys.byteSize, rotationSteps: keys.rotationSteps.length };
}

/** Load ciphertexts (each validated by src/ckks before SEAL reads it: 400 bad_ciphertext naming the first bad one). */
function loadAll(s: Session, bytes: readonly Uint8Array[], expect: CiphertextExpectation, what: string): CipherHandle[] {
  const out: CipherHandle[] = [];
  try {
    bytes.forEach((b, k) => {
      try {
        out.push(s.backend.loadCiphertext(b, expect));
      } catch (err) {
        throw rejected(err, 400, 'bad_ciphertext', `${what} ${k}`);
      }
    });
    return out;
  } catch (err) {
    for (const h of out) s.backend.free(h);
    throw err;
  }
}

/** Run a segment on loaded ciphertexts (freed after), then save what it gave: the result or a round's masked ciphertexts. */
function runSegment(s: Session, loaded: CipherHandle[], loadMs: number, segment: () => EvaluationStep): InferResult {
  const t1 = performance.now();
  let step: EvaluationStep;
  try {
    step = segment();
  } catch (err) {
    throw rejected(err, 500, 'internal', 'evaluation');
  } finally {
    for (const h of loaded) s.backend.free(h);
  }
  const t2 = performance.now();
  const out = step.kind === 'round' ? step.masked : step.outputs;
  try {
    const ciphertexts = out.map((h) => {
      const saved = s.backend.saveCiphertext(h);
      // transferred to the main thread: must own its whole buffer (never a view of WASM memory)
      return saved.byteOffset === 0 && saved.buffer.byteLength === saved.byteLength ? saved : saved.slice();
    });
    const round = step.kind === 'round' ? step.round.index : null;
    return { round, ciphertexts, loadMs, evalMs: t2 - t1, saveMs: performance.now() - t2 };
  } finally {
    for (const h of out) s.backend.free(h);
  }
}

/** The masks of an inference, re-derived from the server's secret and the inference id (nothing kept between rounds). */
function masksOf(masks: InferenceMasks | null): RoundMasks {
  if (masks) return prfMasks(masks.secret, masks.inference);
  return () => {
    throw new ServerError(500, 'internal', 'a refresh round was reached without masks for the inference');
  };
}

function infer(task: Extract<WorkerTask, { type: 'infer' }>): InferResult {
  const s = session(task.session);
  const { circuit, context } = served(s.model);
  if (task.ciphertexts.length !== 1) {
    throw new ServerError(
      400,
      'bad_ciphertext_count',
      `model ${s.model} takes 1 input ciphertext, the body holds ${task.ciphertexts.length}`,
    );
  }
  const t0 = performance.now();
  const inputs = loadAll(s, task.ciphertexts, { level: context.maxLevel, scale: circuit.inputScale, size: 2 }, 'input ciphertext');
  return runSegment(s, inputs, performance.now() - t0, () => s.prepared.start(inputs, masksOf(task.masks)));
}

function resume(task: Extract<WorkerTask, { type: 'continue' }>): InferResult {
  const s = session(task.session);
  const round = s.prepared.rounds[task.round];
  if (!round) throw new ServerError(400, 'bad_token', `model ${s.model} has no refresh round ${task.round}`);
  if (task.ciphertexts.length !== round.sources.length) {
    throw new ServerError(
      400,
      'bad_ciphertext_count',
      `refresh round ${round.index} of model ${s.model} takes ${round.sources.length} fresh ciphertext(s), the body holds ${task.ciphertexts.length}`,
    );
  }
  const t0 = performance.now();
  const expect = { level: round.fresh.level, scale: round.fresh.scale, size: 2 };
  const fresh = loadAll(s, task.ciphertexts, expect, `refresh round ${round.index}: fresh ciphertext`);
  return runSegment(s, fresh, performance.now() - t0, () => s.prepared.resume(round.index, fresh, masksOf(task.masks)));
}

function close(id: string): { closed: boolean } {
  const s = sessions.get(id);
  if (!s) return { closed: false };
  sessions.delete(id);
  s.prepared.dispose();
  s.backend.dispose();
  s.keys.dispose();
  return { closed: true };
}

function run(task: WorkerTask): { result: unknown; transfer: ArrayBuffer[] } {
  switch (task.type) {
    case 'open':
      return { result: open(task), transfer: [] };
    case 'infer':
    case 'continue': {
      const r = task.type === 'infer' ? infer(task) : resume(task);
      return { result: r, transfer: r.ciphertexts.map((c) => c.buffer as ArrayBuffer) };
    }
    case 'close':
      return { result: close(task.session), transfer: [] };
    case 'stats':
      return { result: { sessions: sessions.size }, transfer: [] };
  }
}

async function init(): Promise<void> {
  const data = workerData as WorkerData;
  for (const m of data.models) {
    const circuit = parseCircuit(m.circuit, m.id);
    const context = await CkksContext.create({
      polyModulusDegree: circuit.params.polyModulusDegree,
      coeffModulusBits: circuit.params.coeffModulusBits,
    });
    const mismatch = circuit.params.primeValues.findIndex((q, i) => context.params.primeValues[i] !== q);
    if (mismatch >= 0)
      throw new Error(
        `model ${m.id}: SEAL's prime ${mismatch} is ${context.params.primeValues[mismatch]}, the circuit was compiled for ${circuit.params.primeValues[mismatch]}`,
      );
    models.set(m.id, { circuit, context });
  }
}

init().then(
  () => {
    port.on('message', (task: WorkerTask) => {
      const t0 = performance.now();
      let reply: WorkerReply;
      let transfer: ArrayBuffer[] = [];
      try {
        const r = run(task);
        transfer = r.transfer;
        reply = { type: 'done', id: task.id, ok: true, result: r.result, ms: performance.now() - t0, heapBytes: wasmHeapBytes() };
      } catch (err) {
        const e = err instanceof ServerError ? err : rejected(err, 500, 'internal', task.type);
        reply = {
          type: 'done',
          id: task.id,
          ok: false,
          error: { status: e.status, code: e.apiCode, message: e.message },
          ms: performance.now() - t0,
          heapBytes: wasmHeapBytes(),
        };
      }
      port.postMessage(reply, transfer);
      const broken = wasmStatus().broken;
      if (broken) {
        port.postMessage({ type: 'fatal', message: `SEAL instance unusable: ${broken}` } satisfies WorkerReply);
        process.exit(1);
      }
    });
    port.postMessage({ type: 'ready', heapBytes: wasmHeapBytes() } satisfies WorkerReply);
  },
  (err: unknown) => {
    port.postMessage({ type: 'fatal', message: errorMessage(err) } satisfies WorkerReply);
    process.exit(1);
  },
);
