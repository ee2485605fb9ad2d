/**
 * Cost of evaluating an approximation under CKKS with the compiler's evaluator: per stage the exact cost of the
 * baby-step giant-step plan (eval-plan.ts, parity read from the zero pattern of the coefficients, depth on an
 * input already normalised to [−1, 1]), plus the finish (x·(1+s)/2 or x·s: one ciphertext multiplication).
 * The affine map of a stage's interval onto [−1, 1] is a plaintext operation the compiler folds into the
 * previous stage's coefficients or the preceding linear layer, so it costs no level here.
 */
import { chebyshevEvalCost } from './eval-plan.js';
import type { ChebyshevPolynomial, PolynomialApproximation } from './polynomial.js';

export interface ApproximationCost {
  /** Multiplicative depth (levels consumed). */
  readonly depth: number;
  /** Ciphertext × ciphertext multiplications. */
  readonly ctMultiplications: number;
  /** Ciphertext × constant multiplications. */
  readonly scalarMultiplications: number;
  /** Ciphertext additions. */
  readonly additions: number;
}

/** Cost of one Chebyshev-basis polynomial on a normalised input. */
export function polynomialCost(p: ChebyshevPolynomial): ApproximationCost {
  const c = chebyshevEvalCost(p.coefficients);
  return {
    depth: c.depth,
    ctMultiplications: c.ctMultiplications,
    scalarMultiplications: c.scalarMultiplications,
    additions: c.additions,
  };
}

/** Cost of a whole approximation: stages in sequence, then the finish. */
export function approximationCost(a: PolynomialApproximation): ApproximationCost {
  let depth = 0;
  let ct = 0;
  let scalar = 0;
  let add = 0;
  for (const s of a.stages) {
    const c = polynomialCost(s);
    depth += c.depth;
    ct += c.ctMultiplications;
    scalar += c.scalarMultiplications;
    add += c.additions;
  }
  if (a.finish === 'relu') {
    // x·(1 + s)/2 = (x/2)·s + x/2: one ct multiplication, one scalar (the 1/2), one addition
    depth += 1;
    ct += 1;
    scalar += 1;
    add += 1;
  } else if (a.finish === 'abs') {
    depth += 1;
    ct += 1;
  }
  return { depth, ctMultiplications: ct, scalarMultiplications: scalar, additions: add };
}

/** Order by depth, then ciphertext multiplications, then scalar multiplications (negative: a is cheaper). */
export function compareCost(a: ApproximationCost, b: ApproximationCost): number {
  return a.depth - b.depth || a.ctMultiplications - b.ctMultiplications || a.scalarMultiplications - b.scalarMultiplications;
}
