/**
 * `pann import` through the built CLI (node bin/pann.js; `npm test` builds first), and loadModelOrOnnx: the written
 * model file reproduces PyTorch's recorded outputs, bad input exits 2 with one line naming the problem.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadModelOrOnnx } from '../../src/cli/load-model.js';
import { predict } from '../../src/nn/inference.js';
import { loadModel } from '../../src/nn/model-file.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = join(root, 'test/fixtures/onnx');
const dir = mkdtempSync(join(tmpdir(), 'pann-onnx-'));

function pann(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('node', [`${root}bin/pann.js`, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function recorded(name: string): { inputs: number[][]; outputs: number[][] } {
  return JSON.parse(readFileSync(join(fixtures, `${name}.json`), 'utf8')) as { inputs: number[][]; outputs: number[][] };
}

function maxDiff(actual: ArrayLike<number>, expected: number[]): number {
  expect(actual.length).toBe(expected.length);
  return expected.reduce((m, v, i) => Math.max(m, Math.abs(actual[i]! - v)), 0);
}

describe('pann import', () => {
  it('writes a model whose pann predict output matches PyTorch, and prints nodes, layers and shapes', () => {
    const out = join(dir, 'cnn.json');
    const r = pann('import', join(fixtures, 'cnn.onnx'), '--out', out, '--name', 'torch-cnn');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^.*cnn\.onnx: pytorch 1\.13\.\d+, opset 17, IR 8$/m);
    expect(r.stdout).toMatch(/^torch-cnn: input \[1, 28, 28\], 9 nodes on the data path → 8 layers, \d+ parameters$/m);
    expect(r.stdout).toMatch(/node #0 "\/0\/Conv" \(Conv\) +0: conv2d 1→4 k5×5 s2×2 p1×1 +\[4, 13, 13\]/);
    expect(r.stdout).toMatch(/node #4 "\/3\/Pad" \(Pad\) +\(zero-size pad skipped\)/);
    expect(r.stdout).toMatch(/wrote .*cnn\.json \(float32 weights\)\n$/);

    const { inputs, outputs } = recorded('cnn');
    const model = loadModel(out);
    expect(model.name).toBe('torch-cnn');
    expect(maxDiff(predict(model, Float64Array.from(inputs.flat())), outputs.flat())).toBeLessThan(1e-5);

    const inputFile = join(dir, 'digits.json');
    writeFileSync(inputFile, JSON.stringify(inputs));
    const p = pann('predict', out, '--input', inputFile, '--json');
    expect(p.code).toBe(0);
    const rows = JSON.parse(p.stdout) as { logits: number[]; prediction: number }[];
    expect(
      maxDiff(
        rows.flatMap((row) => row.logits),
        outputs.flat(),
      ),
    ).toBeLessThan(1e-5);
  });

  it('--json reports the mapping; float64 ONNX weights are stored as float64 unless --dtype says otherwise', () => {
    const out = join(dir, 'cnn64.json');
    const r = pann('import', join(fixtures, 'cnn-float64.onnx'), '--out', out, '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      dtype: string;
      opset: number;
      nodes: { op: string; layer: number | null }[];
      layers: { outputShape: number[] }[];
    };
    expect(report).toMatchObject({ dtype: 'float64', opset: 15, inputShape: [1, 28, 28], name: 'cnn-float64' });
    expect(report.nodes.map((n) => n.op)).toEqual(['Conv', 'Relu', 'Pad', 'AveragePool', 'Flatten', 'Gemm', 'Sigmoid', 'Gemm']);
    expect(report.layers.at(-1)!.outputShape).toEqual([10]);
    expect(readFileSync(out, 'utf8')).toMatch(/"dtype":"float64"/);
    const r32 = pann('import', join(fixtures, 'cnn-float64.onnx'), '--out', join(dir, 'cnn32.json'), '--dtype', 'float32');
    expect(r32.stdout).toMatch(/wrote .* \(float32 weights \(the ONNX weights are float64: rounded\)\)/);
  });

  it('bad input exits 2 with one line naming the problem', () => {
    const cases: [string[], RegExp][] = [
      [[join(fixtures, 'bad/group-conv.onnx')], /^pann import: .*group-conv\.onnx: node #0 "\/0\/Conv" \(Conv\): group=2/],
      [[join(fixtures, 'bad/lstm.onnx')], /^pann import: .*lstm\.onnx: node #0 "lstm" \(LSTM\): unsupported op LSTM/],
      [[join(fixtures, 'mlp.json')], /^pann import: .*mlp\.json: not an ONNX model: the file looks like JSON/],
      [[join(dir, 'missing.onnx')], /^pann import: cannot read ONNX file .*missing\.onnx/],
    ];
    const truncated = join(dir, 'truncated.onnx');
    writeFileSync(truncated, readFileSync(join(fixtures, 'mlp.onnx')).subarray(0, 5000));
    cases.push([[truncated], /^pann import: .*truncated\.onnx: not a readable ONNX model: protobuf decoding failed/]);
    for (const [args, pattern] of cases) {
      const r = pann('import', ...args, '--out', join(dir, 'never.json'));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const copy = join(dir, 'same.onnx');
    copyFileSync(join(fixtures, 'mlp.onnx'), copy);
    const same = pann('import', copy, '--out', copy);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/--out .* is the ONNX file itself/);
    // a missing folder is created; one that cannot be (a file in its place) is refused before importing
    expect(pann('import', copy, '--out', join(dir, 'new/dir/x.json')).code).toBe(0);
    writeFileSync(join(dir, 'a-file'), 'x');
    const blocked = pann('import', copy, '--out', join(dir, 'a-file/x.json'));
    expect(blocked.code).toBe(2);
    expect(blocked.stderr).toMatch(/^pann import: --out '.*a-file\/x\.json': .*a-file is not a folder/);
  });

  it('--help shows an example', () => {
    const r = pann('import', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\$ pann import mnist-cnn\.onnx --out models\/mnist-cnn-torch\.json/);
  });
});

describe('loadModelOrOnnx', () => {
  it('imports a .onnx file and loads a pann model file', () => {
    const onnx = loadModelOrOnnx(join(fixtures, 'mlp.onnx'));
    expect(onnx.name).toBe('mlp');
    expect(onnx.metadata.importedFrom).toMatchObject({ format: 'onnx', file: 'mlp.onnx' });
    const out = join(dir, 'mlp-model.json');
    expect(pann('import', join(fixtures, 'mlp.onnx'), '--out', out).code).toBe(0);
    const json = loadModelOrOnnx(out);
    const x = Float64Array.from(recorded('mlp').inputs.flat());
    expect(Array.from(predict(json, x))).toEqual(Array.from(predict(onnx, x)));
    expect(() => loadModelOrOnnx(join(fixtures, 'bad/maxpool.onnx'))).toThrow(/unsupported op MaxPool/);
  });
});
