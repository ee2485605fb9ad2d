/**
 * Training recipes: everything `pann train <recipe>` needs to rebuild a shipped model from scratch (architecture,
 * activation, data, optimiser settings, seed). The shipped models in models/ are trained from these; docs/models.md
 * lists the commands. A recipe can also come from a JSON file (format "pann-recipe", version 1, same fields,
 * checked against RecipeSchema in recipe-schema.ts).
 */
import { readFileSync } from 'node:fs';
import { InputError, errorMessage } from '../errors.js';
import { FIELD_STYLE_GOT_UNDEFINED, checkSchema } from '../schema/index.js';
import { buildModel } from './architecture.js';
import { trainingData, type TrainingData } from './data-source.js';
import type { AugmentOptions } from './augment.js';
import { activationInputRanges } from './calibration.js';
import { evaluateModel, type Evaluation } from './evaluate.js';
import { MNIST_INPUT_SHAPE } from './mnist.js';
import type { Model } from './model.js';
import type { OptimizerName } from './optimizer.js';
import { RecipeSchema } from './recipe-schema.js';
import type { ScheduleOptions } from './schedule.js';
import { trainModel, type TrainProgress, type TrainResult } from './train.js';

export interface Recipe {
  name: string;
  description: string;
  /** Only the built-in MNIST split for now. */
  dataset: 'mnist';
  /** Compact architecture text (see parseArchitecture). */
  architecture: string;
  /** Activation spec for the architecture's `act` layers. */
  activation: string;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerName;
  learningRate: number;
  momentum?: number;
  weightDecay: number;
  schedule: ScheduleOptions;
  mixupAlpha: number;
  augment: AugmentOptions;
  /** Early-stopping patience in epochs (0 = off); the best validation epoch is kept either way. */
  patience: number;
  seed: number;
  /** Why the recipe makes the choices it makes (weight decay in particular). */
  notes?: string;
}

/** The CNN every shipped MNIST CNN shares; fits the encrypted packing the compiler uses at N=8192. */
export const MNIST_CNN_ARCHITECTURE = 'conv2d:5:k5:s2:p1 act flatten dense:64 act dense:10';
export const MNIST_MLP_ARCHITECTURE = 'flatten dense:128 act dense:10';
/**
 * One activation layer: conv 5×5 stride 1 (5 ch) → act → dense 10. Depth 1 + act + 1, so a ReLU stand-in of
 * degree ≤ 31 still fits N=8192 (7 levels at 128-bit security) — the latency model (≈ 0.2 s per image).
 */
export const MNIST_CNN1_ARCHITECTURE = 'conv2d:5:k5:s1:p0 act flatten dense:10';
/**
 * Seven activation layers: 784 → 64 → 32 → 32 → 32 → 32 → 32 → 32 → 10. A ReLU stand-in of precision k ≥ 6 takes
 * k − 2 levels, so the depth is 1 + 7·(k − 1): 36, 43 and 50 at k = 6, 7, 8, past the 32 levels one 128-bit chain
 * holds (N = 32768). It compiles only with refresh rounds (docs/refresh.md); the narrow layers keep each segment's
 * packed products cheap.
 */
export const MNIST_MLP7_ARCHITECTURE =
  'flatten dense:64 act dense:32 act dense:32 act dense:32 act dense:32 act dense:32 act dense:32 act dense:10';

const CNN_NOTES =
  'Weight decay 5e-5 (mild): it keeps activation inputs (and so the polynomial range B) small, while staying far ' +
  'below the values that Zhang et al. (2024) found to hurt accuracy under low-precision polynomial activations.';

/** What every shipped recipe shares: Adam, batch 64, cosine schedule, mild augmentation and weight decay, seed 1. */
const SHIPPED_BASE = {
  dataset: 'mnist' as const,
  batchSize: 64,
  optimizer: 'adam' as const,
  weightDecay: 5e-5,
  schedule: { name: 'cosine' as const, warmupEpochs: 1 },
  mixupAlpha: 0,
  augment: { shift: 2, rotate: 12, scale: 0.1 },
  patience: 0,
  seed: 1,
  notes: CNN_NOTES,
};

const CNN_BASE = { ...SHIPPED_BASE, architecture: MNIST_CNN_ARCHITECTURE, epochs: 60, learningRate: 2e-3 };

const MLP_BASE = { ...SHIPPED_BASE, activation: 'relu', epochs: 40, learningRate: 1e-3 };

export const RECIPES: Readonly<Record<string, Recipe>> = {
  'mnist-mlp-relu': {
    ...MLP_BASE,
    name: 'mnist-mlp-relu',
    description: 'MLP 784-128-10 with ReLU on the MNIST split',
    architecture: MNIST_MLP_ARCHITECTURE,
  },
  'mnist-mlp7-relu': {
    ...MLP_BASE,
    name: 'mnist-mlp7-relu',
    description: 'MLP 784-64-32-32-32-32-32-32-10 with ReLU: seven activation layers, deeper than one 128-bit chain holds at k ≥ 6',
    architecture: MNIST_MLP7_ARCHITECTURE,
  },
  'mnist-cnn-relu': {
    ...CNN_BASE,
    name: 'mnist-cnn-relu',
    description: 'conv 5×5/2 (5 ch) → ReLU → dense 64 → ReLU → dense 10',
    activation: 'relu',
  },
  'mnist-cnn1-relu': {
    ...CNN_BASE,
    name: 'mnist-cnn1-relu',
    description: 'conv 5×5/1 (5 ch) → ReLU → dense 10: one activation layer, so it compiles to N=8192 at useful precision',
    architecture: MNIST_CNN1_ARCHITECTURE,
    activation: 'relu',
  },
  'mnist-cnn-ulu': {
    ...CNN_BASE,
    name: 'mnist-cnn-ulu',
    description: 'the mnist-cnn-relu network with ULU (a1 = 0.5 for x<0, a2 = 2 for x≥0)',
    activation: 'ulu:a1=0.5,a2=2',
  },
  'mnist-cnn-aulu': {
    ...CNN_BASE,
    name: 'mnist-cnn-aulu',
    description: 'the mnist-cnn-relu network with AULU (learnable b1, b2 per layer, from 1, 1)',
    activation: 'aulu:b1=1,b2=1',
  },
};

