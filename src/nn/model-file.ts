/**
 * The model file: format "pann-model", version 1.
 *
 * ```json
 * { "format": "pann-model", "version": 1, "name": "mnist-cnn-relu", "inputShape": [1, 28, 28],
 *   "layers": [
 *     { "type": "conv2d", "inChannels": 1, "outChannels": 5, "kernel": [5, 5], "stride": [2, 2], "padding": [1, 1],
 *       "weight": { "dtype": "float32", "shape": [5, 1, 5, 5], "data": "<base64, little-endian>" }, "bias": { … } },
 *     { "type": "activation", "activation": { "name": "relu", "params": {} } },
 *     { "type": "polynomial", "clamp": false, "approximation": { "activation": "relu", "method": "remez",
 *       "interval": [-8, 8], "stages": [{ "interval": [-8, 8], "coefficients": [0.1, …] }], "finish": "none" } },
 *     … ],
 *   "metadata": { "recipe": "…", "accuracy": { "test": 0.98, "validation": 0.98 }, … } }
 * ```
 * Loading validates every field and names the bad one (`layers[2].weight: expected 3920 float32 values, got 3919`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { activationFromJSON } from '../approx/activations.js';
import type { ChebyshevPolynomial, PolynomialApproximation } from '../approx/polynomial.js';
import { ModelError, errorMessage } from '../errors.js';
import { LAYER_TYPES, checkModel, type Layer, type Model } from './model.js';
import { decodeTensor, encodeTensor, type EncodedTensor, type TensorDtype } from './tensor-codec.js';

export const MODEL_FORMAT = 'pann-model';
export const MODEL_VERSION = 1;

export interface SaveModelOptions {
  /** Storage type of the tensors. float64 round-trips bit-exactly. @default 'float32' */
  dtype?: TensorDtype;
}

type Json = Record<string, unknown>;

/** The JSON object of a model file (tensors base64-encoded). Checks the model first. */
export function modelToJSON(model: Model, options: SaveModelOptions = {}): Json {
  const { dtype = 'float32' } = options;
  checkModel(model);
  return {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    name: model.name,
    inputShape: [...model.inputShape],
    layers: model.layers.map((l, i) => layerToJSON(l, dtype, `layers[${i}]`)),
    metadata: model.metadata,
  };
}

function layerToJSON(layer: Layer, dtype: TensorDtype, at: string): Json {
  const t = (v: Float64Array, shape: number[], field: string): EncodedTensor => encodeTensor(v, shape, dtype, `${at}.${field}`);
  switch (layer.type) {
    case 'dense':
      return {
        type: 'dense',
        inFeatures: layer.inFeatures,
        outFeatures: layer.outFeatures,
        weight: t(layer.weight, [layer.outFeatures, layer.inFeatures], 'weight'),
        bias: t(layer.bias, [layer.outFeatures], 'bias'),
      };
    case 'conv2d':
      return {
        type: 'conv2d',
        inChannels: layer.inChannels,
        outChannels: layer.outChannels,
        kernel: [...layer.kernel],
        stride: [...layer.stride],
        padding: [...layer.padding],
        weight: t(layer.weight, [layer.outChannels, layer.inChannels, ...layer.kernel], 'weight'),
        bias: t(layer.bias, [layer.outChannels], 'bias'),
      };
    case 'avgpool2d':
      return { type: 'avgpool2d', kernel: [...layer.kernel], stride: [...layer.stride], padding: [...layer.padding] };
    case 'globalavgpool':
    case 'flatten':
      return { type: layer.type };
    case 'batchnorm': {
      const n = [layer.gamma.length];
      return {
        type: 'batchnorm',
        eps: layer.eps,
        gamma: t(layer.gamma, n, 'gamma'),
        beta: t(layer.beta, n, 'beta'),
        mean: t(layer.mean, n, 'mean'),
        variance: t(layer.variance, n, 'variance'),
      };
    }
    case 'dropout':
      return { type: 'dropout', rate: layer.rate };
    case 'activation':
      return { type: 'activation', activation: layer.activation.toJSON() };
    case 'polynomial':
      return { type: 'polynomial', clamp: layer.clamp, approximation: approximationToJSON(layer.approximation) };
  }
}

