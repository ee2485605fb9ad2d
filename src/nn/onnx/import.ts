/**
 * ONNX import: a PyTorch-exported MLP, CNN or residual network (one input, one output) becomes a pann Model. The
 * graph's data path is walked in node order from the input; constants, initializers and shape computations hang
 * off it, and an Add of two data tensors is a residual connection (pann's `add` layer, the other layers reading
 * from where their input came). Anything pann cannot represent exactly fails with an OnnxError naming the node.
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { OnnxError, PannError, errorMessage } from '../../errors.js';
import { checkModel, type Model } from '../model.js';
import type { TensorDtype } from '../tensor-codec.js';
import { OnnxGraph, SHAPE_OPS } from './graph.js';
import { OP_HANDLERS, UNSUPPORTED_HINTS, type ChainState, type NodeContext } from './ops.js';
import { decodeModel, int64, onnx, type GraphProto, type ModelProto } from './proto.js';

/** The ai.onnx opsets whose semantics for the imported ops pann follows. */
export const ONNX_MIN_OPSET = 7;
export const ONNX_MAX_OPSET = 22;

/** Options of {@link importOnnx} and {@link loadOnnx}. */
export interface ImportOnnxOptions {
  /** Model name. @default the graph's name, or 'onnx-model' (loadOnnx: the file name without .onnx) */
  name?: string;
  /**
   * Drop a Softmax / LogSoftmax that is the graph's last node: pann then outputs the logits (same argmax, not the
   * same numbers as the ONNX model). Without it such a model is refused. @default false
   */
  stripSoftmax?: boolean;
}

/** How one node of the graph's data path was imported. */
export interface OnnxNodeImport {
  /** `node #3 "/fc1/Gemm" (Gemm)`. */
  node: string;
  op: string;
  /** The layer it became, or null (folded into another layer, or skipped). */
  layer: number | null;
  /** What happened when it is not simply "became layers[i]". */
  note: string;
}

/** An imported ONNX graph: the pann model, and what became of every node (for `pann import`'s report). */
export interface OnnxImport {
  model: Model;
  /** The data-path nodes in chain order. */
  nodes: OnnxNodeImport[];
  /** float64 when any imported weight was stored as double in the ONNX file (save with it to keep them exact). */
  weightDtype: TensorDtype;
  opset: number;
  irVersion: number;
  /** `pytorch 1.13.0`. */
  producer: string;
}

function opsetOf(model: ModelProto): number {
  const imports = model.opsetImport ?? [];
  const entry = imports.find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!entry) {
    const domains = imports.map((o) => o.domain).join(', ') || 'none';
    throw new OnnxError(`no ai.onnx opset import (domains: ${domains})`);
  }
  const v = int64(entry.version);
  if (v < ONNX_MIN_OPSET || v > ONNX_MAX_OPSET) {
    throw new OnnxError(`opset ${v} is not supported; pann reads ai.onnx opsets ${ONNX_MIN_OPSET} to ${ONNX_MAX_OPSET}`);
  }
  return v;
}

/** Refuse ops pann cannot import before looking at the graph's shape: the op is the root cause. */
function checkOps(g: OnnxGraph, stripSoftmax: boolean): void {
  g.nodes.forEach((node, i) => {
    const op = node.opType ?? '';
    if (node.domain && node.domain !== 'ai.onnx') {
      throw new OnnxError(
        `${g.label(i)}: op ${JSON.stringify(op)} from domain ${JSON.stringify(node.domain)} is not supported (ai.onnx only)`,
      );
    }
    const softmax = op === 'Softmax' || op === 'LogSoftmax';
    if (op === 'Constant' || SHAPE_OPS.has(op) || (op in OP_HANDLERS && (!softmax || stripSoftmax))) return;
    const hint = UNSUPPORTED_HINTS[op];
    const supported = Object.keys(OP_HANDLERS)
      .filter((o) => o !== 'Softmax' && o !== 'LogSoftmax')
      .join(', ');
    throw new OnnxError(`${g.label(i)}: unsupported op ${op}${hint ? ` (${hint})` : ''}; pann imports ${supported}`);
  });
}

interface GraphInput {
  name: string;
  /** Per-sample shape (batch dimension dropped). */
  shape: number[];
  /** Static batch size, or null when the batch dimension is symbolic. */
  batch: number | null;
}

