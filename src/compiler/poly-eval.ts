/**
 * Activations as circuit polynomials: a fitted approximation on [−R, R] is rewritten for the normalised input
 * t = x/B the circuit holds (stage-to-stage interval maps folded into the coefficients, the output scaled so
 * values stay O(1) and the rest of the scale folded into the next linear layer), then emitted through the
 * evaluation plan of src/approx/eval-plan.ts with every level and scale fixed.
 */
import { type ChebyshevAlgebra, type ChebyshevPlan, executePlan, planChebyshev } from '../approx/eval-plan.js';
import { approximationCost, evaluationStages, oneLevelQuadratic } from '../approx/cost.js';
import { type ApproximationFinish, type PolynomialApproximation, clenshaw } from '../approx/polynomial.js';
import type { CircuitBuilder } from '../circuit/index.js';
import { CompileError } from './errors.js';

/** An activation ready for the circuit. */
export interface CircuitActivation {
  /** Stage coefficients; stage 1's variable is t = x/B, stage k+1's is stage k's output. */
  stages: Float64Array[];
  plans: ChebyshevPlan[];
  finish: ApproximationFinish;
  /** activation(x) = outputMultiplier × (circuit value); folded into the next linear layer. */
  outputMultiplier: number;
  /**
   * The circuit's input is u = inputMultiplier·t, folded with 1/B into the previous linear layer: 1, except for
   * a quadratic, whose leading coefficient is folded in this way so that it costs one level instead of two.
   */
  inputMultiplier: number;
  /** A degree-2 polynomial in its one-level form u² + linear·u + constant (u = inputMultiplier·t), else null. */
  quadratic: { linear: number; constant: number } | null;
  depth: number;
}

/**
 * Rewrite `approx` (fitted on [−R, R]) for the input t = x/B.
 * `homogeneity` is the activation's degree of positive homogeneity (null if none): only then may R differ from B.
 */
export function normaliseApproximation(approx: PolynomialApproximation, B: number, homogeneity: number | null): CircuitActivation {
  if (approx.stages.length === 0) throw new CompileError(`approximation of ${approx.activation} has no stages`);
  const [a0, b0] = approx.stages[0]!.interval;
  const R = b0;
  if (!(R > 0) || Math.abs(a0 + b0) > 1e-12 * R) {
    throw new CompileError(`approximation of ${approx.activation}: first stage interval [${a0}, ${b0}] is not symmetric`);
  }
  // stage k+1's interval map folded into stage k's coefficients, as the cost model counts them
  const stages = evaluationStages(approx);
  let outputMultiplier: number;
  if (approx.finish === 'relu') outputMultiplier = B / 2;
  else if (approx.finish === 'abs') outputMultiplier = B;
  else {
    let gamma: number;
    if (homogeneity !== null) {
      outputMultiplier = B ** homogeneity;
      gamma = R ** -homogeneity;
    } else {
      if (Math.abs(R / B - 1) > 1e-9) {
        throw new CompileError(
          `approximation of ${approx.activation} is fitted on [-${R}, ${R}] but the calibrated range is [-${B}, ${B}] ` +
            `(only positively homogeneous activations can be rescaled)`,
        );
      }
      outputMultiplier = B;
      gamma = 1 / B;
    }
    const last = stages[stages.length - 1]!;
    for (let j = 0; j < last.length; j++) last[j] = last[j]! * gamma;
  }
  const plans = stages.map((c) => planChebyshev(c));
  for (const [i, p] of plans.entries()) {
    if (p.root === null) throw new CompileError(`approximation of ${approx.activation}: stage ${i + 1} is a constant polynomial`);
  }
  // the depth the fitter ranked this approximation by (src/approx/cost.ts), which the plans below must meet
  const depth = approximationCost(approx).depth;
  const quadratic = oneLevelQuadratic(stages, approx.finish);
  if (quadratic) {
    // sign(a) joins the output multiplier; √|a| folds with 1/B into the previous linear layer (inputMultiplier):
    // one ct×ct product and one plaintext product side by side, a single rescale
    const sign = Math.sign(quadratic.leading);
    return {
      stages,
      plans,
      finish: approx.finish,
      outputMultiplier: sign * outputMultiplier,
      inputMultiplier: Math.sqrt(Math.abs(quadratic.leading)),
      quadratic: { linear: quadratic.linear, constant: quadratic.constant },
      depth,
    };
  }
  const planned = plans.reduce((d, p) => d + p.cost.depth, 0) + (approx.finish === 'none' ? 0 : 1);
  if (planned !== depth)
    throw new CompileError(`internal: ${approx.activation} plans take ${planned} levels, the cost model says ${depth}`);
  return { stages, plans, finish: approx.finish, outputMultiplier, inputMultiplier: 1, quadratic: null, depth };
}

