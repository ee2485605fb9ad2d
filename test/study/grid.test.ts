import { describe, expect, it } from 'vitest';
import { StudyError } from '../../src/errors.js';
import { DEFAULT_SETTINGS, expandGrid, gridFromJSON, gridToJSON } from '../../src/study/grid.js';

const base = { format: 'pann-study-grid', version: 1 };
const facts = (path: string) => ({ activations: path.includes('ulu') ? ['ulu', 'ulu'] : ['relu', 'relu'] });

function err(raw: unknown): string {
  try {
    gridFromJSON(raw, 'g.json');
  } catch (e) {
    expect(e).toBeInstanceOf(StudyError);
    return (e as Error).message;
  }
  throw new Error('expected a StudyError');
}

describe('study grid', () => {
  it('parses a grid with defaults and round-trips through JSON', () => {
    const g = gridFromJSON({
      ...base,
      models: ['a-relu.json', { path: 'b-ulu.json', technique: 'mixup' }],
      precisions: { from: 3, to: 6 },
    });
    expect(g.models).toEqual([
      { path: 'a-relu.json', technique: 'baseline' },
      { path: 'b-ulu.json', technique: 'mixup' },
    ]);
    expect(g.precisions).toEqual([3, 4, 5, 6]);
    expect(g.methods).toEqual(['remez']);
    expect(g.settings).toEqual(DEFAULT_SETTINGS);
    expect(gridFromJSON(JSON.parse(JSON.stringify(gridToJSON(g))))).toEqual(g);
  });

  it('names the bad field', () => {
    expect(err({ ...base, format: 'x', models: ['m'], precisions: [3] })).toMatch(/^g\.json: format: expected "pann-study-grid"/);
    expect(err({ ...base, version: 2, models: ['m'], precisions: [3] })).toMatch(/version: this pann reads version 1/);
    expect(err({ ...base, models: [], precisions: [3] })).toMatch(/models: is empty/);
    expect(err({ ...base, precisions: [3] })).toMatch(/models: missing/);
    expect(err({ ...base, models: ['m'], precisions: [3, 41] })).toMatch(
      /precisions\[1\]: precision must be an integer in 1\.\.40, got 41/,
    );
    expect(err({ ...base, models: ['m'], precisions: { from: 9, to: 3 } })).toMatch(/precisions: expected \{ "from"/);
    expect(err({ ...base, models: ['m'], precisions: [3], methods: ['taylor'] })).toMatch(
      /methods\[0\]: expected one of chebyshev, remez, composite, auto/,
    );
    expect(err({ ...base, models: ['m'], precisions: [3], remedies: ['dropout'] })).toMatch(/remedies\[0\]/);
    expect(err({ ...base, models: ['m'], precisions: [3], ranges: [{ rule: 'max', margin: 0.5 }] })).toMatch(/ranges\[0\]\.margin/);
    expect(err({ ...base, models: ['m'], precisions: [3], scaleBits: [10] })).toMatch(
      /scaleBits\[0\]: expected "auto" or an integer in 14\.\.60/,
    );
    expect(err({ ...base, models: ['m'], precisions: [3], colour: 'red' })).toMatch(/colour: unknown field/);
    expect(err({ ...base, models: [{ path: 'm', technique: 'a b' }], precisions: [3] })).toMatch(/models\[0\]\.technique/);
    expect(err({ ...base, models: ['m'], precisions: [3], settings: { split: 'train' } })).toMatch(/settings\.split/);
    expect(err({ ...base, models: ['m'], precisions: [3], settings: { seal: { cells: 'some' } } })).toMatch(/settings\.seal\.cells/);
    expect(err({ ...base, models: ['m'], precisions: [3], settings: { maxSimulatedRing: 10000 } })).toMatch(/settings\.maxSimulatedRing/);
    expect(err({ ...base, blocks: [{ precisions: [3] }] })).toMatch(/blocks\[0\]\.models: missing/);
    expect(err({ ...base, models: ['m'], precisions: [3], blocks: [{ method: ['remez'] }] })).toMatch(/blocks\[0\]\.method: unknown axis/);
    expect(err([1, 2])).toMatch(/grid: expected a JSON object/);
  });

  it('expands the product with pruning: composite only for ReLU networks, asymmetric only with remez', () => {
    const g = gridFromJSON({
      ...base,
      models: ['n-relu.json', 'n-ulu.json'],
      precisions: [4, 5],
      methods: ['remez', 'composite'],
      remedies: ['none', 'asymmetric'],
    });
    const cells = expandGrid(g, facts);
    const ids = cells.map((c) => `${c.model.path} ${c.method} ${c.remedy} ${c.k}`);
    expect(ids).toContain('n-relu.json composite none 4');
    expect(ids).not.toContain('n-ulu.json composite none 4');
    expect(ids).not.toContain('n-relu.json composite asymmetric 4');
    expect(ids).toContain('n-ulu.json remez asymmetric 5');
    // relu: remez×{none,asym} + composite×none = 3 per k; ulu: remez×{none,asym} = 2 per k
    expect(cells).toHaveLength(2 * 3 + 2 * 2);
    expect(new Set(cells.map((c) => c.id)).size).toBe(cells.length);
  });

  it('takes the union of blocks, each overriding the top-level axes, without duplicates', () => {
    const g = gridFromJSON({
      ...base,
      models: ['n-relu.json'],
      precisions: [4, 5],
      blocks: [{ methods: ['remez', 'chebyshev'] }, { methods: ['remez'], scaleBits: ['auto', 30] }],
    });
    const cells = expandGrid(g, facts);
    // block 1: 2 methods × 2 k; block 2: remez × 2 scales × 2 k, of which remez/auto repeats block 1
    expect(cells).toHaveLength(4 + 4 - 2);
  });

  it('refuses a grid that prunes to nothing', () => {
    const g = gridFromJSON({ ...base, models: ['n-ulu.json'], precisions: [4], methods: ['composite'] });
    expect(() => expandGrid(g, facts)).toThrow(/no cells after pruning/);
  });
});
