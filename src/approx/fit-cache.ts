/**
 * The fit cache of precision searches: everything a sweep (a catalog over k, a study's many searches) reuses,
 * in one object. Beside the measured fits it holds what probes established without a measured fit: Remez lower
 * bounds, solver errors and warm-start references, Chebyshev error estimates, and f's values on the Remez
 * sampling grids. None of it changes a search's result (see search.ts): it only saves probes.
 */
import type { FittedApproximation } from './fitted.js';
import type { SampleCache } from './remez.js';

/** What Remez probes established for one (activation, interval, weight): lower bounds and references by degree. */
export interface RemezBounds {
  /** Largest levelled error seen per degree: the minimax error of that degree is at least this. */
  readonly lower: Map<number, number>;
  /** Smallest max error a probe's own extremum search found per degree (an estimate, not measured). */
  readonly solverError: Map<number, number>;
  /** The most converged alternating reference per degree, with its solver gap (a warm start). */
  readonly references: Map<number, { readonly x: readonly number[]; readonly gap: number }>;
}

/** What probes established for one (activation, interval), whatever the method's weight. */
export interface ProbeRecords {
  /** Sampled (estimated) errors of Chebyshev interpolants by degree. */
  readonly chebyshev: Map<number, number>;
  /** The degrees with a fit in {@link FitCache.fits} per method key (a cheap test before building a key string). */
  readonly fitted: Map<string, Set<number>>;
  /** f's values on the Remez sampling grids (every fit of the same f on the interval shares them). */
  readonly samples: SampleCache;
}

/** Fits and probe records made during precision searches, shared across targets (create with {@link createFitCache}). */
export interface FitCache {
  /** Measured fits by activation, interval, method, degree and weight (composites: by their ReLU target). */
  readonly fits: Map<string, FittedApproximation>;
  /** Remez probe records by activation, interval and weight. */
  readonly remez: Map<string, RemezBounds>;
  /** Other probe records by activation and interval. */
  readonly probes: Map<string, ProbeRecords>;
}

/** An empty fit cache. */
export function createFitCache(): FitCache {
  return { fits: new Map(), remez: new Map(), probes: new Map() };
}

/** The Remez probe records under `key` (activation, interval, weight), created empty on first use. */
export function remezBounds(cache: FitCache, key: string): RemezBounds {
  let b = cache.remez.get(key);
  if (!b) cache.remez.set(key, (b = { lower: new Map(), solverError: new Map(), references: new Map() }));
  return b;
}

/** The probe records under `key` (activation, interval), created empty on first use. */
export function probeRecords(cache: FitCache, key: string): ProbeRecords {
  let r = cache.probes.get(key);
  if (!r) cache.probes.set(key, (r = { chebyshev: new Map(), fitted: new Map(), samples: new Map() }));
  return r;
}
