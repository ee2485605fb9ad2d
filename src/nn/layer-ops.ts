/**
 * Executable form of each layer: batched float64 forward and backward passes over a Model's own arrays.
 * Inference and training share these, so the numbers a trained model is checked with are the numbers it is
 * trained with. Buffers are reused between calls (an op's output is valid until its next forward).
 */
import { activation as makeActivation, type Activation } from '../approx/activations.js';
import { evalApproximation, evalApproximationDerivative } from '../approx/polynomial.js';
import { TrainError } from '../errors.js';
import { conv2dBackward, conv2dForward, type Geometry2d } from './kernels/conv2d.js';
import { denseBackward, denseForward } from './kernels/dense.js';
import { avgPool2dBackward, avgPool2dForward, globalAvgPoolBackward, globalAvgPoolForward } from './kernels/pool.js';
import { shapeSize, type Layer, type Shape } from './model.js';
import type { Prng } from './prng.js';

/** A trainable tensor with its gradient. */
export interface ParamGroup {
  /** e.g. `layers[0].weight`, `layers[1].activation.b1`. */
  readonly name: string;
  readonly value: Float64Array;
  readonly grad: Float64Array;
  /** Subject to L2 weight decay (weights of dense/conv layers only). */
  readonly decay: boolean;
}

export interface ForwardOptions {
  /** Training mode: dropout active, inputs kept for backward. @default false */
  training?: boolean;
  /** Random source for dropout (required when training with dropout). */
  rng?: Prng;
  /**
   * Weight λ of the range penalty on polynomial layers: adds λ·Σ dist(x, [a, b])²/n to the loss (training).
   * @default 0
   */
  rangePenalty?: number;
}

function ensure(buf: Float64Array, size: number): Float64Array {
  return buf.length >= size ? buf : new Float64Array(size);
}

export abstract class LayerOp {
  readonly inSize: number;
  readonly outSize: number;
  readonly params: ParamGroup[] = [];
  protected out: Float64Array = new Float64Array(0);
  protected dx: Float64Array = new Float64Array(0);
  protected input: Float64Array = new Float64Array(0);

  constructor(
    readonly layer: Layer,
    readonly index: number,
    readonly inShape: Shape,
    readonly outShape: Shape,
  ) {
    this.inSize = shapeSize(inShape);
    this.outSize = shapeSize(outShape);
  }

  /** Output for a batch of n inputs (x holds n·inSize values). */
  forward(x: Float64Array, n: number, opts: ForwardOptions): Float64Array {
    this.input = x;
    this.out = ensure(this.out, n * this.outSize);
    const y = this.out.subarray(0, n * this.outSize);
    this.run(x, n, y, opts);
    return y;
  }

  /** Accumulate parameter gradients from dy (n·outSize) and return dx, or null when `needDx` is false. */
  backward(dy: Float64Array, n: number, needDx: boolean): Float64Array | null {
    let dx: Float64Array | null = null;
    if (needDx) {
      this.dx = ensure(this.dx, n * this.inSize);
      dx = this.dx.subarray(0, n * this.inSize);
    }
    this.grad(this.input, dy, n, dx);
    return dx;
  }

  /** Extra loss term added by the last training forward (range penalty). */
  penalty(): number {
    return 0;
  }

  /** Copy learned values back into the layer (activations are immutable and get rebuilt). */
  sync(): void {}

  protected abstract run(x: Float64Array, n: number, y: Float64Array, opts: ForwardOptions): void;
  protected abstract grad(x: Float64Array, dy: Float64Array, n: number, dx: Float64Array | null): void;
}

class DenseOp extends LayerOp {
  constructor(
    readonly l: Extract<Layer, { type: 'dense' }>,
    index: number,
    inShape: Shape,
    outShape: Shape,
  ) {
    super(l, index, inShape, outShape);
    this.params.push(
      { name: `layers[${index}].weight`, value: l.weight, grad: new Float64Array(l.weight.length), decay: true },
      { name: `layers[${index}].bias`, value: l.bias, grad: new Float64Array(l.bias.length), decay: false },
    );
  }
  protected run(x: Float64Array, n: number, y: Float64Array): void {
    denseForward(x, n, this.l.weight, this.l.bias, this.l.inFeatures, this.l.outFeatures, y);
  }
  protected grad(x: Float64Array, dy: Float64Array, n: number, dx: Float64Array | null): void {
    const [w, b] = this.params;
    denseBackward(x, dy, n, this.l.weight, this.l.inFeatures, this.l.outFeatures, w!.grad, b!.grad, dx);
  }
}

