/**
 * Typed errors. Every error pann throws is a PannError whose `code` names the layer it came from,
 * so callers (the CLI, the server) can map them to messages and exit codes without string matching.
 */
export type PannErrorCode =
  | 'activation'
  | 'fit'
  | 'model'
  | 'data'
  | 'train'
  | 'onnx'
  | 'compile'
  | 'circuit'
  | 'ckks'
  | 'runtime'
  | 'study'
  | 'server'
  | 'input'
  | 'output';

/** The base class of every error pann throws; `code` names the kind (fit, model, compile, ckks, …). */
export class PannError extends Error {
  readonly code: PannErrorCode;
  constructor(code: PannErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PannError';
    this.code = code;
  }
}

/** Bad activation name or parameter. */
export class ActivationError extends PannError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('activation', message, options);
    this.name = 'ActivationError';
  }
}

/** A polynomial fit that cannot be done or did not reach its target. */
export class FitError extends PannError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('fit', message, options);
    this.name = 'FitError';
  }
}

/** A malformed, inconsistent or unreadable model (file or in-memory). */
export class ModelError extends PannError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('model', message, options);
    this.name = 'ModelError';
  }
}

/** A dataset that cannot be read or does not fit the model (IDX, CSV, MNIST split). */
export class DataError extends PannError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('data', message, options);
    this.name = 'DataError';
  }
}

/** Training options that cannot work, or training that diverged. */
export class TrainError extends PannError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('train', message, options);
    this.name = 'TrainError';
  }
}

/** An ONNX file that cannot be read or holds something pann cannot import (op, attribute, shape, graph form). */
export class OnnxError extends PannError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('onnx', message, options);
    this.name = 'OnnxError';
  }
}

/** Bad user input that belongs to no single layer (a recipe file, a CLI input file). */
export class InputError extends PannError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('input', message, options);
    this.name = 'InputError';
  }
}

/** An output path that cannot be written (missing or unwritable folder, wrong extension, a folder in its place). */
export class OutputError extends PannError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('output', message, options);
    this.name = 'OutputError';
  }
}

/** Wraps a value that may not be an Error (WASM throws numbers and strings) into a message. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}

/** A network that cannot be compiled, with what it needs and what to change. */
export class CompileError extends PannError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('compile', message, options);
    this.name = 'CompileError';
  }
}

/** A circuit file that is malformed, from another version, or inconsistent. */
export class CircuitError extends PannError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('circuit', message, options);
    this.name = 'CircuitError';
  }
}

/** An op whose preconditions do not hold, a freed handle, a missing key: thrown before any WASM call. */
export class RuntimeError extends PannError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('runtime', message, options);
    this.name = 'RuntimeError';
  }
}

/** CKKS parameters, keys or serialized objects that SEAL would reject or abort on. */
export class CkksError extends PannError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ckks', message, options);
    this.name = 'CkksError';
  }
}

/** A study grid, tuning request or study run that cannot work (bad grid, impossible budget, failed cells). */
export class StudyError extends PannError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('study', message, options);
    this.name = 'StudyError';
  }
}

/** A request the server refuses (or a server answer the client cannot use): an HTTP status and an API error code. */
export class ServerError extends PannError {
  /** HTTP status to answer with (4xx for the caller's mistakes, 5xx for the server's state). */
  readonly status: number;
  /** Machine-readable API error code, e.g. 'bad_ciphertext' (docs/server.md lists them). */
  readonly apiCode: string;
  constructor(status: number, apiCode: string, message: string, options?: { cause?: unknown }) {
    super('server', message, options);
    this.name = 'ServerError';
    this.status = status;
    this.apiCode = apiCode;
  }
}
