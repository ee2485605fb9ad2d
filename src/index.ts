/**
 * pann as a library: fit polynomial stand-ins for activations, load or import a network, compile it into a CKKS
 * circuit, run it on the simulator or under real encryption (SEAL), serve it, and study precision against
 * accuracy. The names below are the supported API (test/index.test.ts pins the list); each layer's full API is
 * also available as a namespace (`approx`, `nn`, `ckks`, `circuit`, `compiler`, `runtime`, `server`, `study`).
 *
 * ```ts
 * import { compile, loadModel, loadMnistSplit, runSim } from 'pann';
 * const model = loadModel('models/mnist-cnn1-relu-poly6.json');
 * const train = loadMnistSplit('train');
 * const circuit = compile(model, { precisionBits: 6, calibration: { inputs: train.inputs.subarray(0, 784 * 200), count: 200, label: 'train' } });
 * const [first] = runSim(circuit, loadMnistSplit('test').inputs.subarray(0, 784), 1);
 * ```
 */

// fit: polynomial stand-ins for activations
export { parseActivation, activation, Activation, ACTIVATION_NAMES } from './approx/activations.js';
export { fitApproximation, type FitMethod, type FittedApproximation, type AsymmetricWeight } from './approx/fitted.js';
export { fitForPrecision, type PrecisionFit, type PrecisionOptions } from './approx/search.js';
export { measureMaxError } from './approx/max-error.js';
export { approximationFileText, parseApproximationFile } from './approx/approximation-file.js';
export { PRECISION_BITS_RANGE } from './approx/precision.js';
export type { PolynomialApproximation, ChebyshevPolynomial } from './approx/polynomial.js';

// models: the file format, ONNX import, data, float inference, training
export { loadModel, saveModel, parseModel, serializeModel } from './nn/model-file.js';
export type { Model, Layer, Shape } from './nn/model.js';
export { importOnnx, loadOnnx, type ImportOnnxOptions, type OnnxImport } from './nn/onnx/import.js';
export { loadMnistSplit, type MnistSplit } from './nn/mnist.js';
export type { Dataset } from './nn/dataset.js';
export { predict } from './nn/inference.js';
export { evaluateModel } from './nn/evaluate.js';
export { trainModel } from './nn/train.js';

// compile: a network into a CKKS circuit
export { compile, type CompileModelOptions } from './pipeline.js';
export { compileNetwork, type CompileOptions } from './compiler/compile.js';
export { fitterProvider, type ApproximationProvider, type ApproximationMethod } from './compiler/polynomialise.js';
export { loadCircuit, saveCircuit, parseCircuit, serializeCircuit, type Circuit, type CompileReport } from './circuit/index.js';
export { CkksParameters, type CkksParametersLiteral } from './ckks/params/index.js';

// run: the simulator and SEAL
export { runSim, type InferenceRecord } from './runtime/inference.js';
export { runSeal, type SealRunOptions } from './runtime/seal-inference.js';
export { runSealParallel } from './runtime/seal-parallel.js';
export { estimateNoise } from './runtime/noise.js';

// serve: the encrypted inference server and its client
export { PannServer, type PannServerOptions } from './server/server.js';
export { PannClient, type PannClientOptions } from './server/client.js';

// study: precision against accuracy
export { runStudy, type StudyOptions, type StudyRun } from './study/study.js';
export { gridFromJSON, type StudyGrid } from './study/grid.js';
export { tuneModel, type TuneOptions, type TuneResult } from './study/tune.js';

// errors: every failure pann reports is one of these (code names the kind)
export {
  PannError,
  ActivationError,
  FitError,
  ModelError,
  DataError,
  TrainError,
  OnnxError,
  InputError,
  CompileError,
  CircuitError,
  RuntimeError,
  CkksError,
  StudyError,
  ServerError,
} from './errors.js';

// each layer's whole API
export * as approx from './approx/index.js';
export * as nn from './nn/index.js';
export * as ckks from './ckks/index.js';
export * as circuit from './circuit/index.js';
export * as compiler from './compiler/index.js';
export * as runtime from './runtime/index.js';
export * as server from './server/index.js';
export * as study from './study/index.js';