function geometry(
  inShape: Shape,
  outShape: Shape,
  kernel: readonly number[],
  stride: readonly number[],
  padding: readonly number[],
): Geometry2d {
  return {
    inC: inShape[0]!,
    inH: inShape[1]!,
    inW: inShape[2]!,
    outC: outShape[0]!,
    outH: outShape[1]!,
    outW: outShape[2]!,
    kh: kernel[0]!,
    kw: kernel[1]!,
    sh: stride[0]!,
    sw: stride[1]!,
    ph: padding[0]!,
    pw: padding[1]!,
  };
}

class Conv2dOp extends LayerOp {
  readonly g: Geometry2d;
  constructor(
    readonly l: Extract<Layer, { type: 'conv2d' }>,
    index: number,
    inShape: Shape,
    outShape: Shape,
  ) {
    super(l, index, inShape, outShape);
    this.g = geometry(inShape, outShape, l.kernel, l.stride, l.padding);
    this.params.push(
      { name: `layers[${index}].weight`, value: l.weight, grad: new Float64Array(l.weight.length), decay: true },
      { name: `layers[${index}].bias`, value: l.bias, grad: new Float64Array(l.bias.length), decay: false },
    );
  }
  protected run(x: Float64Array, n: number, y: Float64Array): void {
    conv2dForward(this.g, x, n, this.l.weight, this.l.bias, y);
  }
  protected grad(x: Float64Array, dy: Float64Array, n: number, dx: Float64Array | null): void {
    const [w, b] = this.params;
    conv2dBackward(this.g, x, dy, n, this.l.weight, w!.grad, b!.grad, dx);
  }
}

class AvgPool2dOp extends LayerOp {
  readonly g: Geometry2d;
  constructor(l: Extract<Layer, { type: 'avgpool2d' }>, index: number, inShape: Shape, outShape: Shape) {
    super(l, index, inShape, outShape);
    this.g = geometry(inShape, outShape, l.kernel, l.stride, l.padding);
  }
  protected run(x: Float64Array, n: number, y: Float64Array): void {
    avgPool2dForward(this.g, x, n, y);
  }
  protected grad(_x: Float64Array, dy: Float64Array, n: number, dx: Float64Array | null): void {
    if (dx) avgPool2dBackward(this.g, dy, n, dx);
  }
}

class GlobalAvgPoolOp extends LayerOp {
  protected run(x: Float64Array, n: number, y: Float64Array): void {
    globalAvgPoolForward(this.inShape[0]!, this.inShape[1]! * this.inShape[2]!, x, n, y);
  }
  protected grad(_x: Float64Array, dy: Float64Array, n: number, dx: Float64Array | null): void {
    if (dx) globalAvgPoolBackward(this.inShape[0]!, this.inShape[1]! * this.inShape[2]!, dy, n, dx);
  }
}

/** Layers that do not change values (flatten; dropout at inference). */
class IdentityOp extends LayerOp {
  override forward(x: Float64Array): Float64Array {
    return x;
  }
  override backward(dy: Float64Array, _n: number, needDx: boolean): Float64Array | null {
    return needDx ? dy : null;
  }
  protected run(): void {}
  protected grad(): void {}
}

/**
 * The sum of two branches (a residual connection): y = a + b. Network passes both summands (forwardSum) and
 * routes dy to both in backward; as a one-input op it is the identity (a + 0).
 */
export class AddOp extends IdentityOp {
  /** y = a + b for n samples. */
  forwardSum(a: Float64Array, b: Float64Array, n: number): Float64Array {
    this.out = ensure(this.out, n * this.outSize);
    const y = this.out.subarray(0, n * this.outSize);
    for (let i = 0; i < y.length; i++) y[i] = a[i]! + b[i]!;
    return y;
  }
}

