/**
 * A Model made executable: the chain of layer ops, a batched forward pass (with an optional per-layer tap),
 * and the backward pass that accumulates gradients into every trainable tensor. Works on the model's own arrays:
 * training a Network trains its model in place (clone first to keep the original).
 */
import { ModelError } from '../errors.js';
import { layerOp, type ForwardOptions, type LayerOp, type ParamGroup } from './layer-ops.js';
import { checkModel, formatShape, modelShapes, shapeSize, type Model, type Shape } from './model.js';

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

  constructor(readonly model: Model) {
    checkModel(model);
    const shapes = modelShapes(model);
    let inShape = model.inputShape;
    this.ops = model.layers.map((layer, i) => {
      const op = layerOp(layer, i, inShape, shapes[i]!);
      inShape = shapes[i]!;
      return op;
    });
    this.inputSize = shapeSize(model.inputShape);
    this.outputShape = inShape;
    this.outputSize = shapeSize(inShape);
    let seen = false;
    this.#needDx = this.ops.map((op) => {
      const need = seen;
      seen ||= op.params.length > 0;
      return need;
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
    let h = x.length === n * this.inputSize ? x : x.subarray(0, n * this.inputSize);
    for (const op of this.ops) {
      const y = op.forward(h, n, opts);
      opts.onLayer?.(op.index, h, y, n);
      h = y;
    }
    return h;
  }

  /** Back-propagate dL/d(outputs) through the last training forward, accumulating parameter gradients. */
  backward(dOut: Float64Array, n: number): void {
    let g: Float64Array | null = dOut;
    for (let i = this.ops.length - 1; i >= 0 && g; i--) {
      g = this.ops[i]!.backward(g, n, this.#needDx[i]!);
    }
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
