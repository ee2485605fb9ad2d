/**
 * Fold pass: a sequential model becomes alternating affine blocks and activations. BatchNorm, AvgPool,
 * GlobalAvgPool, Flatten and Dropout (identity at inference) fold into the adjacent linear layers, and
 * consecutive linear layers compose into one affine map, so each block costs one level when packed.
 */
import type { Activation } from '../approx/activations.js';
import type { PolynomialApproximation } from '../approx/polynomial.js';
import type { Layer, Model, Shape } from '../nn/model.js';
import { layerInputIndex, layerLabel, modelShapes, shapeSize } from '../nn/model.js';
import { type AffineMap, affineFromDense, affineFromTriplets, applyAffine, composeAffine, identityMap } from './affine.js';
import { CompileError } from './errors.js';

/** Geometry of a convolution kept for the rotation-based packing (only for a conv on the network input). */
export interface ConvGeometry {
  inChannels: number;
  inHeight: number;
  inWidth: number;
  outChannels: number;
  outHeight: number;
  outWidth: number;
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
}

/** A residual term of an affine block: a linear map of an earlier value (the network input or an activation's output). */
export interface SkipTerm {
  /** Block index of the activation whose output it reads, or −1 for the network input. */
  from: number;
  /** outDim × (size of that value); no bias (the block's bias is in its main map). */
  map: AffineMap;
}

export type NetBlock =
  | {
      kind: 'affine';
      name: string;
      /** Indices of the model layers folded into this block. */
      layers: number[];
      /** The main term: a map of the previous block's output (the network input for the first block), with the bias. */
      map: AffineMap;
      /** Present when the block is exactly one conv2d (plus per-channel scalings) applied to the network input. */
      conv?: ConvGeometry;
      /** Present when the main term is exactly one conv2d plus per-channel scalings (anywhere in the network). */
      geometry?: ConvGeometry;
      /** Residual terms (a residual network's shortcuts), summed with the main term. */
      skips?: SkipTerm[];
      outShape: Shape;
    }
  | {
      kind: 'activation';
      name: string;
      layer: number;
      /** Either a catalog activation to approximate … */
      activation?: Activation;
      /** … or a fitted polynomial the model already carries (a PANN). */
      approximation?: PolynomialApproximation;
      size: number;
    };

function convToAffine(layer: Extract<Layer, { type: 'conv2d' }>, inShape: Shape, outShape: Shape): AffineMap {
  const [ci, h, w] = inShape as [number, number, number];
  const [co, ho, wo] = outShape as [number, number, number];
  const [kh, kw] = layer.kernel;
  const [sh, sw] = layer.stride;
  const [ph, pw] = layer.padding;
  const triplets: [number, number, number][] = [];
  for (let o = 0; o < co; o++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++) {
        const row = (o * ho + oy) * wo + ox;
        for (let c = 0; c < ci; c++)
          for (let dy = 0; dy < kh; dy++) {
            const iy = oy * sh - ph + dy;
            if (iy < 0 || iy >= h) continue;
            for (let dx = 0; dx < kw; dx++) {
              const ix = ox * sw - pw + dx;
              if (ix < 0 || ix >= w) continue;
              const wv = layer.weight[((o * ci + c) * kh + dy) * kw + dx]!;
              if (wv !== 0) triplets.push([row, (c * h + iy) * w + ix, wv]);
            }
          }
      }
  const bias = new Float64Array(co * ho * wo);
  for (let o = 0; o < co; o++) bias.fill(layer.bias[o]!, o * ho * wo, (o + 1) * ho * wo);
  return affineFromTriplets(co * ho * wo, ci * h * w, triplets, bias);
}

