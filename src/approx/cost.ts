/**
 * The one cost and depth model of evaluating an approximation under CKKS, shared by the fitter's precision search
 * (which ranks candidates by it) and the compiler (which emits exactly what it counts, src/compiler/poly-eval.ts):
 *
 * - the stages as the evaluator runs them: stage k+1's interval map onto [−1, 1] folded into stage k's
 *   coefficients (`evaluationStages`); the first stage's map is a plaintext operation the compiler folds into the
 *   preceding linear layer, so it costs no level;
 * - per stage the exact cost of the baby-step giant-step plan (eval-plan.ts, parity read from the zero pattern of
 *   the coefficients, depth on an input already normalised to [−1, 1]), plus the finish (x·(1+s)/2 or x·s: one
 *   ciphertext multiplication);
 * - except a single degree-2 polynomial with no finish, which takes one level: its leading coefficient folds into
 *   the preceding linear layer, so u² and the linear term meet at the same scale and share one rescale
 *   (`oneLevelQuadratic`).
 */
import { chebyshevEvalCost } from './eval-plan.js';
import type { ApproximationFinish, ChebyshevPolynomial, PolynomialApproximation } from './polynomial.js';

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
  return coefficientCost(p.coefficients);
}

function coefficientCost(coefficients: ArrayLike<number>): ApproximationCost {
  const c = chebyshevEvalCost(coefficients);
  return { depth: c.depth, ctMultiplications: c.ctMultiplications, scalarMultiplications: c.scalarMultiplications, additions: c.additions };
}

/**
 * The stages' coefficients as the evaluator runs them: stage k+1 reads stage k's output through the map
 * u = α·v + β of its interval onto [−1, 1], folded into stage k's coefficients (c ← α·c, c_0 ← c_0 + β).
 */
export function evaluationStages(a: PolynomialApproximation): Float64Array[] {
  const stages = a.stages.map((s) => Float64Array.from(s.coefficients));
  for (let k = 0; k + 1 < stages.length; k++) {
    const [lo, hi] = a.stages[k + 1]!.interval;
    const alpha = 2 / (hi - lo);
    const beta = -(lo + hi) / (hi - lo);
    const c = stages[k]!;
    for (let j = 0; j < c.length; j++) c[j] = c[j]! * alpha;
    c[0] = c[0]! + beta;
  }
  return stages;
}

/**
 * The one-level form of a single degree-2 stage with no finish: c0 + c1·t + c2·T2(t) = a·t² + c1·t + (c0 − c2) with
 * a = 2·c2; with u = √|a|·t it is sign(a)·(u² + linear·u + constant). Null for anything else.
 */
export function oneLevelQuadratic(
  stages: readonly ArrayLike<number>[],
  finish: ApproximationFinish,
): { leading: number; linear: number; constant: number } | null {
  const only = stages[0];
  if (stages.length !== 1 || finish !== 'none' || !only || only.length !== 3 || only[2] === 0) return null;
  const a = 2 * only[2]!;
  const sign = Math.sign(a);
  const s = Math.sqrt(Math.abs(a));
  return { leading: a, linear: (sign * only[1]!) / s, constant: sign * (only[0]! - only[2]!) };
}

/** Cost of a whole approximation as the compiler evaluates it (see the module comment). */
export function approximationCost(a: PolynomialApproximation): ApproximationCost {
  const stages = evaluationStages(a);
  const q = oneLevelQuadratic(stages, a.finish);
  if (q) {
    // u·u, then linear·u beside it at the same scale, the constant added: one rescale
    return {
      depth: 1,
      ctMultiplications: 1,
      scalarMultiplications: q.linear !== 0 ? 1 : 0,
      additions: (q.linear !== 0 ? 1 : 0) + (q.constant !== 0 ? 1 : 0),
    };
  }
  let depth = 0;
  let ct = 0;
  let scalar = 0;
  let add = 0;
  for (const s of stages) {
    const c = coefficientCost(s);
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
