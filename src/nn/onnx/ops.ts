/**
 * ONNX op → pann layer mapping, one handler per op. A handler reads its node's attributes and constant inputs,
 * appends layers to the chain state (or folds into the last one) and says what it did. Semantics follow the ONNX
 * operator specification (https://onnx.ai/onnx/operators/), opsets 7–22.
 */
import { activation as catalogActivation } from '../../approx/activations.js';
import { OnnxError, PannError, errorMessage } from '../../errors.js';
import { formatShape, layerOutputShape, shapeSize, type Layer, type Shape } from '../model.js';
import type { TensorDtype } from '../tensor-codec.js';
import { BATCH, type OnnxGraph, type SymInt } from './graph.js';
import { attrFloat, attrInt, attrInts, attrString, shortestFloat32, type NodeProto, type OnnxTensor } from './proto.js';

export interface ChainState {
  /** ONNX shape of the chain tensor, batch dimension dropped. */
  onnxShape: number[];
  /** pann shape after the layers so far (flat where ONNX has [C, 1, 1] after GlobalAveragePool). */
  shape: Shape;
  layers: Layer[];
  /** Static batch size of the graph input, or null when it is dynamic. */
  batch: number | null;
  /** Zero padding of a Pad node, waiting for the Conv or AveragePool after it. */
  pendingPad: { pad: [number, number]; label: string } | null;
  /** Index of the dense/conv layer an Add may fold a bias into (the last node was MatMul, Gemm or Conv). */
  biasTarget: number | null;
  weightDtype: TensorDtype;
}

export interface NodeContext {
  graph: OnnxGraph;
  node: NodeProto;
  index: number;
  /** `node #3 "/fc1/Gemm" (Gemm)`. */
  label: string;
  opset: number;
  /** Input slot that carries the chain tensor. */
  dataSlot: number;
  /** This node's output is the graph output. */
  last: boolean;
  stripSoftmax: boolean;
}

/** What a node became: a new layer, a fold into an earlier layer, or nothing. */
export interface NodeResult {
  layer: number | null;
  note: string;
}

type OpHandler = (ctx: NodeContext, state: ChainState) => NodeResult;

function fail(ctx: NodeContext, message: string): never {
  throw new OnnxError(`${ctx.label}: ${message}`);
}

/** The constant at an input slot, or undefined when the optional input is absent. */
function optionalConstant(ctx: NodeContext, slot: number): OnnxTensor | undefined {
  const name = ctx.node.input?.[slot];
  return name ? ctx.graph.constant(name, ctx.label) : undefined;
}

function constantInput(ctx: NodeContext, slot: number, what: string): OnnxTensor {
  return optionalConstant(ctx, slot) ?? fail(ctx, `input ${slot} (${what}) is missing`);
}

/** Float weights of a constant, all finite; notes a float64 source for the storage dtype. */
function weights(ctx: NodeContext, state: ChainState, t: OnnxTensor, what: string, rank?: number): Float64Array {
  const src = t.name ? `initializer ${JSON.stringify(t.name)}` : 'a constant';
  if (t.kind === 'int') fail(ctx, `${what}: ${src} holds integers; expected float weights`);
  if (rank !== undefined && t.dims.length !== rank) {
    fail(ctx, `${what}: ${src} has shape [${t.dims.join(', ')}]; expected ${rank} dimensions`);
  }
  const i = t.values.findIndex((v) => !Number.isFinite(v));
  if (i >= 0) fail(ctx, `${what}: ${src} at ${formatIndex(i, t.dims)} is ${t.values[i]}, not a finite number`);
  if (t.kind === 'float64') state.weightDtype = 'float64';
  return t.values;
}

/** `[1, 2]`: the multi-dimensional index of flat element i (row-major). */
function formatIndex(i: number, dims: readonly number[]): string {
  const idx: number[] = [];
  for (let a = dims.length - 1; a >= 0; a--) {
    idx.unshift(i % dims[a]!);
    i = Math.floor(i / dims[a]!);
  }
  return `[${idx.join(', ')}]`;
}

