/**
 * IDX files, the original MNIST distribution format (LeCun et al., http://yann.lecun.com/exdb/mnist/):
 * magic 0x00 0x00 <type> <rank>, then `rank` big-endian uint32 sizes, then the values big-endian.
 * gzip-compressed files (.gz, detected by their magic bytes) are inflated with zlib.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError, errorMessage } from '../errors.js';
import { makeDataset, type Dataset } from './dataset.js';

/** IDX type byte → [name, bytes per value]. */
const IDX_TYPES: Record<number, [string, number]> = {
  0x08: ['uint8', 1],
  0x09: ['int8', 1],
  0x0b: ['int16', 2],
  0x0c: ['int32', 4],
  0x0d: ['float32', 4],
  0x0e: ['float64', 8],
};

export interface IdxArray {
  /** e.g. 'uint8'. */
  type: string;
  dims: number[];
  values: Float64Array;
}

/** Parse IDX bytes (gzip or raw). `source` names the file in errors. */
export function parseIdx(bytes: Uint8Array, source = 'idx'): IdxArray {
  let buf = bytes;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (err) {
      throw new DataError(`${source}: corrupt gzip data (${errorMessage(err)})`, { cause: err });
    }
  }
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0) {
    throw new DataError(`${source}: not an IDX file (the first two bytes must be 0)`);
  }
  const type = IDX_TYPES[buf[2]!];
  if (!type) throw new DataError(`${source}: unknown IDX value type 0x${buf[2]!.toString(16)}`);
  const rank = buf[3]!;
  if (rank < 1) throw new DataError(`${source}: IDX rank must be at least 1`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const header = 4 + 4 * rank;
  if (buf.length < header) throw new DataError(`${source}: truncated IDX header`);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const [name, width] = type;
  if (buf.length - header !== count * width) {
    throw new DataError(
      `${source}: dims [${dims.join(', ')}] of ${name} need ${count * width} data bytes, file has ${buf.length - header}`,
    );
  }
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const o = header + i * width;
    switch (name) {
      case 'uint8':
        values[i] = buf[o]!;
        break;
      case 'int8':
        values[i] = view.getInt8(o);
        break;
      case 'int16':
        values[i] = view.getInt16(o, false);
        break;
      case 'int32':
        values[i] = view.getInt32(o, false);
        break;
      case 'float32':
        values[i] = view.getFloat32(o, false);
        break;
      default:
        values[i] = view.getFloat64(o, false);
    }
  }
  return { type: name, dims, values };
}

function readBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new DataError(`cannot read ${path}: ${errorMessage(err)}`, { cause: err });
  }
}

export interface IdxDatasetOptions {
  /** Multiply every input value by this (MNIST's uint8 pixels 0..255 → 0..1). @default 1/255 for uint8, else 1 */
  scale?: number;
  /** Number of classes. @default largest label + 1 */
  classes?: number;
}

/**
 * A dataset from an IDX image file ([count, H, W] → inputs of shape [1, H, W]; [count, C, H, W] → [C, H, W];
 * [count, F] → [F]) and an IDX label file ([count] integers).
 */
export function loadIdxDataset(imagesPath: string, labelsPath: string, options: IdxDatasetOptions = {}): Dataset {
  const images = parseIdx(readBytes(imagesPath), imagesPath);
  const labels = parseIdx(readBytes(labelsPath), labelsPath);
  if (labels.dims.length !== 1) throw new DataError(`${labelsPath}: labels must be 1-D, got dims [${labels.dims.join(', ')}]`);
  if (images.dims.length < 2 || images.dims.length > 4) {
    throw new DataError(
      `${imagesPath}: expected dims [count, features], [count, H, W] or [count, C, H, W], got [${images.dims.join(', ')}]`,
    );
  }
  const count = images.dims[0]!;
  if (labels.dims[0] !== count) {
    throw new DataError(`${imagesPath} has ${count} samples but ${labelsPath} has ${labels.dims[0]} labels`);
  }
  const rest = images.dims.slice(1);
  const inputShape = rest.length === 2 ? [1, rest[0]!, rest[1]!] : rest;
  const scale = options.scale ?? (images.type === 'uint8' ? 1 / 255 : 1);
  if (scale !== 1) for (let i = 0; i < images.values.length; i++) images.values[i]! *= scale;
  const lab = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const v = labels.values[i]!;
    if (!Number.isInteger(v) || v < 0) throw new DataError(`${labelsPath}: label ${i} is ${v}, not a non-negative integer`);
    lab[i] = v;
  }
  return makeDataset(imagesPath, images.values, lab, inputShape, options.classes);
}
