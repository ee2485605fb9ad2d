/**
 * The in-memory model: a sequential network of layers with its input shape. Every other part of pann
 * (file format, inference, training, the compiler) works on this one representation.
 *
 * Conventions (PyTorch's, so ONNX exports line up):
 * - tensors are C-H-W for images, flat [features] otherwise; a batch is `count` such tensors back to back;
 * - dense weight is out×in row-major; conv2d weight is [out][in][kh][kw];
 * - output size of conv/pool is ⌊(H + 2·pad − k)/stride⌋ + 1 (no ceil mode);
 * - avgpool2d divides by kh·kw also where the window covers padding (count_include_pad = true);
 * - globalavgpool maps [C, H, W] to [C];
 * - flatten maps [C, H, W] to [C·H·W] in C-H-W order;
 * - batchnorm is the inference form y = γ·(x − μ)/√(σ² + ε) + β per channel ([C, H, W]) or feature ([F]);
 * - a model is a DAG with its layers in topological order: each layer reads the output of the layer before it, or
 *   of layers[from] (−1: the model input), and `add` sums that with the output of layers[other] (residual
 *   branches); the model's output is the last layer's.
 */
import type { Activation } from '../approx/activations.js';
import type { PolynomialApproximation } from '../approx/polynomial.js';
import { ModelError } from '../errors.js';

/** [features] or [channels, height, width]. */
export type Shape = readonly number[];

export interface DenseLayer {
  type: 'dense';
  inFeatures: number;
  outFeatures: number;
  /** out×in, row-major. */
  weight: Float64Array;
  bias: Float64Array;
}
export interface Conv2dLayer {
  type: 'conv2d';
  inChannels: number;
  outChannels: number;
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  /** [out][in][kh][kw]. */
  weight: Float64Array;
  bias: Float64Array;
}
export interface AvgPool2dLayer {
  type: 'avgpool2d';
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
}
export interface GlobalAvgPoolLayer {
  type: 'globalavgpool';
}
export interface FlattenLayer {
  type: 'flatten';
}
export interface BatchNormLayer {
  type: 'batchnorm';
  gamma: Float64Array;
  beta: Float64Array;
  mean: Float64Array;
  variance: Float64Array;
  eps: number;
}
export interface DropoutLayer {
  type: 'dropout';
  /** Probability of zeroing an element during training (identity at inference). */
  rate: number;
}
export interface ActivationLayer {
  type: 'activation';
  /** Learnable parameters (one value per parameter for the whole layer) live in the activation. */
  activation: Activation;
}
export interface PolynomialLayer {
  type: 'polynomial';
  /** A fitted stand-in on approximation.interval (= [−B, B]). */
  approximation: PolynomialApproximation;
  /** Clamp inputs into the interval before evaluating (training and inference). */
  clamp: boolean;
}

/** The sum of two branches of the same shape: this layer's input (see {@link LayerInput}) and layers[other]'s output. */
export interface AddLayer {
  type: 'add';
  /** The other summand: the output of layers[other] (an earlier layer), or −1 for the model input. */
  other: number;
}

/** Where a layer's input comes from: the output of layers[from] (an earlier layer; −1: the model input). */
export interface LayerInput {
  /** @default the layer before (−1 for the first layer) */
  from?: number;
}

/** One layer of a model (dense, conv2d, pooling, batchnorm, flatten, dropout, activation, polynomial, add). */
export type Layer = (
  | DenseLayer
  | Conv2dLayer
  | AvgPool2dLayer
  | GlobalAvgPoolLayer
  | FlattenLayer
  | BatchNormLayer
  | DropoutLayer
  | ActivationLayer
  | PolynomialLayer
  | AddLayer
) &
  LayerInput;

export type LayerType = Layer['type'];

export const LAYER_TYPES: readonly LayerType[] = [
  'dense',
  'conv2d',
  'avgpool2d',
  'globalavgpool',
  'flatten',
  'batchnorm',
  'dropout',
  'activation',
  'polynomial',
  'add',
];

