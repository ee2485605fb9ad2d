/**
 * ONNX import edge cases and bad input: hostile fixtures (test/fixtures/onnx/bad, from generate.py), truncated,
 * random and mutated bytes, and small graphs built here with onnx-proto's encoder for attribute/opset variants.
 * Every failure must be an OnnxError naming the node, input or initializer; never a crash or a silent wrong model.
 */
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { OnnxError, PannError } from '../../src/errors.js';
import { predict } from '../../src/nn/inference.js';
import { describeLayer, type Model } from '../../src/nn/model.js';
import { importOnnx, loadOnnx, type OnnxImport } from '../../src/nn/onnx/import.js';
import { Prng } from '../../src/nn/prng.js';

const { onnx } = onnxProto;
const dir = new URL('../fixtures/onnx/', import.meta.url);
const path = (name: string): string => new URL(name, dir).pathname;

function importError(fn: () => unknown): OnnxError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OnnxError);
    expect((err as OnnxError).code).toBe('onnx');
    return err as OnnxError;
  }
  throw new Error('expected an OnnxError, the import succeeded');
}

describe('hostile fixtures give a message naming the problem', () => {
  const cases: [string, RegExp][] = [
    ['softmax-middle', /^.*softmax-middle\.onnx: node #1 "softmax" \(Softmax\): unsupported op Softmax \(export the logits/],
    ['lstm', /node #0 "lstm" \(LSTM\): unsupported op LSTM \(recurrent networks/],
    [
      'maxpool',
      /node #1 "\/1\/MaxPool" \(MaxPool\): unsupported op MaxPool \(max pooling has no low-degree polynomial form; use AvgPool2d\)/,
    ],
    ['two-inputs', /the graph has 2 inputs \("x", "y"\); pann imports networks with one input/],
    ['dynamic-features', /input "input": dimension 1 is dynamic \("features"\); pann needs a fixed size/],
    ['group-conv', /node #0 "\/0\/Conv" \(Conv\): group=2 \(grouped or depthwise convolution\) is not supported/],
    ['dilated-conv', /node #0 "\/0\/Conv" \(Conv\): dilations \[2, 2\] are not supported/],
    ['avgpool-exclude-pad', /node #0 "\/0\/AveragePool" \(AveragePool\): count_include_pad=0 with padding 1×1/],
    ['pad-asymmetric', /node #0 "\/0\/Pad" \(Pad\): pads \[0, 0, 0, 0, 0, 0, 1, 1\] are asymmetric/],
    ['reshape-unflatten', /node #2 "\/Reshape" \(Reshape\): reshape to per-sample \[1, 4, 4\] \(from \[16\]\): pann only reshapes to flat/],
    ['nan-weight', /node #2 "\/2\/Gemm" \(Gemm\): weights B: initializer "2\.weight" at \[1, 2\] is NaN, not a finite number/],
    ['batchnorm-training', /\(BatchNormalization\): training_mode=1 \(batch statistics\); export the module in eval\(\) mode/],
    ['float16-weight', /initializer "w1": data type FLOAT16 is not supported .*module\.float\(\)/],
    ['external-data', /initializer "w1": its data is stored in an external file/],
    ['opset-too-new', /opset 30 is not supported; pann reads ai\.onnx opsets 7 to 22/],
  ];
  for (const [name, pattern] of cases) {
    it(name, () => {
      const file = path(`bad/${name}.onnx`);
      const err = importError(() => loadOnnx(file));
      expect(err.message.startsWith(`${file}: `)).toBe(true);
      expect(err.message).toMatch(pattern);
      expect(err.message).not.toMatch(/\n/);
    });
  }

  it('a missing file names the path', () => {
    expect(importError(() => loadOnnx(path('nope.onnx'))).message).toMatch(/^cannot read ONNX file .*nope\.onnx: ENOENT/);
  });
});

describe('bytes that are not a whole ONNX model', () => {
  const mlp = readFileSync(path('mlp.onnx'));
  const cnn = readFileSync(path('cnn.onnx'));

  it('empty, JSON, text and PNG bytes', () => {
    expect(importError(() => importOnnx(new Uint8Array())).message).toBe('empty file: not an ONNX model');
    expect(importError(() => importOnnx(Buffer.from(' {"format": "pann-model", "version": 1}'))).message).toMatch(/looks like JSON/);
    expect(importError(() => importOnnx(Buffer.from('hello world'))).message).toMatch(
      /^not a readable ONNX model: protobuf decoding failed \(invalid wire type/,
    );
    expect(importError(() => importOnnx(Buffer.from('\x89PNG\r\n\x1a\n\0\0\0\rIHDR', 'latin1'))).message).toMatch(
      /not a readable ONNX model/,
    );
  });

  it('every truncation of a real export fails cleanly', () => {
    for (const bytes of [mlp, cnn]) {
      const cuts = Array.from({ length: 60 }, (_, i) => Math.floor(((i + 1) * (bytes.length - 1)) / 60));
      for (const cut of [1, 2, 5, 9, ...cuts]) {
        const err = importError(() => importOnnx(bytes.subarray(0, cut)));
        expect(err.message).toMatch(/^not (an|a readable) ONNX model|^no ai\.onnx opset import/);
      }
    }
  });

  it('random bytes fail cleanly (seeded)', () => {
    const rng = new Prng(31);
    for (let k = 0; k < 400; k++) {
      const bytes = Uint8Array.from({ length: 1 + Math.floor(rng.uniform(0, 600)) }, () => Math.floor(rng.uniform(0, 256)));
      importError(() => importOnnx(bytes));
    }
  });

  it('single-byte mutations of a real export either import or fail with a PannError, never a crash', () => {
    const rng = new Prng(32);
    let failed = 0;
    for (let k = 0; k < 400; k++) {
      const bytes = Uint8Array.from(cnn);
      bytes[Math.floor(rng.uniform(0, bytes.length))] = Math.floor(rng.uniform(0, 256));
      try {
        const imp = importOnnx(bytes);
        const out = predict(imp.model, new Float64Array(784).fill(0.5));
        expect(out.every((v) => Number.isFinite(v))).toBe(true);
      } catch (err) {
        if (!(err instanceof PannError)) throw err;
        failed++;
      }
    }
    expect(failed).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Small graphs built with onnx-proto's encoder.

type AttrValue = { i: number } | { f: number } | { ints: number[] } | { s: string } | { t: object };
interface NodeSpec {
  op: string;
  inputs: string[];
  outputs?: string[];
  attrs?: Record<string, AttrValue>;
  name?: string;
  domain?: string;
}
interface GraphSpec {
  nodes: NodeSpec[];
  inits?: object[];
  input?: (number | string)[];
  inputType?: number;
  inputs?: string[];
  outputs?: string[];
  opset?: number | null;
}

function floats(name: string, dims: number[], values: number[]): object {
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: values };
}
function int64s(name: string, dims: number[], values: number[]): object {
  return { name, dims, dataType: onnx.TensorProto.DataType.INT64, int64Data: values };
}

function attribute(name: string, v: AttrValue): object {
  const A = onnx.AttributeProto.AttributeType;
  if ('i' in v) return { name, type: A.INT, i: v.i };
  if ('f' in v) return { name, type: A.FLOAT, f: v.f };
  if ('ints' in v) return { name, type: A.INTS, ints: v.ints };
  if ('s' in v) return { name, type: A.STRING, s: Buffer.from(v.s) };
  return { name, type: A.TENSOR, t: v.t };
}

/** Encode a graph: nodes chained by name from input "x" to output "y" unless given. */
function build(spec: GraphSpec): Uint8Array {
  const { input = ['N', 3], inputType = onnx.TensorProto.DataType.FLOAT, inputs = ['x'], outputs = ['y'], opset = 13 } = spec;
  const valueInfo = (name: string, dims: (number | string)[]): object => ({
    name,
    type: {
      tensorType: { elemType: inputType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } },
    },
  });
  const message = onnx.ModelProto.fromObject({
    irVersion: 8,
    producerName: 'pann test',
    opsetImport: opset === null ? [] : [{ domain: '', version: opset }],
    graph: {
      name: 'test',
      node: spec.nodes.map((n, i) => ({
        opType: n.op,
        name: n.name ?? `n${i}`,
        input: n.inputs,
        output: n.outputs ?? [i === spec.nodes.length - 1 ? 'y' : `t${i}`],
        domain: n.domain ?? '',
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      initializer: spec.inits ?? [],
      input: inputs.map((name) => valueInfo(name, input)),
      output: outputs.map((name) => valueInfo(name, ['N'])),
    },
  });
  return onnx.ModelProto.encode(message).finish();
}

const layers = (imp: OnnxImport): string[] => imp.model.layers.map(describeLayer);
const run = (model: Model, x: number[]): number[] => Array.from(predict(model, Float64Array.from(x)));

describe('attribute and opset variants', () => {
  const w = [1, 2, 3, 4, 5, 6]; // 2×3 (out×in) or 3×2 (in×out)

  it('Gemm with transB=0, alpha, beta and a scalar C', () => {
    const imp = importOnnx(
      build({
        nodes: [{ op: 'Gemm', inputs: ['x', 'W', 'C'], attrs: { alpha: { f: 2 }, beta: { f: 0.5 } } }],
        inits: [floats('W', [3, 2], w), floats('C', [], [3])],
      }),
    );
    // y = 2·x·W + 0.5·3, W is in×out = [[1, 2], [3, 4], [5, 6]].
    expect(run(imp.model, [1, -1, 2])).toEqual([2 * (1 - 3 + 10) + 1.5, 2 * (2 - 4 + 12) + 1.5]);
  });

  it('MatMul then Add with the bias as the first input, an Identity of a shared initializer as weights', () => {
    const imp = importOnnx(
      build({
        nodes: [
          { op: 'Identity', inputs: ['W'], outputs: ['W_tied'] },
          { op: 'MatMul', inputs: ['x', 'W_tied'], outputs: ['h'] },
          { op: 'Add', inputs: ['b', 'h'] },
        ],
        inits: [floats('W', [3, 2], w), floats('b', [1, 2], [10, 20])],
      }),
    );
    expect(layers(imp)).toEqual(['dense 3→2']);
    expect(run(imp.model, [1, 0, 0])).toEqual([11, 22]);
  });

  it('Conv with auto_pad SAME_UPPER is a padding-1 convolution; AveragePool ceil_mode=1 when it changes nothing', () => {
    const kernel = Array.from({ length: 9 }, (_, i) => i - 4);
    const imp = importOnnx(
      build({
        input: ['N', 1, 4, 4],
        nodes: [
          { op: 'Conv', inputs: ['x', 'K'], attrs: { auto_pad: { s: 'SAME_UPPER' } } },
          { op: 'AveragePool', inputs: ['t0'], attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] }, ceil_mode: { i: 1 } } },
        ],
        inits: [floats('K', [1, 1, 3, 3], kernel)],
      }),
    );
    expect(layers(imp)).toEqual(['conv2d 1→1 k3×3 s1×1 p1×1', 'avgpool2d k2×2 s2×2 p0×0']);
    const err = importError(() =>
      importOnnx(
        build({
          input: ['N', 1, 5, 5],
          nodes: [
            { op: 'AveragePool', inputs: ['x'], attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] }, ceil_mode: { i: 1 } } },
          ],
        }),
      ),
    );
    expect(err.message).toBe(
      'node #0 "n0" (AveragePool): ceil_mode=1 changes the output size here (pann rounds down); export with ceil_mode=False',
    );
  });

  it('AveragePool with pads and count_include_pad=1 matches pann avgpool2d (zero padding counted)', () => {
    const imp = importOnnx(
      build({
        input: ['N', 1, 2, 2],
        nodes: [
          {
            op: 'AveragePool',
            inputs: ['x'],
            attrs: { kernel_shape: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] }, strides: { ints: [2, 2] }, count_include_pad: { i: 1 } },
          },
        ],
      }),
    );
    expect(run(imp.model, [4, 8, 12, 16])).toEqual([1, 2, 3, 4]);
  });

  it('Reshape: [-1, 8] and [0, -1] flatten, the same shape is a no-op, a batch-changing shape is refused', () => {
    const reshape = (input: number[], shape: number[]): OnnxImport =>
      importOnnx(
        build({ input: ['N', ...input], nodes: [{ op: 'Reshape', inputs: ['x', 's'] }], inits: [int64s('s', [shape.length], shape)] }),
      );
    expect(layers(reshape([2, 2, 2], [-1, 8]))).toEqual(['flatten']);
    expect(layers(reshape([2, 2, 2], [0, -1]))).toEqual(['flatten']);
    expect(reshape([2, 2, 2], [0, 2, -1, 2]).nodes[0]!.note).toBe('no-op reshape');
    expect(importError(() => reshape([2, 2, 2], [0, 3, -1])).message).toBe(
      'node #0 "n0" (Reshape): shape [0, 3, -1] does not fit 8 values per sample ([2, 2, 2])',
    );
    const err = importError(() =>
      importOnnx(build({ input: ['N', 8], nodes: [{ op: 'Reshape', inputs: ['x', 's'] }], inits: [int64s('s', [2], [1, -1])] })),
    );
    expect(err.message).toBe(
      'node #0 "n0" (Reshape): shape [1, -1] changes the batch dimension (the batch is dynamic); pann reshapes each sample',
    );
  });

  it('Dropout: the ratio attribute at opset 10, a ratio input at opset 13, training_mode refused', () => {
    expect(layers(importOnnx(build({ opset: 10, nodes: [{ op: 'Dropout', inputs: ['x'], attrs: { ratio: { f: 0.3 } } }] })))).toEqual([
      'dropout 0.3',
    ]);
    expect(layers(importOnnx(build({ nodes: [{ op: 'Dropout', inputs: ['x', 'r'] }], inits: [floats('r', [], [0.1])] })))).toEqual([
      'dropout 0.1',
    ]);
    const err = importError(() =>
      importOnnx(
        build({
          nodes: [{ op: 'Dropout', inputs: ['x', 'r', 'train'] }],
          inits: [floats('r', [], [0.1]), { name: 'train', dataType: 9, int32Data: [1] }],
        }),
      ),
    );
    expect(err.message).toBe('node #0 "n0" (Dropout): training_mode is true; export the module in eval() mode');
  });

  it('stripSoftmax also drops a final LogSoftmax, and refuses a Softmax that is not last', () => {
    const spec = { nodes: [{ op: 'LogSoftmax', inputs: ['x'], attrs: { axis: { i: 1 } } }] };
    expect(importError(() => importOnnx(build(spec))).message).toMatch(/unsupported op LogSoftmax/);
    expect(importOnnx(build(spec), { stripSoftmax: true }).model.layers).toEqual([]);
    const mid = build({
      nodes: [
        { op: 'Softmax', inputs: ['x'] },
        { op: 'Relu', inputs: ['t0'] },
      ],
    });
    expect(importError(() => importOnnx(mid, { stripSoftmax: true })).message).toBe(
      'node #0 "n0" (Softmax): Softmax is imported only as the graph\'s last node, with stripSoftmax (pann outputs the logits)',
    );
  });

  it('float attributes read as the decimal the user wrote', () => {
    const imp = importOnnx(build({ nodes: [{ op: 'LeakyRelu', inputs: ['x'], attrs: { alpha: { f: 0.2 } } }] }));
    expect(layers(imp)).toEqual(['activation leaky-relu:alpha=0.2']);
  });
});

describe('graphs that are not chains pann can map', () => {
  const W = floats('W', [2, 3], [1, 2, 3, 4, 5, 6]);
  const cases: [string, GraphSpec, string][] = [
    [
      'Add not after a dense layer',
      {
        nodes: [
          { op: 'Relu', inputs: ['x'] },
          { op: 'Add', inputs: ['t0', 'b'] },
        ],
        inits: [floats('b', [3], [1, 2, 3])],
      },
      'node #1 "n1" (Add): Add of a constant is supported only as the bias right after MatMul, Gemm or Conv',
    ],
    [
      'Add of two data tensors of different shapes (broadcasting)',
      {
        nodes: [
          { op: 'Relu', inputs: ['x'] },
          { op: 'Gemm', inputs: ['t0', 'W'], attrs: { transB: { i: 1 } } },
          { op: 'Add', inputs: ['t0', 't1'] },
        ],
        inits: [W],
      },
      'node #2 "n2" (Add): adds tensors of shapes [3] and [2]; pann adds branches of the same shape (no broadcasting)',
    ],
    [
      'ReduceMean over the channels',
      { input: ['N', 2, 3, 3], nodes: [{ op: 'ReduceMean', inputs: ['x'], attrs: { axes: { ints: [1] } } }] },
      'node #0 "n0" (ReduceMean): averages over axes [1]; pann maps ReduceMean over the spatial axes [2, 3] only (a global average pool)',
    ],
    [
      'a node joining two data tensors other than by Add',
      {
        nodes: [
          { op: 'Relu', inputs: ['x'] },
          { op: 'Sigmoid', inputs: ['x'] },
          { op: 'Mul', inputs: ['t0', 't1'] },
        ],
      },
      'node #2 "n2" (Mul): reads 2 data tensors; pann joins branches only with Add (a residual connection)',
    ],
    [
      'a Pad before an activation',
      {
        input: ['N', 1, 3, 3],
        nodes: [
          { op: 'Pad', inputs: ['x', 'p'] },
          { op: 'Relu', inputs: ['t0'] },
        ],
        inits: [int64s('p', [8], [0, 0, 1, 1, 0, 0, 1, 1])],
      },
      'node #0 "n0" (Pad): a zero Pad is supported only right before Conv or AveragePool, not before node #1 "n1" (Relu)',
    ],
    [
      'the output read again',
      {
        nodes: [
          { op: 'Relu', inputs: ['x'], outputs: ['y'] },
          { op: 'Sigmoid', inputs: ['y'], outputs: ['z'] },
        ],
      },
      'the graph output "y" is also read by node #1 "n1" (Sigmoid); pann imports a network that ends at the output',
    ],
    [
      'a node off the path',
      {
        nodes: [
          { op: 'Shape', inputs: ['W'], outputs: ['s'] },
          { op: 'Relu', inputs: ['x'] },
        ],
        inits: [W],
      },
      'node #0 "n0" (Shape): not on the path from the graph input "x" to the output "y"',
    ],
    [
      'a custom domain',
      { nodes: [{ op: 'FusedGemm', inputs: ['x', 'W'], domain: 'com.microsoft' }], inits: [W] },
      'node #0 "n0" (FusedGemm): op "FusedGemm" from domain "com.microsoft" is not supported (ai.onnx only)',
    ],
    [
      'Mul on the data path',
      { nodes: [{ op: 'Mul', inputs: ['x', 'c'] }], inits: [floats('c', [], [2])] },
      'node #0 "n0" (Mul): Mul on the data path is not supported (pann evaluates Mul only in shape computations, e.g. the shape input of Reshape)',
    ],
    [
      'a rank-3 input',
      { input: ['N', 2, 3], nodes: [{ op: 'Relu', inputs: ['x'] }] },
      'input "x": shape [N, 2, 3] has rank 3; pann takes [batch, features] or [batch, channels, height, width]',
    ],
    [
      'an integer input',
      { inputType: onnx.TensorProto.DataType.INT64, nodes: [{ op: 'Relu', inputs: ['x'] }] },
      'input "x": element type INT64 is not supported (float or double)',
    ],
    [
      'two outputs',
      { outputs: ['y', 'z'], nodes: [{ op: 'Relu', inputs: ['x'] }] },
      'the graph has 2 outputs; pann imports networks with one output',
    ],
    ['no ai.onnx opset', { opset: null, nodes: [{ op: 'Relu', inputs: ['x'] }] }, 'no ai.onnx opset import (domains: none)'],
    [
      'Gemm with transA',
      { nodes: [{ op: 'Gemm', inputs: ['x', 'W'], attrs: { transA: { i: 1 } } }], inits: [W] },
      'node #0 "n0" (Gemm): transA=1 is not supported (it would transpose the batch)',
    ],
    [
      'Gemm weights of the wrong size',
      { input: ['N', 4], nodes: [{ op: 'Gemm', inputs: ['x', 'W'], attrs: { transB: { i: 1 } } }], inits: [W] },
      'node #0 "n0" (Gemm): weights are 2×3 (transB=1): 3 input features, but the input has 4',
    ],
    [
      'an initializer with too few values',
      { nodes: [{ op: 'Gemm', inputs: ['x', 'V'] }], inits: [floats('V', [3, 2], [1, 2, 3, 4, 5])] },
      'initializer "V": dims [3, 2] need 6 values, the tensor holds 5 float_data values',
    ],
    [
      'integer weights',
      { nodes: [{ op: 'MatMul', inputs: ['x', 'V'] }], inits: [int64s('V', [3, 2], [1, 2, 3, 4, 5, 6])] },
      'node #0 "n0" (MatMul): weights B: initializer "V" holds integers; expected float weights',
    ],
    [
      'Conv on a flat input',
      { nodes: [{ op: 'Conv', inputs: ['x', 'K'] }], inits: [floats('K', [1, 1, 1, 1], [1])] },
      'node #0 "n0" (Conv): needs a [batch, channels, height, width] input, got per-sample shape [3]',
    ],
    [
      'Conv kernel_shape that disagrees with the weights',
      {
        input: ['N', 1, 4, 4],
        nodes: [{ op: 'Conv', inputs: ['x', 'K'], attrs: { kernel_shape: { ints: [3, 3] } } }],
        inits: [floats('K', [1, 1, 2, 2], [1, 2, 3, 4])],
      },
      'node #0 "n0" (Conv): kernel_shape [3, 3] does not match the weights\' 2×2',
    ],
    [
      'a Conv after a global pool',
      {
        input: ['N', 2, 3, 3],
        nodes: [
          { op: 'GlobalAveragePool', inputs: ['x'] },
          { op: 'Conv', inputs: ['t0', 'K'] },
        ],
        inits: [floats('K', [1, 2, 1, 1], [1, 1])],
      },
      'node #1 "n1" (Conv): reads the [2, 1, 1] output of a global pool, which pann keeps flat; only flat layers may follow it',
    ],
    [
      'Flatten from axis 2',
      { input: ['N', 1, 2, 2], nodes: [{ op: 'Flatten', inputs: ['x'], attrs: { axis: { i: 2 } } }] },
      'node #0 "n0" (Flatten): axis=2 would merge the batch dimension; pann flattens from axis 1',
    ],
    [
      'LeakyRelu outside the catalog range',
      { nodes: [{ op: 'LeakyRelu', inputs: ['x'], attrs: { alpha: { f: 2 } } }] },
      'node #0 "n0" (LeakyRelu): activation leaky-relu: parameter alpha=2 must be ≤ 1 (slope for x<0)',
    ],
    [
      'a negative BatchNorm variance',
      {
        nodes: [{ op: 'BatchNormalization', inputs: ['x', 'g', 'b', 'm', 'v'] }],
        inits: [floats('g', [3], [1, 1, 1]), floats('b', [3], [0, 0, 0]), floats('m', [3], [0, 0, 0]), floats('v', [3], [1, -1, 1])],
      },
      'node #0 "n0" (BatchNormalization): input_var value 1 is -1, negative',
    ],
    [
      'a cycle',
      {
        nodes: [
          { op: 'Add', inputs: ['x', 't1'], outputs: ['t0'] },
          { op: 'Relu', inputs: ['t0'], outputs: ['t1'] },
          { op: 'Relu', inputs: ['t1'], outputs: ['y'] },
        ],
      },
      'node #0 "n0" (Add): input 1 "t1" comes from node #1 "n1" (Relu), which comes after it: the graph has a cycle (or its nodes are not in topological order, as ONNX requires)',
    ],
    [
      'a reflect Pad',
      {
        input: ['N', 1, 3, 3],
        nodes: [
          { op: 'Pad', inputs: ['x', 'p'], attrs: { mode: { s: 'reflect' } } },
          { op: 'Conv', inputs: ['t0', 'K'] },
        ],
        inits: [int64s('p', [8], [0, 0, 1, 1, 0, 0, 1, 1]), floats('K', [1, 1, 3, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1])],
      },
      'node #0 "n0" (Pad): mode=reflect: pann pads with zeros only',
    ],
    [
      'a Pad at the end',
      { input: ['N', 1, 3, 3], nodes: [{ op: 'Pad', inputs: ['x', 'p'] }], inits: [int64s('p', [8], [0, 0, 1, 1, 0, 0, 1, 1])] },
      'node #0 "n0" (Pad): a zero Pad is supported only right before Conv or AveragePool, not at the end of the graph',
    ],
  ];
  for (const [what, spec, message] of cases) {
    it(what, () => {
      expect(importError(() => importOnnx(build(spec))).message).toBe(message);
    });
  }
});
