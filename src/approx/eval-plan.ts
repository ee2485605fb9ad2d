/**
 * The evaluation plan of a Chebyshev-basis polynomial under CKKS: which T_j are computed, how the polynomial is
 * split, at which level and scale every intermediate value lands. The plan is written once here and executed by
 * different algebras: a counting algebra (depth and operation counts stored with every fit), a float64 algebra
 * (tests), and the compiler's CKKS algebra (circuit ops with exact levels and scales).
 *
 * Algorithm: baby-step giant-step in the Chebyshev basis with level- and scale-targeted recursion (Bossuat,
 * Mouchet, Troncoso-Pastoriza, Hubaux, "Efficient Bootstrapping for Approximate HE with Non-Sparse Keys",
 * EUROCRYPT 2021, Alg. 2; as in Lattigo's polynomial evaluator). p = q·T_n + r (Chebyshev division, n the
 * largest power of two ≤ deg p) recursively until deg < 2^babyLog; each leaf Σ c_j·T_j + c_0 is one scalar
 * multiplication per term and a single rescale, landing exactly at the level and scale its parent needs, so no
 * value is ever realigned after the fact. With babyLog = 1 (leaves c_0 + c_1·t) the depth is ⌈log2(d+1)⌉ on an
 * input already in [−1, 1]; larger babyLog trades one more level for fewer ciphertext multiplications.
 * Zero coefficients (parity) are skipped, so odd/even polynomials cost about half.
 */

/** A node of the split tree. */
export type PlanNode =
  | { readonly kind: 'leaf'; readonly terms: readonly PlanTerm[]; readonly constant: number }
  | { readonly kind: 'split'; readonly power: number; readonly q: PlanNode; readonly r: PlanNode | null };

export interface PlanTerm {
  /** j of T_j (≥ 1). */
  readonly power: number;
  readonly coef: number;
}

export interface ChebyshevPlan {
  readonly degree: number;
  /** Leaves have degree < 2^babyLog. */
  readonly babyLog: number;
  /** Every T_j (j ≥ 2) the plan computes, ascending; T_1 is the input. */
  readonly powers: readonly number[];
  readonly root: PlanNode | null;
  /** Constant value when the polynomial is constant (root null). */
  readonly constant: number;
  readonly cost: EvalCost;
}

export interface EvalCost {
  /** Levels consumed, for an input already normalised to [−1, 1]. */
  readonly depth: number;
  /** Ciphertext × ciphertext multiplications (each followed by relinearisation and rescale). */
  readonly ctMultiplications: number;
  /** Ciphertext × constant multiplications (leaf terms and realignments). */
  readonly scalarMultiplications: number;
  readonly rescales: number;
  /** Ciphertext additions/subtractions (constant additions not counted: they are plaintext adds). */
  readonly additions: number;
}

export interface PlanOptions {
  /**
   * Leaves have degree < 2^babyLog. `undefined` tries every value and keeps the cheapest by (depth, ciphertext
   * multiplications, scalar multiplications).
   * @default undefined
   */
  babyLog?: number;
  /** Coefficients with |c| ≤ zeroTolerance·max|c| are treated as zero (exploits parity). @default 0 */
  zeroTolerance?: number;
}

type Poly = number[];

function degreeOf(c: Poly): number {
  for (let j = c.length - 1; j >= 0; j--) if (c[j] !== 0) return j;
  return -1; // zero polynomial
}

/** Chebyshev division p = q·T_n + r with deg r < n, for n ≤ deg p < 2n. */
function divide(p: Poly, n: number): { q: Poly; r: Poly } {
  const d = degreeOf(p);
  const q: Poly = new Array<number>(d - n + 1).fill(0);
  const r: Poly = p.slice(0, n);
  q[0] = p[n]!;
  for (let k = 1; k <= d - n; k++) {
    q[k] = 2 * p[n + k]!;
    r[n - k] = r[n - k]! - p[n + k]!; // T_n·T_k = (T_{n+k} + T_{n−k})/2
  }
  return { q, r };
}