/** A sequential network: its input shape, its layers and free-form metadata (recipe, accuracy, …). */
export interface Model {
  name: string;
  inputShape: Shape;
  layers: Layer[];
  /** Recipe, seed, accuracy {test, validation}, split, trainedAt, etc. */
  metadata: Record<string, unknown>;
}

/** Number of scalars in a tensor of this shape. */
export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** `layers[2] (conv2d)`: how errors name a layer. */
export function layerLabel(layer: Layer, index?: number): string {
  return index === undefined ? layer.type : `layers[${index}] (${layer.type})`;
}

function pooledSize(where: string, input: number, kernel: number, stride: number, padding: number, axis: string): number {
  const out = Math.floor((input + 2 * padding - kernel) / stride) + 1;
  if (out < 1) {
    throw new ModelError(`${where}: kernel ${kernel} with padding ${padding} does not fit input ${axis} ${input} (output size ${out})`);
  }
  return out;
}

function expectRank(where: string, input: Shape, rank: number, what: string): void {
  if (input.length !== rank) {
    throw new ModelError(`${where}: expects a ${what} input, got shape ${formatShape(input)}`);
  }
}

/**
 * Shape after a layer for a given input shape (one sample, no batch dimension).
 * Throws a ModelError naming the layer (`where`, e.g. `layers[2] (dense)`) when the layer does not fit.
 */
export function layerOutputShape(layer: Layer, input: Shape, where: string = layerLabel(layer)): Shape {
  switch (layer.type) {
    case 'dense':
      expectRank(where, input, 1, 'flat [features]');
      if (input[0] !== layer.inFeatures) {
        throw new ModelError(`${where}: inFeatures is ${layer.inFeatures} but the input has ${input[0]} features`);
      }
      return [layer.outFeatures];
    case 'conv2d': {
      expectRank(where, input, 3, '[channels, height, width]');
      if (input[0] !== layer.inChannels) {
        throw new ModelError(`${where}: inChannels is ${layer.inChannels} but the input has ${input[0]} channels`);
      }
      const h = pooledSize(where, input[1]!, layer.kernel[0], layer.stride[0], layer.padding[0], 'height');
      const w = pooledSize(where, input[2]!, layer.kernel[1], layer.stride[1], layer.padding[1], 'width');
      return [layer.outChannels, h, w];
    }
    case 'avgpool2d': {
      expectRank(where, input, 3, '[channels, height, width]');
      const h = pooledSize(where, input[1]!, layer.kernel[0], layer.stride[0], layer.padding[0], 'height');
      const w = pooledSize(where, input[2]!, layer.kernel[1], layer.stride[1], layer.padding[1], 'width');
      return [input[0]!, h, w];
    }
    case 'globalavgpool':
      expectRank(where, input, 3, '[channels, height, width]');
      return [input[0]!];
    case 'flatten':
      return [shapeSize(input)];
    case 'batchnorm':
      if (input.length !== 1 && input.length !== 3) {
        throw new ModelError(`${where}: expects a [features] or [channels, height, width] input, got ${formatShape(input)}`);
      }
      if (layer.gamma.length !== input[0]) {
        throw new ModelError(`${where}: has ${layer.gamma.length} channels but the input has ${input[0]}`);
      }
      return input;
    case 'dropout':
    case 'activation':
    case 'polynomial':
    case 'add':
      return input;
  }
}

/** The layer whose output layers[index] reads (−1: the model input), checked to be an earlier one. */
export function layerInputIndex(layer: Layer, index: number): number {
  return earlierLayer(layer.from ?? index - 1, index, 'from');
}

function earlierLayer(ref: unknown, index: number, field: string): number {
  if (typeof ref !== 'number' || !Number.isInteger(ref) || ref < -1 || ref >= index) {
    throw new ModelError(
      `layers[${index}].${field}: ${String(ref)} is not an earlier layer (0…${index - 1}) or −1 (the model input): ` +
        'a model is a DAG with its layers in topological order, so a layer reads only outputs before it',
    );
  }
  return ref;
}

/** True when every layer reads the one before it and none adds branches: a chain, as the compiler takes it. */
export function isSequential(model: Model): boolean {
  return model.layers.every((l, i) => l.type !== 'add' && (l.from === undefined || l.from === i - 1));
}

