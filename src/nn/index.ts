/**
 * Public API of pann's network layer: the model and its file format, reference inference, training,
 * polynomial-aware fine-tuning, calibration, datasets (MNIST split, IDX, CSV), the shipped-model recipes and ONNX import.
 */
export {
  LAYER_TYPES,
  checkModel,
  cloneLayer,
  cloneModel,
  describeLayer,
  formatShape,
  layerLabel,
  layerOutputShape,
  layerParameterCount,
  modelShapes,
  nonlinearLayerIndices,
  outputShape,
  parameterCount,
  shapeSize,
} from './model.js';
export type {
  ActivationLayer,
  AvgPool2dLayer,
  BatchNormLayer,
  Conv2dLayer,
  DenseLayer,
  DropoutLayer,
  FlattenLayer,
  GlobalAvgPoolLayer,
  Layer,
  LayerType,
  Model,
  PolynomialLayer,
  Shape,
} from './model.js';
export {
  MODEL_FORMAT,
  MODEL_VERSION,
  approximationFromJSON,
  approximationToJSON,
  loadModel,
  modelFromJSON,
  modelToJSON,
  parseModel,
  saveModel,
  serializeModel,
} from './model-file.js';
export type { SaveModelOptions } from './model-file.js';
export type { EncodedTensor, TensorDtype } from './tensor-codec.js';
export { argmax, predict, predictWithStats } from './inference.js';
export type { NonlinearInputStats, PredictOptions, PredictResult } from './inference.js';
export { Network } from './network.js';
export type { LayerTap, NetworkForwardOptions } from './network.js';
export type { ForwardOptions, ParamGroup } from './layer-ops.js';
export { evaluateModel, scoreLogits } from './evaluate.js';
export type { ClassMetrics, Evaluation } from './evaluate.js';
export { activationInputRanges, percentileOfSorted } from './calibration.js';
export type { ActivationRange, CalibrationOptions, PercentileValue } from './calibration.js';
export { networkScore, trainModel } from './train.js';
export type { EpochRecord, TrainOptions, TrainProgress, TrainResult } from './train.js';
export { finetunePolynomial } from './finetune.js';
export type { ApproximationProvider, FinetuneOptions, FinetuneResult } from './finetune.js';
export { OPTIMIZER_NAMES, createOptimizer } from './optimizer.js';
export type { Optimizer, OptimizerName, OptimizerOptions } from './optimizer.js';
export { SCHEDULE_NAMES, learningRateAt } from './schedule.js';
export type { ScheduleName, ScheduleOptions } from './schedule.js';
export { augmentBatch } from './augment.js';
export type { AugmentOptions } from './augment.js';
export { mixupBatch } from './mixup.js';
export { oneHot, softmaxCrossEntropy } from './loss.js';
export { buildModel, parseArchitecture } from './architecture.js';
export type { BuildModelOptions, LayerSpec } from './architecture.js';
export { Prng } from './prng.js';
export { checkDatasetFitsModel, headDataset, makeDataset, subsetDataset } from './dataset.js';
export type { Dataset } from './dataset.js';
export {
  MNIST_INPUT_SHAPE,
  MNIST_SPLITS,
  MNIST_SPLIT_SEED,
  MNIST_SPLIT_SIZES,
  loadMnistDigits,
  loadMnistSplit,
  mnistSplitIndices,
  stratifiedQuotas,
} from './mnist.js';
export type { MnistSplit } from './mnist.js';
export {
  FASHION_FULL_VALIDATION,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DEBIAN_DIR,
  loadFashionMnistAll,
  loadFashionMnistFull,
  loadFashionMnistSplit,
} from './fashion-mnist.js';
export { loadIdxDataset, parseIdx } from './idx.js';
export type { IdxArray, IdxDatasetOptions } from './idx.js';
export { loadCsvDataset, parseCsvDataset } from './csv.js';
export type { CsvDatasetOptions } from './csv.js';
export {
  MNIST_CNN_ARCHITECTURE,
  MNIST_MLP_ARCHITECTURE,
  RECIPES,
  RECIPE_FORMAT,
  recipeFromJSON,
  resolveRecipe,
  runRecipe,
} from './recipes.js';
export type { Recipe, RecipeRun, RunRecipeOptions } from './recipes.js';
export { ONNX_MAX_OPSET, ONNX_MIN_OPSET, importOnnx, loadOnnx } from './onnx/import.js';
export type { ImportOnnxOptions, OnnxImport, OnnxNodeImport } from './onnx/import.js';