function buildNode(p: Poly, babyLog: number): PlanNode | null {
  const d = degreeOf(p);
  if (d < 0) return null;
  if (d < 1 << babyLog) {
    const terms: PlanTerm[] = [];
    for (let j = 1; j <= d; j++) if (p[j] !== 0) terms.push({ power: j, coef: p[j]! });
    return { kind: 'leaf', terms, constant: p[0] ?? 0 };
  }
  let n = 1;
  while (n * 2 <= d) n *= 2;
  const { q, r } = divide(p, n);
  const qNode = buildNode(q, babyLog)!;
  const rNode = buildNode(r, babyLog);
  // constant q next to a leaf r: one leaf (a single rescale) instead of a split
  if (qNode.kind === 'leaf' && qNode.terms.length === 0 && (rNode === null || rNode.kind === 'leaf')) {
    const terms = [...(rNode?.terms ?? []), { power: n, coef: qNode.constant }];
    return { kind: 'leaf', terms, constant: rNode?.constant ?? 0 };
  }
  return { kind: 'split', power: n, q: qNode, r: rNode };
}

/** Every power T_j (j ≥ 2) needed to compute the given ones, by T_2k = 2T_k² − 1 and T_2k+1 = 2T_k+1·T_k − T_1. */
function closePowers(needed: Iterable<number>): number[] {
  const all = new Set<number>();
  const visit = (j: number): void => {
    if (j <= 1 || all.has(j)) return;
    all.add(j);
    if (j % 2 === 0) visit(j / 2);
    else if (j === 3) visit(2);
    else {
      visit((j + 1) / 2);
      visit((j - 1) / 2);
    }
  };
  for (const j of needed) visit(j);
  return [...all].sort((a, b) => a - b);
}

function collectPowers(node: PlanNode | null, out: Set<number>): void {
  if (!node) return;
  if (node.kind === 'leaf') {
    for (const t of node.terms) out.add(t.power);
  } else {
    out.add(node.power);
    collectPowers(node.q, out);
    collectPowers(node.r, out);
  }
}

/**
 * The operations a plan needs from whoever executes it. Levels count down (a product of operands at level ℓ
 * lands at ℓ − 1); `prime(ℓ)` is the prime dropped by the rescale from level ℓ.
 */
export interface ChebyshevAlgebra<V> {
  level(v: V): number;
  scale(v: V): number;
  prime(level: number): number;
  /** a·b (operands brought to the lower level first), relinearised and rescaled. */
  mul(a: V, b: V): V;
  /** Σ c_i·v_i + c0 landing at exactly (level, scale): one scalar multiplication per term, one rescale. */
  linear(terms: readonly { v: V; c: number }[], c0: number, level: number, scale: number): V;
  /** a + b (same level and scale). */
  add(a: V, b: V): V;
  /** a − b (same level and scale). */
  sub(a: V, b: V): V;
  /** a + c. */
  addConst(a: V, c: number): V;
  /** Relabel v's scale to `scale` (absorbs float rounding only). */
  alignScale(v: V, scale: number): V;
}

/**
 * Run a plan with an algebra. `input` is t ∈ [−1, 1]; the result lands at exactly (target.level, target.scale),
 * which must be ≤ level(input) − plan.cost.depth.
 */
