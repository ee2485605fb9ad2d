/**
 * Building a freshly initialised model from an architecture: a list of layer specs, or the compact text form
 * used by recipes and `pann train --arch`, e.g. `flatten dense:128 act dense:10` or
 * `conv2d:5:k5:s2:p1 act flatten dense:64 act dense:10` (`act` = the recipe's activation, `act=ulu:a1=0.5,a2=2`
 * an explicit one). Weights: He-uniform U(±√(6/fan_in)) (He, Zhang, Ren & Sun, "Delving Deep into Rectifiers",
 * 2015), biases zero, from a seeded PRNG.
 */
import { parseActivation, type Activation } from '../approx/activations.js';
import { ModelError, errorMessage } from '../errors.js';
import { checkModel, layerOutputShape, type Layer, type Model, type Shape } from './model.js';
import { Prng } from './prng.js';

export type LayerSpec =
  | { type: 'dense'; out: number }
  | { type: 'conv2d'; out: number; kernel: [number, number]; stride: [number, number]; padding: [number, number] }
  | { type: 'avgpool2d'; kernel: [number, number]; stride: [number, number]; padding: [number, number] }
  | { type: 'globalavgpool' }
  | { type: 'flatten' }
  | { type: 'batchnorm' }
  | { type: 'dropout'; rate: number }
  /** activation: a spec string, or null for the default activation given to buildModel. */
  | { type: 'activation'; activation: string | null };

function pairOf(v: string, what: string, token: string): [number, number] {
  const parts = v.split('x').map(Number);
  if (parts.length === 1) parts.push(parts[0]!);
  if (parts.length !== 2 || !parts.every((p) => Number.isInteger(p) && p >= 0)) {
    throw new ModelError(`architecture: '${token}': bad ${what} '${v}' (expected N or HxW)`);
  }
  return [parts[0]!, parts[1]!];
}

function windowOptions(
  fields: string[],
  token: string,
): { kernel?: [number, number]; stride?: [number, number]; padding?: [number, number] } {
  const out: { kernel?: [number, number]; stride?: [number, number]; padding?: [number, number] } = {};
  for (const f of fields) {
    const key = f[0];
    const v = f.slice(1);
    if (key === 'k') out.kernel = pairOf(v, 'kernel', token);
    else if (key === 's') out.stride = pairOf(v, 'stride', token);
    else if (key === 'p') out.padding = pairOf(v, 'padding', token);
    else throw new ModelError(`architecture: '${token}': unknown field '${f}' (expected kN, sN, pN)`);
  }
  return out;
}

function positiveInt(v: string | undefined, what: string, token: string): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < 1)
    throw new ModelError(`architecture: '${token}': ${what} must be a positive integer`);
  return n;
}

/**
 * Parse the compact architecture text: whitespace-separated tokens `dense:N`, `conv2d:C:kK[:sS][:pP]`,
 * `avgpool2d:kK[:sS][:pP]`, `globalavgpool`, `flatten`, `batchnorm`, `dropout:R`, `act`, `act=SPEC`.
 */
export function parseArchitecture(text: string): LayerSpec[] {
  const tokens = text.trim().split(/\s+/).filter(Boolean);
  if (tokens.length === 0) throw new ModelError(`architecture: empty`);
  return tokens.map((token): LayerSpec => {
    if (token === 'act') return { type: 'activation', activation: null };
    if (token.startsWith('act=')) return { type: 'activation', activation: token.slice(4) };
    const [kind, ...fields] = token.split(':');
    switch (kind) {
      case 'dense':
        if (fields.length !== 1) throw new ModelError(`architecture: '${token}': expected dense:N`);
        return { type: 'dense', out: positiveInt(fields[0], 'output size', token) };
      case 'conv2d': {
        const out = positiveInt(fields[0], 'output channels', token);
        const w = windowOptions(fields.slice(1), token);
        if (!w.kernel) throw new ModelError(`architecture: '${token}': missing kernel (e.g. conv2d:5:k5:s2:p1)`);
        return { type: 'conv2d', out, kernel: w.kernel, stride: w.stride ?? [1, 1], padding: w.padding ?? [0, 0] };
      }
      case 'avgpool2d': {
        const w = windowOptions(fields, token);
        if (!w.kernel) throw new ModelError(`architecture: '${token}': missing kernel (e.g. avgpool2d:k2:s2)`);
        return { type: 'avgpool2d', kernel: w.kernel, stride: w.stride ?? w.kernel, padding: w.padding ?? [0, 0] };
      }
      case 'globalavgpool':
      case 'flatten':
      case 'batchnorm':
        if (fields.length) throw new ModelError(`architecture: '${token}': ${kind} takes no fields`);
        return { type: kind };
      case 'dropout': {
        const rate = Number(fields[0]);
        if (fields.length !== 1 || !(rate >= 0 && rate < 1))
          throw new ModelError(`architecture: '${token}': expected dropout:R with 0 ≤ R < 1`);
        return { type: 'dropout', rate };
      }
      default:
        throw new ModelError(
          `architecture: unknown layer '${token}'; valid: dense:N, conv2d:C:kK[:sS][:pP], avgpool2d:kK[:sS][:pP], ` +
            `globalavgpool, flatten, batchnorm, dropout:R, act, act=SPEC`,
        );
    }
  });
}

