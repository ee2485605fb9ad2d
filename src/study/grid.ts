/**
 * The study grid: which cells a precision study measures. A grid is a JSON file (format "pann-study-grid",
 * version 1) or the same object built from CLI flags. Its axes are the issue's: precision k, approximation
 * method, the trained network (activation and training technique, one model file each), a per-cell remedy
 * (none, polynomial-aware fine-tuning, asymmetric fit), the range-margin rule and the CKKS scale bits.
 *
 * The cells are the cartesian product of the axes, with pruning: `composite` only for networks whose activations
 * are all ReLU/|x| (the only composite fits), `asymmetric` only with `remez` (the weighted minimax fit). A grid may
 * list `blocks`: each block overrides some axes of the top level and contributes its own product; the grid's cells
 * are the union (duplicates once).
 */
import { StudyError } from '../errors.js';

export const GRID_FORMAT = 'pann-study-grid';
export const GRID_VERSION = 1;

export const STUDY_METHODS = ['chebyshev', 'remez', 'composite', 'auto'] as const;
export type StudyMethod = (typeof STUDY_METHODS)[number];

/** Per-cell operations on a trained model (training techniques that need a model file are model entries). */
export const REMEDIES = ['none', 'finetune', 'asymmetric'] as const;
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
}

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

function fail(source: string, field: string, msg: string): never {
  throw new StudyError(`${source}: ${field}: ${msg}`);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonEmptyArray(source: string, field: string, v: unknown): unknown[] {
  if (!Array.isArray(v)) fail(source, field, `expected an array, got ${JSON.stringify(v)}`);
  if (v.length === 0) fail(source, field, 'is empty: a grid needs at least one value on every axis');
  return v;
}

function parseModels(source: string, field: string, v: unknown): StudyModel[] {
  return nonEmptyArray(source, field, v).map((m, i) => {
    const f = `${field}[${i}]`;
    if (typeof m === 'string' && m !== '') return { path: m, technique: 'baseline' };
    if (!isObject(m)) fail(source, f, 'expected a model path or { "path": ..., "technique": ... }');
    if (typeof m.path !== 'string' || m.path === '') fail(source, `${f}.path`, 'expected a non-empty string');
    const technique = m.technique ?? 'baseline';
    if (typeof technique !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.+-]*$/.test(technique)) {
      fail(source, `${f}.technique`, `expected a label of letters, digits and _.+- , got ${JSON.stringify(m.technique)}`);
    }
    return { path: m.path, technique };
  });
}

function parsePrecisions(source: string, field: string, v: unknown): number[] {
  let list: unknown[];
  if (isObject(v)) {
    const { from, to, step = 1 } = v;
    const ok = (x: unknown) => typeof x === 'number' && Number.isInteger(x);
    if (!ok(from) || !ok(to) || !ok(step) || (step as number) < 1 || (to as number) < (from as number)) {
      fail(source, field, `expected { "from": a, "to": b, "step": s } with integers a ≤ b and s ≥ 1, got ${JSON.stringify(v)}`);
    }
    list = [];
    for (let k = from as number; k <= (to as number); k += step as number) list.push(k);
  } else list = nonEmptyArray(source, field, v);
  const out = list.map((k, i) => {
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > 40)
      fail(source, `${field}[${i}]`, `precision must be an integer in 1..40, got ${JSON.stringify(k)}`);
    return k;
  });
  return [...new Set(out)].sort((a, b) => a - b);
}

