/**
 * The approximation file: format "pann-approximation", version 1. One JSON object per fit:
 *
 *   format, version, activation {name, params}, method, interval [a, b], basis "chebyshev",
 *   parity ("even" | "odd" | "none", of the stored coefficients), degree, coefficients (decimal strings with
 *   full double precision, String(x); the `--json` CLI output has numbers instead), maxError (measured),
 *   log2Error, depth, ctMultiplications, scalarMultiplications, additions, finish ("none" | "relu" | "abs");
 *   composite fits: coefficients [] and `stages`, a list of polynomial objects {interval, basis, parity, degree,
 *   coefficients, depth, ctMultiplications, scalarMultiplications, additions, epsilon, error} applied in order;
 *   weighted Remez fits: weight {negative, positive}.
 *
 * The loader validates every field with a message naming it, re-derives the cost from the coefficients and
 * rejects a file whose stored depth or multiplication counts disagree.
 */
import { FitError, PannError, errorMessage } from '../errors.js';
import { activationFromJSON } from './activations.js';
import { approximationCost, polynomialCost } from './cost.js';
import { log2Error, type FittedApproximation, type FittedStage } from './fitted.js';
import type { ApproximationFinish, ChebyshevPolynomial, PolynomialApproximation } from './polynomial.js';
import { coefficientParity } from './remez.js';

export const APPROXIMATION_FORMAT = 'pann-approximation';
export const APPROXIMATION_VERSION = 1;

type Json = Record<string, unknown>;

function polynomialJson(stage: FittedStage, asStrings: boolean): Json {
  const c = Array.from(stage.polynomial.coefficients, (v) => (asStrings ? String(v) : v));
  return {
    interval: [stage.polynomial.interval[0], stage.polynomial.interval[1]],
    basis: 'chebyshev',
    parity: stage.parity,
    degree: stage.degree,
    coefficients: c,
    depth: stage.cost.depth,
    ctMultiplications: stage.cost.ctMultiplications,
    scalarMultiplications: stage.cost.scalarMultiplications,
    additions: stage.cost.additions,
    ...(stage.epsilon !== undefined ? { epsilon: stage.epsilon } : {}),
    ...(stage.error !== undefined ? { error: stage.error } : {}),
  };
}

/**
 * The file object of a fit. `coefficients: 'string'` (files: exact decimal strings) or `'number'` (--json).
 * Key order is fixed, so the same fit always serialises to the same bytes.
 */
export function approximationToJSON(fit: FittedApproximation, coefficients: 'string' | 'number' = 'string'): Json {
  const asStrings = coefficients === 'string';
  const composite = fit.method === 'composite';
  const single = composite ? null : fit.stages[0]!;
  return {
    format: APPROXIMATION_FORMAT,
    version: APPROXIMATION_VERSION,
    activation: fit.activation.toJSON(),
    method: fit.method,
    interval: [fit.interval[0], fit.interval[1]],
    basis: 'chebyshev',
    parity: fit.parity,
    degree: fit.degree,
    coefficients: single ? polynomialJson(single, asStrings).coefficients : [],
    maxError: fit.maxError,
    log2Error: fit.log2Error,
    depth: fit.cost.depth,
    ctMultiplications: fit.cost.ctMultiplications,
    scalarMultiplications: fit.cost.scalarMultiplications,
    additions: fit.cost.additions,
    finish: fit.approximation.finish,
    ...(composite ? { stages: fit.stages.map((s) => polynomialJson(s, asStrings)) } : {}),
    ...(fit.weight ? { weight: { negative: fit.weight.negative, positive: fit.weight.positive } } : {}),
  };
}

/** Serialise a fit as the file's text (2-space JSON and a final newline). */
export function approximationFileText(fit: FittedApproximation): string {
  return `${JSON.stringify(approximationToJSON(fit, 'string'), null, 2)}\n`;
}

function bad(where: string, field: string, msg: string): never {
  throw new FitError(`${where}: field '${field}' ${msg}`);
}

