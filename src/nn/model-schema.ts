/**
 * The schema of the model file (format "pann-model", version 1): layers told apart by `type`, tensors as
 * `{ dtype, shape, data }` with base64 data, polynomial approximations with plain-number coefficients. What depends
 * on other fields (a tensor's shape vs its layer's sizes, the data length vs the shape, finite tensor values, the
 * activation's name, interval a < b, shapes chaining from layer to layer) is checked in code after it
 * (model-file.ts, tensor-codec.ts, checkModel).
 */
import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { ActivationSpecSchema } from '../approx/approximation-schema.js';
import { Base64, Described, FiniteNumber, Integer, List, NonEmptyString, OneOf, Pair, Tagged, shown, withNotes } from '../schema/index.js';
import { LAYER_TYPES } from './model.js';

export const MODEL_FORMAT = 'pann-model';
export const MODEL_VERSION = 1;
/** Files whose layers branch (`from`, `add`: residual networks) are version 2; sequential ones stay version 1. */
export const MODEL_VERSION_DAG = 2;

const count = Integer({ min: 0 });
const pair = Pair(Integer({ min: 0 }), { whole: true, expected: '[height, width] of non-negative integers' });
const finite = FiniteNumber();

export const TensorSchema = withNotes(
  Type.Object({
    dtype: OneOf(['float32', 'float64'], { expected: '"float32" or "float64"' }),
    shape: withNotes(Type.Array(Integer({ min: 0 })), { whole: true, expected: 'an array of non-negative integers' }),
    data: Described(
      Base64({ invalid: (v) => (typeof v === 'string' ? `not valid base64 (length ${v.length})` : 'expected a base64 string') }),
      'the values, little-endian, row-major',
    ),
  }),
  { invalid: () => 'expected a tensor {dtype, shape, data}' },
);

/** `[a, b]` with finite a < b (a < b is checked by checkModel). */
const interval = Pair(finite, { whole: true, expected: '[a, b] with finite a < b' });

const coefficients = withNotes(
  List(FiniteNumber({}, { invalid: (v) => `${shown(v)} is not a finite number` }), { min: 1 }, () => 'expected at least one coefficient'),
  { invalid: () => 'expected an array of numbers' },
);

/** A fitted polynomial stand-in as a model file holds it (coefficients as JSON numbers: doubles are kept exactly). */
export const PolynomialApproximationSchema = Type.Object({
  activation: NonEmptyString({ invalid: () => 'expected an activation spec string' }),
  method: OneOf(['chebyshev', 'remez', 'composite'], { expected: 'chebyshev, remez or composite' }),
  interval,
  stages: List(Type.Object({ interval, coefficients }), { min: 1 }, () => 'expected at least one stage'),
  finish: OneOf(['none', 'relu', 'abs'], { expected: 'none, relu or abs' }),
});

/** Where a layer reads its input: an earlier layer's index, or −1 for the model input (checked by checkModel). */
const layerRef = Described(Integer({ min: -1 }), 'an earlier layer, or -1 for the model input');

function layer<const T extends string, P extends TProperties>(type: T, properties: P) {
  return Type.Object({ type: Type.Literal(type), ...properties, from: Type.Optional(layerRef) });
}

const Layer = Tagged(
  'type',
  [
    layer('dense', { inFeatures: count, outFeatures: count, weight: TensorSchema, bias: TensorSchema }),
    layer('conv2d', {
      inChannels: count,
      outChannels: count,
      kernel: pair,
      stride: pair,
      padding: pair,
      weight: TensorSchema,
      bias: TensorSchema,
    }),
    layer('avgpool2d', { kernel: pair, stride: pair, padding: pair }),
    layer('globalavgpool', {}),
    layer('flatten', {}),
    layer('batchnorm', {
      eps: FiniteNumber({ above: 0 }, { expected: 'a finite number > 0' }),
      gamma: TensorSchema,
      beta: TensorSchema,
      mean: TensorSchema,
      variance: TensorSchema,
    }),
    layer('dropout', { rate: FiniteNumber({ min: 0, below: 1 }) }),
    layer('activation', { activation: ActivationSpecSchema }),
    layer('polynomial', {
      clamp: withNotes(Type.Boolean(), { invalid: (v) => `expected true or false, got ${shown(v)}` }),
      approximation: PolynomialApproximationSchema,
    }),
    layer('add', { other: layerRef }),
  ],
  {
    unknownTag: (type) => `unknown layer type ${shown(type)}; known: ${LAYER_TYPES.join(', ')}`,
    notes: { invalid: () => 'expected an object' },
  },
);

export const ModelFileSchema = Type.Object(
  {
    format: withNotes(Type.Literal(MODEL_FORMAT), { missing: `expected "${MODEL_FORMAT}", got undefined` }),
    version: withNotes(Type.Union([Type.Literal(MODEL_VERSION), Type.Literal(MODEL_VERSION_DAG)]), {
      invalid: (v) => `this pann reads versions ${MODEL_VERSION} and ${MODEL_VERSION_DAG}, got ${shown(v)}`,
      missing: `this pann reads versions ${MODEL_VERSION} and ${MODEL_VERSION_DAG}, got undefined`,
    }),
    name: withNotes(Type.String(), { invalid: () => 'expected a string' }),
    inputShape: Described(
      withNotes(Type.Array(Integer({ min: 1 })), { invalid: () => 'expected an array of integers' }),
      '[features] or [channels, height, width]',
    ),
    layers: Type.Array(Layer),
    metadata: Type.Optional(Type.Object({}, { description: 'recipe, accuracy, calibration ranges, … (free form)' })),
  },
  {
    $id: 'urn:pann:schema:pann-model:1',
    title: 'pann model',
    description:
      'A trained network (pann train, pann import): input shape, layers and metadata. Tensors are base64 of little-endian ' +
      'float32 or float64 values. Checks across fields (tensor shapes vs layer sizes, data lengths, finite values, the ' +
      'activation name, a < b, shapes chaining through the layers) are made in code on loading.',
  },
);

export type ModelFileJson = Static<typeof ModelFileSchema>;
export type LayerJson = Static<typeof Layer>;
export type PolynomialApproximationJson = Static<typeof PolynomialApproximationSchema>;