/** A scalar hyper-parameter from a constant input (Dropout ratio), float32 values shown as the user wrote them. */
function scalar(ctx: NodeContext, slot: number, what: string): number | undefined {
  const t = optionalConstant(ctx, slot);
  if (!t) return undefined;
  if (t.values.length !== 1) fail(ctx, `${what} should be a scalar, got ${t.values.length} values`);
  return t.kind === 'float32' ? shortestFloat32(t.values[0]!) : t.values[0]!;
}

/**
 * A bias-like constant that broadcasts to the chain tensor [batch, channels, …] per channel: shape [], [1], [C],
 * [1, C] for a flat tensor, [C, 1, 1] or [1, C, 1, 1] for an image. Returns one value per channel.
 */
function perChannel(ctx: NodeContext, state: ChainState, t: OnnxTensor, channels: number, what: string): Float64Array {
  const values = weights(ctx, state, t, what);
  const rank = state.onnxShape.length + 1;
  const dims = t.dims.length > rank ? null : [...Array<number>(rank - t.dims.length).fill(1), ...t.dims];
  const ok = dims !== null && dims[0] === 1 && (dims[1] === 1 || dims[1] === channels) && dims.slice(2).every((d) => d === 1);
  if (!ok) {
    fail(
      ctx,
      `${what} has shape [${t.dims.join(', ')}], which is not one value per channel (${channels}) of the ${formatShape(state.onnxShape)} tensor`,
    );
  }
  return values.length === channels ? values.slice() : new Float64Array(channels).fill(values[0]!);
}

/** Append a layer, checking it against the current shape (errors name the node). */
function push(ctx: NodeContext, state: ChainState, layer: Layer): number {
  try {
    state.shape = layerOutputShape(layer, state.shape, ctx.label);
  } catch (err) {
    throw new OnnxError(errorMessage(err), { cause: err });
  }
  state.layers.push(layer);
  return state.layers.length - 1;
}

function added(ctx: NodeContext, state: ChainState, layer: Layer, onnxShape?: number[]): NodeResult {
  const index = push(ctx, state, layer);
  state.onnxShape = onnxShape ?? [...state.shape];
  return { layer: index, note: '' };
}

function flatFeatures(ctx: NodeContext, state: ChainState): number {
  if (state.onnxShape.length !== 1) {
    fail(ctx, `needs a flat [batch, features] input, got per-sample shape ${formatShape(state.onnxShape)}; flatten first`);
  }
  return state.onnxShape[0]!;
}

function spatialInput(ctx: NodeContext, state: ChainState): [number, number, number] {
  if (state.onnxShape.length === 3 && state.shape.length !== 3) {
    fail(ctx, `reads the ${formatShape(state.onnxShape)} output of a global pool, which pann keeps flat; only flat layers may follow it`);
  }
  if (state.onnxShape.length !== 3) {
    fail(ctx, `needs a [batch, channels, height, width] input, got per-sample shape ${formatShape(state.onnxShape)}`);
  }
  // The ONNX input of this node: pann's shape grown by any pending Pad.
  return state.onnxShape as [number, number, number];
}

function pair(ctx: NodeContext, name: string, v: number[] | undefined, fallback: [number, number]): [number, number] {
  if (v === undefined) return fallback;
  if (v.length !== 2) fail(ctx, `${name} [${v.join(', ')}]: pann imports 2-D convolution and pooling only`);
  return [v[0]!, v[1]!];
}

