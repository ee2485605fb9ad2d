/**
 * Throughput packing (CryptoNets, Gilad-Bachrach et al., ICML 2016): one ciphertext per input value, slot b holding
 * input b of a batch of up to N/2 inputs. Linear layers become constant multiply–accumulate over ciphertexts (no
 * rotations, so no Galois keys at all); activations run on every feature ciphertext.
 *
 * The schedule streams *affine → activation → affine*: each output of the first map is computed, activated and
 * immediately accumulated into the second map's outputs, so only the inputs and the second map's accumulators
 * are alive at once (layer by layer, the activations of a 2880-feature layer alone would hold gigabytes).
 */
import type { CircuitBuilder, CircuitStage } from '../circuit/index.js';
import type { AffineMap } from './affine.js';
import { CompileError } from './errors.js';
import type { NetBlock } from './fold.js';
import { type CircuitActivation, emitActivation } from './poly-eval.js';

/** Column lists of a CSR map: for input j, the (row, weight) pairs. */
function columns(map: AffineMap): { row: number; w: number }[][] {
  const cols: { row: number; w: number }[][] = Array.from({ length: map.inDim }, () => []);
  for (let i = 0; i < map.outDim; i++)
    for (let e = map.rowPtr[i]!; e < map.rowPtr[i + 1]!; e++) cols[map.colIdx[e]!]!.push({ row: i, w: map.values[e]! });
  return cols;
}

/** y_i = Σ_j A_ij·x_j + b_i for every output, each landing one level down on the canonical scale. */
function emitAffine(b: CircuitBuilder, map: AffineMap, values: readonly number[]): number[] {
  const level = b.level[values[0]!]!;
  return Array.from({ length: map.outDim }, (_, i) => {
    const terms: { v: number; c: number }[] = [];
    for (let e = map.rowPtr[i]!; e < map.rowPtr[i + 1]!; e++) terms.push({ v: values[map.colIdx[e]!]!, c: map.values[e]! });
    if (terms.length === 0) terms.push({ v: values[0]!, c: 0 });
    return b.linearCombination(terms, map.bias[i]!, level - 1, b.canonical(level - 1));
  });
}

/**
 * Emit the whole network in throughput packing. `maps[i]` is block i's (normalised) map, `acts.get(i)` block i's
 * circuit activation. Returns the output registers, the stages (fused groups) and the blocks each stage covers.
 */
export function emitThroughputNetwork(
  b: CircuitBuilder,
  blocks: readonly NetBlock[],
  maps: readonly (AffineMap | null)[],
  acts: ReadonlyMap<number, CircuitActivation>,
  inputs: readonly number[],
): { outputs: number[]; stages: CircuitStage[]; spans: [number, number][] } {
  let values = [...inputs];
  const stages: CircuitStage[] = [];
  const spans: [number, number][] = [];
  let i = 0;
  while (i < blocks.length) {
    const firstBlock = i;
    const first = b.ops.length;
    const levelIn = b.level[values[0]!]!;
    const names: string[] = [];
    const blk = blocks[i]!;
    const next = blocks[i + 1];
    const after = blocks[i + 2];
    if (blk.kind === 'affine' && next?.kind === 'activation' && after?.kind === 'affine') {
      const A = maps[i]!;
      const A2 = maps[i + 2]!;
      const act = acts.get(i + 1)!;
      const cols = columns(A2);
      const acc = new Array<number | null>(A2.outDim).fill(null);
      const level = b.level[values[0]!]!;
      let aLevel = -1;
      let ptScale = 0;
      let anyA = -1;
      for (let j = 0; j < A.outDim; j++) {
        const terms: { v: number; c: number }[] = [];
        for (let e = A.rowPtr[j]!; e < A.rowPtr[j + 1]!; e++) terms.push({ v: values[A.colIdx[e]!]!, c: A.values[e]! });
        if (terms.length === 0) terms.push({ v: values[0]!, c: 0 });
        const z = b.linearCombination(terms, A.bias[j]!, level - 1, b.canonical(level - 1));
        const a = emitActivation(b, z, act);
        if (aLevel < 0) {
          aLevel = b.level[a]!;
          if (aLevel < 1) throw new CompileError('throughput: no level left for the layer after an activation');
          ptScale = (b.canonical(aLevel - 1) * b.prime(aLevel)) / b.scales[a]!;
        }
        anyA = a;
        for (const { row, w } of cols[j]!) {
          const prod = b.mulPlain(a, b.constant(w, aLevel, ptScale));
          acc[row] = acc[row] === null ? prod : b.add(acc[row]!, prod);
        }
      }
      values = acc.map((reg, r) => {
        const sum = reg ?? b.mulPlain(anyA, b.constant(0, aLevel, ptScale));
        const biased = A2.bias[r] !== 0 ? b.addPlain(sum, b.constant(A2.bias[r]!, aLevel, b.scales[sum]!)) : sum;
        return b.alignScale(b.rescale(biased), b.canonical(aLevel - 1));
      });
      names.push(blk.name, next.name, after.name);
      i += 3;
    } else if (blk.kind === 'affine') {
      values = emitAffine(b, maps[i]!, values);
      names.push(blk.name);
      i += 1;
    } else {
      const act = acts.get(i)!;
      values = values.map((v) => emitActivation(b, v, act));
      names.push(blk.name);
      i += 1;
    }
    spans.push([firstBlock, i - 1]);
    stages.push({
      name: names.join('+'),
      kind: names.length > 1 ? 'linear' : blk.kind === 'affine' ? 'linear' : 'activation',
      ops: [first, b.ops.length],
      levelIn,
      levelOut: b.level[values[0]!]!,
      detail: { packing: 'throughput (one ciphertext per value, slot = input)', streamed: names.length > 1, outputs: values.length },
    });
  }
  return { outputs: values, stages, spans };
}
