/**
 * Affine maps y = A·x + b with a sparse A (CSR by output row): the form every linear layer (dense, conv,
 * pooling, flatten, batch norm) takes after folding, so consecutive linear layers compose into one.
 */
import { CompileError } from './errors.js';

export interface AffineMap {
  inDim: number;
  outDim: number;
  /** CSR: row i's entries are rowPtr[i] … rowPtr[i+1]−1. */
  rowPtr: Int32Array;
  colIdx: Int32Array;
  values: Float64Array;
  bias: Float64Array;
}

/** Build from (row, col, value) triplets; duplicates are summed, exact zeros dropped. */
export function affineFromTriplets(
  outDim: number,
  inDim: number,
  triplets: Iterable<[number, number, number]>,
  bias: Float64Array = new Float64Array(outDim),
): AffineMap {
  const rows = Array.from({ length: outDim }, () => new Map<number, number>());
  for (const [r, c, v] of triplets) {
    if (r < 0 || r >= outDim || c < 0 || c >= inDim) throw new CompileError(`affine: entry (${r}, ${c}) outside ${outDim}×${inDim}`);
    const row = rows[r]!;
    row.set(c, (row.get(c) ?? 0) + v);
  }
  const rowPtr = new Int32Array(outDim + 1);
  let nnz = 0;
  for (let i = 0; i < outDim; i++) {
    for (const v of rows[i]!.values()) if (v !== 0) nnz++;
    rowPtr[i + 1] = nnz;
  }
  const colIdx = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  let k = 0;
  for (let i = 0; i < outDim; i++) {
    const entries = [...rows[i]!.entries()].filter(([, v]) => v !== 0).sort((a, b) => a[0] - b[0]);
    for (const [c, v] of entries) {
      colIdx[k] = c;
      values[k++] = v;
    }
  }
  if (bias.length !== outDim) throw new CompileError(`affine: bias length ${bias.length} ≠ ${outDim}`);
  return { inDim, outDim, rowPtr, colIdx, values, bias: Float64Array.from(bias) };
}

/** A dense row-major matrix as an affine map. */
export function affineFromDense(outDim: number, inDim: number, weight: Float64Array, bias?: Float64Array): AffineMap {
  if (weight.length !== outDim * inDim) throw new CompileError(`affine: weight length ${weight.length} ≠ ${outDim}×${inDim}`);
  function* triplets(): Generator<[number, number, number]> {
    for (let i = 0; i < outDim; i++)
      for (let j = 0; j < inDim; j++) {
        const v = weight[i * inDim + j]!;
        if (v !== 0) yield [i, j, v];
      }
  }
  return affineFromTriplets(outDim, inDim, triplets(), bias ?? new Float64Array(outDim));
}

export function identityMap(n: number): AffineMap {
  function* t(): Generator<[number, number, number]> {
    for (let i = 0; i < n; i++) yield [i, i, 1];
  }
  return affineFromTriplets(n, n, t());
}

/** second ∘ first: x ↦ A2·(A1·x + b1) + b2. */
export function composeAffine(first: AffineMap, second: AffineMap): AffineMap {
  if (second.inDim !== first.outDim) {
    throw new CompileError(`affine: cannot compose ${first.outDim}-output map with ${second.inDim}-input map`);
  }
  const bias = Float64Array.from(second.bias);
  function* triplets(): Generator<[number, number, number]> {
    for (let i = 0; i < second.outDim; i++) {
      const acc = new Map<number, number>();
      for (let e = second.rowPtr[i]!; e < second.rowPtr[i + 1]!; e++) {
        const m = second.colIdx[e]!;
        const w = second.values[e]!;
        bias[i] = bias[i]! + w * first.bias[m]!;
        for (let f = first.rowPtr[m]!; f < first.rowPtr[m + 1]!; f++) {
          const j = first.colIdx[f]!;
          acc.set(j, (acc.get(j) ?? 0) + w * first.values[f]!);
        }
      }
      for (const [j, v] of acc) yield [i, j, v];
    }
  }
  const t = [...triplets()];
  return affineFromTriplets(second.outDim, first.inDim, t, bias);
}

/** Multiply row i (and its bias) by rowScale[i] (or a scalar). */
export function scaleRows(map: AffineMap, rowScale: number | Float64Array): AffineMap {
  const values = Float64Array.from(map.values);
  const bias = Float64Array.from(map.bias);
  for (let i = 0; i < map.outDim; i++) {
    const s = typeof rowScale === 'number' ? rowScale : rowScale[i]!;
    bias[i] = bias[i]! * s;
    for (let e = map.rowPtr[i]!; e < map.rowPtr[i + 1]!; e++) values[e] = values[e]! * s;
  }
  return { ...map, values, bias };
}

/** Multiply column j by colScale (inputs scaled: A·diag(s)). */
export function scaleColumns(map: AffineMap, colScale: number): AffineMap {
  const values = Float64Array.from(map.values, (v) => v * colScale);
  return { ...map, values };
}

/** y = A·x + b in float64. */
export function applyAffine(map: AffineMap, x: ArrayLike<number>): Float64Array {
  const y = Float64Array.from(map.bias);
  for (let i = 0; i < map.outDim; i++) {
    let s = y[i]!;
    for (let e = map.rowPtr[i]!; e < map.rowPtr[i + 1]!; e++) s += map.values[e]! * x[map.colIdx[e]!]!;
    y[i] = s;
  }
  return y;
}