/**
 * Shape after each layer (entry i is the output of layers[i]), following each layer's input (`from`) and an add's
 * other summand. Throws a ModelError naming the first bad layer (a reference forward, or summands of two shapes).
 */
export function modelShapes(model: Model): Shape[] {
  const shapes: Shape[] = [];
  const outputOf = (ref: number) => (ref < 0 ? model.inputShape : shapes[ref]!);
  model.layers.forEach((layer, i) => {
    const input = outputOf(layerInputIndex(layer, i));
    if (layer.type === 'add') {
      const other = outputOf(earlierLayer(layer.other, i, 'other'));
      if (formatShape(other) !== formatShape(input)) {
        throw new ModelError(
          `${layerLabel(layer, i)}: adds ${formatShape(input)} (${describeRef(layerInputIndex(layer, i))}) and ${formatShape(other)} ` +
            `(${describeRef(layer.other)}); residual branches must have the same shape`,
        );
      }
    }
    shapes.push(layerOutputShape(layer, input, layerLabel(layer, i)));
  });
  return shapes;
}

function describeRef(ref: number): string {
  return ref < 0 ? 'the model input' : `layers[${ref}]`;
}

/** Shape of the model's output (the input shape for a model without layers). */
export function outputShape(model: Model): Shape {
  const shapes = modelShapes(model);
  return shapes.length ? shapes[shapes.length - 1]! : model.inputShape;
}

/** Number of trainable scalars in a layer (weights, biases, batchnorm affine, learnable activation parameters). */
export function layerParameterCount(layer: Layer): number {
  switch (layer.type) {
    case 'dense':
    case 'conv2d':
      return layer.weight.length + layer.bias.length;
    case 'batchnorm':
      return layer.gamma.length + layer.beta.length;
    case 'activation':
      return layer.activation.learnableIndices.length;
    default:
      return 0;
  }
}

export function parameterCount(model: Model): number {
  return model.layers.reduce((n, l) => n + layerParameterCount(l), 0);
}

/** Indices of the activation and polynomial layers (the non-linear ones the compiler replaces or evaluates). */
export function nonlinearLayerIndices(model: Model): number[] {
  return model.layers.flatMap((l, i) => (l.type === 'activation' || l.type === 'polynomial' ? [i] : []));
}

/** Deep copy (new typed arrays; activations and approximations are immutable and shared). */
export function cloneModel(model: Model): Model {
  return {
    name: model.name,
    inputShape: [...model.inputShape],
    metadata: structuredClone(model.metadata),
    layers: model.layers.map(cloneLayer),
  };
}

export function cloneLayer(layer: Layer): Layer {
  switch (layer.type) {
    case 'dense':
      return { ...layer, weight: layer.weight.slice(), bias: layer.bias.slice() };
    case 'conv2d':
      return {
        ...layer,
        kernel: [...layer.kernel],
        stride: [...layer.stride],
        padding: [...layer.padding],
        weight: layer.weight.slice(),
        bias: layer.bias.slice(),
      };
    case 'avgpool2d':
      return { ...layer, kernel: [...layer.kernel], stride: [...layer.stride], padding: [...layer.padding] };
    case 'batchnorm':
      return {
        ...layer,
        gamma: layer.gamma.slice(),
        beta: layer.beta.slice(),
        mean: layer.mean.slice(),
        variance: layer.variance.slice(),
      };
    default:
      return { ...layer };
  }
}

/** One-line description of a layer, e.g. `conv2d 1→5 k5×5 s2×2 p1×1` (`… ← layers[3]` when it reads another). */
export function describeLayer(layer: Layer): string {
  const body = describeLayerBody(layer);
  return layer.from === undefined ? body : `${body} ← ${describeRef(layer.from)}`;
}

