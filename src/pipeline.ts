/**
 * The pipeline as a library user runs it: the compiler composed with the two things it must not import itself —
 * the fitter as its default approximation provider, and the runtime's noise estimate (the sim backend run with
 * and without CKKS noise) as its last pass. `pann compile` and the public API (src/index.ts) compile through here.
 */
import { type CompileOptions, compileNetwork } from './compiler/compile.js';
import { type ApproximationProvider, fitterProvider } from './compiler/polynomialise.js';
import type { Circuit } from './circuit/index.js';
import type { Model } from './nn/model.js';
import { estimateNoise } from './runtime/noise.js';

/** Calibration inputs the noise check simulates by default. */
export const DEFAULT_NOISE_CHECK_INPUTS = 200;

/** Options of {@link compile}: the compiler's, with the provider and the noise check defaulted. */
export interface CompileModelOptions extends Omit<CompileOptions, 'noiseCheck' | 'provider'> {
  /** Fits the activations' polynomials. @default fitterProvider() (the precision search, with a fresh cache) */
  provider?: ApproximationProvider;
  /**
   * Simulate this many calibration inputs with and without CKKS noise and store the estimate in the report
   * (report.noise); false skips it.
   * @default { inputs: 200 }
   */
  noiseCheck?: { inputs: number } | false;
}

/** Compile a model into a CKKS circuit, with the fitter as provider and the noise check (see CompileModelOptions). */
export function compile(model: Model, options: CompileModelOptions): Circuit {
  const { noiseCheck = { inputs: DEFAULT_NOISE_CHECK_INPUTS }, provider = fitterProvider(), ...rest } = options;
  return compileNetwork(model, {
    ...rest,
    provider,
    noiseCheck: noiseCheck ? { inputs: noiseCheck.inputs, estimate: (c, x, n, p) => estimateNoise(c, x, n, 1, p) } : false,
  });
}