/** Symmetric padding [ph, pw] from pads / auto_pad (ONNX pads are [top, left, bottom, right]). */
function symmetricPads(ctx: NodeContext, kernel: [number, number], stride: [number, number], hw: [number, number]): [number, number] {
  const autoPad = attrString(ctx.label, ctx.node, 'auto_pad', 'NOTSET');
  if (autoPad === 'VALID') return [0, 0];
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    return [0, 1].map((a) => {
      const out = Math.ceil(hw[a]! / stride[a]!);
      const total = Math.max((out - 1) * stride[a]! + kernel[a]! - hw[a]!, 0);
      if (total % 2)
        fail(
          ctx,
          `auto_pad=${autoPad} pads ${total} on the ${a ? 'width' : 'height'} axis, one side more than the other; pann pads both sides equally`,
        );
      return total / 2;
    }) as [number, number];
  }
  if (autoPad !== 'NOTSET') fail(ctx, `auto_pad=${autoPad} is not an ONNX value`);
  const pads = attrInts(ctx.label, ctx.node, 'pads') ?? [0, 0, 0, 0];
  if (pads.length !== 4) fail(ctx, `pads [${pads.join(', ')}]: expected [top, left, bottom, right]`);
  const [t, l, b, r] = pads as [number, number, number, number];
  if (t !== b || l !== r || t < 0 || l < 0) {
    fail(ctx, `pads [${pads.join(', ')}] are asymmetric; pann pads top = bottom and left = right`);
  }
  return [t, l];
}

function takePendingPad(state: ChainState): { pad: [number, number]; note: string } {
  const p = state.pendingPad;
  state.pendingPad = null;
  return p ? { pad: p.pad, note: `padding of ${p.label} folded in` } : { pad: [0, 0], note: '' };
}

function checkUnitDilations(ctx: NodeContext): void {
  const d = attrInts(ctx.label, ctx.node, 'dilations');
  if (d && d.some((x) => x !== 1))
    fail(ctx, `dilations [${d.join(', ')}] are not supported (dilated convolution/pooling); pann needs dilation 1`);
}

const gemm: OpHandler = (ctx, state) => {
  if (ctx.dataSlot !== 0) fail(ctx, `the data must be input A (pann maps Gemm to a dense layer with constant B)`);
  if (attrInt(ctx.label, ctx.node, 'transA', 0) !== 0) fail(ctx, `transA=1 is not supported (it would transpose the batch)`);
  const transB = attrInt(ctx.label, ctx.node, 'transB', 0) !== 0;
  const alpha = attrFloat(ctx.label, ctx.node, 'alpha', 1);
  const beta = attrFloat(ctx.label, ctx.node, 'beta', 1);
  const c = optionalConstant(ctx, 2);
  return denseLayer(ctx, state, constantInput(ctx, 1, 'B, the weights'), transB, alpha, c && { tensor: c, scale: beta });
};

const matMul: OpHandler = (ctx, state) => {
  if (ctx.dataSlot !== 0) fail(ctx, `the data must be the first input (x·W with a constant W)`);
  return denseLayer(ctx, state, constantInput(ctx, 1, 'B, the weights'), false, 1, undefined);
};

/** Dense layer y = alpha·x·B' + scale·C, B' = Bᵀ when transB (PyTorch's Linear exports Gemm with transB = 1). */
function denseLayer(
  ctx: NodeContext,
  state: ChainState,
  b: OnnxTensor,
  transB: boolean,
  alpha: number,
  c: { tensor: OnnxTensor; scale: number } | undefined,
): NodeResult {
  const features = flatFeatures(ctx, state);
  const w = weights(ctx, state, b, 'weights B', 2);
  const [rows, cols] = b.dims as [number, number];
  const [inF, outF] = transB ? [cols, rows] : [rows, cols];
  if (inF !== features) {
    fail(ctx, `weights are ${rows}×${cols}${transB ? ' (transB=1)' : ''}: ${inF} input features, but the input has ${features}`);
  }
  const weight = new Float64Array(inF * outF);
  for (let o = 0; o < outF; o++) {
    for (let i = 0; i < inF; i++) weight[o * inF + i] = alpha * (transB ? w[o * cols + i]! : w[i * cols + o]!);
  }
  const bias = c ? perChannel(ctx, state, c.tensor, outF, 'bias C').map((v) => c.scale * v) : new Float64Array(outF);
  const result = added(ctx, state, { type: 'dense', inFeatures: inF, outFeatures: outF, weight, bias });
  state.biasTarget = result.layer;
  return result;
}

