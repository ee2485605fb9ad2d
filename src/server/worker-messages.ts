/** Messages between EvaluationPool (main thread) and its worker threads (src/server/worker.ts). */

export interface WorkerData {
  /** Served models: id and the circuit file's text (each worker parses and verifies it itself). */
  models: { id: string; circuit: string }[];
}

/** The masks of one inference: the server's mask secret and the inference id (prfMasks re-derives r from them). */
export interface InferenceMasks {
  secret: Uint8Array;
  inference: Uint8Array;
}

export type WorkerTask =
  | { type: 'open'; id: number; session: string; model: string; relin: Uint8Array; galois: Uint8Array }
  /** The first segment: input ciphertexts in; the result, or the first round's masked ciphertexts, out. */
  | { type: 'infer'; id: number; session: string; ciphertexts: Uint8Array[]; masks: InferenceMasks | null }
  /** The segment after `round`: the key holder's fresh ciphertexts in; the next round's masked ciphertexts, or the result, out. */
  | { type: 'continue'; id: number; session: string; round: number; ciphertexts: Uint8Array[]; masks: InferenceMasks }
  | { type: 'close'; id: number; session: string }
  | { type: 'stats'; id: number };

/** A task that runs one segment of an inference, as the server hands it to the pool (the pool adds the id). */
export type SegmentTask = Omit<Extract<WorkerTask, { type: 'infer' }>, 'id'> | Omit<Extract<WorkerTask, { type: 'continue' }>, 'id'>;

export interface WorkerFailure {
  status: number;
  code: string;
  message: string;
}

export type WorkerReply =
  | { type: 'ready'; heapBytes: number }
  | { type: 'fatal'; message: string }
  | { type: 'done'; id: number; ok: true; result: unknown; ms: number; heapBytes: number }
  | { type: 'done'; id: number; ok: false; error: WorkerFailure; ms: number; heapBytes: number };

export interface OpenResult {
  keyBytes: number;
  rotationSteps: number;
}

export interface InferResult {
  /** The output ciphertexts (round null), or the masked ciphertexts of refresh round `round`. */
  round: number | null;
  ciphertexts: Uint8Array[];
  loadMs: number;
  evalMs: number;
  saveMs: number;
}
