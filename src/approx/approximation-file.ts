/**
 * The approximation file: format "pann-approximation", version 1. One JSON object per fit:
 *
 *   format, version, activation {name, params}, method, interval [a, b], basis "chebyshev",
 *   parity ("even" | "odd" | "none", of the stored coefficients), degree, coefficients (decimal strings with
 *   full double precision, String(x); the `--json` CLI output has numbers instead), maxError (measured),
 *   log2Error, depth, ctMultiplications, scalarMultiplications, additions, finish ("none" | "relu" | "abs");
 *   composite fits: coefficients [] and `stages`, a list of polynomial objects {interval, basis, parity, degree,
 *   coefficients, depth, ctMultiplications, scalarMultiplications, additions, epsilon, error} applied in order;
 *   weighted Remez fits: weight {negative, positive}; fits with a gap (sign, step): gap ε, the error measured on
 *   [a, −ε] ∪ [ε, b].
 *
 * The loader checks every field against ApproximationFileSchema (approximation-schema.ts) with a message naming
 * it, re-derives the cost from the coefficients and rejects a file whose stored depth or multiplication counts
 * disagree.
 */
import { FitError, PannError, errorMessage } from '../errors.js';
import { checkSchema, fieldError, type CheckOptions } from '../schema/index.js';
import { activationFromJSON } from './activations.js';
import {
  APPROXIMATION_FORMAT,
  APPROXIMATION_STYLE,
  APPROXIMATION_VERSION,
  ApproximationFileSchema,
  coefficientText,
  intervalText,
  type ApproximationFileJson,
  type PolynomialJson,
} from './approximation-schema.js';
import { approximationCost, polynomialCost } from './cost.js';
import { log2Error, type FittedApproximation, type FittedStage } from './fitted.js';
import type { ChebyshevPolynomial, PolynomialApproximation } from './polynomial.js';
import { coefficientParity } from './remez.js';

export { APPROXIMATION_FORMAT, APPROXIMATION_VERSION } from './approximation-schema.js';

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
    ...(fit.gap !== undefined ? { gap: fit.gap } : {}),
  };
}

/** Serialise a fit as the file's text (2-space JSON and a final newline). */
export function approximationFileText(fit: FittedApproximation): string {
  return `${JSON.stringify(approximationToJSON(fit, 'string'), null, 2)}\n`;
}

function checkOptions(source: string): CheckOptions {
  return { error: (message) => new FitError(message), source, style: APPROXIMATION_STYLE };
}

/** A rebuilt polynomial object (top level of a single fit, or a composite stage): the checks across its fields. */
function polynomial(
  fail: (field: string, text: string) => never,
  obj: PolynomialJson | ApproximationFileJson,
  prefix: string,
  withCost: boolean,
): FittedStage {
  const p = (f: string) => `${prefix}${f}`;
  const [a, b] = obj.interval;
  if (!(a < b)) fail(p('interval'), intervalText(obj.interval));
  const c = obj.coefficients.map((v, i) => {
    const x = typeof v === 'number' ? v : Number(v);
    if (!Number.isFinite(x)) fail(p(`coefficients[${i}]`), coefficientText(v));
    return x;
  });
  if (c.length === 0) fail(p('coefficients'), 'must not be empty');
  if (obj.degree !== c.length - 1) fail(p('degree'), `is ${obj.degree} but there are ${c.length} coefficients`);
  const actual = coefficientParity(c);
  if (obj.parity !== actual && obj.parity !== 'none') fail(p('parity'), `is "${obj.parity}" but the coefficients are ${actual}`);
  const poly: ChebyshevPolynomial = { interval: [a, b], coefficients: c };
  const cost = polynomialCost(poly);
  if (withCost) {
    for (const f of ['depth', 'ctMultiplications', 'scalarMultiplications', 'additions'] as const) {
      if (obj[f] !== cost[f]) fail(p(f), `is ${obj[f]} but the coefficients need ${cost[f]}`);
    }
  }
  const stage: FittedStage = { polynomial: poly, degree: obj.degree, parity: actual, cost };
  return {
    ...stage,
    ...(obj.epsilon !== undefined ? { epsilon: obj.epsilon } : {}),
    ...(obj.error !== undefined ? { error: obj.error } : {}),
  };
}

/**
 * Validate a parsed approximation file (or `--json` object) and rebuild the fit: the schema
 * (ApproximationFileSchema), then the checks across fields. `source` names the file in messages. Throws FitError
 * naming the first bad field.
 */
export function approximationFromJSON(json: unknown, source = 'approximation'): FittedApproximation {
  const options = checkOptions(source);
  checkSchema(ApproximationFileSchema, json, options);
  const fail: (field: string, text: string) => never = (field, text) => {
    throw fieldError(options, field, text);
  };
  const o = json;
  let activation;
  try {
    activation = activationFromJSON(o.activation);
  } catch (err) {
    fail('activation', errorMessage(err));
  }
  const { method, finish, maxError } = o;
  const [a, b] = o.interval;
  if (!(a < b)) fail('interval', intervalText(o.interval));
  if (Math.abs(o.log2Error - log2Error(maxError)) > 1e-9 * Math.max(1, Math.abs(o.log2Error))) {
    fail('log2Error', `is ${o.log2Error} but log2(maxError) is ${log2Error(maxError)}`);
  }
  let stages: FittedStage[];
  if (method === 'composite') {
    if (!o.stages || o.stages.length === 0) fail('stages', 'must be a non-empty list for a composite');
    if (finish === 'none') fail('finish', 'must be "relu" or "abs" for a composite');
    stages = o.stages.map((s, i) => polynomial(fail, s, `stages[${i}].`, true));
  } else {
    if (finish !== 'none') fail('finish', `must be "none" for method ${method}`);
    if (o.stages !== undefined) fail('stages', `is only for composite fits`);
    stages = [polynomial(fail, o, '', false)];
  }
  const approximation: PolynomialApproximation = {
    activation: activation.toString(),
    method,
    interval: [a, b],
    stages: stages.map((s) => s.polynomial),
    finish,
  };
  const cost = approximationCost(approximation);
  for (const f of ['depth', 'ctMultiplications', 'scalarMultiplications', 'additions'] as const) {
    if (o[f] !== cost[f]) fail(f, `is ${o[f]} but the coefficients need ${cost[f]}`);
  }
  let degree = stages.reduce((d, s) => d * s.degree, 1);
  if (finish !== 'none') degree += 1;
  if (o.degree !== degree) fail('degree', `is ${o.degree} but the stages give ${degree}`);
  let weight: FittedApproximation['weight'];
  if (o.weight !== undefined) {
    const { negative, positive } = o.weight;
    if (!(negative > 0) || !(positive > 0)) fail('weight', `must be positive, got ${negative}, ${positive}`);
    weight = { negative, positive };
  }
  if (o.gap !== undefined && !(o.gap > 0 && o.gap < -a && o.gap < b)) fail('gap', `must be in (0, ${Math.min(-a, b)}), got ${o.gap}`);
  return {
    activation,
    method,
    interval: [a, b],
    degree,
    parity: o.parity,
    approximation,
    stages,
    maxError,
    log2Error: o.log2Error,
    cost,
    ...(weight ? { weight } : {}),
    ...(o.gap !== undefined ? { gap: o.gap } : {}),
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