export function executePlan<V>(plan: ChebyshevPlan, alg: ChebyshevAlgebra<V>, input: V, target: { level: number; scale: number }): V {
  if (plan.root === null) throw new Error('executePlan: constant polynomial has no ciphertext result');
  if (target.level > alg.level(input) - plan.cost.depth) {
    throw new Error(`executePlan: target level ${target.level} is above input level ${alg.level(input)} minus depth ${plan.cost.depth}`);
  }
  const T = new Map<number, V>([[1, input]]);
  for (const j of plan.powers) {
    if (j % 2 === 0) {
      const h = T.get(j / 2)!;
      const sq = alg.mul(h, h);
      T.set(j, alg.addConst(alg.add(sq, sq), -1));
    } else if (j === 3) {
      // T_3 = T_1·(2T_2 − 1): no realignment of T_1 needed
      const t2 = T.get(2)!;
      T.set(3, alg.mul(input, alg.addConst(alg.add(t2, t2), -1)));
    } else {
      const a = T.get((j + 1) / 2)!;
      const b = T.get((j - 1) / 2)!;
      const prod = alg.mul(a, b);
      const twice = alg.add(prod, prod);
      const t1 = alg.linear([{ v: input, c: 1 }], 0, alg.level(prod), alg.scale(prod));
      T.set(j, alg.sub(twice, t1));
    }
  }
  const evalNode = (node: PlanNode, level: number, scale: number): V => {
    if (node.kind === 'leaf') {
      return alg.linear(
        node.terms.map((t) => ({ v: T.get(t.power)!, c: t.coef })),
        node.constant,
        level,
        scale,
      );
    }
    const tn = T.get(node.power)!;
    let prod: V;
    if (node.q.kind === 'leaf' && node.q.terms.length === 0) {
      prod = alg.linear([{ v: tn, c: node.q.constant }], 0, level, scale);
    } else {
      const qScale = (scale * alg.prime(level + 1)) / alg.scale(tn);
      const qv = evalNode(node.q, level + 1, qScale);
      prod = alg.alignScale(alg.mul(qv, tn), scale);
    }
    if (node.r === null) return prod;
    if (node.r.kind === 'leaf' && node.r.terms.length === 0) return alg.addConst(prod, node.r.constant);
    return alg.add(prod, evalNode(node.r, level, scale));
  };
  return evalNode(plan.root, target.level, target.scale);
}

/** Counting algebra: values are depths; counts accumulate. */
function countCost(plan: Omit<ChebyshevPlan, 'cost'>): EvalCost {
  let ct = 0;
  let scalar = 0;
  let rescales = 0;
  let additions = 0;
  // levels are negative depths (input at level 0); prime/scale are dummies
  const alg: ChebyshevAlgebra<number> = {
    level: (v) => v,
    scale: () => 1,
    prime: () => 1,
    mul: (a, b) => {
      ct++;
      rescales++;
      return Math.min(a, b) - 1;
    },
    linear: (terms, _c0, level) => {
      scalar += terms.length;
      rescales++;
      additions += Math.max(0, terms.length - 1);
      for (const t of terms) if (t.v < level + 1) throw new Error(`plan: leaf term at level ${t.v} below ${level + 1}`);
      return level;
    },
    add: (a, b) => {
      additions++;
      if (a !== b) throw new Error(`plan: add of levels ${a} and ${b}`);
      return a;
    },
    sub: (a, b) => {
      additions++;
      if (a !== b) throw new Error(`plan: sub of levels ${a} and ${b}`);
      return a;
    },
    addConst: (a) => a,
    alignScale: (v) => v,
  };
  if (plan.root === null) return { depth: 0, ctMultiplications: 0, scalarMultiplications: 0, rescales: 0, additions: 0 };
  const depth = minDepth(plan);
  executePlan({ ...plan, cost: { depth, ctMultiplications: 0, scalarMultiplications: 0, rescales: 0, additions: 0 } }, alg, 0, {
    level: -depth,
    scale: 1,
  });
  return { depth, ctMultiplications: ct, scalarMultiplications: scalar, rescales, additions };
}

/** Depth of T_j under the power recurrences of {@link closePowers}. */
function powerDepth(j: number): number {
  return j <= 1 ? 0 : Math.ceil(Math.log2(j));
}

