/**
 * Fold pass: a sequential model becomes alternating affine blocks and activations. BatchNorm, AvgPool,
 * GlobalAvgPool, Flatten and Dropout (identity at inference) fold into the adjacent linear layers, and
 * consecutive linear layers compose into one affine map, so each block costs one level when packed.
 */
import type { Activation } from '../approx/activations.js';
import type { PolynomialApproximation } from '../approx/polynomial.js';
import type { Layer, Model, Shape } from '../nn/model.js';
import { isSequential, layerLabel, layerOutputShape, shapeSize } from '../nn/model.js';
import { type AffineMap, affineFromDense, affineFromTriplets, composeAffine, identityMap } from './affine.js';
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

export type NetBlock =
  | {
      kind: 'affine';
      name: string;
      /** Indices of the model layers folded into this block. */
      layers: number[];
      map: AffineMap;
      /** Present when the block is exactly one conv2d (plus per-channel scalings) applied to the network input. */
      conv?: ConvGeometry;
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

/** Split a model into affine blocks and activations. */
export function foldModel(model: Model): NetBlock[] {
  if (!isSequential(model)) {
    const at = model.layers.findIndex((l, i) => l.type === 'add' || (l.from !== undefined && l.from !== i - 1));
    throw new CompileError(
      `model ${model.name}: layers[${at}] (${model.layers[at]!.type}) branches (a residual connection); the compiler takes ` +
        'chains of layers only, for now: residual networks run in float64 (pann eval, predict, info) but do not compile yet',
    );
  }
  const folder = new BlockFolder(model);
  let shape: Shape = model.inputShape;
  model.layers.forEach((layer, i) => {
    const outShape = layerOutputShape(layer, shape, layerLabel(layer, i));
    folder.add(layer, i, shape, outShape);
    shape = outShape;
  });
  const blocks = folder.finish(shape);
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

/** Consecutive linear layers compose into one pending affine block; an activation closes it. */
class BlockFolder {
  readonly #model: Model;
  readonly #blocks: NetBlock[] = [];
  #pending: { map: AffineMap; layers: number[]; conv?: ConvGeometry; convPure: boolean } | null = null;
  #atInput = true;

  constructor(model: Model) {
    this.#model = model;
  }

  add(layer: Layer, i: number, inShape: Shape, outShape: Shape): void {
    const affine = layerAffine(layer, inShape, outShape);
    if (affine) return this.#push(affine.map, i, affine.conv);
    if (layer.type === 'flatten' || layer.type === 'dropout') {
      // identity on the flat C-H-W data; keep in the block's layer list for the report
      this.#pending?.layers.push(i);
      return;
    }
    if (layer.type === 'activation' || layer.type === 'polynomial') {
      const n = shapeSize(inShape);
      // an activation with no linear layer before it: an identity block carries the 1/B normalisation
      this.#pending ??= { map: identityMap(n), layers: [], convPure: false };
      this.#flush(inShape);
      this.#blocks.push(
        layer.type === 'activation'
          ? { kind: 'activation', name: `${layer.activation.name}#${i}`, layer: i, activation: layer.activation, size: n }
          : { kind: 'activation', name: `polynomial#${i}`, layer: i, approximation: layer.approximation, size: n },
      );
    }
  }

  /** The blocks, the last pending affine block closed with the network's output shape. */
  finish(shape: Shape): NetBlock[] {
    this.#flush(shape);
    return this.#blocks;
  }

  #push(map: AffineMap, index: number, conv?: ConvGeometry): void {
    if (!this.#pending) {
      this.#pending = { map, layers: [index], convPure: conv !== undefined && this.#atInput, ...(conv ? { conv } : {}) };
      return;
    }
    this.#pending.map = composeAffine(this.#pending.map, map);
    this.#pending.layers.push(index);
    if (!isPerChannelScaling(this.#model.layers[index]!)) this.#pending.convPure = false;
  }

  #flush(outShape: Shape): void {
    const pending = this.#pending;
    if (!pending) return;
    const block: NetBlock = {
      kind: 'affine',
      name: pending.layers.map((i) => `${this.#model.layers[i]!.type}#${i}`).join('+'),
      layers: pending.layers,
      map: pending.map,
      outShape,
    };
    if (pending.conv && pending.convPure) block.conv = pending.conv;
    this.#blocks.push(block);
    this.#pending = null;
    this.#atInput = false;
  }
}