/** Inverted dropout: zero with probability `rate`, scale survivors by 1/(1 − rate); identity at inference. */
class DropoutOp extends LayerOp {
  #mask: Float64Array = new Float64Array(0);
  #active = false;
  constructor(
    readonly l: Extract<Layer, { type: 'dropout' }>,
    index: number,
    inShape: Shape,
    outShape: Shape,
  ) {
    super(l, index, inShape, outShape);
  }
  override forward(x: Float64Array, n: number, opts: ForwardOptions): Float64Array {
    this.#active = opts.training === true && this.l.rate > 0;
    if (!this.#active) return x;
    if (!opts.rng) throw new TrainError(`layers[${this.index}] (dropout): training needs a random source`);
    return super.forward(x, n, opts);
  }
  override backward(dy: Float64Array, n: number, needDx: boolean): Float64Array | null {
    if (!this.#active) return needDx ? dy : null;
    return super.backward(dy, n, needDx);
  }
  protected run(x: Float64Array, n: number, y: Float64Array, opts: ForwardOptions): void {
    const size = n * this.inSize;
    this.#mask = ensure(this.#mask, size);
    const keep = 1 - this.l.rate;
    const scale = 1 / keep;
    const rng = opts.rng!;
    for (let i = 0; i < size; i++) {
      const m = rng.next() < keep ? scale : 0;
      this.#mask[i] = m;
      y[i] = x[i]! * m;
    }
  }
  protected grad(_x: Float64Array, dy: Float64Array, n: number, dx: Float64Array | null): void {
    if (!dx) return;
    for (let i = 0; i < n * this.inSize; i++) dx[i] = dy[i]! * this.#mask[i]!;
  }
}

/** Inference-form batch normalisation: per-channel affine map; γ and β are trainable, μ and σ² stay fixed. */
class BatchNormOp extends LayerOp {
  readonly plane: number;
  readonly scale: Float64Array;
  constructor(
    readonly l: Extract<Layer, { type: 'batchnorm' }>,
    index: number,
    inShape: Shape,
    outShape: Shape,
  ) {
    super(l, index, inShape, outShape);
    this.plane = inShape.length === 3 ? inShape[1]! * inShape[2]! : 1;
    this.scale = new Float64Array(l.gamma.length);
    this.params.push(
      { name: `layers[${index}].gamma`, value: l.gamma, grad: new Float64Array(l.gamma.length), decay: false },
      { name: `layers[${index}].beta`, value: l.beta, grad: new Float64Array(l.beta.length), decay: false },
    );
  }
  protected run(x: Float64Array, n: number, y: Float64Array): void {
    const { gamma, beta, mean, variance, eps } = this.l;
    const C = gamma.length;
    for (let c = 0; c < C; c++) this.scale[c] = 1 / Math.sqrt(variance[c]! + eps);
    for (let b = 0; b < n; b++) {
      for (let c = 0; c < C; c++) {
        const o = (b * C + c) * this.plane;
        const s = gamma[c]! * this.scale[c]!;
        const t = beta[c]! - mean[c]! * s;
        for (let i = o; i < o + this.plane; i++) y[i] = x[i]! * s + t;
      }
    }
  }
  protected grad(x: Float64Array, dy: Float64Array, n: number, dx: Float64Array | null): void {
    const { gamma, mean } = this.l;
    const [dg, db] = this.params;
    const C = gamma.length;
    for (let b = 0; b < n; b++) {
      for (let c = 0; c < C; c++) {
        const o = (b * C + c) * this.plane;
        const inv = this.scale[c]!;
        let sg = 0;
        let sb = 0;
        for (let i = o; i < o + this.plane; i++) {
          sb += dy[i]!;
          sg += dy[i]! * (x[i]! - mean[c]!) * inv;
          if (dx) dx[i] = dy[i]! * gamma[c]! * inv;
        }
        dg!.grad[c] = dg!.grad[c]! + sg;
        db!.grad[c] = db!.grad[c]! + sb;
      }
    }
  }
}

/** Project a learnable parameter back into its valid range after an optimiser step. */
function projectParams(act: Activation, values: Float64Array, learnable: readonly number[]): Activation {
  const specs = act.paramSpecs;
  const next: Record<string, number> = { ...act.params };
  learnable.forEach((idx, j) => {
    const spec = specs[idx]!;
    let v = values[j]!;
    if (!Number.isFinite(v)) v = act.values[idx]!;
    if (spec.min !== undefined) v = Math.max(v, spec.exclusiveMin ? spec.min + 1e-6 : spec.min);
    if (spec.max !== undefined) v = Math.min(v, spec.max);
    if (act.name === 'aulu' && Math.abs(v) < 1e-6) v = v < 0 ? -1e-6 : 1e-6;
    if (act.name === 'xielu' && spec.name === 'an') v = Math.max(v, (next.beta ?? 0.5) + 1e-6);
    next[spec.name] = v;
  });
  const projected = makeActivation(act.name, next);
  learnable.forEach((idx, j) => (values[j] = projected.values[idx]!));
  return projected;
}

/** A catalog activation applied element-wise; its learnable parameters are one shared value each per layer. */
class ActivationOp extends LayerOp {
  act: Activation;
  readonly learnable: number[];
  readonly #tmp: Float64Array;
  constructor(
    readonly l: Extract<Layer, { type: 'activation' }>,
    index: number,
    inShape: Shape,
    outShape: Shape,
  ) {
    super(l, index, inShape, outShape);
    this.act = l.activation;
    this.learnable = l.activation.learnableIndices;
    this.#tmp = new Float64Array(l.activation.values.length);
    if (this.learnable.length) {
      const specs = l.activation.paramSpecs;
      for (const idx of this.learnable) {
        this.params.push({
          name: `layers[${index}].activation.${specs[idx]!.name}`,
          value: Float64Array.of(l.activation.values[idx]!),
          grad: new Float64Array(1),
          decay: false,
        });
      }
    }
  }
  protected run(x: Float64Array, n: number, y: Float64Array): void {
    const size = n * this.inSize;
    if (this.act.name === 'relu') {
      for (let i = 0; i < size; i++) y[i] = x[i]! > 0 ? x[i]! : 0;
      return;
    }
    const act = this.act;
    for (let i = 0; i < size; i++) y[i] = act.f(x[i]!);
  }
  protected grad(x: Float64Array, dy: Float64Array, n: number, dx: Float64Array | null): void {
    const size = n * this.inSize;
    const act = this.act;
    if (dx) {
      if (act.name === 'relu') for (let i = 0; i < size; i++) dx[i] = x[i]! > 0 ? dy[i]! : 0;
      else for (let i = 0; i < size; i++) dx[i] = dy[i]! * act.dfdx(x[i]!);
    }
    if (this.learnable.length === 0) return;
    const sums = new Float64Array(this.learnable.length);
    const tmp = this.#tmp;
    for (let i = 0; i < size; i++) {
      const g = dy[i]!;
      if (g === 0) continue;
      act.dfdp(x[i]!, tmp);
      for (let j = 0; j < this.learnable.length; j++) sums[j] = sums[j]! + g * tmp[this.learnable[j]!]!;
    }
    this.learnable.forEach((_, j) => (this.params[j]!.grad[0] = this.params[j]!.grad[0]! + sums[j]!));
  }
  override sync(): void {
    if (this.learnable.length === 0) return;
    const values = Float64Array.from(this.params, (p) => p.value[0]!);
    this.act = projectParams(this.act, values, this.learnable);
    this.params.forEach((p, j) => (p.value[0] = values[j]!));
    this.l.activation = this.act;
  }
}

/** A fitted polynomial stand-in, optionally clamping inputs into its interval; can add a range penalty. */
class PolynomialOp extends LayerOp {
  #penalty = 0;
  #lambda = 0;
  #n = 1;
  constructor(
    readonly l: Extract<Layer, { type: 'polynomial' }>,
    index: number,
    inShape: Shape,
    outShape: Shape,
  ) {
    super(l, index, inShape, outShape);
  }
  protected run(x: Float64Array, n: number, y: Float64Array, opts: ForwardOptions): void {
    const approx = this.l.approximation;
    const [a, b] = approx.interval;
    const size = n * this.inSize;
    const clamp = this.l.clamp;
    this.#lambda = opts.training ? (opts.rangePenalty ?? 0) : 0;
    this.#n = n;
    let pen = 0;
    for (let i = 0; i < size; i++) {
      let v = x[i]!;
      if (v < a || v > b) {
        const d = v < a ? a - v : v - b;
        pen += d * d;
        if (clamp) v = v < a ? a : b;
      }
      y[i] = evalApproximation(approx, v);
    }
    this.#penalty = (this.#lambda * pen) / n;
  }
  protected grad(x: Float64Array, dy: Float64Array, n: number, dx: Float64Array | null): void {
    if (!dx) return;
    const approx = this.l.approximation;
    const [a, b] = approx.interval;
    const clamp = this.l.clamp;
    const k = (2 * this.#lambda) / this.#n;
    for (let i = 0; i < n * this.inSize; i++) {
      const v = x[i]!;
      const outside = v < a || v > b;
      let g = clamp && outside ? 0 : dy[i]! * evalApproximationDerivative(approx, v);
      if (outside && k !== 0) g += k * (v < a ? v - a : v - b);
      dx[i] = g;
    }
  }
  override penalty(): number {
    return this.#penalty;
  }
}

/** Build the executable op for layer `index` whose input has shape `inShape`. */
export function layerOp(layer: Layer, index: number, inShape: Shape, outShape: Shape): LayerOp {
  switch (layer.type) {
    case 'dense':
      return new DenseOp(layer, index, inShape, outShape);
    case 'conv2d':
      return new Conv2dOp(layer, index, inShape, outShape);
    case 'avgpool2d':
      return new AvgPool2dOp(layer, index, inShape, outShape);
    case 'globalavgpool':
      return new GlobalAvgPoolOp(layer, index, inShape, outShape);
    case 'flatten':
      return new IdentityOp(layer, index, inShape, outShape);
    case 'dropout':
      return new DropoutOp(layer, index, inShape, outShape);
    case 'batchnorm':
      return new BatchNormOp(layer, index, inShape, outShape);
    case 'activation':
      return new ActivationOp(layer, index, inShape, outShape);
    case 'polynomial':
      return new PolynomialOp(layer, index, inShape, outShape);
    case 'add':
      return new AddOp(layer, index, inShape, outShape);
  }
}
