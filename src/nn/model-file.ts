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
 * Loading checks every field against ModelFileSchema (model-schema.ts), then the tensors against their layers and
 * the model with checkModel, and names the bad field (`layers[2].weight: expected 3920 float32 values, got 3919`).
 */
import { readFileSync } from 'node:fs';
import { activationFromJSON } from '../approx/activations.js';
import type { ChebyshevPolynomial, PolynomialApproximation } from '../approx/polynomial.js';
import { ModelError, errorMessage } from '../errors.js';
import { checkSchema, fieldError, type CheckOptions } from '../schema/index.js';
import { checkModel, isSequential, type Layer, type Model } from './model.js';
import {
  MODEL_FORMAT,
  MODEL_VERSION,
  MODEL_VERSION_DAG,
  ModelFileSchema,
  PolynomialApproximationSchema,
  type LayerJson,
  type PolynomialApproximationJson,
} from './model-schema.js';
import { decodeTensor, encodeTensor, type EncodedTensor, type TensorDtype } from './tensor-codec.js';
import { writeFileAtomic } from '../files.js';

export { MODEL_FORMAT, MODEL_VERSION } from './model-schema.js';

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
    version: isSequential(model) ? MODEL_VERSION : MODEL_VERSION_DAG,
    name: model.name,
    inputShape: [...model.inputShape],
    layers: model.layers.map((l, i) => ({ ...layerToJSON(l, dtype, `layers[${i}]`), ...(l.from !== undefined ? { from: l.from } : {}) })),
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
    case 'add':
      return { type: 'add', other: layer.other };
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
    `{\n  "format": ${JSON.stringify(json.format)}, "version": ${JSON.stringify(json.version)}, "name": ${JSON.stringify(json.name)},\n` +
    `  "inputShape": ${JSON.stringify(json.inputShape)},\n` +
    `  "layers": [\n${layers}\n  ],\n` +
    `  "metadata": ${JSON.stringify(json.metadata, null, 2).replace(/\n/g, '\n  ')}\n}\n`
  );
}

/** Write a model file (pann-model JSON; float32 tensors unless `options.dtype` says float64). */
export function saveModel(path: string, model: Model, options: SaveModelOptions = {}): void {
  writeFileAtomic(path, serializeModel(model, options));
}

const CHECK: CheckOptions = { error: (message) => new ModelError(message), root: 'model file' };

function layerFromJSON(l: LayerJson, at: string): Layer {
  const layer = layerBodyFromJSON(l, at);
  return l.from !== undefined ? { ...layer, from: l.from } : layer;
}

function layerBodyFromJSON(l: LayerJson, at: string): Layer {
  switch (l.type) {
    case 'dense':
      return {
        type: l.type,
        inFeatures: l.inFeatures,
        outFeatures: l.outFeatures,
        weight: decodeTensor(l.weight, [l.outFeatures, l.inFeatures], `${at}.weight`),
        bias: decodeTensor(l.bias, [l.outFeatures], `${at}.bias`),
      };
    case 'conv2d':
      return {
        type: l.type,
        inChannels: l.inChannels,
        outChannels: l.outChannels,
        kernel: l.kernel,
        stride: l.stride,
        padding: l.padding,
        weight: decodeTensor(l.weight, [l.outChannels, l.inChannels, ...l.kernel], `${at}.weight`),
        bias: decodeTensor(l.bias, [l.outChannels], `${at}.bias`),
      };
    case 'avgpool2d':
      return { type: l.type, kernel: l.kernel, stride: l.stride, padding: l.padding };
    case 'globalavgpool':
    case 'flatten':
      return { type: l.type };
    case 'batchnorm': {
      const shape = l.gamma.shape;
      const n = shape.length === 1 ? shape[0]! : NaN;
      if (!(n >= 1)) throw fieldError(CHECK, `${at}.gamma.shape`, `expected [channels], got ${JSON.stringify(shape)}`);
      return {
        type: l.type,
        eps: l.eps,
        gamma: decodeTensor(l.gamma, [n], `${at}.gamma`),
        beta: decodeTensor(l.beta, [n], `${at}.beta`),
        mean: decodeTensor(l.mean, [n], `${at}.mean`),
        variance: decodeTensor(l.variance, [n], `${at}.variance`),
      };
    }
    case 'dropout':
      return { type: l.type, rate: l.rate };
    case 'activation':
      try {
        return { type: l.type, activation: activationFromJSON(l.activation) };
      } catch (err) {
        throw new ModelError(`${at}.activation: ${errorMessage(err)}`, { cause: err });
      }
    case 'polynomial':
      return { type: l.type, clamp: l.clamp, approximation: approximationFromSchema(l.approximation) };
    case 'add':
      return { type: l.type, other: l.other };
  }
}

function approximationFromSchema(a: PolynomialApproximationJson): PolynomialApproximation {
  return {
    activation: a.activation,
    method: a.method,
    interval: a.interval,
    stages: a.stages.map((s): ChebyshevPolynomial => ({ interval: s.interval, coefficients: s.coefficients })),
    finish: a.finish,
  };
}

/** Read a PolynomialApproximation from its plain-JSON form (PolynomialApproximationSchema; a < b is checked by checkModel). */
export function approximationFromJSON(raw: unknown, at = 'approximation'): PolynomialApproximation {
  checkSchema(PolynomialApproximationSchema, raw, { ...CHECK, root: at });
  return approximationFromSchema(raw);
}

/** Build a model from the parsed JSON of a model file: the schema (ModelFileSchema), then checkModel. */
export function modelFromJSON(raw: unknown): Model {
  checkSchema(ModelFileSchema, raw, CHECK);
  const model: Model = {
    name: raw.name,
    inputShape: raw.inputShape,
    layers: raw.layers.map((l, i) => layerFromJSON(l, `layers[${i}]`)),
    metadata: raw.metadata ?? {},
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
