/**
 * Load a model for commands that accept either a pann model or an ONNX file.
 */
import { loadModel } from '../nn/model-file.js';
import type { Model } from '../nn/model.js';
import { loadOnnx } from '../nn/onnx/import.js';

/** A pann-model JSON file, or an ONNX file (name ending in .onnx) imported on the way. */
export function loadModelOrOnnx(path: string): Model {
  if (path.toLowerCase().endsWith('.onnx')) return loadOnnx(path).model;
  return loadModel(path);
}