function num(where: string, obj: Json, field: string, path = field): number {
  const v = obj[field];
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(where, path, `must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

function count(where: string, obj: Json, field: string, path = field): number {
  const v = num(where, obj, field, path);
  if (!Number.isInteger(v) || v < 0) bad(where, path, `must be a non-negative integer, got ${v}`);
  return v;
}

function oneOf<T extends string>(where: string, obj: Json, field: string, values: readonly T[], path = field): T {
  const v = obj[field];
  if (typeof v !== 'string' || !values.includes(v as T)) {
    bad(where, path, `must be one of ${values.map((x) => `"${x}"`).join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

function interval(where: string, obj: Json, path: string): [number, number] {
  const v = obj.interval;
  if (!Array.isArray(v) || v.length !== 2) bad(where, path, `must be [a, b], got ${JSON.stringify(v)}`);
  const [a, b] = v as unknown[];
  if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b) || !(a < b)) {
    bad(where, path, `must be two finite numbers a < b, got ${JSON.stringify(v)}`);
  }
  return [a, b];
}

function coefficients(where: string, obj: Json, path: string): number[] {
  const v = obj.coefficients;
  if (!Array.isArray(v)) bad(where, path, `must be an array of decimal strings, got ${JSON.stringify(v)}`);
  return v.map((c, i) => {
    const x = typeof c === 'string' && c.trim() !== '' ? Number(c) : typeof c === 'number' ? c : NaN;
    if (!Number.isFinite(x)) bad(where, `${path}[${i}]`, `must be a decimal string of a finite number, got ${JSON.stringify(c)}`);
    return x;
  });
}

/** Validate one polynomial object (top level of a single fit, or a composite stage). */
function polynomial(where: string, obj: Json, prefix: string, withCost: boolean): FittedStage {
  const p = (f: string) => `${prefix}${f}`;
  if (obj.basis !== 'chebyshev') bad(where, p('basis'), `must be "chebyshev", got ${JSON.stringify(obj.basis)}`);
  const iv = interval(where, obj, p('interval'));
  const c = coefficients(where, obj, p('coefficients'));
  if (c.length === 0) bad(where, p('coefficients'), 'must not be empty');
  const degree = count(where, obj, 'degree', p('degree'));
  if (degree !== c.length - 1) bad(where, p('degree'), `is ${degree} but there are ${c.length} coefficients`);
  const parity = oneOf(where, obj, 'parity', ['even', 'odd', 'none'] as const, p('parity'));
  const actual = coefficientParity(c);
  if (parity !== actual && parity !== 'none') bad(where, p('parity'), `is "${parity}" but the coefficients are ${actual}`);
  const poly: ChebyshevPolynomial = { interval: iv, coefficients: c };
  const cost = polynomialCost(poly);
  if (withCost) {
    for (const f of ['depth', 'ctMultiplications', 'scalarMultiplications', 'additions'] as const) {
      const v = count(where, obj, f, p(f));
      if (v !== cost[f]) bad(where, p(f), `is ${v} but the coefficients need ${cost[f]}`);
    }
  }
  const stage: FittedStage = { polynomial: poly, degree, parity: actual, cost };
  const extra: { epsilon?: number; error?: number } = {};
  if (obj.epsilon !== undefined) extra.epsilon = num(where, obj, 'epsilon', p('epsilon'));
  if (obj.error !== undefined) extra.error = num(where, obj, 'error', p('error'));
  return { ...stage, ...extra };
}

/**
 * Validate a parsed approximation file (or `--json` object) and rebuild the fit. `source` names the file in
 * messages. Throws FitError naming the first bad field.
 */
export function approximationFromJSON(json: unknown, source = 'approximation'): FittedApproximation {
  const where = source;
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new FitError(`${where}: must be a JSON object`);
  const o = json as Json;
  if (o.format !== APPROXIMATION_FORMAT) bad(where, 'format', `must be "${APPROXIMATION_FORMAT}", got ${JSON.stringify(o.format)}`);
  if (o.version !== APPROXIMATION_VERSION) bad(where, 'version', `must be ${APPROXIMATION_VERSION}, got ${JSON.stringify(o.version)}`);
  let activation;
  try {
    activation = activationFromJSON(o.activation);
  } catch (err) {
    bad(where, 'activation', errorMessage(err));
  }
  const method = oneOf(where, o, 'method', ['chebyshev', 'remez', 'composite'] as const);
  const iv = interval(where, o, 'interval');
  if (o.basis !== 'chebyshev') bad(where, 'basis', `must be "chebyshev", got ${JSON.stringify(o.basis)}`);
  const finish = oneOf(where, o, 'finish', ['none', 'relu', 'abs'] as const) as ApproximationFinish;
  const maxError = num(where, o, 'maxError');
  if (maxError < 0) bad(where, 'maxError', `must be ≥ 0, got ${maxError}`);
  const l2 = num(where, o, 'log2Error');
  if (Math.abs(l2 - log2Error(maxError)) > 1e-9 * Math.max(1, Math.abs(l2))) {
    bad(where, 'log2Error', `is ${l2} but log2(maxError) is ${log2Error(maxError)}`);
  }
  let stages: FittedStage[];
  if (method === 'composite') {
    if (!Array.isArray(o.stages) || o.stages.length === 0) bad(where, 'stages', 'must be a non-empty list for a composite');
    if (finish === 'none') bad(where, 'finish', 'must be "relu" or "abs" for a composite');
    stages = (o.stages as unknown[]).map((s, i) => {
      if (!s || typeof s !== 'object') bad(where, `stages[${i}]`, 'must be an object');
      return polynomial(where, s as Json, `stages[${i}].`, true);
    });
  } else {
    if (finish !== 'none') bad(where, 'finish', `must be "none" for method ${method}`);
    if (o.stages !== undefined) bad(where, 'stages', `is only for composite fits`);
    stages = [polynomial(where, o, '', false)];
  }
  const approximation: PolynomialApproximation = {
    activation: activation.toString(),
    method,
    interval: iv,
    stages: stages.map((s) => s.polynomial),
    finish,
  };
  const cost = approximationCost(approximation);
  for (const f of ['depth', 'ctMultiplications', 'scalarMultiplications', 'additions'] as const) {
    const v = count(where, o, f);
    if (v !== cost[f]) bad(where, f, `is ${v} but the coefficients need ${cost[f]}`);
  }
  let degree = stages.reduce((d, s) => d * s.degree, 1);
  if (finish !== 'none') degree += 1;
  const storedDegree = count(where, o, 'degree');
  if (storedDegree !== degree) bad(where, 'degree', `is ${storedDegree} but the stages give ${degree}`);
  const parity = oneOf(where, o, 'parity', ['even', 'odd', 'none'] as const);
  let weight: FittedApproximation['weight'];
  if (o.weight !== undefined) {
    const w = o.weight as Json;
    if (!w || typeof w !== 'object') bad(where, 'weight', 'must be {negative, positive}');
    const negative = num(where, w, 'negative', 'weight.negative');
    const positive = num(where, w, 'positive', 'weight.positive');
    if (!(negative > 0) || !(positive > 0)) bad(where, 'weight', `must be positive, got ${negative}, ${positive}`);
    weight = { negative, positive };
  }
  return {
    activation,
    method,
    interval: iv,
    degree,
    parity,
    approximation,
    stages,
    maxError,
    log2Error: l2,
    cost,
    ...(weight ? { weight } : {}),
  };
}

/** Parse the text of an approximation file (JSON) and validate it. */
export function parseApproximationFile(text: string, source = 'approximation'): FittedApproximation {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new FitError(`${source}: not valid JSON (${errorMessage(err)})`);
  }
  try {
    return approximationFromJSON(json, source);
  } catch (err) {
    if (err instanceof PannError) throw err;
    throw new FitError(`${source}: ${errorMessage(err)}`, { cause: err });
  }
}
