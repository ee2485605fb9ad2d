/**
 * An ONNX graph as pann reads it: which node produces and which nodes consume each tensor, the constant tensors
 * (initializers, Constant nodes, Identity of a constant), and the small integer "shape computations" PyTorch writes
 * for `x.view(x.size(0), -1)` (Shape → Gather → Unsqueeze → Concat → Reshape), evaluated with the batch
 * dimension kept symbolic.
 */
import { OnnxError } from '../../errors.js';
import {
  attrFloat,
  attrInt,
  attrInts,
  attrTensor,
  decodeTensor,
  hasAttr,
  nodeLabel,
  type GraphProto,
  type NodeProto,
  type OnnxTensor,
  type TensorProto,
} from './proto.js';

/** The batch dimension in a shape computation: unknown until run time, kept as a symbol. */
export const BATCH = 'batch';
export type SymInt = number | typeof BATCH;

/** An integer tensor from a shape computation (rank 0 or 1 in practice). */
export interface SymTensor {
  dims: number[];
  values: SymInt[];
}

export class OnnxGraph {
  readonly nodes: NodeProto[];
  /** Tensor name → index of the node that produces it. */
  readonly producer = new Map<string, number>();
  /** Tensor name → indices of the nodes that read it (once per input slot). */
  readonly consumers = new Map<string, number[]>();
  /** Nodes accounted for: on the chain, or evaluated as constants. */
  readonly visited = new Set<number>();
  /** ONNX shape (batch dimension dropped) of each tensor on the chain, for Shape nodes. */
  readonly chainShapes = new Map<string, number[]>();
  readonly initializers = new Map<string, TensorProto>();
  readonly #tensors = new Map<string, OnnxTensor>();
  readonly #symbolic = new Map<string, SymTensor>();

  constructor(
    graph: GraphProto,
    readonly opset: number,
  ) {
    this.nodes = graph.node ?? [];
    for (const init of graph.initializer ?? []) this.initializers.set(init.name ?? '', init);
    this.nodes.forEach((node, i) => {
      for (const out of node.output ?? []) {
        if (!out) continue;
        if (this.producer.has(out) || this.initializers.has(out)) {
          throw new OnnxError(`${this.label(i)}: tensor ${JSON.stringify(out)} is produced twice`);
        }
        this.producer.set(out, i);
      }
      for (const input of node.input ?? []) {
        if (!input) continue;
        const list = this.consumers.get(input) ?? [];
        list.push(i);
        this.consumers.set(input, list);
      }
    });
  }

  label(index: number): string {
    return nodeLabel(this.nodes[index]!, index);
  }

  /** Whether a tensor is known before any input arrives: an initializer or computed from constants and shapes. */
  isStatic(name: string, seen = new Set<string>()): boolean {
    if (this.initializers.has(name)) return true;
    const p = this.producer.get(name);
    if (p === undefined || seen.has(name)) return false;
    seen.add(name);
    const node = this.nodes[p]!;
    const op = node.opType ?? '';
    if (op === 'Constant') return true;
    if (op === 'Shape') return true;
    if (op !== 'Identity' && !SHAPE_OPS.has(op)) return false;
    return (node.input ?? []).every((x) => x === '' || this.isStatic(x, seen));
  }

  /** A constant tensor (initializer, Constant node, Identity or Cast of a constant, or a shape computation). */
  constant(name: string, where: string): OnnxTensor {
    const cached = this.#tensors.get(name);
    if (cached) return cached;
    const init = this.initializers.get(name);
    let t: OnnxTensor;
    if (init) {
      t = decodeTensor(init, `initializer ${JSON.stringify(name)}`);
    } else {
      const p = this.producer.get(name);
      if (p === undefined)
        throw new OnnxError(`${where}: input ${JSON.stringify(name)} is neither a graph initializer nor produced by a node`);
      const node = this.nodes[p]!;
      if (node.opType === 'Constant') {
        t = this.#constantNode(node, p);
      } else if (node.opType === 'Identity') {
        t = { ...this.constant(node.input?.[0] ?? '', this.label(p)), name };
      } else if (this.isStatic(name)) {
        const s = this.symbolic(name, where);
        if (s.values.includes(BATCH)) {
          throw new OnnxError(`${where}: input ${JSON.stringify(name)} depends on the batch size; pann needs a constant here`);
        }
        t = { name, dims: s.dims, kind: 'int', values: Float64Array.from(s.values as number[]) };
      } else {
        throw new OnnxError(`${where}: input ${JSON.stringify(name)} (from ${this.label(p)}) is not a constant`);
      }
      this.visited.add(p);
    }
    this.#tensors.set(name, t);
    return t;
  }

