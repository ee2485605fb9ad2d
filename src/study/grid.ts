/**
 * The study grid: which cells a precision study measures. A grid is a JSON file (format "pann-study-grid",
 * version 1) or the same object built from CLI flags. Its axes are the issue's: precision k, approximation
 * method, the trained network (activation and training technique, one model file each), a per-cell remedy
 * (none, polynomial-aware fine-tuning, asymmetric fit), the range-margin rule and the CKKS scale bits.
 *
 * The cells are the cartesian product of the axes, with pruning: `composite` only for networks whose activations
 * are all ReLU/|x| (the only composite fits), `asymmetric` only with `remez` (the weighted minimax fit). A grid may
 * list `blocks`: each block overrides some axes of the top level and contributes its own product; the grid's cells
 * are the union (duplicates once). A grid file is checked against GridSchema (grid-schema.ts).
 */
import { isPrecisionBits } from '../approx/precision.js';
import { StudyError } from '../errors.js';
import { FIELD_STYLE_GOT_UNDEFINED, checkSchema, fieldError, type CheckOptions } from '../schema/index.js';
import type { DataSpec } from '../nn/data-source.js';
import {
  GRID_FORMAT,
  GRID_VERSION,
  GridSchema,
  REMEDIES,
  STUDY_METHODS,
  precisionText,
  rangeObjectText,
  type AxesJson,
  type SettingsJson,
} from './grid-schema.js';

export { GRID_FORMAT, GRID_VERSION, REMEDIES, STUDY_METHODS } from './grid-schema.js';

export type StudyMethod = (typeof STUDY_METHODS)[number];

/** Per-cell operations on a trained model (training techniques that need a model file are model entries). */
export type Remedy = (typeof REMEDIES)[number];

/** A trained network of the study, with the training technique it was trained with. */
export interface StudyModel {
  /** Model file (pann-model JSON), relative to the grid file's directory or absolute. */
  path: string;
  /** Training technique label, e.g. baseline, wd0, wd5e-4, mixup. @default 'baseline' */
  technique: string;
}

export interface StudyRange {
  /** @default 'max' */
  rule: 'max' | 'percentile';
  /** B = margin × (max or percentile of |x|). @default 1.1 */
  margin: number;
  /** Percentile of |x| for the percentile rule. @default 99.9 */
  percentile: number;
}

/** The grid axes. */
export interface GridAxes {
  models: StudyModel[];
  precisions: number[];
  methods: StudyMethod[];
  remedies: Remedy[];
  ranges: StudyRange[];
  /** CKKS scale bits: 'auto' = the compiler's choice for k (about k + 14, lowered to fit a ring). */
  scaleBits: ('auto' | number)[];
}

/** Settings shared by every cell. */
export interface StudySettings {
  /** Split on which accuracy is measured. @default 'test' */
  split: 'test' | 'validation';
  /** Digits of that split to run (from the start). @default 1000 (the whole split) */
  count: number;
  /** Calibration digits (the first n of the train split). @default 1000 */
  calibration: number;
  /** Seed of the sim backend's noise. @default 1 */
  noiseSeed: number;
  /** Asymmetric fit: errors on negative inputs weigh this much more. @default 4 */
  asymmetricWeight: number;
  /**
   * Fine-tuning: epochs over the train split, learning rate, seed, and how inputs are kept in [−B, B] during
   * training ('penalty': a range penalty, nothing clamped — the encrypted circuit cannot clamp either).
   * @default { epochs: 1, learningRate: 1e-4, seed: 1, range: 'penalty' }
   */
  finetune: { epochs: number; learningRate: number; seed: number; range: 'clamp' | 'penalty' };
  /**
   * Largest ring dimension simulated: cells whose circuit needs a larger N are compiled and costed (depth,
   * parameters, predicted latency) but not run (status 'costed'). @default 32768 (simulate every cell)
   */
  maxSimulatedRing: number;
  /**
   * Largest predicted encrypted latency (ms per digit) simulated: slower cells are compiled and costed only
   * (status 'costed'); null = no limit. @default null
   */
  maxSimulatedLatencyMs: number | null;
  /**
   * Largest polynomial degree simulated (per stage; a composite's stages count separately): cells with a
   * higher-degree stage are compiled and costed only; null = no limit. @default null
   */
  maxSimulatedDegree: number | null;
  /** SEAL spot check: digits per checked cell and which cells ('front' = the accuracy/latency Pareto front of each model). @default { sample: 0, cells: 'none' } */
  seal: { sample: number; cells: 'none' | 'all' | 'front' };
  /**
   * Your own data instead of the MNIST split (set by runStudy from its `data` option, not read from grid files):
   * the spec and its content fingerprint (part of every cell's cache key). @default the MNIST split
   */
  data?: { spec: DataSpec; fingerprint: string };
}

