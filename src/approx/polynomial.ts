/**
 * Polynomials in the Chebyshev basis, and the approximation object every other layer consumes.
 *
 * Convention (used everywhere in pann): a polynomial on [a, b] is p(x) = Σ_{j=0..d} c_j·T_j(t) with
 * t = (2x − a − b)/(b − a) ∈ [−1, 1]; c_0 is NOT halved (p(x) = c_0 + c_1·T_1(t) + …).
 */

/** A polynomial in the Chebyshev basis of its interval. */
export interface ChebyshevPolynomial {
  /** The interval [a, b] that maps onto [−1, 1]. */
  readonly interval: readonly [number, number];
  /** c_0..c_d, c_0 not halved. */
  readonly coefficients: ArrayLike<number>;
}

/**
 * How the stages of an approximation combine into the activation value:
 * - `none`: the last stage's output is the value (single polynomial, or a composite of a smooth function);
 * - `relu`: stages approximate sign(x), and relu(x) = x·(1 + s)/2 (one extra multiplication);
 * - `abs`: stages approximate sign(x), and |x| = x·s.
 */
export type ApproximationFinish = 'none' | 'relu' | 'abs';

/** A fitted stand-in for an activation: stages applied in order, then the finish. */
export interface PolynomialApproximation {
  /** Activation spec string, e.g. `relu` or `ulu:a1=0.5,a2=2`. */
  readonly activation: string;
  readonly method: 'chebyshev' | 'remez' | 'composite';
  /** Input range [a, b] on which the measured error holds. */
  readonly interval: readonly [number, number];
  readonly stages: readonly ChebyshevPolynomial[];
  readonly finish: ApproximationFinish;
}

/** Clenshaw recurrence for Σ c_j T_j(t), t ∈ [−1, 1], c_0 not halved. */
export function clenshaw(c: ArrayLike<number>, t: number): number {
  const n = c.length;
  if (n === 0) return 0;
  if (n === 1) return c[0]!;
  let b1 = 0;
  let b2 = 0;
  const t2 = 2 * t;
  for (let j = n - 1; j >= 1; j--) {
    const b0 = c[j]! + t2 * b1 - b2;
    b2 = b1;
    b1 = b0;
  }
  return c[0]! + t * b1 - b2;
}

/** Map x ∈ [a, b] to t ∈ [−1, 1]. */
export function toUnit(interval: readonly [number, number], x: number): number {
  const [a, b] = interval;
  return (2 * x - a - b) / (b - a);
}

/** Evaluate a Chebyshev-basis polynomial at x. */
export function evalChebyshev(p: ChebyshevPolynomial, x: number): number {
  return clenshaw(p.coefficients, toUnit(p.interval, x));
}

/**
 * Derivative dp/dx at x, by the Clenshaw-style recurrence for Σ c_j T_j'(t) (T_j' = j·U_{j−1}) times dt/dx.
 */
export function evalChebyshevDerivative(p: ChebyshevPolynomial, x: number): number {
  const c = p.coefficients;
  const t = toUnit(p.interval, x);
  // Σ_{j≥1} j c_j U_{j−1}(t) via Clenshaw for U: b_k = a_k + 2t b_{k+1} − b_{k+2}, result b_0
  let b1 = 0;
  let b2 = 0;
  for (let j = c.length - 1; j >= 1; j--) {
    const b0 = j * c[j]! + 2 * t * b1 - b2;
    b2 = b1;
    b1 = b0;
  }
  // b1 now holds Σ j c_j U_{j−1}(t)
  const [a, b] = p.interval;
  return (b1 * 2) / (b - a);
}

/** Evaluate an approximation at x (stages, then finish). */
export function evalApproximation(approx: PolynomialApproximation, x: number): number {
  let v = x;
  for (const s of approx.stages) v = evalChebyshev(s, v);
  switch (approx.finish) {
    case 'none':
      return v;
    case 'relu':
      return 0.5 * x * (1 + v);
    case 'abs':
      return x * v;
  }
}

/** d/dx of an approximation at x (chain rule through the stages and the finish). */
export function evalApproximationDerivative(approx: PolynomialApproximation, x: number): number {
  let v = x;
  let dv = 1;
  for (const s of approx.stages) {
    dv *= evalChebyshevDerivative(s, v);
    v = evalChebyshev(s, v);
  }
  switch (approx.finish) {
    case 'none':
      return dv;
    case 'relu':
      return 0.5 * (1 + v) + 0.5 * x * dv;
    case 'abs':
      return v + x * dv;
  }
}

/**
 * Chebyshev coefficients (on `interval`, c_0 not halved) of the power-basis polynomial Σ a_k·x^k.
 * Horner's scheme in the Chebyshev basis, with x = mid + half·t and t·T_j = (T_{j+1} + T_{|j−1|})/2.
 */
export function powerToChebyshev(power: ArrayLike<number>, interval: readonly [number, number]): number[] {
  const K = power.length - 1;
  if (K < 0) return [0];
  const mid = 0.5 * (interval[0] + interval[1]);
  const half = 0.5 * (interval[1] - interval[0]);
  let c: number[] = [power[K]!];
  for (let k = K - 1; k >= 0; k--) {
    const next = new Array<number>(c.length + 1).fill(0);
    for (let j = 0; j < c.length; j++) {
      next[j] = next[j]! + mid * c[j]!;
      // half·t·T_j
      if (j === 0) next[1] = next[1]! + half * c[0]!;
      else {
        next[j + 1] = next[j + 1]! + 0.5 * half * c[j]!;
        next[j - 1] = next[j - 1]! + 0.5 * half * c[j]!;
      }
    }
    next[0] = next[0]! + power[k]!;
    c = next;
  }
  while (c.length > 1 && c[c.length - 1] === 0) c.pop();
  return c;
}
