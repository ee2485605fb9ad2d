/**
 * `pann import model.onnx --out models/x.json`: convert an ONNX export (PyTorch MLP/CNN) into a pann model file,
 * printing how each graph node was mapped and the shape after each layer.
 */
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { InputError, errorMessage } from '../errors.js';
import { saveModel } from '../nn/model-file.js';
import { describeLayer, formatShape, modelShapes, parameterCount } from '../nn/model.js';
import { loadOnnx, type OnnxImport } from '../nn/onnx/import.js';
import type { TensorDtype } from '../nn/tensor-codec.js';
import { action, printJson } from './common.js';
import { checkOutputPath } from '../files.js';

interface ImportFlags {
  out: string;
  name?: string;
  dtype?: TensorDtype;
  stripSoftmax?: boolean;
  json?: boolean;
}

/** The node → layer table `pann import` prints. */
export function formatImport(file: string, imp: OnnxImport): string {
  const { model } = imp;
  const shapes = modelShapes(model);
  const width = Math.max(24, ...imp.nodes.map((n) => n.node.length));
  const lines = [
    `${file}: ${imp.producer || 'unknown producer'}, opset ${imp.opset}, IR ${imp.irVersion}`,
    `${model.name}: input ${formatShape(model.inputShape)}, ${imp.nodes.length} nodes on the data path → ` +
      `${model.layers.length} layers, ${parameterCount(model)} parameters`,
    '',
    `  ${'onnx node'.padEnd(width)}  pann layer                                   output shape`,
  ];
  for (const n of imp.nodes) {
    if (n.layer === null) {
      lines.push(`  ${n.node.padEnd(width)}  (${n.note})`);
    } else {
      const layer = `${n.layer}: ${describeLayer(model.layers[n.layer]!)}`;
      const note = n.note ? `  (${n.note})` : '';
      lines.push(`  ${n.node.padEnd(width)}  ${layer.padEnd(44)} ${formatShape(shapes[n.layer]!)}${note}`);
    }
  }
  return lines.join('\n');
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('convert an ONNX model (a PyTorch MLP/CNN export) into a pann model file')
    .argument('<model.onnx>', 'ONNX file')
    .requiredOption('-o, --out <file>', 'pann model file to write (JSON)')
    .option('--name <name>', 'model name (default: the ONNX file name)')
    .addOption(
      new Option('--dtype <type>', 'storage type of the weights (default: float64 if the ONNX weights are double, else float32)').choices([
        'float32',
        'float64',
      ]),
    )
    .option('--strip-softmax', 'drop a final Softmax/LogSoftmax node: pann outputs the logits (same predicted class)')
    .option('--json', 'print the import report as JSON on stdout')
    .addHelpText(
      'after',
      `
Imports the ops a PyTorch export of an MLP or CNN produces: Gemm, MatMul+Add, Conv, AveragePool,
GlobalAveragePool, Flatten, Reshape (to flat), BatchNormalization, Relu, Sigmoid, Tanh, LeakyRelu, Elu,
Softplus, Dropout, Identity, Constant, Pad (folded into the next Conv/AveragePool). The graph must be a chain
from one input to one output. See docs/onnx.md for the export command and the limits.

Examples:
  $ pann import mnist-cnn.onnx --out models/mnist-cnn-torch.json
  $ pann import classifier.onnx --out models/classifier.json --name classifier --strip-softmax
  $ pann predict models/mnist-cnn-torch.json --input digits.json    # compare with PyTorch's outputs`,
    )
    .action(
      action('import', (file: string, flags: ImportFlags) => {
        if (resolve(flags.out) === resolve(file))
          throw new InputError(`--out ${flags.out} is the ONNX file itself; write the pann model elsewhere`);
        checkOutputPath(flags.out, { label: '--out', extensions: ['.json'] });
        const imp = loadOnnx(file, {
          ...(flags.name !== undefined ? { name: flags.name } : {}),
          stripSoftmax: flags.stripSoftmax === true,
        });
        const dtype = flags.dtype ?? imp.weightDtype;
        try {
          saveModel(flags.out, imp.model, { dtype });
        } catch (err) {
          throw new InputError(`cannot write ${flags.out}: ${errorMessage(err)}`, { cause: err });
        }
        if (flags.json) {
          const shapes = modelShapes(imp.model);
          printJson({
            file,
            out: flags.out,
            name: imp.model.name,
            producer: imp.producer,
            opset: imp.opset,
            dtype,
            inputShape: imp.model.inputShape,
            parameters: parameterCount(imp.model),
            nodes: imp.nodes,
            layers: imp.model.layers.map((l, i) => ({ index: i, description: describeLayer(l), outputShape: shapes[i] })),
          });
          return;
        }
        const lossy = dtype === 'float32' && imp.weightDtype === 'float64' ? ' (the ONNX weights are float64: rounded)' : '';
        process.stdout.write(`${formatImport(file, imp)}\n\nwrote ${flags.out} (${dtype} weights${lossy})\n`);
      }),
    );
}
