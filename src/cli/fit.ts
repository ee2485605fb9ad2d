/**
 * `pann fit`: fit a polynomial stand-in for an activation (by precision or degree), print its measured error and
 * cost, optionally as JSON, as an approximation file, or as an SVG plot; `pann fit --catalog` regenerates the
 * committed catalog.
 */
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { PannError } from '../errors.js';
import { ACTIVATION_NAMES, describeActivations, parseActivation, type Activation } from '../approx/activations.js';
import { approximationFileText, approximationToJSON } from '../approx/approximation-file.js';
import { buildCatalog, writeCatalog } from '../approx/catalog.js';
import { fitApproximation, FIT_METHODS, type AsymmetricWeight, type FitMethod, type FittedApproximation } from '../approx/fitted.js';
import { fitForPrecision, type PrecisionFit } from '../approx/search.js';
import { fitPlotSvg } from '../study/fit-plot.js';
import { PRECISION_BITS_RANGE } from '../approx/precision.js';
import { action, PRECISION_RANGE_TEXT, printJson, ProgressBar } from './common.js';

interface FitFlags {
  precision?: string;
  degree?: string;
  degrees?: string;
  range?: string;
  method?: string;
  weightNegative?: string;
  json?: boolean;
  plot?: string;
  out?: string;
  catalog?: boolean;
}

const inputError = (msg: string) => new PannError('input', msg);

function parseInteger(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n)) throw inputError(`${name} must be an integer, got '${raw}'`);
  if (n < min || n > max) throw inputError(`${name} must be in ${min}..${max}, got ${n}`);
  return n;
}

export function parseRange(raw: string | undefined): [number, number] {
  if (raw === undefined) throw inputError(`--range a,b is required (e.g. --range -1,1)`);
  const parts = raw.split(',');
  const nums = parts.map((p) => (p.trim() === '' ? NaN : Number(p)));
  if (parts.length !== 2 || nums.some((v) => !Number.isFinite(v))) {
    throw inputError(`--range must be two finite numbers a,b, got '${raw}'`);
  }
  const [a, b] = nums as [number, number];
  if (!(a < b)) throw inputError(`--range [${a}, ${b}] is empty or inverted (need a < b)`);
  if (!Number.isFinite(b - a)) throw inputError(`--range [${a}, ${b}] is too wide (b − a overflows)`);
  return [a, b];
}

function fmt(x: number): string {
  return x === 0 ? '0' : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toPrecision(4) : x.toExponential(3);
}

function describe(fit: FittedApproximation): string {
  const lines: string[] = [];
  const [a, b] = fit.interval;
  lines.push(`${fit.activation.toString()} on [${a}, ${b}]: ${fit.method}, degree ${fit.degree}`);
  const at = fit.maxErrorAt !== undefined ? ` at x = ${fmt(fit.maxErrorAt)}` : '';
  lines.push(
    `  max error      ${fmt(fit.maxError)} (measured${at}) = 2^${fit.log2Error.toFixed(2)}, precision ${(-fit.log2Error).toFixed(2)} bits`,
  );
  lines.push(
    `  cost           depth ${fit.cost.depth}, ct multiplications ${fit.cost.ctMultiplications}, ` +
      `scalar multiplications ${fit.cost.scalarMultiplications}, additions ${fit.cost.additions}`,
  );
  if (fit.composite) {
    lines.push(
      `  composite      sign stages of degree ${fit.composite.degrees.join(', ')}, gap ε = ${fmt(fit.composite.epsilon)}, ` +
        `sign error ${fmt(fit.composite.signError)} on |x| ≥ ε; finish ${fit.approximation.finish}`,
    );
  }
  if (fit.sideErrors) {
    lines.push(
      `  weighted       negative inputs ×${fit.weight!.negative}: error ${fmt(fit.sideErrors.negative)} (x < 0), ${fmt(fit.sideErrors.positive)} (x ≥ 0)`,
    );
  }
  if (fit.solver && !fit.solver.converged) {
    lines.push(
      `  note           Remez stopped (${fit.solver.stopReason}) after ${fit.solver.iterations} iterations; the error above is measured`,
    );
  }
  const alts = (fit as Partial<PrecisionFit>).alternatives;
  if (alts) {
    const s = alts
      .map((x) =>
        x.fit
          ? `${x.method} degree ${x.fit.degree} (depth ${x.fit.cost.depth}, ${x.fit.cost.ctMultiplications} ct mults)`
          : `${x.method} –${x.note ? ` ${x.note}` : ''}`,
      )
      .join('; ');
    lines.push(`  methods        ${s}`);
  }
  return lines.join('\n');
}

function weightFrom(flags: FitFlags): AsymmetricWeight | undefined {
  if (flags.weightNegative === undefined) return undefined;
  const w = Number(flags.weightNegative);
  if (flags.weightNegative.trim() === '' || !Number.isFinite(w) || !(w > 0)) {
    throw inputError(`--weight-negative must be a finite number > 0, got '${flags.weightNegative}'`);
  }
  return { negative: w, positive: 1 };
}

