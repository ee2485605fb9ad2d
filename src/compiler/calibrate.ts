/**
 * Range calibration: run calibration inputs through the folded float network, record every activation's input
 * range, and choose B per activation so the polynomial sees x/B ∈ [−1, 1].
 *
 * Rules (documented in docs/compiler.md):
 * - `max` (default): B = margin × max |x| over the calibration inputs — no calibration input falls outside;
 * - `percentile`: B = margin × the p-th percentile of |x| — tighter B (lower error for the same degree) at the
 *   price of some inputs outside [−B, B], where a polynomial grows fast (reported, never silent).
 */
import { evalApproximation } from '../approx/polynomial.js';
import { type AffineMap, applyAffine } from './affine.js';
import { CompileError } from './errors.js';
import type { NetBlock } from './fold.js';

export interface RangeRule {
  /** @default 'max' */
  rule?: 'max' | 'percentile';
  /** B = margin × (max or percentile of |x|). @default 1.1 */
  margin?: number;
  /** Percentile of |x| for the `percentile` rule, in (0, 100]. @default 99.9 */
  percentile?: number;
}

export interface ActivationRange {
  block: number;
  min: number;
  max: number;
  absMax: number;
  /** 99th, 99.9th, 99.99th percentiles of |x|. */
  p99: number;
  p999: number;
  p9999: number;
  B: number;
  /** Fraction of calibration inputs with |x| > B. */
  outsideFraction: number;
}

export interface CalibrationResult {
  ranges: ActivationRange[];
  /** Largest |value| of the network output (logits) on the calibration set. */
  outputAbsMax: number;
  /** Largest |value| of any linear-layer output (before normalisation). */
  count: number;
}

function percentileOfSorted(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

/** Float64 value of an activation block (catalog function or stored polynomial, clamped like the model does). */
export function activateFloat(block: Extract<NetBlock, { kind: 'activation' }>, x: number): number {
  if (block.activation) return block.activation.f(x);
  const a = block.approximation!;
  return evalApproximation(a, x);
}

/** An affine block in float64: its main map of x plus each skip term of the value it reads. */
export function affineBlockFloat(
  b: Extract<NetBlock, { kind: 'affine' }>,
  x: Float64Array,
  values: ReadonlyMap<number, Float64Array>,
  maps: { main: AffineMap; skips: readonly AffineMap[] } = { main: b.map, skips: (b.skips ?? []).map((t) => t.map) },
): Float64Array {
  const y = applyAffine(maps.main, x);
  (b.skips ?? []).forEach((t, k) => {
    const s = applyAffine(maps.skips[k]!, values.get(t.from)!);
    for (let r = 0; r < y.length; r++) y[r] = y[r]! + s[r]!;
  });
  return y;
}

/**
 * Run inputs through the folded float network; `onActivation(blockIndex, x)` sees each activation's input
 * vector, `onOutput` each network output.
 */
export function walkBlocks(
  blocks: readonly NetBlock[],
  inputs: Float64Array,
  count: number,
  inDim: number,
  onActivation: (block: number, x: Float64Array) => void,
  onOutput?: (y: Float64Array, sample: number) => void,
): void {
  // values a later block's skip term reads: the input (−1) and activation outputs, kept only when read
  const kept = new Set(blocks.flatMap((b) => (b.kind === 'affine' ? (b.skips ?? []).map((t) => t.from) : [])));
  for (let n = 0; n < count; n++) {
    let x: Float64Array = inputs.subarray(n * inDim, (n + 1) * inDim);
    const values = new Map<number, Float64Array>();
    if (kept.has(-1)) values.set(-1, x);
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i]!;
      if (b.kind === 'affine') {
        x = affineBlockFloat(b, x, values);
      } else {
        onActivation(i, x);
        x = x.map((v) => activateFloat(b, v));
        if (kept.has(i)) values.set(i, x);
      }
    }
    onOutput?.(x, n);
  }
}

/** Per activation block, how many inputs fall outside [−B, B] (B per activation, in block order). */
export function countOutsideRange(
  blocks: readonly NetBlock[],
  inputs: Float64Array,
  count: number,
  inDim: number,
  Bs: readonly number[],
): { block: number; B: number; outside: number; total: number; absMax: number }[] {
  const acts = blocks.flatMap((b, i) => (b.kind === 'activation' ? [i] : []));
  if (acts.length !== Bs.length) throw new CompileError(`${Bs.length} ranges for ${acts.length} activation layers`);
  const stats = acts.map((block, n) => ({ block, B: Bs[n]!, outside: 0, total: 0, absMax: 0 }));
  walkBlocks(blocks, inputs, count, inDim, (block, x) => {
    const st = stats[acts.indexOf(block)]!;
    for (const v of x) {
      const a = Math.abs(v);
      if (a > st.B) st.outside++;
      if (a > st.absMax) st.absMax = a;
    }
    st.total += x.length;
  });
  return stats;
}

/** Calibrate the ranges of every activation block on `count` inputs of length inDim laid out back to back. */
export function calibrateRanges(
  blocks: readonly NetBlock[],
  inputs: Float64Array,
  count: number,
  inDim: number,
  options: RangeRule = {},
): CalibrationResult {
  const { rule = 'max', margin = 1.1, percentile = 99.9 } = options;
  if (!(margin >= 1) || !Number.isFinite(margin)) throw new CompileError(`range margin ${margin} must be a finite number ≥ 1`);
  if (!(percentile > 0 && percentile <= 100)) throw new CompileError(`range percentile ${percentile} must be in (0, 100]`);
  if (!Number.isInteger(count) || count < 1) throw new CompileError(`calibration needs at least one input, got ${count}`);
  if (inputs.length !== count * inDim) {
    throw new CompileError(`calibration inputs: expected ${count}×${inDim} values, got ${inputs.length}`);
  }
  const samples = new Map<number, number[]>();
  blocks.forEach((b, i) => b.kind === 'activation' && samples.set(i, []));
  let outputAbsMax = 0;
  walkBlocks(
    blocks,
    inputs,
    count,
    inDim,
    (block, x) => {
      const s = samples.get(block)!;
      for (const v of x) s.push(v);
    },
    (out) => {
      for (const v of out) outputAbsMax = Math.max(outputAbsMax, Math.abs(v));
    },
  );
  const ranges: ActivationRange[] = [];
  for (const [block, s] of samples) {
    const abs = Float64Array.from(s, Math.abs).sort();
    let min = Infinity;
    let max = -Infinity;
    for (const v of s) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const absMax = abs[abs.length - 1] ?? 0;
    const base = rule === 'max' ? absMax : percentileOfSorted(abs, percentile);
    const B = margin * (base > 0 ? base : 1);
    let outside = 0;
    for (const v of abs) if (v > B) outside++;
    ranges.push({
      block,
      min,
      max,
      absMax,
      p99: percentileOfSorted(abs, 99),
      p999: percentileOfSorted(abs, 99.9),
      p9999: percentileOfSorted(abs, 99.99),
      B,
      outsideFraction: abs.length ? outside / abs.length : 0,
    });
  }
  return { ranges, outputAbsMax, count };
}
