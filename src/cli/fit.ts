/**
 * `pann fit`: fit a polynomial stand-in for an activation (by precision or degree), print its measured error and
 * cost, optionally as JSON, as an approximation file, or as an SVG plot; `pann fit --catalog` regenerates the
 * committed catalog.
 */
import { Command } from 'commander';
import { PannError } from '../errors.js';
import { checkOutputFolder, checkOutputPath, writeFileAtomic } from '../files.js';
import { ACTIVATION_NAMES, describeActivations, parseActivation, type Activation } from '../approx/activations.js';
import { approximationFileText, approximationToJSON } from '../approx/approximation-file.js';
import { buildCatalog, writeCatalog } from '../approx/catalog.js';
import {
  degreeShortfall,
  fitApproximation,
  FIT_METHODS,
  type AsymmetricWeight,
  type FitMethod,
  type FittedApproximation,
} from '../approx/fitted.js';
import type { PrecisionFit } from '../approx/search.js';
import { fitForRange, type RangeFit } from '../approx/range-fit.js';
import { fitPlotSvg } from '../study/fit-plot.js';
import { PRECISION_BITS_RANGE, type RangeTarget } from '../approx/precision.js';
import { action, PRECISION_RANGE_TEXT, printJson, ProgressBar } from './common.js';

