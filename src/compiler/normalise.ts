/**
 * Normalise pass: each activation's polynomial is rewritten for the normalised input t = x/B (poly-eval.ts), and
 * the scalings that makes possible are folded into the linear layers around it — 1/B (times the polynomial's
 * input multiplier) into the affine block before it, its output multiplier μ into the one after it — so the
 * circuit carries values of order 1 and every block's depth is known before parameters are chosen.
 */
import type { AffineMap } from './affine.js';
import { scaleColumns, scaleRows } from './affine.js';
import { CompileError } from './errors.js';
import type { NetBlock } from './fold.js';
import { type CircuitActivation, normaliseApproximation } from './poly-eval.js';
import type { PolynomialActivation } from './polynomialise.js';

/** The network as the circuit computes it. */
export interface NormalisedNetwork {
  blocks: readonly NetBlock[];
  /** Block i's affine map with the activations' scalings folded in (null for activation blocks). */
  maps: readonly (AffineMap | null)[];
  /** Block i's skip terms' maps (NetBlock skips, same order) with the same scalings (null: none, or an activation). */
  skipMaps: readonly (readonly AffineMap[] | null)[];
  /** The circuit form of each activation block's polynomial, by block index. */
  activations: ReadonlyMap<number, CircuitActivation>;
  /** Levels each block consumes (an affine block: one). */
  depthPerStage: readonly number[];
  /** Levels the whole network consumes. */
  depth: number;
}

/** Normalise every activation and fold its scalings into the neighbouring affine maps. */
export function normaliseNetwork(blocks: readonly NetBlock[], planned: readonly PolynomialActivation[]): NormalisedNetwork {
  const activations = new Map<number, CircuitActivation>();
  for (const p of planned) activations.set(p.block, normaliseApproximation(p.approximation, p.report.B, p.homogeneity));
  const maps: (AffineMap | null)[] = blocks.map((b) => (b.kind === 'affine' ? b.map : null));
  const skipMaps: (AffineMap[] | null)[] = blocks.map((b) => (b.kind === 'affine' && b.skips ? b.skips.map((t) => t.map) : null));
  for (const p of planned) {
    const act = activations.get(p.block)!;
    const before = blocks[p.block - 1];
    if (!before || before.kind !== 'affine') {
      throw new CompileError(`activation ${blocks[p.block]!.name} follows another activation; insert a linear layer between them`);
    }
    const rows = act.inputMultiplier / p.report.B;
    maps[p.block - 1] = scaleRows(maps[p.block - 1]!, rows);
    skipMaps[p.block - 1] = skipMaps[p.block - 1]?.map((m) => scaleRows(m, rows)) ?? null;
    const after = maps[p.block + 1];
    if (!after) throw new CompileError(`activation ${blocks[p.block]!.name} must be followed by a linear layer`);
    maps[p.block + 1] = scaleColumns(after, act.outputMultiplier);
    // every skip term that reads this activation's output takes its output multiplier too
    blocks.forEach((b, i) => {
      if (b.kind !== 'affine' || !b.skips) return;
      skipMaps[i] = skipMaps[i]!.map((m, k) => (b.skips![k]!.from === p.block ? scaleColumns(m, act.outputMultiplier) : m));
    });
  }
  const depthPerStage = blocks.map((b, i) => (b.kind === 'affine' ? 1 : activations.get(i)!.depth));
  return { blocks, maps, skipMaps, activations, depthPerStage, depth: depthPerStage.reduce((a, b) => a + b, 0) };
}
