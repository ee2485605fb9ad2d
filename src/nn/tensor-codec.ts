/**
 * Tensors in pann files: `{ dtype: "float32" | "float64", shape: [...], data: "<base64 of little-endian values>" }`.
 * float64 round-trips bit-exactly; float32 halves the size (inference still runs in float64 from the stored values).
 */
import { ModelError } from '../errors.js';

export type TensorDtype = 'float32' | 'float64';

export interface EncodedTensor {
  dtype: TensorDtype;
  shape: number[];
  data: string;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Encode values as a base64 tensor. Throws when a value is not finite or does not fit float32. */
export function encodeTensor(values: Float64Array, shape: readonly number[], dtype: TensorDtype, where: string): EncodedTensor {
  const width = dtype === 'float32' ? 4 : 8;
  const bytes = new Uint8Array(values.length * width);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new ModelError(`${where}[${i}]: ${v} is not a finite number`);
    if (dtype === 'float32') {
      view.setFloat32(i * 4, v, true);
      if (!Number.isFinite(view.getFloat32(i * 4, true))) {
        throw new ModelError(`${where}[${i}]: ${v} overflows float32; save with dtype float64`);
      }
    } else {
      view.setFloat64(i * 8, v, true);
    }
  }
  return { dtype, shape: [...shape], data: Buffer.from(bytes).toString('base64') };
}

/**
 * Decode a tensor object read from JSON, checking its dtype, that its shape equals `expectedShape`, that the data
 * holds exactly that many values, and that every value is finite. Errors name `where` (e.g. `layers[2].weight`).
 */
export function decodeTensor(json: unknown, expectedShape: readonly number[], where: string): Float64Array {
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    throw new ModelError(`${where}: expected a tensor {dtype, shape, data}`);
  }
  const { dtype, shape, data } = json as Record<string, unknown>;
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new ModelError(`${where}.dtype: expected "float32" or "float64", got ${JSON.stringify(dtype)}`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
    throw new ModelError(`${where}.shape: expected an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (shape.length !== expectedShape.length || shape.some((d, i) => d !== expectedShape[i])) {
    throw new ModelError(`${where}.shape: expected [${expectedShape.join(', ')}], got [${shape.join(', ')}]`);
  }
  if (typeof data !== 'string') throw new ModelError(`${where}.data: expected a base64 string`);
  if (data.length % 4 !== 0 || !BASE64.test(data)) {
    throw new ModelError(`${where}.data: not valid base64 (length ${data.length})`);
  }
  const width = dtype === 'float32' ? 4 : 8;
  const bytes = Buffer.from(data, 'base64');
  const expected = expectedShape.reduce((a, b) => a * b, 1);
  if (bytes.length % width !== 0 || bytes.length / width !== expected) {
    const got = bytes.length % width === 0 ? String(bytes.length / width) : `${bytes.length} bytes, not a whole number of`;
    throw new ModelError(
      `${where}: expected ${expected} ${dtype} values, got ${got}${bytes.length % width === 0 ? '' : ` ${dtype} values`}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(expected);
  for (let i = 0; i < expected; i++) {
    const v = width === 4 ? view.getFloat32(i * 4, true) : view.getFloat64(i * 8, true);
    if (!Number.isFinite(v)) throw new ModelError(`${where}[${i}]: ${v} is not a finite number`);
    out[i] = v;
  }
  return out;
}
