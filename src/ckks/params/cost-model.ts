/**
 * Predicted latency and sizes of CKKS operations, from the table `npm run bench` measures (bench/ckks-ops.ts
 * writes bench/op-costs.json; the committed copy is what this module reads).
 *
 * Time model, per ring dimension N and op, with p = number of primes at the ciphertext's level (level + 1):
 *   ms = a + b·p + c·p²
 * fitted by least squares to the medians measured at every level of several chains. c = 0 except for the
 * key-switching ops (mul, whose relinearisation decomposes into p digits each transformed over p + 1 primes, and
 * rotate), which SEAL makes quadratic in p; everything else is linear (one NTT-sized pass per prime). The fit
 * uses the fastest median per number of primes and leaves out levels far off the fit of the others (another
 * process loading the machine; see robustFitCost). The cost
 * depends on the level, not on the chain it belongs to. `encode` is modelled at p = level + 1 as if SEAL encoded
 * there directly (pann encodes at the top level and drops primes, slightly more). For an N that was not measured,
 * the nearest measured N is scaled by N·log2 N.
 *
 * Sizes are exact: they follow SEAL's serialization layout (src/ckks/wire-format.ts), and the bench checks them
 * against real serialized objects.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CkksError } from '../../errors.js';
import { normaliseRotationSteps } from '../galois.js';
import { ciphertextBytes, kswitchKeysBytes } from '../wire-format.js';
import { CkksParameters, type CkksParametersLiteral } from './parameters.js';

/** Ops with a cost: the circuit ops (same names as the compiler's) plus client-side ones. */
export type CkksCostOp =
  | 'add'
  | 'sub'
  | 'negate'
  | 'addPlain'
  | 'mulPlain'
  | 'mul'
  | 'rescale'
  | 'rotate'
  | 'drop'
  | 'setScale'
  | 'encode'
  | 'encrypt'
  | 'encryptSymmetric'
  | 'decrypt';

/** The ops the bench measures; the others are priced as one of these (sub, negate → add; setScale → 0). */
export const MEASURED_OPS = [
  'encode',
  'encrypt',
  'encryptSymmetric',
  'decrypt',
  'add',
  'addPlain',
  'mulPlain',
  'mul',
  'rescale',
  'rotate',
  'drop',
] as const;
export type MeasuredOp = (typeof MEASURED_OPS)[number];
const KEY_SWITCHING: ReadonlySet<MeasuredOp> = new Set(['mul', 'rotate']);

/** One measured median. */
export interface OpCostSample {
  n: number;
  chain: number[];
  level: number;
  /** Primes at the level (level + 1). */
  primes: number;
  op: MeasuredOp;
  ms: number;
}

export interface OpCostFit {
  a: number;
  b: number;
  c: number;
}

/** bench/op-costs.json. */
export interface OpCostTable {
  format: 'pann-op-costs';
  version: 1;
  date: string;
  machine: { cpu: string; cores: number; node: string; platform: string; nodeSeal: string };
  model: string;
  repeats: number;
  samples: OpCostSample[];
  /** fits[N][op] */
  fits: Record<string, Record<MeasuredOp, OpCostFit>>;
  /** Measured serialized sizes, bytes. */
  sizes: {
    n: number;
    chain: number[];
    /** Ciphertext at each level 0…maxLevel (uncompressed). */
    ciphertext: number[];
    /** Seeded (symmetric, fresh) ciphertext at the top level. */
    seededCiphertext: number;
    relinKeys: number;
    seededRelinKeys: number;
    /** Galois keys per rotation step (with the N × 8-byte index they share not counted). */
    galoisKeyPerStep: number;
    seededGaloisKeyPerStep: number;
  }[];
  /** Key generation, ms. */
  keyGeneration: { n: number; chain: number[]; relinMs: number; galoisPerStepMs: number }[];
}

/**
 * Fit of ms = a + b·p (+ c·p² when `quadratic`) minimising the squared relative error (weights 1/ms², as the
 * times span two orders of magnitude). A negative intercept (which would predict ≤ 0 ms for few primes) is
 * dropped and the fit redone through the origin; too few distinct levels fall back to fewer terms.
 */
export function fitCost(points: readonly { primes: number; ms: number }[], quadratic: boolean): OpCostFit {
  const distinct = new Set(points.map((q) => q.primes)).size;
  const terms: ((p: number) => number)[] = [(p) => p];
  if (quadratic && distinct >= 3) terms.push((p) => p * p);
  const withIntercept = distinct > terms.length;
  if (withIntercept) {
    const [a, b, c = 0] = leastSquares(points, [() => 1, ...terms]);
    if (a! >= 0) return { a: a!, b: b!, c };
  }
  const [b, c = 0] = leastSquares(points, terms);
  return { a: 0, b: b!, c };
}

