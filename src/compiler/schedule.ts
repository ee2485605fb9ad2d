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

/** Levels of each block when the network starts at `maxLevel`. */
export function scheduleLevels(depthPerStage: readonly number[], maxLevel: number): BlockLevels[] {
  let level = maxLevel;
  const out = depthPerStage.map((d) => {
    const levels = { levelIn: level, levelOut: level - d };
    level -= d;
    return levels;
  });
  if (level < 0) throw new CompileError(`internal: depth ${maxLevel - level} does not fit the ${maxLevel} levels of the chain`);
  return out;
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
