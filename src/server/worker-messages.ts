/** Messages between EvaluationPool (main thread) and its worker threads (src/server/worker.ts). */

export interface WorkerData {
  /** Served models: id and the circuit file's text (each worker parses and verifies it itself). */
  models: { id: string; circuit: string }[];
}

export type WorkerTask =
  | { type: 'open'; id: number; session: string; model: string; relin: Uint8Array; galois: Uint8Array }
  | { type: 'infer'; id: number; session: string; ciphertexts: Uint8Array[] }
  | { type: 'close'; id: number; session: string }
  | { type: 'stats'; id: number };

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
  ciphertexts: Uint8Array[];
  loadMs: number;
  evalMs: number;
  saveMs: number;
}