function avgPoolToAffine(layer: Extract<Layer, { type: 'avgpool2d' }>, inShape: Shape, outShape: Shape): AffineMap {
  const [c, h, w] = inShape as [number, number, number];
  const [, ho, wo] = outShape as [number, number, number];
  const [kh, kw] = layer.kernel;
  const [sh, sw] = layer.stride;
  const [ph, pw] = layer.padding;
  const inv = 1 / (kh * kw); // count_include_pad
  const triplets: [number, number, number][] = [];
  for (let ch = 0; ch < c; ch++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++)
        for (let dy = 0; dy < kh; dy++)
          for (let dx = 0; dx < kw; dx++) {
            const iy = oy * sh - ph + dy;
            const ix = ox * sw - pw + dx;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            triplets.push([(ch * ho + oy) * wo + ox, (ch * h + iy) * w + ix, inv]);
          }
  return affineFromTriplets(c * ho * wo, c * h * w, triplets);
}

function globalAvgPoolToAffine(inShape: Shape): AffineMap {
  const [c, h, w] = inShape as [number, number, number];
  const inv = 1 / (h * w);
  const triplets: [number, number, number][] = [];
  for (let ch = 0; ch < c; ch++) for (let k = 0; k < h * w; k++) triplets.push([ch, ch * h * w + k, inv]);
  return affineFromTriplets(c, c * h * w, triplets);
}

function batchNormToAffine(layer: Extract<Layer, { type: 'batchnorm' }>, shape: Shape): AffineMap {
  const n = shapeSize(shape);
  const channels = shape[0]!;
  const per = n / channels;
  const triplets: [number, number, number][] = [];
  const bias = new Float64Array(n);
  for (let ch = 0; ch < channels; ch++) {
    const s = layer.gamma[ch]! / Math.sqrt(layer.variance[ch]! + layer.eps);
    const b = layer.beta[ch]! - s * layer.mean[ch]!;
    for (let k = 0; k < per; k++) {
      triplets.push([ch * per + k, ch * per + k, s]);
      bias[ch * per + k] = b;
    }
  }
  return affineFromTriplets(n, n, triplets, bias);
}

/** True when every entry of the block's map keeps conv structure (conv then per-channel scalings). */
function isPerChannelScaling(layer: Layer): boolean {
  return layer.type === 'batchnorm' || layer.type === 'dropout' || layer.type === 'flatten';
}

/**
 * Split a model into affine blocks and activations. A chain folds layer by layer; a residual network (a DAG of
 * layers: `from`, `add`) folds the same way, each layer's output kept as a linear expression Σ A_k·v_k + b of the
 * values computed so far (the network input and activation outputs): a linear layer composes into every term, an
 * add sums two expressions, and an activation closes its input expression into an affine block whose main term
 * reads the activation just before it and whose other terms are skips. So a residual add costs no level: it is one
 * more term of the linear layer before the next activation.
 */
export function foldModel(model: Model): NetBlock[] {
  const folder = new BlockFolder(model);
  const shapes = modelShapes(model);
  model.layers.forEach((layer, i) => {
    const from = layerInputIndex(layer, i);
    folder.add(layer, i, from < 0 ? model.inputShape : shapes[from]!, shapes[i]!, from);
  });
  const blocks = folder.finish(shapes.length ? shapes[shapes.length - 1]! : model.inputShape, shapes.length - 1);
  if (!blocks.some((b) => b.kind === 'affine')) throw new CompileError(`model ${model.name} has no linear layer`);
  if (blocks[blocks.length - 1]!.kind !== 'affine') {
    throw new CompileError(
      `model ${model.name} ends with an activation; pann expects logits from a final linear layer (add a dense layer)`,
    );
  }
  return blocks;
}

