/**
 * Load a model for commands that accept either a pann model or an ONNX file.
 */
import { loadModel } from '../nn/model-file.js';
import type { Model } from '../nn/model.js';
import { InputError } from '../errors.js';

/** A pann-model JSON file, or an ONNX file imported on the way. */
export function loadModelOrOnnx(path: string): Model {
  if (path.toLowerCase().endsWith('.onnx')) {
    throw new InputError(`${path}: ONNX import is not available yet; convert with \`pann import\` first`);
  }
  return loadModel(path);
}