/** The builder as a ChebyshevAlgebra over registers. */
function algebra(b: CircuitBuilder): ChebyshevAlgebra<number> {
  return {
    level: (v) => b.level[v]!,
    scale: (v) => b.scales[v]!,
    prime: (l) => b.prime(l),
    mul: (x, y) => b.mulRescale(x, y),
    linear: (terms, c0, level, scale) => b.linearCombination(terms, c0, level, scale),
    add: (x, y) => b.add(x, y),
    sub: (x, y) => b.sub(x, y),
    addConst: (x, c) => b.addConstant(x, c),
    alignScale: (v, s) => b.alignScale(v, s),
  };
}

/**
 * The depths of the parts a refresh round may split an activation into: each composite stage, the finish with the
 * last one. A single polynomial (or a one-level quadratic) is one part.
 */
export function activationParts(act: CircuitActivation): number[] {
  if (act.quadratic || act.plans.length < 2) return [act.depth];
  const parts = act.plans.map((p) => p.cost.depth);
  parts[parts.length - 1]! += act.finish === 'none' ? 0 : 1;
  return parts;
}

/** Grid points per stage bound. */
const BOUND_GRID = 2048;

/**
 * |value| after each composite stage but the last, over t ∈ [−1, 1] (a grid), 10 % over and at least 1: the mask
 * bound of a refresh round after that stage.
 */
export function stageBounds(act: CircuitActivation): number[] {
  const bounds = new Array<number>(Math.max(0, act.stages.length - 1)).fill(0);
  for (let i = 0; i <= BOUND_GRID; i++) {
    let v = -1 + (2 * i) / BOUND_GRID;
    for (let k = 0; k < bounds.length; k++) {
      v = clenshaw(act.stages[k]!, v);
      bounds[k] = Math.max(bounds[k]!, Math.abs(v));
    }
  }
  return bounds.map((m) => Math.max(1, 1.1 * m));
}

/** |activation value| in circuit units over t ∈ [−1, 1] (a grid), 10 % over and at least 1: the mask bound right after it. */
export function outputBound(act: CircuitActivation): number {
  let m = 0;
  for (let i = 0; i <= BOUND_GRID; i++) m = Math.max(m, Math.abs(evalCircuitActivation(act, -1 + (2 * i) / BOUND_GRID)));
  return Math.max(1, 1.1 * m);
}

/**
 * A refresh round inside an activation, after composite stage `stage` (≥ 1): the masks of the partial value and of
 * t (which the relu/abs finish still needs), and the level the next part starts at.
 */
export interface InnerRefresh {
  stage: number;
  maskBounds: readonly [number, number];
  level: number;
}

/**
 * Emit an activation on register t (level ℓ, canonical scale) → register at level ℓ − depth, canonical scale; with
 * rounds inside (`inner`), each part after a round starts again at its round's level.
 */
