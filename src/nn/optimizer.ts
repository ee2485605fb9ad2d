/**
 * Optimisers over a network's parameter groups: SGD with (optionally Nesterov) momentum, and Adam
 * (Kingma & Ba, "Adam: A Method for Stochastic Optimization", 2015, with bias correction). Weight decay is the
 * classic L2 term λ·w added to the gradient of dense/conv weights (not biases, batchnorm or activation parameters).
 */
import { TrainError } from '../errors.js';
import type { ParamGroup } from './layer-ops.js';

export type OptimizerName = 'sgd' | 'adam';
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['sgd', 'adam'];

export interface OptimizerOptions {
  /** @default 'adam' */
  name?: OptimizerName;
  /** SGD momentum. @default 0.9 */
  momentum?: number;
  /** SGD: Nesterov momentum. @default false */
  nesterov?: boolean;
  /** Adam β1. @default 0.9 */
  beta1?: number;
  /** Adam β2. @default 0.999 */
  beta2?: number;
  /** Adam ε. @default 1e-8 */
  epsilon?: number;
  /** L2 weight decay λ on dense/conv weights. @default 0 */
  weightDecay?: number;
  /** Clip the global gradient norm to this value (0 = off). @default 0 */
  maxGradNorm?: number;
}

export interface Optimizer {
  /** Apply one update with learning rate `lr` from the groups' accumulated gradients. */
  step(lr: number): void;
}

export function createOptimizer(params: readonly ParamGroup[], options: OptimizerOptions = {}): Optimizer {
  const {
    name = 'adam',
    momentum = 0.9,
    nesterov = false,
    beta1 = 0.9,
    beta2 = 0.999,
    epsilon = 1e-8,
    weightDecay = 0,
    maxGradNorm = 0,
  } = options;
  if (!OPTIMIZER_NAMES.includes(name)) throw new TrainError(`unknown optimizer '${name}'; valid: ${OPTIMIZER_NAMES.join(', ')}`);
  if (!(weightDecay >= 0)) throw new TrainError(`weightDecay must be ≥ 0, got ${weightDecay}`);
  if (!(momentum >= 0 && momentum < 1)) throw new TrainError(`momentum must be in [0, 1), got ${momentum}`);
  const m = params.map((p) => new Float64Array(p.value.length));
  const v = name === 'adam' ? params.map((p) => new Float64Array(p.value.length)) : [];
  let t = 0;

  const prepare = (): number => {
    if (weightDecay > 0) {
      for (const p of params) {
        if (!p.decay) continue;
        for (let i = 0; i < p.value.length; i++) p.grad[i] = p.grad[i]! + weightDecay * p.value[i]!;
      }
    }
    if (!(maxGradNorm > 0)) return 1;
    let sq = 0;
    for (const p of params) for (let i = 0; i < p.grad.length; i++) sq += p.grad[i]! * p.grad[i]!;
    const norm = Math.sqrt(sq);
    return norm > maxGradNorm ? maxGradNorm / norm : 1;
  };

  if (name === 'sgd') {
    return {
      step(lr: number) {
        const k = prepare();
        params.forEach((p, j) => {
          const buf = m[j]!;
          for (let i = 0; i < p.value.length; i++) {
            const g = p.grad[i]! * k;
            const b = momentum * buf[i]! + g;
            buf[i] = b;
            p.value[i] = p.value[i]! - lr * (nesterov ? g + momentum * b : b);
          }
        });
      },
    };
  }
  return {
    step(lr: number) {
      const k = prepare();
      t++;
      const c1 = 1 - Math.pow(beta1, t);
      const c2 = 1 - Math.pow(beta2, t);
      params.forEach((p, j) => {
        const mj = m[j]!;
        const vj = v[j]!;
        for (let i = 0; i < p.value.length; i++) {
          const g = p.grad[i]! * k;
          const a = beta1 * mj[i]! + (1 - beta1) * g;
          const b = beta2 * vj[i]! + (1 - beta2) * g * g;
          mj[i] = a;
          vj[i] = b;
          p.value[i] = p.value[i]! - (lr * (a / c1)) / (Math.sqrt(b / c2) + epsilon);
        }
      });
    },
  };
}