function describeLayerBody(layer: Layer): string {
  switch (layer.type) {
    case 'dense':
      return `dense ${layer.inFeatures}→${layer.outFeatures}`;
    case 'conv2d':
      return (
        `conv2d ${layer.inChannels}→${layer.outChannels} k${layer.kernel.join('×')} ` +
        `s${layer.stride.join('×')} p${layer.padding.join('×')}`
      );
    case 'avgpool2d':
      return `avgpool2d k${layer.kernel.join('×')} s${layer.stride.join('×')} p${layer.padding.join('×')}`;
    case 'batchnorm':
      return `batchnorm ${layer.gamma.length} eps=${layer.eps}`;
    case 'dropout':
      return `dropout ${layer.rate}`;
    case 'activation':
      return `activation ${layer.activation.toString()}`;
    case 'add':
      return `add ${describeRef(layer.other)}`;
    case 'polynomial': {
      const a = layer.approximation;
      const degrees = a.stages.map((s) => s.coefficients.length - 1).join('∘');
      return (
        `polynomial ${a.activation} on [${a.interval.join(', ')}] ${a.method} degree ${degrees}` +
        `${a.finish === 'none' ? '' : ` finish ${a.finish}`}${layer.clamp ? ' clamped' : ''}`
      );
    }
    default:
      return layer.type;
  }
}

function checkPositiveInt(where: string, v: unknown, min = 1): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new ModelError(`${where}: expected an integer ≥ ${min}, got ${String(v)}`);
  }
}

function checkPair(where: string, v: unknown, min: number): void {
  if (!Array.isArray(v) || v.length !== 2) throw new ModelError(`${where}: expected [height, width], got ${JSON.stringify(v)}`);
  checkPositiveInt(`${where}[0]`, v[0], min);
  checkPositiveInt(`${where}[1]`, v[1], min);
}

function checkArray(where: string, v: unknown, length: number): void {
  if (!(v instanceof Float64Array)) throw new ModelError(`${where}: expected a Float64Array`);
  if (v.length !== length) throw new ModelError(`${where}: expected ${length} values, got ${v.length}`);
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]!)) throw new ModelError(`${where}[${i}]: ${v[i]} is not a finite number`);
  }
}

/**
 * Check that a model is internally consistent: integer sizes, tensor lengths, finite values, valid hyper-parameters,
 * and that every layer fits the shape before it. Throws a ModelError naming the bad field (`layers[2].weight: …`).
 */
export function checkModel(model: Model): void {
  if (!Array.isArray(model.inputShape) || (model.inputShape.length !== 1 && model.inputShape.length !== 3)) {
    throw new ModelError(`inputShape: expected [features] or [channels, height, width], got ${JSON.stringify(model.inputShape)}`);
  }
  model.inputShape.forEach((d, i) => checkPositiveInt(`inputShape[${i}]`, d));
  if (!Array.isArray(model.layers)) throw new ModelError(`layers: expected an array`);
  model.layers.forEach((layer, i) => checkLayer(layer, `layers[${i}]`));
  modelShapes(model);
}

