/**
 * Schedule pass: the level every block starts and ends at. Blocks run top-down through one modulus chain, each
 * consuming its depth; the packing passes must land exactly there (checked after emission), so the levels a
 * circuit uses are decided by one rule in one place — the place where refresh points will split a network into
 * segments once a chain no longer holds it.
 */
import type { CircuitStage } from '../circuit/index.js';
import { CompileError } from './errors.js';

export interface BlockLevels {
  levelIn: number;
  levelOut: number;
}

/**
 * Levels of each block when the network starts at `maxLevel`. With refresh rounds (before the blocks in
 * `refreshBefore`) every segment starts at the level it needs — its depth, plus one when another round ends it
 * (the masked values need more than the last prime) — so a short segment runs on fewer primes.
 */
export function scheduleLevels(
  depthPerStage: readonly number[],
  maxLevel: number,
  refreshBefore: ReadonlySet<number> = new Set(),
): BlockLevels[] {
  const { segments } = chainDepth(depthPerStage, refreshBefore);
  let segment = 0;
  // the first segment too starts at the level it needs (the input is dropped to it)
  let level = segments.length > 1 ? segmentTop(segments, 0) : maxLevel;
  return depthPerStage.map((d, i) => {
    if (refreshBefore.has(i)) {
      if (level < 1) throw new CompileError(`internal: the refresh before block ${i} comes at level ${level}; it needs level 1 or more`);
      segment++;
      level = segmentTop(segments, segment);
      if (level > maxLevel) throw new CompileError(`internal: segment ${segment} needs ${level} levels, the chain has ${maxLevel}`);
    }
    const levels = { levelIn: level, levelOut: level - d };
    level -= d;
    if (level < 0)
      throw new CompileError(`internal: depth ${maxLevel - level} does not fit the ${maxLevel} levels of the chain (block ${i})`);
    return levels;
  });
}

/** The level segment s starts at: its depth, plus one when a round follows it. */
function segmentTop(segments: readonly number[], s: number): number {
  return segments[s]! + (s < segments.length - 1 ? 1 : 0);
}

/**
 * The levels the chain must hold with refresh rounds before the blocks in `refreshBefore`: every segment's depth,
 * plus one for a segment that ends in a refresh — its masked values |x + r|·Δ need more than the last prime, so
 * they are refreshed at level 1, where the first prime holds |x + r| (select-params.ts sizes it for the mask).
 */
export function chainDepth(depthPerStage: readonly number[], refreshBefore: ReadonlySet<number>): { depth: number; segments: number[] } {
  const segments: number[] = [0];
  depthPerStage.forEach((d, i) => {
    if (refreshBefore.has(i)) segments.push(0);
    segments[segments.length - 1]! += d;
  });
  const depth = Math.max(...segments.map((_, s) => segmentTop(segments, s)));
  return { depth, segments };
}

/**
 * Each block's levels from its units' (a block is one unit, or an activation split into parts): where its first
 * unit starts and its last ends — across a round inside it, not its start minus its depth.
 */
export function blockLevels(unitLevels: readonly BlockLevels[], unitBlock: readonly number[], blocks: number): BlockLevels[] {
  return Array.from({ length: blocks }, (_, i) => {
    const first = unitBlock.indexOf(i);
    const last = unitBlock.lastIndexOf(i);
    if (first < 0) throw new CompileError(`internal: block ${i} has no depth unit`);
    return { levelIn: unitLevels[first]!.levelIn, levelOut: unitLevels[last]!.levelOut };
  });
}

/**
 * Check that the emitted stages land on the schedule: stage s covers blocks spans[s] = [first, last] and must start
 * at the first block's level and end at the last block's.
 */
export function checkSchedule(schedule: readonly BlockLevels[], stages: readonly CircuitStage[], spans: readonly [number, number][]): void {
  stages.forEach((s, i) => {
    const [first, last] = spans[i]!;
    const want = { levelIn: schedule[first]!.levelIn, levelOut: schedule[last]!.levelOut };
    if (s.levelIn !== want.levelIn || s.levelOut !== want.levelOut) {
      throw new CompileError(
        `internal: stage ${s.name} runs from level ${s.levelIn} to ${s.levelOut}, the schedule says ${want.levelIn} to ${want.levelOut}`,
      );
    }
  });
}