const add: OpHandler = (ctx, state) => {
  const target = state.biasTarget === null ? undefined : state.layers[state.biasTarget];
  if (!target || (target.type !== 'dense' && target.type !== 'conv2d')) {
    fail(ctx, `Add of a constant is supported only as the bias right after MatMul, Gemm or Conv`);
  }
  const bias = perChannel(ctx, state, constantInput(ctx, 1 - ctx.dataSlot, 'the bias'), target.bias.length, 'the added constant');
  for (let i = 0; i < bias.length; i++) target.bias[i]! += bias[i]!;
  return { layer: null, note: `bias folded into layers[${state.biasTarget}]` };
};

const conv: OpHandler = (ctx, state) => {
  if (ctx.dataSlot !== 0) fail(ctx, `the data must be input X`);
  const [channels, h, w] = spatialInput(ctx, state);
  const wt = constantInput(ctx, 1, 'W, the weights');
  if (wt.dims.length !== 4) fail(ctx, `weights have shape [${wt.dims.join(', ')}]; pann imports 2-D convolutions only ([out, in, kh, kw])`);
  const group = attrInt(ctx.label, ctx.node, 'group', 1);
  if (group !== 1) fail(ctx, `group=${group} (grouped or depthwise convolution) is not supported; pann needs group 1`);
  checkUnitDilations(ctx);
  const [outC, inC, kh, kw] = wt.dims as [number, number, number, number];
  if (inC !== channels) fail(ctx, `weights take ${inC} input channels, the input has ${channels}`);
  const kernel = pair(ctx, 'kernel_shape', attrInts(ctx.label, ctx.node, 'kernel_shape'), [kh, kw]);
  if (kernel[0] !== kh || kernel[1] !== kw) fail(ctx, `kernel_shape [${kernel.join(', ')}] does not match the weights' ${kh}×${kw}`);
  const stride = pair(ctx, 'strides', attrInts(ctx.label, ctx.node, 'strides'), [1, 1]);
  const own = symmetricPads(ctx, kernel, stride, [h, w]);
  const pending = takePendingPad(state);
  const b = optionalConstant(ctx, 2);
  const result = added(ctx, state, {
    type: 'conv2d',
    inChannels: inC,
    outChannels: outC,
    kernel,
    stride,
    padding: [own[0] + pending.pad[0], own[1] + pending.pad[1]],
    weight: weights(ctx, state, wt, 'weights W').slice(),
    bias: b ? weights(ctx, state, b, 'bias B', 1).slice() : new Float64Array(outC),
  });
  state.biasTarget = result.layer;
  return { ...result, note: pending.note };
};

const averagePool: OpHandler = (ctx, state) => {
  const [, h, w] = spatialInput(ctx, state);
  const kernel = pair(ctx, 'kernel_shape', attrInts(ctx.label, ctx.node, 'kernel_shape'), [0, 0]);
  if (!kernel[0] || !kernel[1]) fail(ctx, `kernel_shape is missing`);
  const stride = pair(ctx, 'strides', attrInts(ctx.label, ctx.node, 'strides'), [1, 1]);
  checkUnitDilations(ctx);
  const own = symmetricPads(ctx, kernel, stride, [h, w]);
  if ((own[0] || own[1]) && attrInt(ctx.label, ctx.node, 'count_include_pad', 0) === 0) {
    fail(
      ctx,
      `count_include_pad=0 with padding ${own.join('×')}: border windows would average fewer values, but pann's ` +
        `avgpool2d divides by the full window; export with count_include_pad=True (PyTorch's default) or no padding`,
    );
  }
  const pending = takePendingPad(state);
  const padding: [number, number] = [own[0] + pending.pad[0], own[1] + pending.pad[1]];
  if (attrInt(ctx.label, ctx.node, 'ceil_mode', 0) !== 0) {
    [h, w].forEach((n, a) => {
      if ((n + 2 * own[a]! - kernel[a]!) % stride[a]! !== 0) {
        fail(ctx, `ceil_mode=1 changes the output size here (pann rounds down); export with ceil_mode=False`);
      }
    });
  }
  return { ...added(ctx, state, { type: 'avgpool2d', kernel, stride, padding }), note: pending.note };
};