function checkLayer(layer: Layer, at: string): void {
  switch (layer.type) {
    case 'dense':
      checkPositiveInt(`${at}.inFeatures`, layer.inFeatures);
      checkPositiveInt(`${at}.outFeatures`, layer.outFeatures);
      checkArray(`${at}.weight`, layer.weight, layer.inFeatures * layer.outFeatures);
      checkArray(`${at}.bias`, layer.bias, layer.outFeatures);
      return;
    case 'conv2d':
      checkPositiveInt(`${at}.inChannels`, layer.inChannels);
      checkPositiveInt(`${at}.outChannels`, layer.outChannels);
      checkPair(`${at}.kernel`, layer.kernel, 1);
      checkPair(`${at}.stride`, layer.stride, 1);
      checkPair(`${at}.padding`, layer.padding, 0);
      checkArray(`${at}.weight`, layer.weight, layer.outChannels * layer.inChannels * layer.kernel[0] * layer.kernel[1]);
      checkArray(`${at}.bias`, layer.bias, layer.outChannels);
      return;
    case 'avgpool2d':
      checkPair(`${at}.kernel`, layer.kernel, 1);
      checkPair(`${at}.stride`, layer.stride, 1);
      checkPair(`${at}.padding`, layer.padding, 0);
      if (layer.padding[0] >= layer.kernel[0] || layer.padding[1] >= layer.kernel[1]) {
        throw new ModelError(`${at}.padding: must be smaller than the kernel, got ${layer.padding.join('×')}`);
      }
      return;
    case 'batchnorm': {
      const n = layer.gamma instanceof Float64Array ? layer.gamma.length : 0;
      if (n < 1) throw new ModelError(`${at}.gamma: expected a non-empty Float64Array`);
      checkArray(`${at}.gamma`, layer.gamma, n);
      checkArray(`${at}.beta`, layer.beta, n);
      checkArray(`${at}.mean`, layer.mean, n);
      checkArray(`${at}.variance`, layer.variance, n);
      for (let i = 0; i < n; i++) {
        if (layer.variance[i]! < 0) throw new ModelError(`${at}.variance[${i}]: ${layer.variance[i]} is negative`);
      }
      if (typeof layer.eps !== 'number' || !(layer.eps > 0) || !Number.isFinite(layer.eps)) {
        throw new ModelError(`${at}.eps: expected a finite number > 0, got ${String(layer.eps)}`);
      }
      return;
    }
    case 'dropout':
      if (typeof layer.rate !== 'number' || !(layer.rate >= 0 && layer.rate < 1)) {
        throw new ModelError(`${at}.rate: expected a number in [0, 1), got ${String(layer.rate)}`);
      }
      return;
    case 'activation':
      if (!layer.activation || typeof layer.activation.f !== 'function') {
        throw new ModelError(`${at}.activation: expected an Activation from the catalog`);
      }
      return;
    case 'polynomial':
      checkApproximation(`${at}.approximation`, layer.approximation);
      if (typeof layer.clamp !== 'boolean') throw new ModelError(`${at}.clamp: expected true or false`);
      return;
    case 'globalavgpool':
    case 'flatten':
      return;
    case 'add':
      if (typeof layer.other !== 'number' || !Number.isInteger(layer.other)) {
        throw new ModelError(`${at}.other: expected a layer index (or −1 for the model input), got ${String(layer.other)}`);
      }
      return;
    default:
      throw new ModelError(
        `${at}.type: unknown layer type '${String((layer as { type?: unknown }).type)}'; known: ${LAYER_TYPES.join(', ')}`,
      );
  }
}

function checkInterval(where: string, v: unknown): void {
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x)) || !(v[0] < v[1])) {
    throw new ModelError(`${where}: expected [a, b] with finite a < b, got ${JSON.stringify(v)}`);
  }
}

function checkApproximation(at: string, a: PolynomialApproximation): void {
  if (!a || typeof a !== 'object') throw new ModelError(`${at}: expected a polynomial approximation object`);
  if (typeof a.activation !== 'string' || a.activation === '') throw new ModelError(`${at}.activation: expected an activation spec string`);
  if (a.method !== 'chebyshev' && a.method !== 'remez' && a.method !== 'composite') {
    throw new ModelError(`${at}.method: expected chebyshev, remez or composite, got ${JSON.stringify(a.method)}`);
  }
  checkInterval(`${at}.interval`, a.interval);
  if (a.finish !== 'none' && a.finish !== 'relu' && a.finish !== 'abs') {
    throw new ModelError(`${at}.finish: expected none, relu or abs, got ${JSON.stringify(a.finish)}`);
  }
  const stages: unknown = a.stages;
  if (!Array.isArray(stages) || a.stages.length === 0) throw new ModelError(`${at}.stages: expected at least one stage`);
  a.stages.forEach((s, j) => {
    checkInterval(`${at}.stages[${j}].interval`, s.interval);
    const c = s.coefficients;
    if (!c || typeof c.length !== 'number' || c.length === 0) {
      throw new ModelError(`${at}.stages[${j}].coefficients: expected at least one coefficient`);
    }
    for (let i = 0; i < c.length; i++) {
      if (typeof c[i] !== 'number' || !Number.isFinite(c[i])) {
        throw new ModelError(`${at}.stages[${j}].coefficients[${i}]: ${String(c[i])} is not a finite number`);
      }
    }
  });
}