  #constantNode(node: NodeProto, index: number): OnnxTensor {
    const where = this.label(index);
    const name = node.output?.[0] ?? '';
    const t = attrTensor(node, 'value');
    if (t) return { ...decodeTensor(t, `${where} value`), name };
    if (hasAttr(node, 'value_float')) {
      return { name, dims: [], kind: 'float32', values: Float64Array.of(attrFloat(where, node, 'value_float', 0)) };
    }
    if (hasAttr(node, 'value_int')) return { name, dims: [], kind: 'int', values: Float64Array.of(attrInt(where, node, 'value_int', 0)) };
    const ints = attrInts(where, node, 'value_ints');
    if (ints) return { name, dims: [ints.length], kind: 'int', values: Float64Array.from(ints) };
    const floats = node.attribute?.find((a) => a.name === 'value_floats')?.floats;
    if (floats) return { name, dims: [floats.length], kind: 'float32', values: Float64Array.from(floats) };
    const kinds = (node.attribute ?? []).map((a) => a.name).join(', ') || 'none';
    throw new OnnxError(`${where}: a Constant pann cannot read (attributes: ${kinds}); it reads value, value_float(s) and value_int(s)`);
  }

  /** Integer values of a constant or shape computation, the batch dimension as BATCH. */
  ints(name: string, where: string): SymInt[] {
    return this.symbolic(name, where).values;
  }

  /** Evaluate a shape computation (memoised); marks the nodes it reads as visited. */
  symbolic(name: string, where: string): SymTensor {
    const cached = this.#symbolic.get(name);
    if (cached) return cached;
    const p = this.producer.get(name);
    let s: SymTensor;
    if (this.initializers.has(name) || p === undefined || this.nodes[p]!.opType === 'Constant' || this.nodes[p]!.opType === 'Identity') {
      const t = this.constant(name, where);
      s = { dims: t.dims, values: Array.from(t.values) };
    } else {
      s = this.#evaluate(p);
      this.visited.add(p);
    }
    this.#symbolic.set(name, s);
    return s;
  }

  #evaluate(index: number): SymTensor {
    const node = this.nodes[index]!;
    const where = this.label(index);
    const op = node.opType ?? '';
    const inputs = node.input ?? [];
    const arg = (i: number): SymTensor => {
      const name = inputs[i];
      if (!name) throw new OnnxError(`${where}: input ${i} is missing`);
      if (!this.isStatic(name)) throw new OnnxError(`${where}: input ${JSON.stringify(name)} is not a constant or a shape`);
      return this.symbolic(name, where);
    };
    const optionalInts = (i: number): number[] | undefined => (inputs[i] ? numbers(where, arg(i).values) : undefined);
    const evaluate = SHAPE_EVALUATORS.get(op);
    if (!evaluate) throw new OnnxError(`${where}: pann cannot evaluate ${op} as a constant`);
    return evaluate({ node, where, op, inputs, opset: this.opset, chainShapes: this.chainShapes, arg, optionalInts });
  }
}

/** A shape-computation node being evaluated, its operands read on demand. */
interface ShapeNode {
  node: NodeProto;
  /** The node's label, for messages. */
  where: string;
  op: string;
  inputs: string[];
  opset: number;
  chainShapes: ReadonlyMap<string, number[]>;
  /** Operand i: a constant or a shape computation (it must be one). */
  arg(i: number): SymTensor;
  /** Operand i as numbers, or undefined when the input is absent. */
  optionalInts(i: number): number[] | undefined;
}

/** Shape(x) of a tensor on the chain: the batch symbol, then its dimensions, sliced by start and end. */
function evaluateShape(n: ShapeNode): SymTensor {
  const { where, node, inputs } = n;
  const shape = n.chainShapes.get(inputs[0] ?? '');
  if (!shape)
    throw new OnnxError(`${where}: reads the shape of ${JSON.stringify(inputs[0])}, which is not on the chain from the graph input`);
  const full: SymInt[] = [BATCH, ...shape];
  const start = sliceIndex(attrInt(where, node, 'start', 0), full.length);
  const end = sliceIndex(attrInt(where, node, 'end', full.length), full.length);
  const values = full.slice(start, Math.max(start, end));
  return { dims: [values.length], values };
}

/** Gather of a 1-D shape along axis 0. */
function evaluateGather(n: ShapeNode): SymTensor {
  const { where } = n;
  const data = n.arg(0);
  const idx = numbers(where, n.arg(1).values);
  const axis = attrInt(where, n.node, 'axis', 0);
  if (data.dims.length !== 1 || (axis !== 0 && axis !== -1)) {
    throw new OnnxError(`${where}: pann evaluates Gather on a 1-D shape along axis 0 only`);
  }
  const values = idx.map((i) => {
    const j = i < 0 ? i + data.values.length : i;
    if (!(j >= 0 && j < data.values.length)) throw new OnnxError(`${where}: index ${i} is out of range for ${data.values.length} values`);
    return data.values[j]!;
  });
  return { dims: n.arg(1).dims, values };
}

/** The axes of Squeeze / Unsqueeze: an input from opset 13, an attribute before. */
function squeezeAxes(n: ShapeNode): number[] {
  return (n.opset >= 13 ? n.optionalInts(1) : attrInts(n.where, n.node, 'axes')) ?? [];
}