const globalAveragePool: OpHandler = (ctx, state) => {
  const [channels] = spatialInput(ctx, state);
  return added(ctx, state, { type: 'globalavgpool' }, [channels, 1, 1]);
};

/**
 * ReduceMean over the two spatial axes (`x.mean((2, 3))`, with or without keepdim): a global average pool. The axes
 * are an attribute up to opset 17 and a constant input from opset 18.
 */
const reduceMean: OpHandler = (ctx, state) => {
  if (ctx.dataSlot !== 0) fail(ctx, `the data must be input 0`);
  const [channels] = spatialInput(ctx, state);
  const given = attrInts(ctx.label, ctx.node, 'axes') ?? optionalConstant(ctx, 1)?.values;
  const axes = [...new Set((given ?? []).map((a) => (a < 0 ? a + 4 : a)))].sort();
  if (axes.join(',') !== '2,3') {
    fail(
      ctx,
      `averages over axes [${(given ?? ['all']).join(', ')}]; pann maps ReduceMean over the spatial axes [2, 3] only (a global average pool)`,
    );
  }
  const keep = attrInt(ctx.label, ctx.node, 'keepdims', 1) !== 0;
  return added(ctx, state, { type: 'globalavgpool' }, keep ? [channels, 1, 1] : [channels]);
};

/** To flat [features]: a flatten layer when pann's tensor is still [C, H, W], nothing when it is flat already. */
function toFlat(ctx: NodeContext, state: ChainState): NodeResult {
  const size = shapeSize(state.onnxShape);
  if (state.shape.length === 1) {
    state.onnxShape = [size];
    return { layer: null, note: 'already flat in pann' };
  }
  return added(ctx, state, { type: 'flatten' });
}

const flatten: OpHandler = (ctx, state) => {
  const rank = state.onnxShape.length + 1;
  const axis = attrInt(ctx.label, ctx.node, 'axis', 1);
  if ((axis < 0 ? axis + rank : axis) !== 1) fail(ctx, `axis=${axis} would merge the batch dimension; pann flattens from axis 1`);
  return toFlat(ctx, state);
};

const reshape: OpHandler = (ctx, state) => {
  const target = ctx.graph.ints(ctx.node.input?.[1] || fail(ctx, `the shape input is missing`), ctx.label);
  const allowZero = attrInt(ctx.label, ctx.node, 'allowzero', 0) !== 0;
  const shown = `[${target.join(', ')}]`;
  const size = shapeSize(state.onnxShape);
  const [first, ...rest] = target;
  const keepsBatch = first === BATCH || (first === 0 && !allowZero) || (state.batch !== null && first === state.batch);
  if (first === -1) {
    if (!rest.every((d): d is number => typeof d === 'number' && d > 0) || shapeSize(rest) !== size) {
      fail(ctx, `shape ${shown} must give every per-sample dimension when the batch is -1`);
    }
  } else if (!keepsBatch) {
    fail(
      ctx,
      `shape ${shown} changes the batch dimension${state.batch === null ? ' (the batch is dynamic)' : ''}; pann reshapes each sample`,
    );
  }
  const dims = rest.map((d, i) => {
    if (d === BATCH) fail(ctx, `shape ${shown} moves the batch dimension`);
    return d === 0 && !allowZero ? (state.onnxShape[i] ?? fail(ctx, `shape ${shown}: 0 copies a dimension the input does not have`)) : d;
  });
  const unknown = dims.filter((d) => d === -1).length;
  const known = shapeSize(dims.filter((d) => d !== -1));
  if (unknown > 1 || dims.some((d) => d < -1) || (unknown === 1 ? known === 0 || size % known !== 0 : known !== size)) {
    fail(ctx, `shape ${shown} does not fit ${size} values per sample (${formatShape(state.onnxShape)})`);
  }
  const out = dims.map((d) => (d === -1 ? size / known : d));
  if (out.length === state.onnxShape.length && out.every((d, i) => d === state.onnxShape[i])) return { layer: null, note: 'no-op reshape' };
  if (out.length !== 1)
    fail(ctx, `reshape to per-sample ${formatShape(out)} (from ${formatShape(state.onnxShape)}): pann only reshapes to flat [features]`);
  return toFlat(ctx, state);
};

