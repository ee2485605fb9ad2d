/**
 * Packing of affine maps into slot operations.
 *
 * Everything is phrased in slot space: the input ciphertext holds each logical input j in one or more slots
 * (copies); the map becomes y = Σ_k d_k ⊙ rot(x, k), one plaintext diagonal d_k per distinct offset k
 * (Halevi–Shoup, "Algorithms in HElib", CRYPTO 2014), evaluated with baby-step giant-step rotations
 * k = a + b: y = Σ_a rot(Σ_b rot(d_{a+b}, −a) ⊙ rot(x, b), a) — |babies| + |giants| rotations, one plaintext
 * multiplication per diagonal, one rescale.
 *
 * Two ways to place outputs:
 * - `anchored`: each output gets one chosen slot (for a convolution on the replicated input image: the slot of its
 *   receptive field's first tap in the copy of its channel, so every output uses the same kh·kw offsets and the
 *   strided gaps are left for the next layer's weights to skip);
 * - `fold` (hybrid, as in GAZELLE, Juvekar et al., USENIX Security 2018): output i collects partial sums in every
 *   slot s ≡ i (mod m), which needs at most m diagonals for any matrix; log2(S/m) rotate-and-add steps then sum
 *   them, leaving the outputs replicated with period m — ready for the next layer.
 */
import type { AffineMap } from './affine.js';
import type { CircuitBuilder, SlotLayout } from '../circuit/index.js';
import { CompileError } from './errors.js';

/**
 * Where outputs land: `anchored` at one chosen slot each; `fold` with period m at slot i (or anchors[i] < m) and its
 * copies every m slots, after log2(S/m) rotate-and-add steps.
 */
export type OutputPlacement = { kind: 'anchored'; slots: Int32Array } | { kind: 'fold'; period: number; anchors?: Int32Array };