function parseEnum<T extends string>(source: string, field: string, v: unknown, allowed: readonly T[]): T[] {
  return [
    ...new Set(
      nonEmptyArray(source, field, v).map((x, i) => {
        if (typeof x !== 'string' || !allowed.includes(x as T))
          fail(source, `${field}[${i}]`, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(x)}`);
        return x as T;
      }),
    ),
  ];
}

function parseRanges(source: string, field: string, v: unknown): StudyRange[] {
  return nonEmptyArray(source, field, v).map((r, i) => {
    const f = `${field}[${i}]`;
    if (!isObject(r)) fail(source, f, 'expected { "rule": "max" | "percentile", "margin": m, "percentile": p }');
    const rule = r.rule ?? 'max';
    if (rule !== 'max' && rule !== 'percentile') fail(source, `${f}.rule`, `expected "max" or "percentile", got ${JSON.stringify(r.rule)}`);
    const margin = r.margin ?? DEFAULT_RANGE.margin;
    if (typeof margin !== 'number' || !Number.isFinite(margin) || margin < 1 || margin > 100) {
      fail(source, `${f}.margin`, `expected a number in [1, 100], got ${JSON.stringify(r.margin)}`);
    }
    const percentile = r.percentile ?? DEFAULT_RANGE.percentile;
    if (typeof percentile !== 'number' || !(percentile > 0 && percentile <= 100)) {
      fail(source, `${f}.percentile`, `expected a number in (0, 100], got ${JSON.stringify(r.percentile)}`);
    }
    return { rule, margin, percentile };
  });
}

function parseScaleBits(source: string, field: string, v: unknown): ('auto' | number)[] {
  return [
    ...new Set(
      nonEmptyArray(source, field, v).map((s, i) => {
        if (s === 'auto') return 'auto' as const;
        if (typeof s !== 'number' || !Number.isInteger(s) || s < 14 || s > 60) {
          fail(source, `${field}[${i}]`, `expected "auto" or an integer in 14..60, got ${JSON.stringify(s)}`);
        }
        return s;
      }),
    ),
  ];
}

const AXIS_PARSERS: { [K in keyof GridAxes]: (source: string, field: string, v: unknown) => GridAxes[K] } = {
  models: parseModels,
  precisions: parsePrecisions,
  methods: (s, f, v) => parseEnum(s, f, v, STUDY_METHODS),
  remedies: (s, f, v) => parseEnum(s, f, v, REMEDIES),
  ranges: parseRanges,
  scaleBits: parseScaleBits,
};

const AXIS_DEFAULTS: Omit<GridAxes, 'models' | 'precisions'> = {
  methods: ['remez'],
  remedies: ['none'],
  ranges: [DEFAULT_RANGE],
  scaleBits: ['auto'],
};

function intSetting(source: string, field: string, v: unknown, def: number, min: number, max: number): number {
  const x = v ?? def;
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max)
    fail(source, field, `expected an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  return x;
}

function ringSetting(source: string, v: unknown, def: number): number {
  const x = v ?? def;
  if (typeof x !== 'number' || ![1024, 2048, 4096, 8192, 16384, 32768].includes(x)) {
    fail(source, 'settings.maxSimulatedRing', `expected a ring dimension 1024..32768 (a power of two), got ${JSON.stringify(v)}`);
  }
  return x;
}

function positiveOrNull(source: string, field: string, v: unknown, what: string, integer = false): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    fail(source, field, `expected ${what} or null, got ${JSON.stringify(v)}`);
  }
  return v;
}

function parseSettings(source: string, v: unknown): StudySettings {
  if (v === undefined) return structuredClone(DEFAULT_SETTINGS);
  if (!isObject(v)) fail(source, 'settings', 'expected an object');
  const d = DEFAULT_SETTINGS;
  const split = v.split ?? d.split;
  if (split !== 'test' && split !== 'validation')
    fail(source, 'settings.split', `expected "test" or "validation" (train is the calibration split), got ${JSON.stringify(v.split)}`);
  const weight = v.asymmetricWeight ?? d.asymmetricWeight;
  if (typeof weight !== 'number' || !(weight > 0) || !Number.isFinite(weight))
    fail(source, 'settings.asymmetricWeight', `expected a number > 0, got ${JSON.stringify(v.asymmetricWeight)}`);
  const ft = v.finetune ?? {};
  if (!isObject(ft)) fail(source, 'settings.finetune', 'expected an object');
  const lr = ft.learningRate ?? d.finetune.learningRate;
  if (typeof lr !== 'number' || !(lr > 0) || !Number.isFinite(lr))
    fail(source, 'settings.finetune.learningRate', `expected a number > 0, got ${JSON.stringify(ft.learningRate)}`);
  const ftRange = ft.range ?? d.finetune.range;
  if (ftRange !== 'clamp' && ftRange !== 'penalty')
    fail(source, 'settings.finetune.range', `expected "clamp" or "penalty", got ${JSON.stringify(ft.range)}`);
  const seal = v.seal ?? {};
  if (!isObject(seal)) fail(source, 'settings.seal', 'expected an object');
  const cells = seal.cells ?? d.seal.cells;
  if (cells !== 'none' && cells !== 'all' && cells !== 'front')
    fail(source, 'settings.seal.cells', `expected "none", "all" or "front", got ${JSON.stringify(seal.cells)}`);
  return {
    split,
    count: intSetting(source, 'settings.count', v.count, d.count, 1, 1000),
    calibration: intSetting(source, 'settings.calibration', v.calibration, d.calibration, 1, 8000),
    noiseSeed: intSetting(source, 'settings.noiseSeed', v.noiseSeed, d.noiseSeed, 0, 2 ** 31 - 1),
    asymmetricWeight: weight,
    finetune: {
      epochs: intSetting(source, 'settings.finetune.epochs', ft.epochs, d.finetune.epochs, 1, 100),
      learningRate: lr,
      seed: intSetting(source, 'settings.finetune.seed', ft.seed, d.finetune.seed, 0, 2 ** 31 - 1),
      range: ftRange,
    },
    maxSimulatedRing: ringSetting(source, v.maxSimulatedRing, d.maxSimulatedRing),
    maxSimulatedLatencyMs: positiveOrNull(source, 'settings.maxSimulatedLatencyMs', v.maxSimulatedLatencyMs, 'a number of ms > 0'),
    maxSimulatedDegree: positiveOrNull(source, 'settings.maxSimulatedDegree', v.maxSimulatedDegree, 'an integer ≥ 1', true),
    seal: { sample: intSetting(source, 'settings.seal.sample', seal.sample, d.seal.sample, 0, 1000), cells },
  };
}

const TOP_FIELDS = new Set(['format', 'version', 'name', 'blocks', 'settings', ...Object.keys(AXIS_PARSERS)]);

/** Validate a grid object (parsed JSON); errors name the field. */
export function gridFromJSON(raw: unknown, source = 'grid'): StudyGrid {
  if (!isObject(raw)) fail(source, 'grid', 'expected a JSON object');
  if (raw.format !== GRID_FORMAT) fail(source, 'format', `expected "${GRID_FORMAT}", got ${JSON.stringify(raw.format)}`);
  if (raw.version !== GRID_VERSION) fail(source, 'version', `this pann reads version ${GRID_VERSION}, got ${JSON.stringify(raw.version)}`);
  for (const key of Object.keys(raw)) if (!TOP_FIELDS.has(key)) fail(source, key, `unknown field (known: ${[...TOP_FIELDS].join(', ')})`);
  const name = raw.name ?? 'study';
  if (typeof name !== 'string' || name === '') fail(source, 'name', 'expected a non-empty string');
  const blocksRaw = raw.blocks ?? [];
  if (!Array.isArray(blocksRaw)) fail(source, 'blocks', 'expected an array of partial grids');
  const blocks = blocksRaw.map((b, i) => {
    if (!isObject(b)) fail(source, `blocks[${i}]`, 'expected an object of axes');
    const out: Partial<GridAxes> = {};
    for (const [key, value] of Object.entries(b)) {
      const parse = AXIS_PARSERS[key as keyof GridAxes];
      if (!parse) fail(source, `blocks[${i}].${key}`, `unknown axis (axes: ${Object.keys(AXIS_PARSERS).join(', ')})`);
      (out as Record<string, unknown>)[key] = parse(source, `blocks[${i}].${key}`, value);
    }
    return out;
  });
  const axis = <K extends keyof GridAxes>(key: K): GridAxes[K] | undefined =>
    raw[key] === undefined ? undefined : AXIS_PARSERS[key](source, key, raw[key]);
  const models = axis('models');
  const precisions = axis('precisions');
  // the top level may leave models/precisions to the blocks, but every block must then have them
  blocks.forEach((b, i) => {
    if (!models && !b.models) fail(source, `blocks[${i}].models`, 'missing (and no top-level models)');
    if (!precisions && !b.precisions) fail(source, `blocks[${i}].precisions`, 'missing (and no top-level precisions)');
  });
  if (blocks.length === 0) {
    if (!models) fail(source, 'models', 'missing: list the model files to study');
    if (!precisions) fail(source, 'precisions', 'missing: list the precisions k (e.g. { "from": 3, "to": 14 })');
  }
  return {
    name,
    models: models ?? [],
    precisions: precisions ?? [],
    methods: axis('methods') ?? AXIS_DEFAULTS.methods,
    remedies: axis('remedies') ?? AXIS_DEFAULTS.remedies,
    ranges: axis('ranges') ?? AXIS_DEFAULTS.ranges,
    scaleBits: axis('scaleBits') ?? AXIS_DEFAULTS.scaleBits,
    blocks,
    settings: parseSettings(source, raw.settings),
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