function evaluateUnsqueeze(n: ShapeNode): SymTensor {
  const data = n.arg(0);
  const axes = squeezeAxes(n);
  const rank = data.dims.length + axes.length;
  const dims = [...data.dims];
  for (const a of axes.map((x) => (x < 0 ? x + rank : x)).sort((x, y) => x - y)) dims.splice(a, 0, 1);
  return { dims, values: data.values };
}

/** Squeeze the given axes, or every dimension of size 1 when none is given. */
function evaluateSqueeze(n: ShapeNode): SymTensor {
  const data = n.arg(0);
  const axes = squeezeAxes(n);
  const drop = new Set(axes.map((x) => (x < 0 ? x + data.dims.length : x)));
  return { dims: data.dims.filter((d, i) => (drop.size ? !drop.has(i) : d !== 1)), values: data.values };
}

/** Concat of 1-D shapes. */
function evaluateConcat(n: ShapeNode): SymTensor {
  const parts = n.inputs.map((_, i) => n.arg(i));
  if (parts.some((t) => t.dims.length !== 1)) throw new OnnxError(`${n.where}: pann evaluates Concat of 1-D shapes only`);
  const values = parts.flatMap((t) => t.values);
  return { dims: [values.length], values };
}

/** Slice of a 1-D shape along axis 0 with step 1 (starts, ends, axes, steps as inputs from opset 10, attributes before). */
function evaluateSlice(n: ShapeNode): SymTensor {
  const { where, node } = n;
  const data = n.arg(0);
  if (data.dims.length !== 1) throw new OnnxError(`${where}: pann evaluates Slice of a 1-D shape only`);
  const starts = n.opset >= 10 ? n.optionalInts(1) : attrInts(where, node, 'starts');
  const ends = n.opset >= 10 ? n.optionalInts(2) : attrInts(where, node, 'ends');
  const axes = (n.opset >= 10 ? n.optionalInts(3) : attrInts(where, node, 'axes')) ?? [0];
  const steps = (n.opset >= 10 ? n.optionalInts(4) : undefined) ?? [1];
  if (!starts || !ends || starts.length !== 1 || axes.length !== 1 || (axes[0] !== 0 && axes[0] !== -1) || steps[0] !== 1) {
    throw new OnnxError(`${where}: pann evaluates a Slice along axis 0 with step 1 only`);
  }
  const len = data.values.length;
  const values = data.values.slice(sliceIndex(starts[0]!, len), Math.max(sliceIndex(starts[0]!, len), sliceIndex(ends[0]!, len)));
  return { dims: [values.length], values };
}

/** Mul, Div (truncating, as on int64) or Sub of numbers, with scalar broadcasting. */
function evaluateArithmetic(n: ShapeNode): SymTensor {
  const { where, op } = n;
  const a = n.arg(0);
  const b = n.arg(1);
  const x = numbers(where, a.values, 'arithmetic on the batch dimension');
  const y = numbers(where, b.values, 'arithmetic on the batch dimension');
  if (x.length !== y.length && x.length !== 1 && y.length !== 1) throw new OnnxError(`${where}: operands do not broadcast`);
  const len = Math.max(x.length, y.length);
  const values = Array.from({ length: len }, (_, i) => {
    const u = x[x.length === 1 ? 0 : i]!;
    const v = y[y.length === 1 ? 0 : i]!;
    return op === 'Mul' ? u * v : op === 'Sub' ? u - v : Math.trunc(u / v);
  });
  return { dims: a.dims.length >= b.dims.length ? a.dims : b.dims, values };
}

/** How each shape op is evaluated. */
const SHAPE_EVALUATORS: ReadonlyMap<string, (n: ShapeNode) => SymTensor> = new Map([
  ['Shape', evaluateShape],
  ['Gather', evaluateGather],
  ['Unsqueeze', evaluateUnsqueeze],
  ['Squeeze', evaluateSqueeze],
  ['Concat', evaluateConcat],
  ['Slice', evaluateSlice],
  ['Cast', (n: ShapeNode) => n.arg(0)],
  ['Mul', evaluateArithmetic],
  ['Div', evaluateArithmetic],
  ['Sub', evaluateArithmetic],
]);

/** Ops pann evaluates when they compute a shape from constants and Shape(x) (never on the data path). */
export const SHAPE_OPS: ReadonlySet<string> = new Set(SHAPE_EVALUATORS.keys());

function numbers(where: string, values: SymInt[], what = 'the batch dimension where a number is needed'): number[] {
  if (values.includes(BATCH)) throw new OnnxError(`${where}: ${what} is not supported`);
  return values as number[];
}

/** Python-style slice bound: negative counts from the end, clamped to [0, n]. */
function sliceIndex(i: number, n: number): number {
  return Math.min(n, Math.max(0, i < 0 ? i + n : i));
}