function graphInput(graph: GraphProto, g: OnnxGraph): GraphInput {
  // Before IR 4 initializers are listed among the inputs too.
  const inputs = (graph.input ?? []).filter((v) => !g.initializers.has(v.name ?? ''));
  if (inputs.length !== 1) {
    const names = inputs.map((v) => JSON.stringify(v.name)).join(', ');
    throw new OnnxError(`the graph has ${inputs.length} inputs${names ? ` (${names})` : ''}; pann imports networks with one input`);
  }
  const input = inputs[0]!;
  const name = input.name ?? '';
  const where = `input ${JSON.stringify(name)}`;
  const tensor = input.type?.tensorType;
  if (!tensor) throw new OnnxError(`${where}: not a tensor`);
  const T = onnx.TensorProto.DataType;
  if (tensor.elemType !== T.FLOAT && tensor.elemType !== T.DOUBLE) {
    throw new OnnxError(`${where}: element type ${T[tensor.elemType ?? 0] ?? tensor.elemType} is not supported (float or double)`);
  }
  const dims = tensor.shape?.dim;
  if (!dims) throw new OnnxError(`${where}: the shape is not given; export with a fixed input size`);
  const values = dims.map((d) => (d.dimValue != null ? int64(d.dimValue) : d.dimParam != null ? d.dimParam : null));
  const shown = `[${values.map((v) => (v === null ? '?' : v)).join(', ')}]`;
  if (values.length !== 2 && values.length !== 4) {
    throw new OnnxError(
      `${where}: shape ${shown} has rank ${values.length}; pann takes [batch, features] or [batch, channels, height, width]`,
    );
  }
  const shape = values.slice(1).map((v, i) => {
    if (typeof v !== 'number' || v < 1) {
      const what = typeof v === 'string' ? `dynamic (${JSON.stringify(v)})` : v === null ? 'unknown' : `${v}`;
      throw new OnnxError(
        `${where}: dimension ${i + 1} is ${what}; pann needs a fixed size for every dimension but the batch (export with dynamic_axes on dimension 0 only)`,
      );
    }
    return v;
  });
  const b = values[0];
  return { name, shape, batch: typeof b === 'number' && b > 0 ? b : null };
}

function graphOutput(graph: GraphProto): string {
  const outputs = graph.output ?? [];
  if (outputs.length !== 1) {
    throw new OnnxError(`the graph has ${outputs.length} outputs; pann imports networks with one output`);
  }
  return outputs[0]!.name ?? '';
}

/** What the walk knows of a data tensor: the layer whose output it is (−1: the graph input) and the chain state there. */
interface DataTensor {
  layer: number;
  onnxShape: number[];
  shape: ChainState['shape'];
  pendingPad: ChainState['pendingPad'];
  biasTarget: number | null;
}

/**
 * Walk the data path from the input to the output in the graph's (topological) node order, mapping each node onto
 * layers. Most nodes read one data tensor: a layer reads the output of the layer that tensor came from (`from` when
 * that is not the layer before). An Add of two data tensors is a residual connection: an `add` layer.
 */