/** Coefficients of the basis functions minimising Σ ((fit − ms)/ms)² (normal equations, partial pivoting). */
function leastSquares(points: readonly { primes: number; ms: number }[], basis: ((p: number) => number)[]): number[] {
  const k = basis.length;
  const m = Array.from({ length: k }, () => new Array<number>(k + 1).fill(0));
  for (const { primes, ms } of points) {
    const w = 1 / Math.max(ms, 1e-6) ** 2;
    const row = basis.map((f) => f(primes));
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) m[i]![j]! += w * row[i]! * row[j]!;
      m[i]![k]! += w * row[i]! * ms;
    }
  }
  for (let col = 0; col < k; col++) {
    let pivot = col;
    for (let r = col + 1; r < k; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    for (let r = 0; r < k; r++) {
      if (r === col) continue;
      const f = m[r]![col]! / m[col]![col]!;
      for (let j = col; j <= k; j++) m[r]![j]! -= f * m[col]![j]!;
    }
  }
  return m.map((row, i) => row[k]! / row[i]!);
}

/** A level whose time is this far (relative) from the fit of the other levels is treated as machine noise. */
export const OUTLIER_FRACTION = 0.5;

/**
 * Fit robust to a machine shared with other processes (which only ever make an op slower): keep the fastest
 * median per number of primes, then repeatedly drop the level that is slowest relative to a fit of all the others
 * while it is more than OUTLIER_FRACTION slower than that fit (at most a quarter of the levels, keeping 4).
 */
export function robustFitCost(points: readonly { primes: number; ms: number }[], quadratic: boolean): OpCostFit {
  const fastest = new Map<number, number>();
  for (const q of points) fastest.set(q.primes, Math.min(q.ms, fastest.get(q.primes) ?? Infinity));
  let pts = [...fastest].map(([primes, ms]) => ({ primes, ms }));
  const predict = (f: OpCostFit, p: number) => f.a + f.b * p + f.c * p * p;
  const maxDrops = Math.floor(pts.length / 4);
  for (let drops = 0; drops < maxDrops && pts.length > 4; drops++) {
    let worst = -1;
    let worstError = OUTLIER_FRACTION;
    pts.forEach((q, i) => {
      const rest = fitCost(
        pts.filter((_, j) => j !== i),
        quadratic,
      );
      const expected = Math.max(predict(rest, q.primes), 1e-6);
      const error = (q.ms - expected) / expected; // only slower than expected: load never speeds an op up
      if (error > worstError) {
        worst = i;
        worstError = error;
      }
    });
    if (worst < 0) break;
    pts = pts.filter((_, j) => j !== worst);
  }
  return fitCost(pts, quadratic);
}

/** Fits for every measured (N, op) from the samples. */
export function fitTable(samples: readonly OpCostSample[]): Record<string, Record<MeasuredOp, OpCostFit>> {
  const out: Record<string, Record<MeasuredOp, OpCostFit>> = {};
  for (const n of new Set(samples.map((s) => s.n))) {
    const row = {} as Record<MeasuredOp, OpCostFit>;
    for (const op of MEASURED_OPS) {
      const pts = samples.filter((s) => s.n === n && s.op === op);
      if (pts.length > 0) row[op] = robustFitCost(pts, KEY_SWITCHING.has(op));
    }
    out[String(n)] = row;
  }
  return out;
}

/** Check a parsed op-costs file, naming the first bad field. */
export function validateOpCostTable(value: unknown, source = 'op-costs'): OpCostTable {
  const t = value as Partial<OpCostTable> | null;
  if (typeof t !== 'object' || t === null) throw new CkksError(`${source}: not a JSON object`);
  if (t.format !== 'pann-op-costs') throw new CkksError(`${source}: format is ${JSON.stringify(t.format)}, expected "pann-op-costs"`);
  if (t.version !== 1) throw new CkksError(`${source}: version ${JSON.stringify(t.version)} is not supported (expected 1)`);
  if (typeof t.fits !== 'object' || t.fits === null || Object.keys(t.fits).length === 0)
    throw new CkksError(`${source}: fits is missing or empty`);
  for (const [n, row] of Object.entries(t.fits)) {
    if (!Number.isInteger(Number(n))) throw new CkksError(`${source}: fits key ${n} is not a ring dimension`);
    for (const op of MEASURED_OPS) {
      const f = (row as Record<string, OpCostFit | undefined>)[op];
      if (!f || ![f.a, f.b, f.c].every(Number.isFinite)) throw new CkksError(`${source}: fits.${n}.${op} is missing or not numeric`);
    }
  }
  if (!Array.isArray(t.samples)) throw new CkksError(`${source}: samples is not an array`);
  if (!Array.isArray(t.sizes)) throw new CkksError(`${source}: sizes is not an array`);
  return t as OpCostTable;
}