const batchNormalization: OpHandler = (ctx, state) => {
  if (ctx.dataSlot !== 0) fail(ctx, `the data must be input X`);
  if (attrInt(ctx.label, ctx.node, 'training_mode', 0) !== 0) {
    fail(ctx, `training_mode=1 (batch statistics); export the module in eval() mode`);
  }
  if (attrInt(ctx.label, ctx.node, 'spatial', 1) === 0 && state.onnxShape.length !== 1) fail(ctx, `spatial=0 is not supported`);
  if (state.onnxShape.length !== 1 && state.onnxShape.length !== 3)
    fail(ctx, `input shape ${formatShape(state.onnxShape)} is not [features] or [C, H, W]`);
  const channels = state.onnxShape[0]!;
  const vec = (slot: number, what: string): Float64Array => {
    const v = weights(ctx, state, constantInput(ctx, slot, what), what);
    if (v.length !== channels) fail(ctx, `${what} has ${v.length} values, the input has ${channels} channels`);
    return v.slice();
  };
  const layer: Layer = {
    type: 'batchnorm',
    gamma: vec(1, 'scale'),
    beta: vec(2, 'B'),
    mean: vec(3, 'input_mean'),
    variance: vec(4, 'input_var'),
    eps: attrFloat(ctx.label, ctx.node, 'epsilon', 1e-5),
  };
  const i = layer.variance.findIndex((v) => v < 0);
  if (i >= 0) fail(ctx, `input_var value ${i} is ${layer.variance[i]}, negative`);
  return added(ctx, state, layer, state.onnxShape);
};

const dropout: OpHandler = (ctx, state) => {
  let rate: number;
  if (ctx.opset >= 12) {
    rate = scalar(ctx, 1, 'ratio') ?? 0.5;
    const training = scalar(ctx, 2, 'training_mode');
    if (training) fail(ctx, `training_mode is true; export the module in eval() mode`);
  } else {
    rate = attrFloat(ctx.label, ctx.node, 'ratio', 0.5);
  }
  if (!(rate >= 0 && rate < 1)) fail(ctx, `ratio ${rate} is not in [0, 1)`);
  return { ...added(ctx, state, { type: 'dropout', rate }, state.onnxShape), note: 'identity at inference' };
};

function activationOp(name: string, params: (ctx: NodeContext) => Record<string, number> = () => ({})): OpHandler {
  return (ctx, state) => {
    let act;
    try {
      act = catalogActivation(name, params(ctx));
    } catch (err) {
      if (err instanceof PannError) fail(ctx, errorMessage(err));
      throw err;
    }
    return added(ctx, state, { type: 'activation', activation: act }, state.onnxShape);
  };
}

const softmax: OpHandler = (ctx, state) => {
  const axis = attrInt(ctx.label, ctx.node, 'axis', ctx.opset >= 13 ? -1 : 1);
  if (!ctx.stripSoftmax || !ctx.last) {
    fail(ctx, `${ctx.node.opType} is imported only as the graph's last node, with stripSoftmax (pann outputs the logits)`);
  }
  if (state.onnxShape.length !== 1 || (axis !== 1 && axis !== -1))
    fail(ctx, `stripSoftmax needs a softmax over the classes of a flat [batch, classes] output`);
  return { layer: null, note: 'dropped (stripSoftmax): pann outputs the logits' };
};