function runFit(act: Activation, flags: FitFlags): FittedApproximation {
  const interval = parseRange(flags.range);
  let method: FitMethod | undefined;
  if (flags.method !== undefined) {
    if (!FIT_METHODS.includes(flags.method as FitMethod)) {
      throw inputError(`--method must be one of ${FIT_METHODS.join(', ')}, got '${flags.method}'`);
    }
    method = flags.method as FitMethod;
  }
  const weight = weightFrom(flags);
  if (weight && method && method !== 'remez') throw inputError(`--weight-negative applies to --method remez only`);
  const given = [flags.precision, flags.degree, flags.degrees].filter((v) => v !== undefined).length;
  if (given !== 1) throw inputError(`give exactly one of --precision k, --degree d or --degrees d1,d2,... (composite)`);
  if (flags.precision !== undefined) {
    const k = parseInteger('--precision', flags.precision, PRECISION_BITS_RANGE.min, PRECISION_BITS_RANGE.max);
    const methods: FitMethod[] = method ? [method] : weight ? ['remez'] : [...FIT_METHODS];
    return fitForPrecision(act, { interval, k, methods, ...(weight ? { weight } : {}) });
  }
  if (flags.degrees !== undefined) {
    if (method && method !== 'composite') throw inputError(`--degrees is for --method composite; use --degree for ${method}`);
    const degrees = flags.degrees.split(',').map((d) => parseInteger('--degrees', d, 3, 1023));
    return fitApproximation(act, { interval, method: 'composite', degrees });
  }
  const degree = parseInteger('--degree', flags.degree!, 1, 1024);
  if (method === 'composite') throw inputError(`--method composite takes --degrees d1,d2,... or --precision k, not --degree`);
  return fitApproximation(act, { interval, method: method ?? 'remez', degree, ...(weight ? { weight } : {}) });
}

/** Parse the activation argument; the catalog's multi-line list of activations becomes one line. */
function activationArgument(spec: string): Activation {
  try {
    return parseActivation(spec);
  } catch (err) {
    if (err instanceof PannError && err.message.includes('\n')) {
      throw new PannError(
        err.code,
        `${err.message.split('\n')[0]!.replace(/;.*$/, '')}; valid: ${ACTIVATION_NAMES.join(', ')} (see pann fit --help)`,
      );
    }
    throw err;
  }
}

export function registerFit(program: Command): void {
  program
    .command('fit')
    .description('fit a polynomial stand-in for an activation; print degree, measured max error, precision, depth')
    .argument('[activation]', 'activation spec, e.g. relu, gelu, ulu:a1=0.5,a2=2 (see below)')
    .option('--precision <k>', `target: measured max error ≤ 2^-k (k in ${PRECISION_RANGE_TEXT}); finds the smallest degree`)
    .option('--degree <d>', 'fit at this degree (1..1024)')
    .option('--degrees <list>', 'composite stage degrees (odd), e.g. 15,15,27')
    .option('--range <a,b>', 'input range, e.g. --range -8,8 (or --range=-8,8)')
    .option('--method <name>', `remez | chebyshev | composite (default: remez for --degree; the cheapest for --precision)`)
    .option('--weight-negative <w>', 'asymmetric Remez fit: errors on x < 0 count w times (w > 0)')
    .option('--json', 'print one JSON object (the approximation file with numeric coefficients)')
    .option('--plot <file.svg>', 'write an SVG: function and polynomial, and the error curve')
    .option('--out <path>', 'write the approximation file (with --catalog: the catalog directory)')
    .option('--catalog', 'regenerate the catalog (ReLU on [-1,1]; ULU, GELU, SiLU on ±4, ±8, ±16; k = 4..14)')
    .addHelpText(
      'after',
      `
The max error is measured: dense sampling of f − p plus refined extrema, never the solver's estimate.
Depth and multiplication counts are those of the compiler's baby-step giant-step evaluation on an input
normalised to [-1, 1]. ReLU and |x| are positively homogeneous: a fit on [-1,1] serves [-B,B] with error × B.

Examples:
  $ pann fit relu --precision 8 --range=-1,1
  $ pann fit gelu --degree 27 --range=-8,8 --method chebyshev --plot gelu.svg
  $ pann fit ulu:a1=0.5,a2=2 --precision 10 --range=-4,4 --json
  $ pann fit relu --precision 9 --range=-1,1 --method remez --weight-negative 4
  $ pann fit relu --degrees 7,15 --range=-1,1
  $ pann fit --catalog --out approximations

Activations (name:param=default, * = learnable):
${describeActivations()
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}`,
    )
    .action(
      action('fit', (spec: string | undefined, flags: FitFlags) => {
        if (flags.catalog) {
          if (spec !== undefined) throw inputError(`--catalog takes no activation (got '${spec}')`);
          const dir = flags.out ?? 'approximations';
          const bar = new ProgressBar('catalog');
          const start = Date.now();
          const catalog = buildCatalog({ onProgress: (done, total, s) => bar.update(done, total, `${s.activation} k=${s.k}`) });
          bar.done();
          writeCatalog(dir, catalog);
          const unreachable = catalog.entries.filter((e) => 'unreachable' in e).length;
          process.stdout.write(
            `wrote ${catalog.files.size} approximations and index.json to ${dir}/ (${unreachable} unreachable) in ${((Date.now() - start) / 1000).toFixed(1)} s\n`,
          );
          return;
        }
        if (spec === undefined) throw inputError(`give an activation (e.g. relu) or --catalog`);
        const fit = runFit(activationArgument(spec), flags);
        if (flags.out) writeFileSync(flags.out, approximationFileText(fit));
        if (flags.plot) writeFileSync(flags.plot, fitPlotSvg(fit));
        if (flags.json) printJson(approximationToJSON(fit, 'number'));
        else process.stdout.write(`${describe(fit)}\n`);
      }),
    );
}