/** A layer's affine map, with its geometry when it is a convolution. */
function layerAffine(layer: Layer, inShape: Shape, outShape: Shape): { map: AffineMap; conv?: ConvGeometry } | null {
  switch (layer.type) {
    case 'dense':
      return { map: affineFromDense(layer.outFeatures, layer.inFeatures, layer.weight, layer.bias) };
    case 'conv2d':
      return {
        map: convToAffine(layer, inShape, outShape),
        conv: {
          inChannels: inShape[0]!,
          inHeight: inShape[1]!,
          inWidth: inShape[2]!,
          outChannels: outShape[0]!,
          outHeight: outShape[1]!,
          outWidth: outShape[2]!,
          kernel: [...layer.kernel],
          stride: [...layer.stride],
          padding: [...layer.padding],
        },
      };
    case 'avgpool2d':
      return { map: avgPoolToAffine(layer, inShape, outShape) };
    case 'globalavgpool':
      return { map: globalAvgPoolToAffine(inShape) };
    case 'batchnorm':
      return { map: batchNormToAffine(layer, inShape) };
    default:
      return null;
  }
}

/** One term of a linear expression: a map of a value (−1: the network input; else an activation block's output). */
interface Term {
  map: AffineMap;
  /** The term is one conv2d (and per-channel scalings) of its value. */
  geometry?: ConvGeometry;
}

/** A layer's output as the circuit sees it: Σ terms + bias, or a value as it is (an activation output, the input). */
interface Expression {
  terms: Map<number, Term>;
  bias: Float64Array | null;
  layers: number[];
  /** Size of the output. */
  size: number;
}

/** Layers fold into linear expressions of the values so far; an activation closes its input into an affine block. */
class BlockFolder {
  readonly #model: Model;
  readonly #blocks: NetBlock[] = [];
  /** Each layer's output (index −1 … layers − 1 → entry + 1). */
  readonly #exprs: Expression[] = [];

  constructor(model: Model) {
    this.#model = model;
    this.#exprs.push(valueExpression(-1, shapeSize(model.inputShape)));
  }

  #expr(ref: number): Expression {
    return this.#exprs[ref + 1]!;
  }

  add(layer: Layer, i: number, inShape: Shape, outShape: Shape, from: number): void {
    const input = this.#expr(from);
    const affine = layerAffine(layer, inShape, outShape);
    if (affine) return void this.#exprs.push(applyLinear(input, affine.map, i, affine.conv, isPerChannelScaling(layer)));
    if (layer.type === 'flatten' || layer.type === 'dropout') {
      // identity on the flat C-H-W data; keep in the block's layer list for the report
      // (a flatten right after a value, before any linear layer, is not part of a block)
      return void this.#exprs.push(input.bias === null ? input : { ...input, layers: [...input.layers, i] });
    }
    if (layer.type === 'add') return void this.#exprs.push(sumExpressions(input, this.#expr(layer.other), i));
    if (layer.type !== 'activation' && layer.type !== 'polynomial') return void this.#exprs.push(input);
    // an activation: its input expression becomes an affine block (an identity block when it is a bare value)
    const n = shapeSize(inShape);
    this.#close(input, inShape, i);
    const index = this.#blocks.length;
    this.#blocks.push(
      layer.type === 'activation'
        ? { kind: 'activation', name: `${layer.activation.name}#${i}`, layer: i, activation: layer.activation, size: n }
        : { kind: 'activation', name: `polynomial#${i}`, layer: i, approximation: layer.approximation, size: n },
    );
    this.#exprs.push(valueExpression(index, n));
  }

  /** The blocks, the network output's expression closed as the last affine block. */
  finish(shape: Shape, last: number): NetBlock[] {
    const out = this.#expr(last);
    if (out.bias !== null) this.#close(out, shape, last); // a linear layer (or an add) after the last activation
    return this.#blocks;
  }

  /** Close an expression into an affine block reading the previous block's output (and skips). */
  #close(expr: Expression, outShape: Shape, at: number): void {
    const main = this.#blocks.length - 1; // the activation just before (−1: the network input)
    const mainTerm = expr.terms.get(main);
    if (!mainTerm) {
      throw new CompileError(
        `model ${this.#model.name}: ${layerLabel(this.#model.layers[at]!, at)} does not read the activation just before it ` +
          `(${main < 0 ? 'the model input' : this.#blocks[main]!.name}); the compiler takes residual networks whose branches ` +
          'rejoin before the next activation (like ResNets), not parallel branches',
      );
    }
    const bias = expr.bias ?? new Float64Array(expr.size);
    const map = { ...mainTerm.map, bias: Float64Array.from(mainTerm.map.bias, (b, r) => b + bias[r]!) };
    const skips = [...expr.terms].filter(([from]) => from !== main).map(([from, t]) => ({ from, map: t.map }));
    const layers = expr.layers;
    const block: NetBlock = {
      kind: 'affine',
      name: layers.length ? layers.map((i) => `${this.#model.layers[i]!.type}#${i}`).join('+') : `identity#${at}`,
      layers,
      map,
      outShape,
    };
    if (mainTerm.geometry) {
      block.geometry = mainTerm.geometry;
      if (main < 0 && skips.length === 0) block.conv = mainTerm.geometry;
    }
    if (skips.length) block.skips = skips;
    this.#blocks.push(block);
  }
}

