import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ModelError } from '../../src/errors.js';
import { parseModel } from '../../src/nn/model-file.js';
import { ModelFileSchema, type ModelFileJson } from '../../src/nn/model-schema.js';
import { compiledSchema } from '../../src/schema/index.js';

const models = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'models');
const shipped = readdirSync(models).filter((f) => f.endsWith('.json'));

describe('model file schema', () => {
  it.each(shipped)('accepts the shipped %s', (f) => {
    expect(compiledSchema(ModelFileSchema).Check(JSON.parse(readFileSync(join(models, f), 'utf8')))).toBe(true);
  });

  it('rejects a structurally wrong file naming the file and the field', () => {
    const text = readFileSync(join(models, 'mnist-cnn1-relu-poly6.json'), 'utf8');
    const bad = (f: (layers: Record<string, unknown>[]) => void): string => {
      const j = JSON.parse(text) as ModelFileJson;
      f(j.layers);
      try {
        parseModel(JSON.stringify(j), 'm.json');
      } catch (err) {
        expect(err).toBeInstanceOf(ModelError);
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(bad((layers) => (layers[0]!.stride = [1]))).toBe(
      'm.json: layers[0].stride: expected [height, width] of non-negative integers, got [1]',
    );
    expect(bad((layers) => ((layers[0]!.weight as { dtype: string }).dtype = 'int8'))).toBe(
      'm.json: layers[0].weight.dtype: expected "float32" or "float64", got "int8"',
    );
    expect(bad((layers) => ((layers[1]!.approximation as { finish: string }).finish = 'gelu'))).toBe(
      'm.json: layers[1].approximation.finish: expected none, relu or abs, got "gelu"',
    );
  });
});
