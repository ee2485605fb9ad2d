import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelSha256 } from '../../src/nn/fingerprint.js';
import { loadModel, saveModel } from '../../src/nn/model-file.js';
import { loadOnnx } from '../../src/nn/onnx/import.js';

describe('model identity', () => {
  it('is the weights and shapes: the same from ONNX and from its pann JSON (float32 or float64), not the name or metadata', () => {
    const imported = loadOnnx('test/fixtures/onnx/cnn.onnx').model;
    const dir = mkdtempSync(join(tmpdir(), 'pann-fp-'));
    const sha = modelSha256(imported);
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    for (const dtype of ['float32', 'float64'] as const) {
      saveModel(join(dir, `${dtype}.json`), imported, { dtype });
      const back = loadModel(join(dir, `${dtype}.json`));
      expect(modelSha256(back), dtype).toBe(sha);
      expect(modelSha256({ ...back, name: 'renamed', metadata: { note: 'x' } })).toBe(sha);
    }
    const changed = loadModel(join(dir, 'float64.json'));
    const dense = changed.layers.find((l) => l.type === 'dense');
    if (dense?.type !== 'dense') throw new Error('the fixture has a dense layer');
    dense.weight[0] = dense.weight[0]! + 1e-12;
    expect(modelSha256(changed)).not.toBe(sha);
  });
});
