/**
 * Reading ONNX protobuf messages with onnx-proto's generated decoder (protobufjs): the model, node attributes and
 * tensors (initializers, Constant values) as plain numbers. Every failure is an OnnxError naming what was read.
 */
import onnxProto from 'onnx-proto';
import { OnnxError, errorMessage } from '../../errors.js';

export const onnx = onnxProto.onnx;
export type ModelProto = onnxProto.onnx.IModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;

/** protobufjs gives 64-bit integers as Long objects (or numbers when Long is unavailable). */
export type Int64 = number | { toNumber(): number };

export function int64(v: Int64 | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/**
 * Decode a ModelProto. Truncated files, random bytes and other protobuf messages give an OnnxError (protobufjs
 * throws on a bad wire type or a length past the end; a decodable message without a graph is not a model either).
 */
export function decodeModel(bytes: Uint8Array): ModelProto {
  if (bytes.length === 0) throw new OnnxError(`empty file: not an ONNX model`);
  const first = bytes.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
  if (first === 0x7b || first === 0x5b) {
    throw new OnnxError(`not an ONNX model: the file looks like JSON (a pann model file is loaded as one, not imported)`);
  }
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new OnnxError(`not a readable ONNX model: protobuf decoding failed (${errorMessage(err)}); the file is truncated or not ONNX`, {
      cause: err,
    });
  }
  if (!model.graph) throw new OnnxError(`not an ONNX model: the file holds no graph (truncated, or not an ONNX model)`);
  if (int64(model.irVersion) < 1) throw new OnnxError(`not an ONNX model: ir_version is missing`);
  return model;
}

/** `node #3 "/fc1/Gemm" (Gemm)`: how errors and reports name a node. */
export function nodeLabel(node: NodeProto, index: number): string {
  return `node #${index}${node.name ? ` ${JSON.stringify(node.name)}` : ''} (${node.opType ?? '?'})`;
}

// ---------------------------------------------------------------------------------------------------------------
// Attributes

const A = onnx.AttributeProto.AttributeType;

function findAttr(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

function attrType(where: string, a: AttributeProto, want: number, wantName: string): void {
  // Old exporters leave `type` unset; then the field that is set decides.
  if (a.type !== undefined && a.type !== null && a.type !== A.UNDEFINED && a.type !== want) {
    throw new OnnxError(`${where}: attribute ${a.name} should be ${wantName}, got type ${A[a.type] ?? a.type}`);
  }
}

export function hasAttr(node: NodeProto, name: string): boolean {
  return findAttr(node, name) !== undefined;
}

export function attrInt(where: string, node: NodeProto, name: string, fallback: number): number {
  const a = findAttr(node, name);
  if (!a) return fallback;
  attrType(where, a, A.INT, 'an int');
  return int64(a.i);
}

export function attrInts(where: string, node: NodeProto, name: string): number[] | undefined {
  const a = findAttr(node, name);
  if (!a) return undefined;
  attrType(where, a, A.INTS, 'a list of ints');
  return (a.ints ?? []).map(int64);
}

export function attrFloat(where: string, node: NodeProto, name: string, fallback: number): number {
  const a = findAttr(node, name);
  if (!a) return fallback;
  attrType(where, a, A.FLOAT, 'a float');
  return shortestFloat32(a.f ?? 0);
}

export function attrString(where: string, node: NodeProto, name: string, fallback: string): string {
  const a = findAttr(node, name);
  if (!a) return fallback;
  attrType(where, a, A.STRING, 'a string');
  return new TextDecoder().decode(a.s ?? new Uint8Array());
}

export function attrTensor(node: NodeProto, name: string): TensorProto | undefined {
  const a = findAttr(node, name);
  return a?.t ?? undefined;
}

/**
 * The shortest decimal that is the same float32 (1e-5 for the float32 nearest 1e-5): ONNX stores float attributes
 * as float32, and the user wrote the decimal.
 */
export function shortestFloat32(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.fround(x);
  for (let p = 1; p <= 9; p++) {
    const d = Number(f.toPrecision(p));
    if (Math.fround(d) === f) return d;
  }
  return f;
}

// ---------------------------------------------------------------------------------------------------------------
// Tensors

const T = onnx.TensorProto.DataType;

export type OnnxTensorKind = 'float32' | 'float64' | 'int';

/** A decoded tensor: its dims and its values as float64 (integers exact up to 2^53). */
export interface OnnxTensor {
  name: string;
  dims: number[];
  kind: OnnxTensorKind;
  values: Float64Array;
}

/** Number of elements of a tensor with these dims (1 for a scalar). */
export function dimsSize(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1);
}

