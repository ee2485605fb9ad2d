/**
 * A Model made executable: its layer ops, a batched forward pass (with an optional per-layer tap), and the
 * backward pass that accumulates gradients into every trainable tensor. Works on the model's own arrays: training
 * a Network trains its model in place (clone first to keep the original). A model is a DAG in topological order
 * (model.ts): each op reads the output of its `from` layer (by default the one before), an add also that of its
 * `other`, and in backward a layer whose output feeds several gets the sum of their gradients.
 */
import { ModelError } from '../errors.js';
import { AddOp, layerOp, type ForwardOptions, type LayerOp, type ParamGroup } from './layer-ops.js';
import { checkModel, formatShape, layerInputIndex, modelShapes, shapeSize, type Model, type Shape } from './model.js';

/** Called after each layer with its batch input and output (n samples each). Values are valid only during the call. */
export type LayerTap = (index: number, input: Float64Array, output: Float64Array, n: number) => void;

export interface NetworkForwardOptions extends ForwardOptions {
  onLayer?: LayerTap;
}

export class Network {
  readonly ops: LayerOp[];
  readonly inputSize: number;
  readonly outputSize: number;
  readonly outputShape: Shape;
  /** needDx[i]: some layer before i has parameters, so layer i must pass a gradient back. */
  readonly #needDx: boolean[];
  /** Per op: the layer its input comes from (−1: the model input), and for an add the other summand's. */
  readonly #from: number[];
  readonly #other: number[];
  /** How many ops read each layer's output (a gradient is summed where more than one does). */
  readonly #readers: number[];
  #outputs: Float64Array[] = [];
  #grads: (Float64Array | null)[] = [];
  #sums: Float64Array[] = [];

  constructor(readonly model: Model) {
    checkModel(model);
    const shapes = modelShapes(model);
    this.#from = model.layers.map((l, i) => layerInputIndex(l, i));
    this.#other = model.layers.map((l) => (l.type === 'add' ? l.other : -2));
    this.ops = model.layers.map((layer, i) => {
      const from = this.#from[i]!;
      return layerOp(layer, i, from < 0 ? model.inputShape : shapes[from]!, shapes[i]!);
    });
    this.inputSize = shapeSize(model.inputShape);
    this.outputShape = shapes.length ? shapes[shapes.length - 1]! : model.inputShape;
    this.outputSize = shapeSize(this.outputShape);
    this.#readers = model.layers.map(() => 0);
    for (let i = 0; i < model.layers.length; i++) {
      for (const ref of [this.#from[i]!, this.#other[i]!]) if (ref >= 0) this.#readers[ref]!++;
    }
    // an op must pass a gradient back when some layer it reads from (directly or not) has parameters
    const trains: boolean[] = [];
    this.#needDx = this.ops.map((op, i) => {
      const upstream = [this.#from[i]!, this.#other[i]!].some((ref) => ref >= 0 && trains[ref]);
      trains.push(upstream || op.params.length > 0);
      return upstream;
    });
  }

  /** Trainable tensors in layer order. */
  params(): ParamGroup[] {
    return this.ops.flatMap((op) => op.params);
  }

  zeroGrad(): void {
    for (const p of this.params()) p.grad.fill(0);
  }

  /** Outputs (n·outputSize) for n inputs; the returned array is reused by the next call. */
  forward(x: Float64Array, n: number, opts: NetworkForwardOptions = {}): Float64Array {
    if (x.length < n * this.inputSize) {
      throw new ModelError(
        `input holds ${x.length} values, expected ${n}×${this.inputSize} for input shape ${formatShape(this.model.inputShape)}`,
      );
    }
    const input = x.length === n * this.inputSize ? x : x.subarray(0, n * this.inputSize);
    const outputs = this.#outputs;
    const outputOf = (ref: number) => (ref < 0 ? input : outputs[ref]!);
    let h = input;
    this.ops.forEach((op, i) => {
      const a = outputOf(this.#from[i]!);
      h = op instanceof AddOp ? op.forwardSum(a, outputOf(this.#other[i]!), n) : op.forward(a, n, opts);
      outputs[i] = h;
      opts.onLayer?.(op.index, a, h, n);
    });
    return h;
  }

  /** Back-propagate dL/d(outputs) through the last training forward, accumulating parameter gradients. */
  backward(dOut: Float64Array, n: number): void {
    const last = this.ops.length - 1;
    const grads = this.#grads;
    grads.length = 0;
    grads[last] = dOut;
    for (let i = last; i >= 0; i--) {
      const g = grads[i] ?? null;
      if (!g) continue;
      const op = this.ops[i]!;
      if (op instanceof AddOp) {
        this.#pass(this.#from[i]!, g, n);
        this.#pass(this.#other[i]!, g, n);
      } else {
        const dx = op.backward(g, n, this.#needDx[i]!);
        if (dx) this.#pass(this.#from[i]!, dx, n);
      }
    }
  }

  /** Hand gradient g to layer `ref`'s output: as it is when one op reads that output, summed when several do. */
  #pass(ref: number, g: Float64Array, n: number): void {
    if (ref < 0) return;
    if (this.#readers[ref]! <= 1) {
      this.#grads[ref] = g;
      return;
    }
    const have = this.#grads[ref];
    if (have) {
      for (let k = 0; k < have.length; k++) have[k]! += g[k]!;
      return;
    }
    const size = n * this.ops[ref]!.outSize;
    if ((this.#sums[ref]?.length ?? 0) < size) this.#sums[ref] = new Float64Array(size);
    const sum = this.#sums[ref]!.subarray(0, size);
    sum.set(g.subarray(0, size));
    this.#grads[ref] = sum;
  }

  /** Sum of the extra loss terms of the last forward (polynomial range penalty). */
  penalty(): number {
    return this.ops.reduce((s, op) => s + op.penalty(), 0);
  }

  /** After an optimiser step: rebuild activations from their learned parameters (projected into valid ranges). */
  sync(): void {
    for (const op of this.ops) op.sync();
  }
}