/** The smallest depth at which the split tree can be evaluated. */
function minDepth(plan: Omit<ChebyshevPlan, 'cost'>): number {
  const nodeDepth = (node: PlanNode | null): number => {
    if (!node) return 0;
    if (node.kind === 'leaf') {
      return node.terms.length === 0 ? 0 : 1 + Math.max(...node.terms.map((t) => powerDepth(t.power)));
    }
    return Math.max(1 + Math.max(nodeDepth(node.q), powerDepth(node.power)), nodeDepth(node.r));
  };
  return nodeDepth(plan.root);
}

function planWithBabyLog(coefficients: Poly, babyLog: number): ChebyshevPlan {
  const degree = Math.max(0, degreeOf(coefficients));
  const root = buildNode(coefficients, babyLog);
  const isConstant = root === null || (root.kind === 'leaf' && root.terms.length === 0);
  const base = {
    degree,
    babyLog,
    root: isConstant ? null : root,
    constant: root?.kind === 'leaf' && root.terms.length === 0 ? root.constant : 0,
    powers: [] as number[],
  };
  const used = new Set<number>();
  collectPowers(base.root, used);
  base.powers = closePowers(used);
  return { ...base, cost: countCost(base) };
}

/**
 * Plan the evaluation of Σ c_j T_j(t), t ∈ [−1, 1] (c_0 not halved).
 */
export function planChebyshev(coefficients: ArrayLike<number>, options: PlanOptions = {}): ChebyshevPlan {
  const { babyLog, zeroTolerance = 0 } = options;
  const c = Array.from(coefficients, (v) => v);
  for (const v of c) if (!Number.isFinite(v)) throw new Error(`planChebyshev: coefficient ${v} is not finite`);
  const maxAbs = c.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  for (let j = 0; j < c.length; j++) if (Math.abs(c[j]!) <= zeroTolerance * maxAbs) c[j] = 0;
  const d = Math.max(0, degreeOf(c));
  if (babyLog !== undefined) {
    if (!Number.isInteger(babyLog) || babyLog < 1) throw new Error(`planChebyshev: babyLog must be an integer ≥ 1, got ${babyLog}`);
    return planWithBabyLog(c, babyLog);
  }
  const maxLog = Math.max(1, Math.ceil(Math.log2(d + 1)));
  let best: ChebyshevPlan | null = null;
  for (let l = 1; l <= maxLog; l++) {
    const p = planWithBabyLog(c, l);
    if (
      best === null ||
      p.cost.depth < best.cost.depth ||
      (p.cost.depth === best.cost.depth &&
        (p.cost.ctMultiplications < best.cost.ctMultiplications ||
          (p.cost.ctMultiplications === best.cost.ctMultiplications && p.cost.scalarMultiplications < best.cost.scalarMultiplications)))
    ) {
      best = p;
    }
  }
  return best!;
}

/** The cost of the cheapest plan (by depth, then ciphertext multiplications) for these coefficients. */
export function chebyshevEvalCost(coefficients: ArrayLike<number>): EvalCost {
  return planChebyshev(coefficients).cost;
}

/** Float64 algebra: executes a plan on plain numbers (tests compare it with Clenshaw). */
export function evalPlanFloat(plan: ChebyshevPlan, t: number): number {
  if (plan.root === null) return plan.constant;
  type F = { x: number; level: number };
  const alg: ChebyshevAlgebra<F> = {
    level: (v) => v.level,
    scale: () => 1,
    prime: () => 1,
    mul: (a, b) => ({ x: a.x * b.x, level: Math.min(a.level, b.level) - 1 }),
    linear: (terms, c0, level) => ({ x: terms.reduce((s, tm) => s + tm.c * tm.v.x, c0), level }),
    add: (a, b) => ({ x: a.x + b.x, level: a.level }),
    sub: (a, b) => ({ x: a.x - b.x, level: a.level }),
    addConst: (a, c) => ({ x: a.x + c, level: a.level }),
    alignScale: (v) => v,
  };
  return executePlan(plan, alg, { x: t, level: plan.cost.depth }, { level: 0, scale: 1 }).x;
}
