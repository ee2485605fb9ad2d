/**
 * Latency prediction from per-operation costs. The compiler uses it to choose between packings and to report a
 * predicted latency; the figures come from measurements of node-seal on this kind of machine (bench/ckks-ops.ts
 * writes bench/op-costs.json; until a table is given, the reference figures of shared/REFERENCE.md are used).
 *
 * Model: every operation's time grows linearly with the number of primes at its level (RNS limbs), which is how
 * SEAL's NTT-based kernels scale; key switching (rotate, and the relinearisation inside mul) also grows with it.
 */
import { predictOpMs } from '../ckks/cost-model.js';
import type { CircuitOp, OpName } from './circuit.js';

export type CostedOp = OpName | 'encrypt' | 'encryptSymmetric' | 'decrypt' | 'encode';

/** Milliseconds for one op at ring dimension N on a ciphertext at `level` (level + 1 primes). */
export type OpCostFn = (op: CostedOp, polyModulusDegree: number, level: number) => number;

/**
 * REFERENCE.md: N=8192 with 3 data primes and N=16384 with 7 data primes (median of 20, 2 cores, Node 20).
 * Per-prime cost = measured / primes. mulPlain excludes the rescale (measured together as 1.4 ms: about 1/3
 * for the multiplication, 2/3 for the rescale's NTTs), mul includes relinearisation but not the rescale.
 */
const REFERENCE_PER_PRIME: Record<number, Record<CostedOp, number>> = {
  8192: {
    add: 0.03,
    sub: 0.03,
    addPlain: 0.03,
    mulPlain: 0.15,
    rescale: 0.3,
    mul: 1.6,
    rotate: 1.33,
    drop: 0.1,
    setScale: 0,
    encrypt: 2.0,
    encryptSymmetric: 1.0,
    decrypt: 0.47,
    encode: 0.23,
  },
  16384: {
    add: 0.033,
    sub: 0.033,
    addPlain: 0.033,
    mulPlain: 0.34,
    rescale: 0.68,
    mul: 4.75,
    rotate: 4.1,
    drop: 0.2,
    setScale: 0,
    encrypt: 2.96,
    encryptSymmetric: 1.5,
    decrypt: 1.1,
    encode: 0.41,
  },
};

/** The committed measurements of this machine kind (bench/op-costs.json, via src/ckks/cost-model.ts). */
export const measuredOpCost: OpCostFn = (op, n, level) => predictOpMs(op, n, level);

export const referenceOpCost: OpCostFn = (op, n, level) => {
  const table = REFERENCE_PER_PRIME[n] ?? scaleTable(n);
  return table[op] * (level + 1);
};

/** Extrapolate to other N: ~N·log N growth per prime. */
function scaleTable(n: number): Record<CostedOp, number> {
  const base = REFERENCE_PER_PRIME[8192]!;
  const f = (n * Math.log2(n)) / (8192 * 13);
  const out = {} as Record<CostedOp, number>;
  for (const [k, v] of Object.entries(base)) out[k as CostedOp] = v * f;
  return out;
}

/** Predicted milliseconds of a range of ops, given each op's input level. */
export function predictOpsMs(
  ops: readonly CircuitOp[],
  levelOfRegister: ArrayLike<number>,
  polyModulusDegree: number,
  cost: OpCostFn,
  from = 0,
  to = ops.length,
): number {
  let ms = 0;
  for (let i = from; i < to; i++) {
    const op = ops[i]!;
    const src = 'src' in op ? op.src : op.a;
    ms += cost(op.op, polyModulusDegree, levelOfRegister[src]!);
  }
  return ms;
}
