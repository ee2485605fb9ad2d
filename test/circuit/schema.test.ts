import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCircuit } from '../../src/circuit/index.js';
import { CircuitSchema, type CircuitJson } from '../../src/circuit/schema.js';
import { CircuitError } from '../../src/errors.js';
import { compiledSchema } from '../../src/schema/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const shipped = ['circuits/mnist-mlp-relu-k6.json', 'circuits/mnist-cnn1-relu-poly6.json'];

describe('circuit schema', () => {
  it.each(shipped)('the compiled validator accepts the shipped %s', (file) => {
    expect(compiledSchema(CircuitSchema).Check(JSON.parse(readFileSync(join(root, file), 'utf8')))).toBe(true);
  });

  const text = readFileSync(join(root, shipped[0]!), 'utf8');
  const bad = (f: (j: CircuitJson) => void): string => {
    const j = JSON.parse(text) as CircuitJson;
    f(j);
    try {
      parseCircuit(JSON.stringify(j), 'c.json');
    } catch (err) {
      expect(err).toBeInstanceOf(CircuitError);
      return (err as Error).message;
    }
    return 'accepted';
  };

  it('rejects a structurally wrong file naming the file and the field', () => {
    expect(bad((j) => ((j.ops[3] as unknown[])[1] = 'r'))).toBe('c.json: ops[3][1]: expected an integer, got "r"');
    expect(bad((j) => (j.plaintexts[0]!.scale = -1))).toBe('c.json: plaintexts[0].scale: expected a positive number, got -1');
    expect(bad((j) => ((j.ops as unknown[])[0] = ['rotate', 1, 0]))).toBe(
      'c.json: ops[0]: expected ["rotate", dst, src, steps], got ["rotate",1,0]',
    );
    expect(bad((j) => delete (j as Partial<CircuitJson>).registerScale)).toBe('c.json: registerScale: expected base64 data');
  });

  it('checks across fields after the schema with the same wording', () => {
    expect(bad((j) => (j.outputRegister = j.registerCount))).toMatch(/^c\.json: outputRegister: \d+ is outside 0\.\.\d+$/);
    expect(bad((j) => (j.plaintexts[0]!.level = 99))).toMatch(/^c\.json: plaintexts\[0\]\.level: 99 is outside 0\.\.\d+$/);
  });
});
