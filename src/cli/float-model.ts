/**
 * The float model `pann run` compares a circuit with: the very model the circuit was compiled from, found by the
 * identity the circuit records (source.model: name, weights hash, path relative to the circuit), or a `--model`
 * the user names, refused when its weights differ unless `--force-model`. Old circuits without a record fall
 * back to models/<name>.json and say so.
 */
import { existsSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import type { Circuit } from '../circuit/index.js';
import { InputError } from '../errors.js';
import { modelSha256 } from '../nn/fingerprint.js';
import type { Model } from '../nn/model.js';
import { shapeSize } from '../nn/model.js';
import { loadModelOrOnnx } from './load-model.js';

/** The model found, where, and how it relates to the circuit. */
export interface FloatModel {
  model: Model;
  path: string;
  sha256: string;
  /** true: the circuit's recorded model; false: forced with different weights; null: the circuit records none. */
  matchesCircuit: boolean | null;
  /** One line for the report: which model, and why it is the right one (or why it may not be). */
  note: string;
}

const short = (sha: string) => `${sha.slice(0, 12)}…`;

/** A path as the user would type it: relative to the working folder when that is shorter. */
function shorter(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.length < path.length ? rel : path;
}

function load(circuit: Circuit, path: string): { model: Model; sha256: string } {
  const model = loadModelOrOnnx(path);
  if (shapeSize(model.inputShape) !== circuit.inputLayout.length) {
    throw new InputError(`model ${path} takes ${shapeSize(model.inputShape)} inputs, the circuit ${circuit.inputLayout.length}`);
  }
  return { model, sha256: modelSha256(model) };
}

/**
 * The float model for a circuit loaded from `circuitFile`: `given` (checked against the circuit's record), else
 * the recorded one (its path, then models/<name>.json, each used only if its weights hash matches), else null
 * with the reason in `missing`.
 */
export function resolveFloatModel(
  circuit: Circuit,
  circuitFile: string,
  options: { given?: string; force?: boolean },
): FloatModel | { model: null; note: string } {
  const recorded = circuit.source?.model;
  if (options.given) return givenModel(circuit, options.given, options.force === true);
  if (!recorded) {
    const byName = `models/${circuit.report.model}.json`;
    if (!existsSync(byName)) return { model: null, note: 'no float model: the circuit does not record its model; pass --model to compare' };
    const { model, sha256 } = load(circuit, byName);
    return {
      model,
      path: byName,
      sha256,
      matchesCircuit: null,
      note: `float model ${byName}, found by name only: the circuit does not record which model it was compiled from (recompile it to record that)`,
    };
  }
  // absolute paths, so the recorded path and models/<name>.json are read once when they are the same file
  const candidates = [
    ...(recorded.path ? [resolve(dirname(circuitFile), recorded.path)] : []),
    resolve(`models/${recorded.name}.json`),
  ].filter((p, i, all) => all.indexOf(p) === i && existsSync(p));
  for (const found of candidates) {
    const { model, sha256 } = load(circuit, found);
    const path = shorter(found);
    if (sha256 === recorded.sha256) return theCircuitsModel(model, path, sha256);
  }
  const looked = candidates.length
    ? ` (${candidates.map(shorter).join(', ')} ${candidates.length > 1 ? 'have' : 'has'} other weights)`
    : '';
  return {
    model: null,
    note: `no float model: the model this circuit was compiled from (${recorded.name}, weights ${short(recorded.sha256)}) was not found${looked}; pass --model to compare`,
  };
}

function theCircuitsModel(model: Model, path: string, sha256: string): FloatModel {
  return {
    model,
    path,
    sha256,
    matchesCircuit: true,
    note: `float model ${path} (weights ${short(sha256)}, the model the circuit was compiled from)`,
  };
}

function givenModel(circuit: Circuit, path: string, force: boolean): FloatModel {
  if (!existsSync(path)) throw new InputError(`model file ${path} does not exist`);
  const { model, sha256 } = load(circuit, path);
  const recorded = circuit.source?.model;
  if (!recorded) {
    return { model, path, sha256, matchesCircuit: null, note: `float model ${path} (as given; the circuit does not record its model)` };
  }
  if (sha256 === recorded.sha256) return theCircuitsModel(model, path, sha256);
  if (!force) {
    throw new InputError(
      `--model ${path} (weights ${short(sha256)}) is not the model circuit ${circuit.name} was compiled from ` +
        `(${recorded.name}, weights ${short(recorded.sha256)}); pass --force-model to compare with it anyway`,
    );
  }
  return {
    model,
    path,
    sha256,
    matchesCircuit: false,
    note: `float model ${path} (weights ${short(sha256)}) is NOT the model the circuit was compiled from (${recorded.name}, weights ${short(recorded.sha256)}): compared anyway (--force-model)`,
  };
}
