/** A tiny trained MNIST network for the study tests (seconds to train, milliseconds per simulated digit). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel } from '../../src/nn/architecture.js';
import { headDataset } from '../../src/nn/dataset.js';
import { MNIST_INPUT_SHAPE, loadMnistSplit } from '../../src/nn/mnist.js';
import { saveModel } from '../../src/nn/model-file.js';
import type { Model } from '../../src/nn/model.js';
import type { CellResult } from '../../src/study/cell-result.js';
import { trainModel } from '../../src/nn/train.js';

/** flatten → dense 16 → activation → dense 10, trained 2 epochs on 2000 digits (about 85–90% test accuracy). */
export function tinyModel(activation = 'relu', name = `tiny-${activation.split(':')[0]}`): Model {
  const m = buildModel(name, MNIST_INPUT_SHAPE, 'flatten dense:16 act dense:10', { seed: 3, activation });
  return trainModel(m, headDataset(loadMnistSplit('train'), 2000), { epochs: 2, learningRate: 3e-3, seed: 3 }).model;
}

/** A temporary directory holding the tiny model file(s). */
export function tinyModelDir(activations: readonly string[] = ['relu']): { dir: string; files: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'pann-study-'));
  const files = activations.map((a) => {
    const file = `tiny-${a.split(':')[0]}.json`;
    saveModel(join(dir, file), tinyModel(a), { dtype: 'float64' });
    return file;
  });
  return { dir, files };
}

/** A measured cell with just what the summary reads. */
export function syntheticCell(
  method: string,
  k: number,
  loss: number | null,
  latency: number,
  opts: { status?: CellResult['status']; technique?: string; remedy?: CellResult['cell']['remedy'] } = {},
): CellResult {
  const status = opts.status ?? (loss === null ? 'failed' : 'ok');
  const id = `${opts.technique ?? 'baseline'}-${opts.remedy ?? 'none'}-${method}-${k}`;
  const c: CellResult = {
    id,
    key: id,
    cell: {
      id,
      model: { path: 'models/net.json', technique: opts.technique ?? 'baseline' },
      k,
      method: method as CellResult['cell']['method'],
      remedy: opts.remedy ?? 'none',
      range: { rule: 'max', margin: 1.1, percentile: 99.9 },
      scaleBits: 'auto',
    },
    status,
    model: { name: 'net', activations: ['relu'], architecture: 'flatten-dense-activation-dense' },
    float: { accuracy: 0.98, correct: 980, count: 1000 },
    timing: { finetuneMs: 0, compileMs: 0, simMs: 0, totalMs: 0 },
    notes: [],
  };
  if (status !== 'failed') {
    c.cost = {
      activations: [{ method, degrees: [k], B: 1, log2Error: -k, depth: 3 }],
      depth: 6,
      ringDimension: 8192,
      coeffModulusBits: [],
      totalModulusBits: 0,
      scaleBits: 30,
      rotations: 0,
      rotationKeys: 0,
      ctMultiplications: 0,
      plainMultiplications: 0,
      predictedLatencyMs: latency,
      galoisKeyBytes: 0,
    };
  }
  if (status === 'ok') c.pann = { accuracy: 0.98 - loss! / 100, correct: 0, count: 1000, lossPoints: loss!, agreement: 1 };
  if (status === 'failed') c.error = { stage: 'compile', code: 'compile', message: 'too deep' };
  return c;
}