export function emitActivation(
  b: CircuitBuilder,
  t: number,
  act: CircuitActivation,
  inner: readonly InnerRefresh[] = [],
  onRound?: () => void,
): number {
  const startLevel = b.level[t]!;
  const needed = inner.length > 0 ? activationParts(act)[0]! + 1 : act.depth;
  if (startLevel < needed) {
    throw new CompileError(`activation needs ${needed} levels but only ${startLevel} are left`);
  }
  if (act.quadratic) return emitQuadratic(b, t, act.quadratic);
  const alg = algebra(b);
  let v = t;
  act.plans.forEach((plan, k) => {
    const round = inner.find((r) => r.stage === k);
    if (round) [v, t] = refreshInside(b, v, t, act.finish !== 'none', round, onRound);
    const targetLevel = b.level[v]! - plan.cost.depth;
    const isLast = k === act.plans.length - 1;
    let targetScale = b.canonical(targetLevel);
    if (isLast && act.finish !== 'none') {
      // the finish multiplies t (dropped to targetLevel) by this result: land the product on the canonical scale
      targetScale = (b.canonical(targetLevel - 1) * b.prime(targetLevel)) / b.scales[t]!;
    }
    v = executePlan(plan, alg, v, { level: targetLevel, scale: targetScale });
  });
  if (act.finish === 'relu') v = b.mulRescale(t, b.addConstant(v, 1));
  else if (act.finish === 'abs') v = b.mulRescale(t, v);
  return b.alignScale(v, b.canonical(b.level[v]!));
}

/** One round inside an activation: the partial value and (when the finish needs it) t, then both down to the level. */
function refreshInside(
  b: CircuitBuilder,
  v: number,
  t: number,
  keepT: boolean,
  round: InnerRefresh,
  onRound?: () => void,
): [number, number] {
  // consecutive refresh ops are one round: both ciphertexts go to the key holder together (and, through onRound,
  // any residual value a later layer still reads)
  let fv = b.refresh(v, round.maskBounds[0]);
  let ft = keepT ? b.refresh(t, round.maskBounds[1]) : t;
  onRound?.();
  if (round.level < b.maxLevel) {
    fv = b.drop(fv, round.level);
    if (keepT) ft = b.drop(ft, round.level);
  }
  return [fv, ft];
}

/** u² + β·u + γ at one level: the square and the plaintext product meet at scale S_ℓ², then one rescale. */
function emitQuadratic(b: CircuitBuilder, u: number, q: { linear: number; constant: number }): number {
  const level = b.level[u]!;
  // u² lands on S_u²/q_ℓ, canonical only when u is: a fresh ciphertext dropped below the top is not (a refresh
  // round's ciphertexts are encrypted at the top level's scale), and one level leaves no room to correct it
  if (Math.abs(b.scales[u]! / b.canonical(level) - 1) > 1e-9) {
    throw new CompileError(
      `a degree-2 stand-in right after a refresh round that lands below the top level (level ${level} of ${b.maxLevel}) ` +
        'is not supported: use a higher precision or refresh before another activation layer',
    );
  }
  let acc = b.mul(u, u);
  const target = b.scales[acc]!;
  if (q.linear !== 0) acc = b.add(acc, b.alignScale(b.mulPlain(u, b.constant(q.linear, level, target / b.scales[u]!)), target));
  if (q.constant !== 0) acc = b.addPlain(acc, b.constant(q.constant, level, target));
  const out = b.rescale(acc);
  return b.alignScale(out, b.canonical(b.level[out]!));
}

/** Evaluate a circuit activation in float64 (what the circuit computes, before noise): t ↦ value. */
export function evalCircuitActivation(act: CircuitActivation, t: number): number {
  if (act.quadratic) {
    const u = act.inputMultiplier * t;
    return u * u + act.quadratic.linear * u + act.quadratic.constant;
  }
  let v = t;
  for (const c of act.stages) v = clenshaw(c, v);
  if (act.finish === 'relu') return t * (1 + v);
  if (act.finish === 'abs') return t * v;
  return v;
}
