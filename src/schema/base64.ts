/**
 * Reading the base64 data a Base64 schema node accepted: little-endian int32, float32 or float64 values. The
 * values are copied out of the decoded bytes (aligned, not a view into Buffer's shared pool).
 */
export const ELEMENT_BYTES = { int32: 4, float32: 4, float64: 8 } as const;
export type ElementType = keyof typeof ELEMENT_BYTES;

interface ArrayOf {
  int32: Int32Array;
  float32: Float64Array;
  float64: Float64Array;
}

export interface DecodedValues<E extends ElementType> {
  /** Bytes the string decodes to. */
  byteLength: number;
  /** The values (float32 widened to float64), or undefined when byteLength is not a whole number of elements. */
  values: ArrayOf[E] | undefined;
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Decode base64 text (checked by a Base64 node) into values of `type`. */
export function decodeBase64Values<E extends ElementType>(text: string, type: E): DecodedValues<E> {
  const bytes = Buffer.from(text, 'base64');
  const width = ELEMENT_BYTES[type];
  if (bytes.length % width !== 0) return { byteLength: bytes.length, values: undefined };
  const count = bytes.length / width;
  let values: Int32Array | Float64Array;
  if (LITTLE_ENDIAN) {
    const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
    values =
      type === 'int32' ? new Int32Array(copy) : type === 'float64' ? new Float64Array(copy) : Float64Array.from(new Float32Array(copy));
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    values = type === 'int32' ? new Int32Array(count) : new Float64Array(count);
    for (let i = 0; i < count; i++) {
      values[i] =
        type === 'int32' ? view.getInt32(i * 4, true) : type === 'float32' ? view.getFloat32(i * 4, true) : view.getFloat64(i * 8, true);
    }
  }
  return { byteLength: bytes.length, values: values as ArrayOf[E] };
}