const INT_WIDTH: Partial<Record<number, number>> = {
  [T.INT8]: 1,
  [T.UINT8]: 1,
  [T.BOOL]: 1,
  [T.INT16]: 2,
  [T.UINT16]: 2,
  [T.INT32]: 4,
  [T.UINT32]: 4,
  [T.INT64]: 8,
  [T.UINT64]: 8,
};

function readRawInt(view: DataView, type: number, i: number): number {
  switch (type) {
    case T.INT8:
      return view.getInt8(i);
    case T.UINT8:
    case T.BOOL:
      return view.getUint8(i);
    case T.INT16:
      return view.getInt16(i * 2, true);
    case T.UINT16:
      return view.getUint16(i * 2, true);
    case T.INT32:
      return view.getInt32(i * 4, true);
    case T.UINT32:
      return view.getUint32(i * 4, true);
    case T.INT64:
      return Number(view.getBigInt64(i * 8, true));
    default:
      return Number(view.getBigUint64(i * 8, true));
  }
}

/**
 * Decode a TensorProto (raw_data little-endian, or the typed float_data / double_data / int32_data / int64_data
 * fields). `where` names it in errors (`initializer "fc1.weight"`). float16, strings, external data and segments are
 * refused with a message saying so.
 */
export function decodeTensor(t: TensorProto, where: string): OnnxTensor {
  const dims = (t.dims ?? []).map(int64);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw new OnnxError(`${where}: bad dims [${dims.join(', ')}]`);
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new OnnxError(`${where}: its data is stored in an external file; export without external data (models < 2 GB)`);
  }
  if (t.segment) throw new OnnxError(`${where}: segmented tensors are not supported`);
  const n = dimsSize(dims);
  const type = t.dataType ?? T.UNDEFINED;
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const count = (have: number, unit: string): void => {
    if (have !== n) {
      throw new OnnxError(`${where}: dims [${dims.join(', ')}] need ${n} values, the tensor holds ${have} ${unit}`);
    }
  };
  if (type === T.FLOAT || type === T.DOUBLE) {
    const width = type === T.FLOAT ? 4 : 8;
    let out: Float64Array;
    if (view) {
      count(view.byteLength / width, `${width}-byte values (raw_data is ${view.byteLength} bytes)`);
      out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = width === 4 ? view.getFloat32(i * 4, true) : view.getFloat64(i * 8, true);
    } else {
      const list = (type === T.FLOAT ? t.floatData : t.doubleData) ?? [];
      count(list.length, type === T.FLOAT ? 'float_data values' : 'double_data values');
      out = Float64Array.from(list);
    }
    return { name: t.name ?? '', dims, kind: type === T.FLOAT ? 'float32' : 'float64', values: out };
  }
  const width = INT_WIDTH[type];
  if (width !== undefined) {
    let out: Float64Array;
    if (view) {
      count(view.byteLength / width, `${width}-byte values (raw_data is ${view.byteLength} bytes)`);
      out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = readRawInt(view, type, i);
    } else {
      const list: Int64[] = (type === T.INT64 ? t.int64Data : type === T.UINT64 ? t.uint64Data : t.int32Data) ?? [];
      count(list.length, 'values');
      out = Float64Array.from(list, int64);
    }
    return { name: t.name ?? '', dims, kind: 'int', values: out };
  }
  const typeName = T[type] ?? String(type);
  const hint = type === T.FLOAT16 || type === T.BFLOAT16 ? '; export in float32 (module.float())' : '';
  throw new OnnxError(`${where}: data type ${typeName} is not supported (float32, float64 or integers)${hint}`);
}