/** Plain-JSON form of a PolynomialApproximation (coefficients as numbers: JSON keeps doubles exactly). */
export function approximationToJSON(a: PolynomialApproximation): Json {
  return {
    activation: a.activation,
    method: a.method,
    interval: [...a.interval],
    stages: a.stages.map((s) => ({ interval: [...s.interval], coefficients: Array.from(s.coefficients) })),
    finish: a.finish,
  };
}

/** Model file text (JSON, one line per layer and metadata pretty-printed). */
export function serializeModel(model: Model, options: SaveModelOptions = {}): string {
  const json = modelToJSON(model, options);
  const layers = (json.layers as Json[]).map((l) => `    ${JSON.stringify(l)}`).join(',\n');
  return (
    `{\n  "format": ${JSON.stringify(json.format)}, "version": ${json.version}, "name": ${JSON.stringify(json.name)},\n` +
    `  "inputShape": ${JSON.stringify(json.inputShape)},\n` +
    `  "layers": [\n${layers}\n  ],\n` +
    `  "metadata": ${JSON.stringify(json.metadata, null, 2).replace(/\n/g, '\n  ')}\n}\n`
  );
}

export function saveModel(path: string, model: Model, options: SaveModelOptions = {}): void {
  writeFileSync(path, serializeModel(model, options));
}

function field(obj: Json, key: string, at: string): unknown {
  if (!(key in obj)) throw new ModelError(`${at}${at ? '.' : ''}${key}: missing`);
  return obj[key];
}