export { RECIPE_FORMAT } from './recipe-schema.js';

/** Validate a recipe object (from JSON): the schema (RecipeSchema), then the defaults; errors name the field. */
export function recipeFromJSON(raw: unknown, source = 'recipe'): Recipe {
  checkSchema(RecipeSchema, raw, { error: (message) => new InputError(message), source, root: 'recipe', style: FIELD_STYLE_GOT_UNDEFINED });
  const o = raw;
  return {
    name: o.name,
    description: o.description ?? '',
    dataset: 'mnist',
    architecture: o.architecture,
    activation: o.activation ?? 'relu',
    epochs: o.epochs,
    batchSize: o.batchSize ?? 64,
    optimizer: o.optimizer ?? 'adam',
    learningRate: o.learningRate ?? 1e-3,
    momentum: o.momentum ?? 0.9,
    weightDecay: o.weightDecay ?? 0,
    schedule: o.schedule ?? {},
    mixupAlpha: o.mixupAlpha ?? 0,
    augment: o.augment ?? {},
    patience: o.patience ?? 0,
    seed: o.seed ?? 1,
    ...(o.notes !== undefined ? { notes: o.notes } : {}),
  };
}

/** A built-in recipe by name, or a recipe JSON file by path. */
export function resolveRecipe(nameOrPath: string): Recipe {
  const builtin = RECIPES[nameOrPath];
  if (builtin) return { ...builtin, schedule: { ...builtin.schedule }, augment: { ...builtin.augment } };
  if (!nameOrPath.endsWith('.json')) {
    throw new InputError(`unknown recipe '${nameOrPath}'; built-in recipes: ${Object.keys(RECIPES).join(', ')} (or a recipe .json file)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(nameOrPath, 'utf8'));
  } catch (err) {
    throw new InputError(`cannot read recipe ${nameOrPath}: ${errorMessage(err)}`, { cause: err });
  }
  return recipeFromJSON(raw, nameOrPath);
}

export interface RecipeRun {
  model: Model;
  train: TrainResult;
  validation: Evaluation;
  /** null when the data has no test part. */
  test: Evaluation | null;
}

export interface RunRecipeOptions {
  onProgress?: (p: TrainProgress) => void;
  /** Extra metadata (e.g. the command line that ran the recipe). */
  metadata?: Record<string, unknown>;
  /** The data. @default the MNIST split */
  data?: TrainingData;
}

/**
 * Build the recipe's model, train it on the train data (default: the MNIST train split) with early stopping on the
 * validation data, and record in its metadata: the recipe, the data, test and validation accuracy, training time
 * and history, and the activation input ranges on the train data (the calibration split).
 */
export function runRecipe(recipe: Recipe, options: RunRecipeOptions = {}): RecipeRun {
  const { train, validation, test, description } = options.data ?? trainingData();
  const initial = buildModel(recipe.name, MNIST_INPUT_SHAPE, recipe.architecture, { seed: recipe.seed, activation: recipe.activation });
  const result = trainModel(initial, train, {
    epochs: recipe.epochs,
    batchSize: recipe.batchSize,
    optimizer: recipe.optimizer,
    learningRate: recipe.learningRate,
    ...(recipe.momentum !== undefined ? { momentum: recipe.momentum } : {}),
    weightDecay: recipe.weightDecay,
    schedule: recipe.schedule,
    mixupAlpha: recipe.mixupAlpha,
    augment: recipe.augment,
    validation,
    patience: recipe.patience,
    seed: recipe.seed,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const model = result.model;
  const v = evaluateModel(model, validation);
  const t = test ? evaluateModel(model, test) : null;
  const ranges = activationInputRanges(model, train, { percentiles: [99, 99.9] });
  model.metadata = {
    description: recipe.description,
    recipe,
    dataset: description,
    accuracy: t ? { test: t.accuracy, validation: v.accuracy } : { validation: v.accuracy },
    loss: t ? { test: t.loss, validation: v.loss } : { validation: v.loss },
    training: trainingMetadata(result),
    calibration: {
      split: 'train',
      layers: ranges.map((r) => ({
        layer: r.layer,
        activation: r.activation,
        min: r.min,
        max: r.max,
        maxAbs: r.maxAbs,
        p99Abs: r.percentiles[0]!.abs,
        p999Abs: r.percentiles[1]!.abs,
      })),
    },
    trainedAt: new Date().toISOString(),
    ...options.metadata,
  };
  return { model, train: result, validation: v, test: t };
}

function trainingMetadata(result: TrainResult): Record<string, unknown> {
  return {
    seconds: Math.round(result.seconds * 10) / 10,
    epochsRun: result.history.length,
    bestEpoch: result.bestEpoch + 1,
    stoppedEarly: result.stoppedEarly,
    history: result.history.map((h) => ({
      epoch: h.epoch + 1,
      loss: round(h.loss),
      accuracy: round(h.accuracy),
      validationAccuracy: h.validationAccuracy,
    })),
  };
}

function round(x: number): number {
  return Math.round(x * 1e5) / 1e5;
}
