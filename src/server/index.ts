/**
 * pann's encrypted inference service: the HTTP server (`PannServer`), the typed client (`PannClient`), the wire
 * formats they share, and the pieces a host application may want (limits, metrics, logs, PNG digits).
 */
export { PannServer, MODEL_ID_PATTERN, type PannServerOptions, type ServedModel } from './server.js';
export {
  PannClient,
  ClientSession,
  type ClientInference,
  type ClientRound,
  type ModelSummary,
  type OpenSessionOptions,
  type PannClientOptions,
  type SessionSetup,
} from './client.js';
export { DEFAULT_LIMITS, resolveLimits, type ServerLimits } from './limits.js';
export { formatLogLine, type RequestLogEntry, type RequestLogger } from './logging.js';
export { Metrics, percentile, summariseLatencies, type LatencySummary, type MetricsSnapshot } from './metrics.js';
export { describeModel, parseModelDescription, inputSlots, outputValues, type ModelDescription } from './model-description.js';
export {
  API_PREFIX,
  KEYS_MAGIC,
  KEYS_VERSION,
  encodeKeyUpload,
  parseKeyUpload,
  splitSealObjects,
  joinSealObjects,
  type ErrorBody,
  type KeyUpload,
} from './protocol.js';
export { sessionMemoryBytes } from './sessions.js';
export { digitFromPng } from './digit-image.js';