/** A precision study's grid (pann-study-grid): the models and axes to sweep, in blocks, and the settings. */
export interface StudyGrid extends GridAxes {
  name: string;
  blocks: Partial<GridAxes>[];
  settings: StudySettings;
}

/** One cell of the grid. */
export interface StudyCell {
  /** Stable readable id, unique within a grid. */
  id: string;
  model: StudyModel;
  k: number;
  method: StudyMethod;
  remedy: Remedy;
  range: StudyRange;
  scaleBits: 'auto' | number;
}

export const DEFAULT_SETTINGS: StudySettings = {
  split: 'test',
  count: 1000,
  calibration: 1000,
  noiseSeed: 1,
  asymmetricWeight: 4,
  finetune: { epochs: 1, learningRate: 1e-4, seed: 1, range: 'penalty' },
  maxSimulatedRing: 32768,
  maxSimulatedLatencyMs: null,
  maxSimulatedDegree: null,
  seal: { sample: 0, cells: 'none' },
};

const DEFAULT_RANGE: StudyRange = { rule: 'max', margin: 1.1, percentile: 99.9 };

type Json = Record<string, unknown>;

function checkOptions(source: string): CheckOptions {
  return { error: (message) => new StudyError(message), source, root: 'grid', style: FIELD_STYLE_GOT_UNDEFINED };
}

type Fail = (field: string, text: string) => never;

function models(v: NonNullable<AxesJson['models']>): StudyModel[] {
  return v.map((m) =>
    typeof m === 'string' ? { path: m, technique: 'baseline' } : { path: m.path, technique: m.technique ?? 'baseline' },
  );
}

function precisions(v: NonNullable<AxesJson['precisions']>, field: string, fail: Fail): number[] {
  let list = v as number[];
  if (!Array.isArray(v)) {
    const { from, to, step = 1 } = v;
    if (to < from) fail(field, rangeObjectText(v));
    list = [];
    for (let k = from; k <= to; k += step) list.push(k);
    list.forEach((k, i) => {
      if (!isPrecisionBits(k)) fail(`${field}[${i}]`, precisionText(k));
    });
  }
  return [...new Set(list)].sort((a, b) => a - b);
}

function ranges(v: NonNullable<AxesJson['ranges']>): StudyRange[] {
  return v.map((r) => ({
    rule: r.rule ?? DEFAULT_RANGE.rule,
    margin: r.margin ?? DEFAULT_RANGE.margin,
    percentile: r.percentile ?? DEFAULT_RANGE.percentile,
  }));
}

/** Each axis from its (schema-checked) JSON: defaults of the entries filled in, repeats dropped. */
const AXIS_READERS: { [K in keyof GridAxes]: (v: NonNullable<AxesJson[K]>, field: string, fail: Fail) => GridAxes[K] } = {
  models: (v) => models(v),
  precisions,
  methods: (v) => [...new Set(v)],
  remedies: (v) => [...new Set(v)],
  ranges: (v) => ranges(v),
  scaleBits: (v) => [...new Set(v)],
};

/** The axes a grid (or a block) gives, in the order it gives them; defaults not filled in. */
function axesFrom(a: AxesJson, at: string, fail: Fail): Partial<GridAxes> {
  const out: Partial<Record<keyof GridAxes, unknown>> = {};
  for (const key of Object.keys(a)) {
    if (!(key in AXIS_READERS) || a[key as keyof GridAxes] === undefined) continue;
    const read = AXIS_READERS[key as keyof GridAxes] as (v: unknown, field: string, fail: Fail) => unknown;
    out[key as keyof GridAxes] = read(a[key as keyof GridAxes], at === '' ? key : `${at}.${key}`, fail);
  }
  return out as Partial<GridAxes>;
}

const AXIS_DEFAULTS: Omit<GridAxes, 'models' | 'precisions'> = {
  methods: ['remez'],
  remedies: ['none'],
  ranges: [DEFAULT_RANGE],
  scaleBits: ['auto'],
};

function settingsFrom(v: SettingsJson | undefined): StudySettings {
  const d = DEFAULT_SETTINGS;
  if (v === undefined) return structuredClone(d);
  return {
    split: v.split ?? d.split,
    count: v.count ?? d.count,
    calibration: v.calibration ?? d.calibration,
    noiseSeed: v.noiseSeed ?? d.noiseSeed,
    asymmetricWeight: v.asymmetricWeight ?? d.asymmetricWeight,
    finetune: {
      epochs: v.finetune?.epochs ?? d.finetune.epochs,
      learningRate: v.finetune?.learningRate ?? d.finetune.learningRate,
      seed: v.finetune?.seed ?? d.finetune.seed,
      range: v.finetune?.range ?? d.finetune.range,
    },
    maxSimulatedRing: v.maxSimulatedRing ?? d.maxSimulatedRing,
    maxSimulatedLatencyMs: v.maxSimulatedLatencyMs ?? null,
    maxSimulatedDegree: v.maxSimulatedDegree ?? null,
    seal: { sample: v.seal?.sample ?? d.seal.sample, cells: v.seal?.cells ?? d.seal.cells },
  };
}