const pad: OpHandler = (ctx, state) => {
  const mode = attrString(ctx.label, ctx.node, 'mode', 'constant');
  if (mode !== 'constant') fail(ctx, `mode=${mode}: pann pads with zeros only`);
  let pads: SymInt[];
  let value: number;
  if (ctx.opset >= 11) {
    pads = ctx.graph.ints(ctx.node.input?.[1] || fail(ctx, `the pads input is missing`), ctx.label);
    value = scalar(ctx, 2, 'constant_value') ?? 0;
    if (ctx.node.input?.[3]) fail(ctx, `the axes input is not supported; give pads for every axis`);
  } else {
    pads = attrInts(ctx.label, ctx.node, 'pads') ?? [];
    value = attrFloat(ctx.label, ctx.node, 'value', 0);
  }
  if (value !== 0) fail(ctx, `pads with ${value}; pann pads with zeros only`);
  const shown = `[${pads.join(', ')}]`;
  if (state.onnxShape.length !== 3 || pads.length !== 8)
    fail(ctx, `pads ${shown}: pann folds a Pad of a [batch, C, H, W] tensor into the next Conv or AveragePool`);
  const [n0, c0, t, l, n1, c1, b, r] = pads as number[];
  if (n0 || c0 || n1 || c1) fail(ctx, `pads ${shown} pad the batch or channel axis`);
  if (t !== b || l !== r || t! < 0 || l! < 0) fail(ctx, `pads ${shown} are asymmetric; pann pads top = bottom and left = right`);
  if (!t && !l) return { layer: null, note: 'zero-size pad skipped' };
  const prev = state.pendingPad?.pad ?? [0, 0];
  state.pendingPad = { pad: [prev[0] + t!, prev[1] + l!], label: ctx.label };
  const [channels, h, w] = state.onnxShape as [number, number, number];
  state.onnxShape = [channels, h + 2 * t!, w + 2 * l!];
  return { layer: null, note: 'folded into the padding of the next Conv/AveragePool' };
};

const identity: OpHandler = () => ({ layer: null, note: 'skipped (identity)' });

const LEAKY = (ctx: NodeContext): Record<string, number> => ({ alpha: attrFloat(ctx.label, ctx.node, 'alpha', 0.01) });
const ELU = (ctx: NodeContext): Record<string, number> => ({ alpha: attrFloat(ctx.label, ctx.node, 'alpha', 1) });

/** The ops pann maps onto layers (the data path of the chain). */
export const OP_HANDLERS: Readonly<Record<string, OpHandler>> = {
  Gemm: gemm,
  MatMul: matMul,
  Add: add,
  Conv: conv,
  AveragePool: averagePool,
  GlobalAveragePool: globalAveragePool,
  ReduceMean: reduceMean,
  Flatten: flatten,
  Reshape: reshape,
  BatchNormalization: batchNormalization,
  Relu: activationOp('relu'),
  Sigmoid: activationOp('sigmoid'),
  Tanh: activationOp('tanh'),
  LeakyRelu: activationOp('leaky-relu', LEAKY),
  Elu: activationOp('elu', ELU),
  Softplus: activationOp('softplus'),
  Dropout: dropout,
  Identity: identity,
  Pad: pad,
  Softmax: softmax,
  LogSoftmax: softmax,
};

/** Why an op pann does not import is missing, when there is more to say than "unsupported". */
export const UNSUPPORTED_HINTS: Readonly<Record<string, string>> = {
  MaxPool: 'max pooling has no low-degree polynomial form; use AvgPool2d',
  GlobalMaxPool: 'max pooling has no low-degree polynomial form; use a global average pool',
  Softmax: 'export the logits without a final softmax, or import with stripSoftmax (--strip-softmax) if it is the last node',
  LogSoftmax: 'export the logits without a final log-softmax, or import with stripSoftmax (--strip-softmax) if it is the last node',
  LSTM: "recurrent networks are outside pann's sequential layer model",
  GRU: "recurrent networks are outside pann's sequential layer model",
  RNN: "recurrent networks are outside pann's sequential layer model",
  Gelu: 'not in the import table yet; retrain with ReLU, Sigmoid, Tanh, LeakyReLU, ELU or Softplus',
  Erf: 'GELU exports as an Erf subgraph, which is not a chain of supported ops',
  ConstantOfShape: 'dynamic padding: at opset ≥ 11 PyTorch 1.x computes ZeroPad2d pads at run time; pad in the Conv instead',
};