export interface BuildModelOptions {
  /** Seed of the weight initialisation. @default 1 */
  seed?: number;
  /** Activation for `act` layers without their own spec. @default 'relu' */
  activation?: string | Activation;
  /** Metadata to store in the model. @default {} */
  metadata?: Record<string, unknown>;
}

function heUniform(rng: Prng, length: number, fanIn: number): Float64Array {
  const bound = Math.sqrt(6 / fanIn);
  const w = new Float64Array(length);
  for (let i = 0; i < length; i++) w[i] = rng.uniform(-bound, bound);
  return w;
}

/** A freshly initialised model for an architecture (text or specs). Shapes are checked layer by layer. */
export function buildModel(
  name: string,
  inputShape: Shape,
  architecture: string | readonly LayerSpec[],
  options: BuildModelOptions = {},
): Model {
  const { seed = 1, activation = 'relu', metadata = {} } = options;
  const specs = typeof architecture === 'string' ? parseArchitecture(architecture) : architecture;
  const rng = new Prng(seed);
  let shape = inputShape;
  const layers: Layer[] = specs.map((s, i) => {
    const layer = initialLayer(s, i, shape, rng, activation);
    shape = layerOutputShape(layer, shape, `architecture: layer ${i} (${layer.type})`);
    return layer;
  });
  const model: Model = { name, inputShape: [...inputShape], layers, metadata };
  checkModel(model);
  return model;
}

/** Layer i of the architecture on an input of the given shape: weights drawn from `rng`, biases zero. */
function initialLayer(s: LayerSpec, i: number, shape: Shape, rng: Prng, defaultActivation: string | Activation): Layer {
  switch (s.type) {
    case 'dense':
      return denseLayer(s.out, i, shape, rng);
    case 'conv2d':
      return conv2dLayer(s, i, shape, rng);
    case 'avgpool2d':
      return { type: 'avgpool2d', kernel: [...s.kernel], stride: [...s.stride], padding: [...s.padding] };
    case 'batchnorm': {
      const c = shape[0]!;
      return {
        type: 'batchnorm',
        gamma: new Float64Array(c).fill(1),
        beta: new Float64Array(c),
        mean: new Float64Array(c),
        variance: new Float64Array(c).fill(1),
        eps: 1e-5,
      };
    }
    case 'dropout':
      return { type: 'dropout', rate: s.rate };
    case 'activation':
      return { type: 'activation', activation: activationFor(s.activation, defaultActivation) };
    default:
      return { type: s.type };
  }
}

function denseLayer(out: number, i: number, shape: Shape, rng: Prng): Layer {
  const inF = shape.length === 1 ? shape[0]! : NaN;
  if (!Number.isInteger(inF))
    throw new ModelError(`architecture: layer ${i} (dense) needs a flat input, got [${shape.join(', ')}]; add flatten`);
  return { type: 'dense', inFeatures: inF, outFeatures: out, weight: heUniform(rng, inF * out, inF), bias: new Float64Array(out) };
}

function conv2dLayer(s: Extract<LayerSpec, { type: 'conv2d' }>, i: number, shape: Shape, rng: Prng): Layer {
  const inC = shape.length === 3 ? shape[0]! : NaN;
  if (!Number.isInteger(inC)) throw new ModelError(`architecture: layer ${i} (conv2d) needs a [C, H, W] input, got [${shape.join(', ')}]`);
  const fanIn = inC * s.kernel[0] * s.kernel[1];
  return {
    type: 'conv2d',
    inChannels: inC,
    outChannels: s.out,
    kernel: [...s.kernel],
    stride: [...s.stride],
    padding: [...s.padding],
    weight: heUniform(rng, s.out * fanIn, fanIn),
    bias: new Float64Array(s.out),
  };
}

/** An `act` layer's activation: its own spec (a bad one named in the error), or the default. */
function activationFor(spec: string | null, defaultActivation: string | Activation): Activation {
  if (spec === null) return typeof defaultActivation === 'string' ? parseActivation(defaultActivation) : defaultActivation;
  try {
    return parseActivation(spec);
  } catch (err) {
    throw new ModelError(`architecture: act=${spec}: ${errorMessage(err)}`, { cause: err });
  }
}
