/**
 * Shared CLI plumbing: error reporting with exit codes, option parsers that name the bad value,
 * and the progress reporter (progress.ts). Only src/cli/ prints.
 */
import { InvalidArgumentError } from 'commander';
import { PRECISION_BITS_RANGE } from '../approx/precision.js';
import { PannError, errorMessage } from '../errors.js';

/** Exit codes: 0 ok, 1 runtime failure, 2 bad input (usage, malformed file, out-of-range value). */
export const EXIT_FAILURE = 1;
export const EXIT_BAD_INPUT = 2;

const BAD_INPUT_CODES = new Set(['activation', 'input', 'model', 'data', 'onnx', 'circuit', 'fit', 'compile', 'study', 'output']);

/** Wrap a command action: print a one-line error naming the problem and set the exit code; never a stack trace. */
export function action<A extends unknown[]>(name: string, fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      const msg = errorMessage(err);
      process.stderr.write(`pann ${name}: ${msg}\n`);
      if (process.env.PANN_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
      process.exitCode = err instanceof PannError && BAD_INPUT_CODES.has(err.code) ? EXIT_BAD_INPUT : EXIT_FAILURE;
    }
  };
}

/** Parse an integer option within [min, max]. */
export function intOption(name: string, min: number, max: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer, got '${v}'`);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be in ${min}..${max}, got ${n}`);
    return n;
  };
}

/** Parse a precision k (an integer in PRECISION_BITS_RANGE, the one rule for which k are valid). */
export function precisionOption(name: string): (v: string) => number {
  return intOption(name, PRECISION_BITS_RANGE.min, PRECISION_BITS_RANGE.max);
}

/** The valid precisions, for help texts and messages ("1..40"). */
export const PRECISION_RANGE_TEXT = `${PRECISION_BITS_RANGE.min}..${PRECISION_BITS_RANGE.max}`;

/** Parse a finite number option within [min, max]. */
export function numberOption(name: string, min = -Infinity, max = Infinity): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a finite number, got '${v}'`);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be in [${min}, ${max}], got ${n}`);
    return n;
  };
}

/** Print JSON to stdout (one object, pretty when a person is reading). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, process.stdout.isTTY ? 2 : undefined)}\n`);
}

export { ProgressBar, stepReporter } from './progress.js';