function walkGraph(g: OnnxGraph, input: GraphInput, output: string, stripSoftmax: boolean): { state: ChainState; nodes: OnnxNodeImport[] } {
  const state: ChainState = {
    onnxShape: [...input.shape],
    shape: [...input.shape],
    layers: [],
    batch: input.batch,
    pendingPad: null,
    biasTarget: null,
    weightDtype: 'float32',
  };
  const nodes: OnnxNodeImport[] = [];
  const data = new Map<string, DataTensor>();
  const record = (name: string, t: DataTensor) => {
    data.set(name, t);
    g.chainShapes.set(name, [...t.onnxShape]);
  };
  record(input.name, { layer: -1, onnxShape: [...input.shape], shape: [...input.shape], pendingPad: null, biasTarget: null });
  checkOutputRead(g, output);
  g.nodes.forEach((node, index) => {
    const op = node.opType ?? '';
    if (op === 'Shape' || op === 'Constant' || g.visited.has(index)) return;
    const reads = (node.input ?? []).filter((name) => data.has(name));
    if (reads.length === 0) return; // constants and shape computations: evaluated where they are used
    if (op === 'Add' && reads.length === 2) {
      const entry = residualAdd(g, index, data, state);
      nodes.push(entry.entry);
      record(node.output?.[0] ?? '', entry.tensor);
      return;
    }
    if (new Set(reads).size > 1) {
      throw new OnnxError(
        `${g.label(index)}: reads ${reads.length} data tensors; pann joins branches only with Add (a residual connection)`,
      );
    }
    const from = data.get(reads[0]!)!;
    Object.assign(state, {
      onnxShape: [...from.onnxShape],
      shape: [...from.shape],
      pendingPad: from.pendingPad,
      biasTarget: from.biasTarget,
    });
    const before = state.layers.length;
    const { entry, next } = importChainNode(g, index, reads[0]!, output, stripSoftmax, state);
    if (state.layers.length > before && from.layer !== before - 1) state.layers[before] = { ...state.layers[before]!, from: from.layer };
    nodes.push(entry);
    if (!next) throw new OnnxError(`${entry.node}: has no output`);
    const layer = state.layers.length > before ? state.layers.length - 1 : from.layer;
    record(next, {
      layer,
      onnxShape: [...state.onnxShape],
      shape: [...state.shape],
      pendingPad: state.pendingPad,
      biasTarget: state.biasTarget,
    });
  });
  const out = data.get(output);
  if (!out)
    throw new OnnxError(`the graph output ${JSON.stringify(output)} is not computed from the graph input ${JSON.stringify(input.name)}`);
  if (out.pendingPad) {
    throw new OnnxError(
      `${out.pendingPad.label}: a zero Pad is supported only right before Conv or AveragePool, not at the end of the graph`,
    );
  }
  if (out.layer !== state.layers.length - 1) {
    throw new OnnxError(
      `the graph output ${JSON.stringify(output)} is ${out.layer < 0 ? 'the graph input' : `the output of layers[${out.layer}]`}, not of the last layer; pann's model ends at its last layer`,
    );
  }
  checkAllVisited(g, input.name, output);
  return { state, nodes };
}

/** Where a tensor comes from, for messages. */
function producerLabel(g: OnnxGraph, tensor: string): string {
  const p = g.producer.get(tensor);
  return p === undefined ? 'the graph input' : g.label(p);
}

/** The graph output must not feed another node (pann's model ends at it). */
function checkOutputRead(g: OnnxGraph, output: string): void {
  const readers = (g.consumers.get(output) ?? []).filter((i) => g.nodes[i]!.opType !== 'Shape');
  if (readers.length) {
    throw new OnnxError(
      `the graph output ${JSON.stringify(output)} is also read by ${g.label(readers[0]!)}; pann imports a network that ends at the output`,
    );
  }
}

/** Add of two data tensors of one shape: an `add` layer (a residual connection). */
function residualAdd(
  g: OnnxGraph,
  index: number,
  data: Map<string, DataTensor>,
  state: ChainState,
): { entry: OnnxNodeImport; tensor: DataTensor } {
  const node = g.nodes[index]!;
  const label = g.label(index);
  const [a, b] = (node.input ?? []).map((name) => data.get(name)!) as [DataTensor, DataTensor];
  if (a.pendingPad || b.pendingPad) {
    throw new OnnxError(
      `${(a.pendingPad ?? b.pendingPad)!.label}: a zero Pad is supported only right before Conv or AveragePool, not before ${label}`,
    );
  }
  if (a.onnxShape.join(',') !== b.onnxShape.join(',')) {
    throw new OnnxError(
      `${label}: adds tensors of shapes [${a.onnxShape.join(', ')}] and [${b.onnxShape.join(', ')}]; pann adds branches of the same shape (no broadcasting)`,
    );
  }
  const at = state.layers.length;
  state.layers.push({ type: 'add', other: b.layer, ...(a.layer !== at - 1 ? { from: a.layer } : {}) });
  g.visited.add(index);
  return {
    entry: { node: label, op: 'Add', layer: at, note: 'residual add' },
    tensor: { layer: at, onnxShape: [...a.onnxShape], shape: [...a.shape], pendingPad: null, biasTarget: null },
  };
}