/** Validate a grid object (parsed JSON): the schema (GridSchema), then the checks across fields; errors name the field. */
export function gridFromJSON(raw: unknown, source = 'grid'): StudyGrid {
  const options = checkOptions(source);
  checkSchema(GridSchema, raw, options);
  const fail: Fail = (field, text) => {
    throw fieldError(options, field, text);
  };
  const blocks = (raw.blocks ?? []).map((b, i) => axesFrom(b, `blocks[${i}]`, fail));
  const top = axesFrom(raw, '', fail);
  // the top level may leave models/precisions to the blocks, but every block must then have them
  blocks.forEach((b, i) => {
    if (!top.models && !b.models) fail(`blocks[${i}].models`, 'missing (and no top-level models)');
    if (!top.precisions && !b.precisions) fail(`blocks[${i}].precisions`, 'missing (and no top-level precisions)');
  });
  if (blocks.length === 0) {
    if (!top.models) fail('models', 'missing: list the model files to study');
    if (!top.precisions) fail('precisions', 'missing: list the precisions k (e.g. { "from": 3, "to": 14 })');
  }
  return {
    name: raw.name ?? 'study',
    models: top.models ?? [],
    precisions: top.precisions ?? [],
    methods: top.methods ?? AXIS_DEFAULTS.methods,
    remedies: top.remedies ?? AXIS_DEFAULTS.remedies,
    ranges: top.ranges ?? AXIS_DEFAULTS.ranges,
    scaleBits: top.scaleBits ?? AXIS_DEFAULTS.scaleBits,
    blocks,
    settings: settingsFrom(raw.settings),
  };
}

/** The JSON form of a grid (what gridFromJSON reads back). */
export function gridToJSON(grid: StudyGrid): Json {
  return {
    format: GRID_FORMAT,
    version: GRID_VERSION,
    name: grid.name,
    models: grid.models,
    precisions: grid.precisions,
    methods: grid.methods,
    remedies: grid.remedies,
    ranges: grid.ranges,
    scaleBits: grid.scaleBits,
    ...(grid.blocks.length ? { blocks: grid.blocks } : {}),
    settings: grid.settings,
  };
}

/** How a range rule is written in ids and reports: max×1.1, p99.9×1.1. */
export function rangeLabel(r: StudyRange): string {
  return r.rule === 'max' ? `max×${r.margin}` : `p${r.percentile}×${r.margin}`;
}

/** A cell's readable id: model path, technique, remedy, method, k, range, scale. */
export function cellId(c: Omit<StudyCell, 'id'>): string {
  return [c.model.path, c.model.technique, c.remedy, c.method, `k${c.k}`, rangeLabel(c.range), `s${c.scaleBits}`].join('|');
}

/** Facts about a model file the pruning needs. */
export interface ModelFacts {
  /** Activation names of its activation layers (e.g. ['relu', 'relu']). */
  activations: string[];
}

/** Whether composite fits exist for every activation (ReLU and |x| only). */
export function compositeApplies(facts: ModelFacts): boolean {
  return facts.activations.length > 0 && facts.activations.every((a) => a === 'relu' || a === 'abs');
}

/** The cells of a grid: the product of each block's axes (or of the top level), pruned, deduplicated, in order. */
export function expandGrid(grid: StudyGrid, factsOf: (path: string) => ModelFacts): StudyCell[] {
  const parts: GridAxes[] = grid.blocks.length ? grid.blocks.map((b) => ({ ...grid, ...b })) : [grid];
  const cells = new Map<string, StudyCell>();
  for (const p of parts) {
    for (const model of p.models) {
      const facts = factsOf(model.path);
      for (const remedy of p.remedies) {
        for (const method of p.methods) {
          if (method === 'composite' && !compositeApplies(facts)) continue;
          if (remedy === 'asymmetric' && method !== 'remez') continue;
          for (const range of p.ranges) {
            for (const scaleBits of p.scaleBits) {
              for (const k of p.precisions) {
                const c = { model, k, method, remedy, range, scaleBits };
                const id = cellId(c);
                if (!cells.has(id)) cells.set(id, { id, ...c });
              }
            }
          }
        }
      }
    }
  }
  if (cells.size === 0) {
    throw new StudyError('the grid has no cells after pruning (composite needs ReLU/|x| networks; asymmetric needs the remez method)');
  }
  return [...cells.values()];
}