function intField(obj: Json, key: string, at: string): number {
  const v = field(obj, key, at);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new ModelError(`${at}.${key}: expected a non-negative integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function pairField(obj: Json, key: string, at: string): [number, number] {
  const v = field(obj, key, at);
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => Number.isInteger(x) && x >= 0)) {
    throw new ModelError(`${at}.${key}: expected [height, width] of non-negative integers, got ${JSON.stringify(v)}`);
  }
  return [v[0] as number, v[1] as number];
}

function numberField(obj: Json, key: string, at: string): number {
  const v = field(obj, key, at);
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ModelError(`${at}.${key}: expected a finite number, got ${JSON.stringify(v)}`);
  return v;
}

function objectAt(v: unknown, at: string): Json {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ModelError(`${at}: expected an object`);
  return v as Json;
}

function layerFromJSON(raw: unknown, at: string): Layer {
  const obj = objectAt(raw, at);
  const type = field(obj, 'type', at);
  switch (type) {
    case 'dense': {
      const inFeatures = intField(obj, 'inFeatures', at);
      const outFeatures = intField(obj, 'outFeatures', at);
      return {
        type,
        inFeatures,
        outFeatures,
        weight: decodeTensor(field(obj, 'weight', at), [outFeatures, inFeatures], `${at}.weight`),
        bias: decodeTensor(field(obj, 'bias', at), [outFeatures], `${at}.bias`),
      };
    }
    case 'conv2d': {
      const inChannels = intField(obj, 'inChannels', at);
      const outChannels = intField(obj, 'outChannels', at);
      const kernel = pairField(obj, 'kernel', at);
      return {
        type,
        inChannels,
        outChannels,
        kernel,
        stride: pairField(obj, 'stride', at),
        padding: pairField(obj, 'padding', at),
        weight: decodeTensor(field(obj, 'weight', at), [outChannels, inChannels, ...kernel], `${at}.weight`),
        bias: decodeTensor(field(obj, 'bias', at), [outChannels], `${at}.bias`),
      };
    }
    case 'avgpool2d':
      return { type, kernel: pairField(obj, 'kernel', at), stride: pairField(obj, 'stride', at), padding: pairField(obj, 'padding', at) };
    case 'globalavgpool':
    case 'flatten':
      return { type };
    case 'batchnorm': {
      const g = objectAt(field(obj, 'gamma', at), `${at}.gamma`);
      const n = Array.isArray(g.shape) && g.shape.length === 1 ? (g.shape[0] as number) : NaN;
      if (!Number.isInteger(n) || n < 1) throw new ModelError(`${at}.gamma.shape: expected [channels], got ${JSON.stringify(g.shape)}`);
      return {
        type,
        eps: numberField(obj, 'eps', at),
        gamma: decodeTensor(g, [n], `${at}.gamma`),
        beta: decodeTensor(field(obj, 'beta', at), [n], `${at}.beta`),
        mean: decodeTensor(field(obj, 'mean', at), [n], `${at}.mean`),
        variance: decodeTensor(field(obj, 'variance', at), [n], `${at}.variance`),
      };
    }
    case 'dropout':
      return { type, rate: numberField(obj, 'rate', at) };
    case 'activation':
      try {
        return { type, activation: activationFromJSON(field(obj, 'activation', at)) };
      } catch (err) {
        if (err instanceof ModelError) throw err;
        throw new ModelError(`${at}.activation: ${errorMessage(err)}`, { cause: err });
      }
    case 'polynomial': {
      const clamp = field(obj, 'clamp', at);
      if (typeof clamp !== 'boolean') throw new ModelError(`${at}.clamp: expected true or false, got ${JSON.stringify(clamp)}`);
      return { type, clamp, approximation: approximationFromJSON(field(obj, 'approximation', at), `${at}.approximation`) };
    }
    default:
      throw new ModelError(`${at}.type: unknown layer type ${JSON.stringify(type)}; known: ${LAYER_TYPES.join(', ')}`);
  }
}

function numberArray(v: unknown, at: string): number[] {
  if (!Array.isArray(v)) throw new ModelError(`${at}: expected an array of numbers`);
  v.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new ModelError(`${at}[${i}]: ${JSON.stringify(x)} is not a finite number`);
  });
  return v as number[];
}

/** Read a PolynomialApproximation from its plain-JSON form (the shape checks are done by checkModel). */
export function approximationFromJSON(raw: unknown, at = 'approximation'): PolynomialApproximation {
  const obj = objectAt(raw, at);
  const stagesRaw = field(obj, 'stages', at);
  if (!Array.isArray(stagesRaw)) throw new ModelError(`${at}.stages: expected an array`);
  const stages: ChebyshevPolynomial[] = stagesRaw.map((s, j) => {
    const so = objectAt(s, `${at}.stages[${j}]`);
    return {
      interval: numberArray(field(so, 'interval', `${at}.stages[${j}]`), `${at}.stages[${j}].interval`) as unknown as [number, number],
      coefficients: numberArray(field(so, 'coefficients', `${at}.stages[${j}]`), `${at}.stages[${j}].coefficients`),
    };
  });
  return {
    activation: field(obj, 'activation', at) as string,
    method: field(obj, 'method', at) as PolynomialApproximation['method'],
    interval: numberArray(field(obj, 'interval', at), `${at}.interval`) as unknown as [number, number],
    stages,
    finish: field(obj, 'finish', at) as PolynomialApproximation['finish'],
  };
}

/** Build a model from the parsed JSON of a model file, validating every field. */
export function modelFromJSON(raw: unknown): Model {
  const obj = objectAt(raw, 'model file');
  if (obj.format !== MODEL_FORMAT) {
    throw new ModelError(`format: expected "${MODEL_FORMAT}", got ${JSON.stringify(obj.format)}`);
  }
  if (obj.version !== MODEL_VERSION) {
    throw new ModelError(`version: this pann reads version ${MODEL_VERSION}, got ${JSON.stringify(obj.version)}`);
  }
  const name = field(obj, 'name', '');
  if (typeof name !== 'string') throw new ModelError(`name: expected a string`);
  const inputShape = field(obj, 'inputShape', '');
  if (!Array.isArray(inputShape)) throw new ModelError(`inputShape: expected an array of integers`);
  const layersRaw = field(obj, 'layers', '');
  if (!Array.isArray(layersRaw)) throw new ModelError(`layers: expected an array`);
  const metadata = obj.metadata === undefined ? {} : objectAt(obj.metadata, 'metadata');
  const model: Model = {
    name,
    inputShape: inputShape as number[],
    layers: layersRaw.map((l, i) => layerFromJSON(l, `layers[${i}]`)),
    metadata,
  };
  checkModel(model);
  return model;
}

/** Parse model file text. Truncated or garbage JSON gives a ModelError, never a SyntaxError. */
export function parseModel(text: string, source = 'model'): Model {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ModelError(`${source}: not valid JSON (${errorMessage(err)}); is the file truncated?`, { cause: err });
  }
  try {
    return modelFromJSON(raw);
  } catch (err) {
    if (err instanceof ModelError) throw new ModelError(`${source}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** Read and validate a model file. */
export function loadModel(path: string): Model {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ModelError(`cannot read model file ${path}: ${errorMessage(err)}`, { cause: err });
  }
  return parseModel(text, path);
}
