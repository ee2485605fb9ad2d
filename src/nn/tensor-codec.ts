/**
 * Tensors in pann files: `{ dtype: "float32" | "float64", shape: [...], data: "<base64 of little-endian values>" }`.
 * float64 round-trips bit-exactly; float32 halves the size (inference still runs in float64 from the stored values).
 */
import { ModelError } from '../errors.js';
import { decodeBase64Values } from '../schema/index.js';

export type TensorDtype = 'float32' | 'float64';

export interface EncodedTensor {
  dtype: TensorDtype;
  shape: number[];
  data: string;
}

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
 * Decode a tensor read from a file (its fields' types already checked by the model file's schema), checking that
 * its shape equals `expectedShape`, that the data holds exactly that many values, and that every value is finite.
 * Errors name `where` (e.g. `layers[2].weight`).
 */
export function decodeTensor(tensor: EncodedTensor, expectedShape: readonly number[], where: string): Float64Array {
  const { dtype, shape, data } = tensor;
  if (shape.length !== expectedShape.length || shape.some((d, i) => d !== expectedShape[i])) {
    throw new ModelError(`${where}.shape: expected [${expectedShape.join(', ')}], got [${shape.join(', ')}]`);
  }
  const { byteLength, values } = decodeBase64Values(data, dtype);
  const expected = expectedShape.reduce((a, b) => a * b, 1);
  if (!values || values.length !== expected) {
    const got = values ? String(values.length) : `${byteLength} bytes, not a whole number of`;
    throw new ModelError(`${where}: expected ${expected} ${dtype} values, got ${got}${values ? '' : ` ${dtype} values`}`);
  }
  for (let i = 0; i < expected; i++) {
    if (!Number.isFinite(values[i]!)) throw new ModelError(`${where}[${i}]: ${values[i]} is not a finite number`);
  }
  return values;
}
