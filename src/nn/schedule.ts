/**
 * Learning-rate schedules as a function of training progress (fractional epoch), with an optional linear warm-up.
 * Cosine: Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", 2017 (one cycle, no restart).
 */
import { TrainError } from '../errors.js';

export type ScheduleName = 'constant' | 'step' | 'cosine';
export const SCHEDULE_NAMES: readonly ScheduleName[] = ['constant', 'step', 'cosine'];

export interface ScheduleOptions {
  /** @default 'cosine' */
  name?: ScheduleName;
  /** Linear warm-up from 0 over this many epochs. @default 0 */
  warmupEpochs?: number;
  /** step: multiply by `gamma` every `stepEpochs` epochs. @default 10 */
  stepEpochs?: number;
  /** step: decay factor. @default 0.1 */
  gamma?: number;
  /** cosine: final learning rate as a fraction of the base rate. @default 0 */
  minFactor?: number;
}

/** Learning rate at `epoch` (fractional: 2.5 = halfway through the third epoch) of `totalEpochs`. */
export function learningRateAt(base: number, epoch: number, totalEpochs: number, options: ScheduleOptions = {}): number {
  const { name = 'cosine', warmupEpochs = 0, stepEpochs = 10, gamma = 0.1, minFactor = 0 } = options;
  if (!SCHEDULE_NAMES.includes(name)) throw new TrainError(`unknown schedule '${name}'; valid: ${SCHEDULE_NAMES.join(', ')}`);
  if (warmupEpochs > 0 && epoch < warmupEpochs) return (base * (epoch + 1e-3)) / warmupEpochs;
  switch (name) {
    case 'constant':
      return base;
    case 'step':
      return base * Math.pow(gamma, Math.floor(epoch / stepEpochs));
    case 'cosine': {
      const span = Math.max(1e-9, totalEpochs - warmupEpochs);
      const t = Math.min(1, Math.max(0, (epoch - warmupEpochs) / span));
      return base * (minFactor + (1 - minFactor) * 0.5 * (1 + Math.cos(Math.PI * t)));
    }
  }
}