let committed: OpCostTable | null = null;

/** The committed table (bench/op-costs.json, found from this module's location in src/ or dist/src/). */
export function committedOpCosts(): OpCostTable {
  if (committed) return committed;
  // src/ckks/params/ is three levels below the package root, dist/src/ckks/params/ four
  for (let up = 3; up <= 4; up++) {
    const path = fileURLToPath(new URL(`${'../'.repeat(up)}bench/op-costs.json`, import.meta.url));
    if (existsSync(path)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(path, 'utf8'));
      } catch (err) {
        throw new CkksError(`${path}: not valid JSON`, { cause: err });
      }
      committed = validateOpCostTable(parsed, path);
      return committed;
    }
  }
  throw new CkksError('bench/op-costs.json not found (run `npm run bench` to measure it)');
}

const ALIAS: Partial<Record<CkksCostOp, MeasuredOp>> = { sub: 'add', negate: 'add' };

/**
 * Predicted milliseconds of one `op` at ring dimension N on a ciphertext at `level` (encode/encrypt: the level
 * produced). Reads the committed table unless one is given.
 */
export function predictOpMs(op: CkksCostOp, polyModulusDegree: number, level: number, table: OpCostTable = committedOpCosts()): number {
  if (op === 'setScale') return 0;
  const measured = ALIAS[op] ?? (op as MeasuredOp);
  if (!MEASURED_OPS.includes(measured)) throw new CkksError(`predictOpMs: unknown op ${String(op)}`);
  if (!Number.isInteger(level) || level < 0) throw new CkksError(`predictOpMs: level ${level} is not a level`);
  const ns = Object.keys(table.fits).map(Number);
  const nearest = ns.reduce((best, n) =>
    Math.abs(Math.log2(n / polyModulusDegree)) < Math.abs(Math.log2(best / polyModulusDegree)) ? n : best,
  );
  const f = table.fits[String(nearest)]![measured];
  const p = level + 1;
  const ms = Math.max(0, f.a + f.b * p + f.c * p * p);
  return nearest === polyModulusDegree ? ms : (ms * polyModulusDegree * Math.log2(polyModulusDegree)) / (nearest * Math.log2(nearest));
}

/** Milliseconds for one op at ring dimension N on a ciphertext at `level`: what plans are costed with. */
export type OpCostFn = (op: CkksCostOp, polyModulusDegree: number, level: number) => number;

/** The committed measurements of this machine kind (bench/op-costs.json). */
export const measuredOpCost: OpCostFn = (op, n, level) => predictOpMs(op, n, level);

/** Predicted serialized sizes in bytes (exact for uncompressed SEAL data). */
export interface PredictedSizes {
  /** Ciphertext at each level 0…maxLevel. */
  ciphertext: number[];
  /** Fresh symmetric ciphertext in seeded form (what a client uploads). */
  seededCiphertext: number;
  relinKeys: number;
  seededRelinKeys: number;
  /** Galois keys for all the steps (null when there are none). */
  galoisKeys: number | null;
  seededGaloisKeys: number | null;
  /** What a client uploads to open a session: seeded relinearisation + Galois keys. */
  evaluationKeyUpload: number;
}

/** Sizes of everything a client and server exchange for these parameters and rotation steps. */
export function predictSizes(literal: CkksParametersLiteral, rotationSteps: readonly number[]): PredictedSizes {
  const params = CkksParameters.from(literal);
  const n = params.polyModulusDegree;
  const keyPrimes = params.coeffModulusBits.length;
  const maxLevel = params.maxLevel;
  const steps = normaliseRotationSteps(rotationSteps, n / 2).length;
  const galois = (seeded: boolean) => (steps > 0 ? kswitchKeysBytes(n, keyPrimes, steps, n, seeded) : null);
  const sizes: PredictedSizes = {
    ciphertext: Array.from({ length: maxLevel + 1 }, (_, level) => ciphertextBytes(n, level + 1)),
    seededCiphertext: ciphertextBytes(n, maxLevel + 1, { seeded: true }),
    relinKeys: kswitchKeysBytes(n, keyPrimes, 1, 1, false),
    seededRelinKeys: kswitchKeysBytes(n, keyPrimes, 1, 1, true),
    galoisKeys: galois(false),
    seededGaloisKeys: galois(true),
    evaluationKeyUpload: 0,
  };
  sizes.evaluationKeyUpload = sizes.seededRelinKeys + (sizes.seededGaloisKeys ?? 0);
  return sizes;
}