/** Check that a data-path node fits a chain, then map it onto layers with its op's handler; returns its entry and output. */
function importChainNode(
  g: OnnxGraph,
  index: number,
  current: string,
  output: string,
  stripSoftmax: boolean,
  state: ChainState,
): { entry: OnnxNodeImport; next: string } {
  const node = g.nodes[index]!;
  const label = g.label(index);
  const op = node.opType ?? '';
  const inputs = node.input ?? [];
  const dataSlot = inputs.indexOf(current);
  if (!(op in OP_HANDLERS)) {
    throw new OnnxError(
      `${label}: ${op} on the data path is not supported (pann evaluates ${op} only in shape computations, e.g. the shape input of Reshape)`,
    );
  }
  inputs.forEach((name, slot) => {
    if (slot !== dataSlot && name && !g.isStatic(name)) {
      const producer = g.producer.get(name);
      throw new OnnxError(
        producer !== undefined && producer >= index
          ? `${label}: input ${slot} ${JSON.stringify(name)} comes from ${producerLabel(g, name)}, which comes after it: the graph has a cycle (or its nodes are not in topological order, as ONNX requires)`
          : `${label}: input ${slot} ${JSON.stringify(name)} comes from ${producerLabel(g, name)} and is not a constant; pann joins two data paths only with Add (a residual connection)`,
      );
    }
  });
  const outputs = node.output ?? [];
  outputs.slice(1).forEach((name, k) => {
    if (name && ((g.consumers.get(name)?.length ?? 0) > 0 || name === output)) {
      throw new OnnxError(
        `${label}: its output ${k + 1} ${JSON.stringify(name)} is used; pann uses only the first output (inference form)`,
      );
    }
  });
  if (state.pendingPad && op !== 'Conv' && op !== 'AveragePool' && op !== 'Identity' && op !== 'Pad') {
    throw new OnnxError(`${state.pendingPad.label}: a zero Pad is supported only right before Conv or AveragePool, not before ${label}`);
  }
  if (op !== 'Add' && op !== 'Identity') state.biasTarget = null;
  const ctx: NodeContext = { graph: g, node, index, label, opset: g.opset, dataSlot, last: outputs[0] === output, stripSoftmax };
  const result = OP_HANDLERS[op]!(ctx, state);
  g.visited.add(index);
  return { entry: { node: label, op, ...result }, next: outputs[0] ?? '' };
}

/** Every node is on the data path or a constant (or a shape computation) that one of them used. */
function checkAllVisited(g: OnnxGraph, inputName: string, output: string): void {
  g.nodes.forEach((node, i) => {
    if (!g.visited.has(i) && node.opType !== 'Constant') {
      throw new OnnxError(
        `${g.label(i)}: not on the path from the graph input ${JSON.stringify(inputName)} to the output ${JSON.stringify(output)}`,
      );
    }
  });
}

/**
 * Import an ONNX model (the bytes of a .onnx file) as a pann Model. Throws an OnnxError naming the node, input or
 * initializer when the file is not ONNX or holds something pann cannot represent exactly.
 */
export function importOnnx(bytes: Uint8Array, options: ImportOnnxOptions = {}): OnnxImport {
  const { stripSoftmax = false } = options;
  const proto = decodeModel(bytes);
  const graph = proto.graph!;
  const opset = opsetOf(proto);
  const g = new OnnxGraph(graph, opset);
  checkOps(g, stripSoftmax);
  const input = graphInput(graph, g);
  const output = graphOutput(graph);
  const { state, nodes } = walkGraph(g, input, output, stripSoftmax);
  const producer = [proto.producerName, proto.producerVersion].filter(Boolean).join(' ');
  const irVersion = int64(proto.irVersion);
  const model: Model = {
    name: options.name ?? (graph.name || 'onnx-model'),
    inputShape: input.shape,
    layers: state.layers,
    metadata: {
      importedFrom: {
        format: 'onnx',
        producer,
        irVersion,
        opset,
        graph: graph.name ?? '',
        input: input.name,
        output,
        ...(stripSoftmax && nodes.some((n) => n.op === 'Softmax' || n.op === 'LogSoftmax') ? { strippedSoftmax: true } : {}),
      },
    },
  };
  try {
    checkModel(model);
  } catch (err) {
    throw new OnnxError(`the imported model is not valid: ${errorMessage(err)}`, { cause: err });
  }
  return { model, nodes, weightDtype: state.weightDtype, opset, irVersion, producer };
}

/** Read and import a .onnx file; errors start with the path. The model is named after the file by default. */
export function loadOnnx(path: string, options: ImportOnnxOptions = {}): OnnxImport {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new OnnxError(`cannot read ONNX file ${path}: ${errorMessage(err)}`, { cause: err });
  }
  try {
    const result = importOnnx(bytes, { ...options, name: options.name ?? basename(path, extname(path)) });
    (result.model.metadata.importedFrom as Record<string, unknown>).file = basename(path);
    return result;
  } catch (err) {
    if (err instanceof PannError) throw new OnnxError(`${path}: ${err.message}`, { cause: err });
    throw err;
  }
}
