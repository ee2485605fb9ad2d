/**
 * Fold pass: a sequential model becomes alternating affine blocks and activations. BatchNorm, AvgPool,
 * GlobalAvgPool, Flatten and Dropout (identity at inference) fold into the adjacent linear layers, and
 * consecutive linear layers compose into one affine map, so each block costs one level when packed.
 */
import type { Activation } from '../approx/activations.js';
import type { PolynomialApproximation } from '../approx/polynomial.js';
import type { Layer, Model, Shape } from '../nn/model.js';
import { layerLabel, layerOutputShape, shapeSize } from '../nn/model.js';
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
  const blocks: NetBlock[] = [];
  let shape: Shape = model.inputShape;
  let pending: { map: AffineMap; layers: number[]; conv?: ConvGeometry; convPure: boolean } | null = null;
  let atInput = true;

  const flush = (): void => {
    if (!pending) return;
    const names = pending.layers.map((i) => `${model.layers[i]!.type}#${i}`).join('+');
    const block: NetBlock = {
      kind: 'affine',
      name: names,
      layers: pending.layers,
      map: pending.map,
      outShape: shape,
    };
    if (pending.conv && pending.convPure) block.conv = pending.conv;
    blocks.push(block);
    pending = null;
    atInput = false;
  };

  const push = (map: AffineMap, index: number, conv?: ConvGeometry): void => {
    if (!pending) {
      pending = { map, layers: [index], convPure: true, ...(conv ? { conv } : {}) };
      if (!conv || !atInput) pending.convPure = false;
      return;
    }
    pending.map = composeAffine(pending.map, map);
    pending.layers.push(index);
    if (!isPerChannelScaling(model.layers[index]!)) pending.convPure = false;
  };

  model.layers.forEach((layer, i) => {
    const where = layerLabel(layer, i);
    const inShape = shape;
    const outShape = layerOutputShape(layer, inShape, where);
    const n = shapeSize(inShape);
    switch (layer.type) {
      case 'dense':
        push(affineFromDense(layer.outFeatures, layer.inFeatures, layer.weight, layer.bias), i);
        break;
      case 'conv2d':
        push(convToAffine(layer, inShape, outShape), i, {
          inChannels: inShape[0]!,
          inHeight: inShape[1]!,
          inWidth: inShape[2]!,
          outChannels: outShape[0]!,
          outHeight: outShape[1]!,
          outWidth: outShape[2]!,
          kernel: [...layer.kernel],
          stride: [...layer.stride],
          padding: [...layer.padding],
        });
        break;
      case 'avgpool2d':
        push(avgPoolToAffine(layer, inShape, outShape), i);
        break;
      case 'globalavgpool':
        push(globalAvgPoolToAffine(inShape), i);
        break;
      case 'batchnorm':
        push(batchNormToAffine(layer, inShape), i);
        break;
      case 'flatten':
      case 'dropout':
        // identity on the flat C-H-W data; keep in the block's layer list for the report
        if (pending) (pending as { layers: number[] }).layers.push(i);
        break;
      case 'activation':
      case 'polynomial': {
        if (!pending) {
          // an activation with no linear layer before it: an identity block carries the 1/B normalisation
          pending = { map: identityMap(n), layers: [], convPure: false };
        }
        shape = inShape;
        flush();
        blocks.push(
          layer.type === 'activation'
            ? { kind: 'activation', name: `${layer.activation.name}#${i}`, layer: i, activation: layer.activation, size: n }
            : { kind: 'activation', name: `polynomial#${i}`, layer: i, approximation: layer.approximation, size: n },
        );
        break;
      }
    }
    shape = outShape;
  });
  flush();
  if (!blocks.some((b) => b.kind === 'affine')) throw new CompileError(`model ${model.name} has no linear layer`);
  if (blocks[blocks.length - 1]!.kind !== 'affine') {
    throw new CompileError(
      `model ${model.name} ends with an activation; pann expects logits from a final linear layer (add a dense layer)`,
    );
  }
  return blocks;
}

/** Run the folded network in float64 on one input, calling `onActivationInput` with each activation's input. */
export function runBlocks(
  blocks: readonly NetBlock[],
  input: ArrayLike<number>,
  activate: (block: Extract<NetBlock, { kind: 'activation' }>, index: number, x: Float64Array) => Float64Array,
  apply: (map: AffineMap, x: ArrayLike<number>) => Float64Array,
): Float64Array {
  let x: Float64Array = Float64Array.from(input);
  blocks.forEach((b, i) => {
    x = b.kind === 'affine' ? apply(b.map, x) : activate(b, i, x);
  });
  return x;
}