export interface LinearPacking {
  placement: OutputPlacement;
  /** Baby-step modulus: k = a + b with b = k mod g. */
  g: number;
  /** Offsets k of the non-zero diagonals. */
  diagonals: number[];
  babySteps: number[];
  giantSteps: number[];
  foldSteps: number[];
  /** Per diagonal k: the sparse slot vector d_k. */
  diagonalEntries: Map<number, { indices: number[]; values: number[] }>;
  outLayout: SlotLayout;
  rotations: number;
  plainMultiplications: number;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/**
 * Choose, for every matrix entry, which copy of its input to read, so that few distinct offsets (diagonals) are
 * needed: greedy set cover — repeatedly take the offset that serves the most entries not yet served (ties: the
 * smaller offset). Greedy rather than "most frequent per entry" because copies placed almost a whole cycle apart
 * alias offsets across taps (a copy period P with C·P ≡ −1 mod S makes k + P·s coincide with another tap's k).
 */
function chooseOffsets(map: AffineMap, inLayout: SlotLayout, slots: number, offsetOf: (row: number, p: number) => number): Int32Array {
  const nnz = map.values.length;
  const candidates = new Array<number[]>(nnz);
  const served = new Map<number, number[]>(); // offset → entries it can serve
  for (let i = 0; i < map.outDim; i++)
    for (let e = map.rowPtr[i]!; e < map.rowPtr[i + 1]!; e++) {
      const copies = inLayout.slots[map.colIdx[e]!]!;
      if (copies.length === 0) throw new CompileError(`packing: input ${map.colIdx[e]} has no slot`);
      const ks = [...new Set(copies.map((p) => mod(offsetOf(i, p), slots)))];
      candidates[e] = ks;
      for (const k of ks) {
        let list = served.get(k);
        if (!list) served.set(k, (list = []));
        list.push(e);
      }
    }
  const chosen = new Int32Array(nnz).fill(-1);
  const remaining = new Map<number, number>();
  for (const [k, list] of served) remaining.set(k, list.length);
  let left = nnz;
  while (left > 0) {
    let bestK = -1;
    let best = 0;
    for (const [k, n] of remaining)
      if (n > best || (n === best && n > 0 && k < bestK)) {
        best = n;
        bestK = k;
      }
    if (best === 0) throw new CompileError('internal: packing cover stalled');
    for (const e of served.get(bestK)!) {
      if (chosen[e] !== -1) continue;
      chosen[e] = bestK;
      left--;
      for (const k of candidates[e]!) remaining.set(k, remaining.get(k)! - 1);
    }
    remaining.delete(bestK);
  }
  return chosen;
}

/** Baby-step giant-step split of a set of offsets: the g minimising |babies∖{0}| + |giants∖{0}|. */
export function splitOffsets(offsets: readonly number[]): { g: number; babies: number[]; giants: number[] } {
  const maxK = offsets.reduce((m, k) => Math.max(m, k), 0);
  const candidates = new Set<number>();
  const limit = Math.min(maxK + 1, 4 * Math.ceil(Math.sqrt(maxK + 1)) + 64);
  for (let g = 1; g <= limit; g++) candidates.add(g);
  for (let g = 1; g <= maxK + 1; g *= 2) candidates.add(g);
  candidates.add(maxK + 1);
  let best: { g: number; babies: number[]; giants: number[]; cost: number } | null = null;
  for (const g of candidates) {
    const babies = new Set<number>();
    const giants = new Set<number>();
    for (const k of offsets) {
      babies.add(k % g);
      giants.add(k - (k % g));
    }
    const cost = babies.size - (babies.has(0) ? 1 : 0) + giants.size - (giants.has(0) ? 1 : 0);
    if (!best || cost < best.cost || (cost === best.cost && g < best.g)) {
      best = { g, babies: [...babies].sort((a, b) => a - b), giants: [...giants].sort((a, b) => a - b), cost };
    }
  }
  return best ?? { g: 1, babies: [0], giants: [0] };
}

/** Plan the packing of `map` applied to a ciphertext laid out as `inLayout`. */
export function planLinear(map: AffineMap, inLayout: SlotLayout, slots: number, placement: OutputPlacement): LinearPacking {
  if (inLayout.length !== map.inDim) throw new CompileError(`packing: layout has ${inLayout.length} inputs, map expects ${map.inDim}`);
  let chosen: Int32Array;
  let outSlotOf: (row: number, k: number, p: number) => number;
  let outLayout: SlotLayout;
  const foldSteps: number[] = [];
  if (placement.kind === 'anchored') {
    const out = placement.slots;
    if (out.length !== map.outDim) throw new CompileError(`packing: ${out.length} anchored slots for ${map.outDim} outputs`);
    if (new Set(out).size !== out.length) throw new CompileError('packing: two outputs anchored at the same slot');
    chosen = chooseOffsets(map, inLayout, slots, (i, p) => mod(p - out[i]!, slots));
    outSlotOf = (i) => out[i]!;
    outLayout = { length: map.outDim, slots: Array.from(out, (s) => [s]) };
  } else {
    const m = placement.period;
    const at = placement.anchors;
    if (
      slots % m !== 0 ||
      (at ? at.length !== map.outDim || at.some((a) => a < 0 || a >= m) || new Set(at).size !== at.length : m < map.outDim)
    )
      throw new CompileError(`packing: fold period ${m} invalid for ${map.outDim} outputs in ${slots} slots`);
    const anchorOf = at ? (i: number) => at[i]! : (i: number) => i;
    chosen = chooseOffsets(map, inLayout, slots, (i, p) => mod(p - anchorOf(i), m));
    outSlotOf = (_i, k, p) => mod(p - k, slots);
    for (let s = m; s < slots; s *= 2) foldSteps.push(s);
    outLayout = {
      length: map.outDim,
      slots: Array.from({ length: map.outDim }, (_, i) => Array.from({ length: slots / m }, (_, c) => anchorOf(i) + c * m)),
    };
  }
  // assemble the diagonals: entry (i, j) read from copy p lands at slot s with k = p − s
  const diag = new Map<number, Map<number, number>>();
  for (let i = 0; i < map.outDim; i++)
    for (let e = map.rowPtr[i]!; e < map.rowPtr[i + 1]!; e++) {
      const k = chosen[e]!;
      const j = map.colIdx[e]!;
      // the copy of input j that gave offset k
      const p = inLayout.slots[j]!.find((q) =>
        placement.kind === 'anchored'
          ? mod(q - placement.slots[i]!, slots) === k
          : mod(q - (placement.anchors ? placement.anchors[i]! : i), placement.period) === k,
      )!;
      const s = outSlotOf(i, k, p);
      if (mod(p - s, slots) !== k) throw new CompileError('internal: packing offset mismatch');
      let d = diag.get(k);
      if (!d) diag.set(k, (d = new Map<number, number>()));
      if (d.has(s)) throw new CompileError(`internal: packing collision at diagonal ${k}, slot ${s}`);
      d.set(s, map.values[e]!);
    }
  const diagonals = [...diag.keys()].sort((a, b) => a - b);
  const { g, babies, giants } = splitOffsets(diagonals.length ? diagonals : [0]);
  const diagonalEntries = new Map<number, { indices: number[]; values: number[] }>();
  for (const k of diagonals) {
    const entries = [...diag.get(k)!.entries()].sort((a, b) => a[0] - b[0]);
    diagonalEntries.set(k, { indices: entries.map((x) => x[0]), values: entries.map((x) => x[1]) });
  }
  const rotations = babies.filter((b) => b !== 0).length + giants.filter((g) => g !== 0).length + foldSteps.length;
  return {
    placement,
    g,
    diagonals,
    babySteps: babies,
    giantSteps: giants,
    foldSteps,
    diagonalEntries,
    outLayout,
    rotations,
    plainMultiplications: diagonals.length,
  };
}

/**
 * Emit the packed linear layer: x at level ℓ (canonical scale) → y at level ℓ − 1 (canonical scale), bias added.
 */
export function emitLinear(b: CircuitBuilder, x: number, map: AffineMap, pack: LinearPacking): number {
  const level = b.level[x]!;
  if (level < 1) throw new CompileError('packing: no level left for a linear layer');
  const slots = b.slotCount;
  const target = b.canonical(level - 1);
  const ptScale = (target * b.prime(level)) / b.scales[x]!;
  const g = pack.g;
  const babyRegs = new Map<number, number>();
  for (const bs of pack.babySteps) babyRegs.set(bs, b.rotate(x, bs));
  let total: number | null = null;
  for (const a of pack.giantSteps) {
    let inner: number | null = null;
    for (const bs of pack.babySteps) {
      const k = a + bs;
      const entries = pack.diagonalEntries.get(k);
      if (!entries || k - (k % g) !== a || k % g !== bs) continue;
      // pre-rotate the diagonal by −a: P[t] = d_k[t − a]
      const idx = entries.indices.map((s) => mod(s + a, slots));
      const order = idx.map((_, n) => n).sort((p, q) => idx[p]! - idx[q]!);
      const pt = b.plain(
        Int32Array.from(order, (n) => idx[n]!),
        Float64Array.from(order, (n) => entries.values[n]!),
        level,
        ptScale,
      );
      const prod = b.mulPlain(babyRegs.get(bs)!, pt);
      inner = inner === null ? prod : b.add(inner, prod);
    }
    if (inner === null) continue;
    const rotated = b.rotate(inner, a);
    total = total === null ? rotated : b.add(total, rotated);
  }
  if (total === null) {
    // an all-zero matrix: y = bias; multiply x by a zero plaintext to keep a ciphertext
    total = b.mulPlain(x, b.constant(0, level, ptScale));
  }
  // fold before the rescale: at scale Δ² the key-switching noise of a rotation is negligible, while at rest
  // scale Δ it is comparable to the values when the special prime is small
  for (const s of pack.foldSteps) total = b.add(total, b.rotate(total, s));
  let y = b.alignScale(b.rescale(total), target);
  // bias at every slot of every output copy
  const biasIdx: number[] = [];
  const biasVal: number[] = [];
  pack.outLayout.slots.forEach((copies, i) => {
    const v = map.bias[i]!;
    if (v !== 0)
      for (const s of copies) {
        biasIdx.push(s);
        biasVal.push(v);
      }
  });
  if (biasIdx.length) {
    const order = biasIdx.map((_, n) => n).sort((p, q) => biasIdx[p]! - biasIdx[q]!);
    const pt = b.plain(
      Int32Array.from(order, (n) => biasIdx[n]!),
      Float64Array.from(order, (n) => biasVal[n]!),
      b.level[y]!,
      b.scales[y]!,
    );
    y = b.addPlain(y, pt);
  }
  return y;
}