interface FitFlags {
  precision?: string;
  absolute?: boolean;
  gap?: string;
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
  const on = fit.gap !== undefined ? `[${a}, ${-fit.gap}] ∪ [${fit.gap}, ${b}]` : `[${a}, ${b}]`;
  lines.push(`${fit.activation.toString()} on ${on}: ${fit.method}, degree ${fit.degree}`);
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

/** A fit and what the command says of it besides the fit itself. */
interface FitOutcome {
  readonly fit: FittedApproximation;
  /** --precision: the target the fit met (relative or absolute). */
  readonly precision?: RangeTarget;
  /** --degree: why the fit has a lower degree than asked. */
  readonly shortfall?: string;
}

function methodFrom(flags: FitFlags): FitMethod | undefined {
  if (flags.method === undefined) return undefined;
  if (!FIT_METHODS.includes(flags.method as FitMethod)) {
    throw inputError(`--method must be one of ${FIT_METHODS.join(', ')}, got '${flags.method}'`);
  }
  return flags.method as FitMethod;
}

/** --gap ε: sign and step only, 0 < ε < min(−a, b) (a piece of the range on each side of the jump). */
function gapFrom(act: Activation, flags: FitFlags, [a, b]: readonly [number, number]): number | undefined {
  if (flags.gap === undefined) return undefined;
  if (act.name !== 'sign' && act.name !== 'step') throw inputError(`--gap applies to sign and step (the jump at 0), not ${act.name}`);
  const gap = Number(flags.gap);
  const half = Math.min(-a, b);
  if (flags.gap.trim() === '' || !Number.isFinite(gap) || !(gap > 0) || !(gap < half)) {
    throw inputError(
      half > 0
        ? `--gap must be a number with 0 < ε < ${half} (a piece of [${a}, ${b}] on each side of 0), got '${flags.gap}'`
        : `--gap needs a range around 0 (a < 0 < b), got [${a}, ${b}]`,
    );
  }
  if (flags.degrees !== undefined || flags.method === 'composite' || flags.weightNegative !== undefined) {
    throw inputError(`--gap applies to unweighted remez and chebyshev fits (not composite, not --weight-negative)`);
  }
  return gap;
}

function runFit(act: Activation, flags: FitFlags): FitOutcome {
  const interval = parseRange(flags.range);
  const method = methodFrom(flags);
  const weight = weightFrom(flags);
  const gap = gapFrom(act, flags, interval);
  const gapped = gap !== undefined ? { gap } : {};
  if (weight && method && method !== 'remez') throw inputError(`--weight-negative applies to --method remez only`);
  const given = [flags.precision, flags.degree, flags.degrees].filter((v) => v !== undefined).length;
  if (given !== 1) throw inputError(`give exactly one of --precision k, --degree d or --degrees d1,d2,... (composite)`);
  if (flags.absolute && flags.precision === undefined) throw inputError(`--absolute applies to --precision k only`);
  if (flags.precision !== undefined) {
    const k = parseInteger('--precision', flags.precision, PRECISION_BITS_RANGE.min, PRECISION_BITS_RANGE.max);
    const methods: FitMethod[] = method ? [method] : weight || gap ? ['remez'] : [...FIT_METHODS];
    const meaning = flags.absolute ? 'absolute' : 'relative';
    let fit: RangeFit;
    try {
      fit = fitForRange(act, { interval, k, meaning, methods, ...gapped, ...(weight ? { weight } : {}) });
    } catch (err) {
      if (err instanceof PannError && gap === undefined && (act.name === 'sign' || act.name === 'step')) {
        throw new PannError(err.code, `${err.message}; no polynomial is near a jump at the jump: give --gap ε`, { cause: err });
      }
      throw err;
    }
    return { fit, precision: fit.precision };
  }
  if (flags.degrees !== undefined) {
    if (method && method !== 'composite') throw inputError(`--degrees is for --method composite; use --degree for ${method}`);
    const degrees = flags.degrees.split(',').map((d) => parseInteger('--degrees', d, 3, 1023));
    return { fit: fitApproximation(act, { interval, method: 'composite', degrees }) };
  }
  const degree = parseInteger('--degree', flags.degree!, 1, 1024);
  if (method === 'composite') throw inputError(`--method composite takes --degrees d1,d2,... or --precision k, not --degree`);
  const fit = fitApproximation(act, { interval, method: method ?? 'remez', degree, ...gapped, ...(weight ? { weight } : {}) });
  const shortfall = degreeShortfall(fit, degree);
  return { fit, ...(shortfall ? { shortfall } : {}) };
}

/** The target line: "precision 8 relative to B = 4: max error ≤ 4·2^-8 = 0.01562" (and the search's whole bits). */
function targetText(t: RangeTarget): string {
  const searched =
    (t.carried && t.B !== 1) || t.bits !== t.k
      ? ` (searched: 2^-${t.bits} on ${t.carried ? `[-1, 1], carried to the range` : 'the range, whole bits'})`
      : '';
  return t.meaning === 'absolute'
    ? `precision ${t.k} absolute: max error ≤ 2^-${t.k} = ${fmt(t.bound)}`
    : `precision ${t.k} relative to B = ${t.B}: max error ≤ ${t.B}·2^-${t.k} = ${fmt(t.bound)}${searched}`;
}

/** The target as --json carries it. */
function targetJson(t: RangeTarget): Record<string, unknown> {
  return { k: t.k, meaning: t.meaning, B: t.B, maxError: t.bound, searchedBits: t.bits, carried: t.carried };
}

/** Check every output path before any fitting starts (a wrong name fails in a moment, not after the fit). */
function checkOutputs(flags: FitFlags): void {
  if (flags.plot !== undefined) checkOutputPath(flags.plot, { label: '--plot', extensions: ['.svg'] });
  if (flags.out !== undefined) checkOutputPath(flags.out, { label: '--out', extensions: ['.json'] });
}

function printOutcome(outcome: FitOutcome, json: boolean | undefined): void {
  const { fit, precision, shortfall } = outcome;
  if (json) {
    printJson({
      ...approximationToJSON(fit, 'number'),
      ...(precision ? { precision: targetJson(precision) } : {}),
      ...(shortfall ? { note: shortfall } : {}),
    });
    return;
  }
  const lines = [describe(fit)];
  if (precision) lines.push(`  target         ${targetText(precision)}`);
  if (shortfall) lines.push(`  note           ${shortfall}`);
  process.stdout.write(`${lines.join('\n')}\n`);
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
    .option(
      '--precision <k>',
      `target: measured max error ≤ B·2^-k, B = max(|a|, |b|) of --range (k in ${PRECISION_RANGE_TEXT}), as pann compile -k; finds the cheapest fit`,
    )
    .option('--absolute', 'with --precision: the old absolute target, max error ≤ 2^-k whatever the range')
    .option('--degree <d>', 'fit at this degree (1..1024)')
    .option('--degrees <list>', 'composite stage degrees (odd), e.g. 15,15,27')
    .option('--range <a,b>', 'input range, e.g. --range -8,8 (or --range=-8,8)')
    .option('--method <name>', `remez | chebyshev | composite (default: remez for --degree; the cheapest for --precision)`)
    .option('--gap <ε>', 'sign, step: leave out (-ε, ε) around the jump; fit and measure on [a, -ε] ∪ [ε, b] (0 < ε < min(-a, b))')
    .option('--weight-negative <w>', 'asymmetric Remez fit: errors on x < 0 count w times (w > 0)')
    .option('--json', 'print one JSON object (the approximation file with numeric coefficients)')
    .option('--plot <file.svg>', 'write an SVG: function and polynomial, and the error curve')
    .option('--out <path>', 'write the approximation file, a .json (with --catalog: the catalog folder)')
    .option('--catalog', 'regenerate the catalog (ReLU on [-1,1]; ULU, GELU, SiLU on ±4, ±8, ±16; k = 4..14, absolute: error ≤ 2^-k)')
    .addHelpText(
      'after',
      `
Precision k means what it means for pann compile, tune and study: max error ≤ B·2^-k on the range, with
B = max(|a|, |b|) (on [-1, 1] that is 2^-k). The search takes whole bits, so on a range that is not a power of
two it aims at 2^-⌈k − log2 B⌉ and the fit is a little more precise than asked. Positively homogeneous
activations (ReLU, |x|, …) on a symmetric range are fitted on [-1, 1] and carried to [-B, B], as the compiler
does. --absolute asks for max error ≤ 2^-k whatever the range (the catalog's k is absolute too).
The max error is measured: dense sampling of f − p plus refined extrema, never the solver's estimate.
Depth and multiplication counts are those of the compiler's baby-step giant-step evaluation on an input
normalised to [-1, 1]. ReLU and |x| are positively homogeneous: a fit on [-1,1] serves [-B,B] with error × B.

Examples:
  $ pann fit relu --precision 8 --range=-1,1
  $ pann fit gelu --degree 27 --range=-8,8 --method chebyshev --plot gelu.svg
  $ pann fit ulu:a1=0.5,a2=2 --precision 10 --range=-4,4 --json     # max error ≤ 4·2^-10
  $ pann fit gelu --precision 8 --range=-8,8 --absolute              # max error ≤ 2^-8
  $ pann fit relu --precision 9 --range=-1,1 --method remez --weight-negative 4
  $ pann fit relu --degrees 7,15 --range=-1,1
  $ pann fit sign --precision 6 --range=-1,1 --gap 0.05
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
          checkOutputFolder(dir, '--out');
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
        const act = activationArgument(spec);
        checkOutputs(flags);
        const outcome = runFit(act, flags);
        if (flags.out) writeFileAtomic(flags.out, approximationFileText(outcome.fit));
        if (flags.plot) writeFileAtomic(flags.plot, fitPlotSvg(outcome.fit));
        printOutcome(outcome, flags.json);
      }),
    );
}
