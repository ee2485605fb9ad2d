/**
 * A model's identity: the SHA-256 of its layers and input shape with every tensor at float64, independent of the
 * file it came from (float32 or float64 pann JSON, ONNX), of its name and of its metadata. A circuit records it,
 * so `pann run` compares a circuit with the very model it was compiled from, not one that shares its name.
 */
import { createHash } from 'node:crypto';
import type { Model } from './model.js';
import { serializeModel } from './model-file.js';

/** The model's weights-and-shape hash (64 hex digits); see the module comment. */
export function modelSha256(model: Model): string {
  return createHash('sha256')
    .update(serializeModel({ ...model, name: '', metadata: {} }, { dtype: 'float64' }))
    .digest('hex');
}

/** SHA-256 of a block of float64 values (little-endian bytes), e.g. the calibration inputs. */
export function valuesSha256(values: Float64Array): string {
  return createHash('sha256')
    .update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
    .digest('hex');
}