/** A value as it is: the identity on it. */
function valueExpression(ref: number, size: number): Expression {
  return { terms: new Map([[ref, { map: identityMap(size) }]]), bias: null, layers: [], size };
}

/** A linear layer applied to an expression: composed into every term, the bias carried through. */
function applyLinear(input: Expression, map: AffineMap, index: number, conv: ConvGeometry | undefined, scaling: boolean): Expression {
  const zero = new Float64Array(map.outDim);
  const terms = new Map<number, Term>();
  for (const [ref, t] of input.terms) {
    const composed = isIdentity(t.map)
      ? { ...map, bias: zero }
      : composeAffine({ ...t.map, bias: new Float64Array(t.map.outDim) }, { ...map, bias: zero });
    // the term stays "one conv" while only per-channel scalings follow the conv itself
    const geometry = isIdentity(t.map) && input.bias === null ? conv : scaling ? t.geometry : undefined;
    terms.set(ref, geometry ? { map: composed, geometry } : { map: composed });
  }
  const bias = input.bias === null ? Float64Array.from(map.bias) : applyAffine(map, input.bias);
  return { terms, bias, layers: [...input.layers, index], size: map.outDim };
}

/** Two expressions summed: terms of the same value add up. */
function sumExpressions(a: Expression, b: Expression, index: number): Expression {
  const terms = new Map<number, Term>(a.terms);
  for (const [ref, t] of b.terms) {
    const other = terms.get(ref);
    terms.set(ref, other ? { map: addMaps(other.map, t.map) } : t);
  }
  const bias = new Float64Array(a.size);
  for (let r = 0; r < a.size; r++) bias[r] = (a.bias?.[r] ?? 0) + (b.bias?.[r] ?? 0);
  const layers = [...new Set([...a.layers, ...b.layers, index])].sort((x, y) => x - y);
  return { terms, bias, layers, size: a.size };
}

function isIdentity(map: AffineMap): boolean {
  if (map.inDim !== map.outDim || map.values.length !== map.outDim) return false;
  for (let r = 0; r < map.outDim; r++) if (map.colIdx[r] !== r || map.values[r] !== 1 || map.bias[r] !== 0) return false;
  return true;
}

function addMaps(a: AffineMap, b: AffineMap): AffineMap {
  function* triplets(m: AffineMap): Generator<[number, number, number]> {
    for (let r = 0; r < m.outDim; r++) for (let e = m.rowPtr[r]!; e < m.rowPtr[r + 1]!; e++) yield [r, m.colIdx[e]!, m.values[e]!];
  }
  return affineFromTriplets(
    a.outDim,
    a.inDim,
    [...triplets(a), ...triplets(b)],
    Float64Array.from(a.bias, (v, r) => v + b.bias[r]!),
  );
}
