/**
 * Each compiler pass on its own, with its typed input and output, over a table of networks × precisions × modes:
 * fold, calibrate, polynomialise, normalise, select parameters, schedule, pack, keys, report, verify.
 */
import { describe, expect, it } from 'vitest';
import { LayerPrecision } from '../../src/approx/precision.js';
import { MAX_COEFF_MODULUS_BITS_128, measuredOpCost } from '../../src/ckks/params/index.js';
import { CircuitBuilder, countOps, verifyCircuit, type Circuit } from '../../src/circuit/index.js';
import { applyAffine } from '../../src/compiler/affine.js';
import { calibrateRanges } from '../../src/compiler/calibrate.js';
import { compileNetwork } from '../../src/compiler/compile.js';
import { CompileError } from '../../src/errors.js';
import { foldModel } from '../../src/compiler/fold.js';
import { selectRotationKeys } from '../../src/compiler/keys.js';
import { normaliseNetwork } from '../../src/compiler/normalise.js';
import { packNetwork } from '../../src/compiler/pack.js';
import { evalCircuitActivation } from '../../src/compiler/poly-eval.js';
import { polynomialiseActivations } from '../../src/compiler/polynomialise.js';
import { checkSchedule, scheduleLevels } from '../../src/compiler/schedule.js';
import { chooseParameters, minimumScaleBits } from '../../src/compiler/select-params.js';
import type { Model } from '../../src/nn/model.js';
import { inputs, provider, tinyModel } from './fixtures.js';

const cases: { name: string; model: Model; k: number | number[]; mode: 'latency' | 'throughput' }[] = [
  { name: 'relu/gelu k=4 latency', model: tinyModel('relu', 'gelu'), k: 4, mode: 'latency' },
  { name: 'relu/gelu k=8 latency', model: tinyModel('relu', 'gelu'), k: 8, mode: 'latency' },
  { name: 'silu/relu k=[3, 7] latency', model: tinyModel('silu', 'relu', 9), k: [3, 7], mode: 'latency' },
  { name: 'relu/gelu k=5 throughput', model: tinyModel('relu', 'gelu'), k: 5, mode: 'throughput' },
  { name: 'ulu/relu k=6 throughput', model: tinyModel('ulu', 'relu', 3), k: 6, mode: 'throughput' },
];

const count = 40;
const cal = inputs(count, 7);

describe.each(cases)('compiler passes: $name', ({ model, k, mode }) => {
  const inputSize = 64;
  const blocks = foldModel(model);
  const layers = blocks.filter((b) => b.kind === 'activation').length;
  const precision = LayerPrecision.of(k, layers, (m) => new CompileError(m));
  const calibrated = calibrateRanges(blocks, cal, count, inputSize, { rule: 'max', margin: 1.1 });
  const planned = polynomialiseActivations(blocks, calibrated, {
    precision,
    method: 'auto',
    provider,
    calibration: { inputs: cal, count },
  });
  const network = normaliseNetwork(blocks, planned);
  const { params, note } = chooseParameters(network, { precision, outputAbsMax: calibrated.outputAbsMax, inputSize, mode });
  const schedule = scheduleLevels(network.depthPerStage, params.maxLevel);
  const builder = new CircuitBuilder(params);
  const packed = packNetwork(builder, network, planned, { mode, inputSize, opCost: measuredOpCost, packing: 'auto' });

  it('fold: alternating affine and activation blocks, starting and ending affine', () => {
    expect(blocks.map((b) => b.kind)).toEqual(['affine', 'activation', 'affine', 'activation', 'affine']);
  });

  it('calibrate: with the max rule every input is inside [-B, B] and B = 1.1 × max |x|', () => {
    for (const r of calibrated.ranges) {
      expect(r.outsideFraction).toBe(0);
      expect(r.B).toBeCloseTo(1.1 * r.absMax, 12);
    }
  });

  it('polynomialise: a polynomial per activation layer on its [-B, B], reporting its precision', () => {
    expect(planned.map((p) => p.report.precisionBits)).toEqual([...precision.bits]);
    for (const p of planned) {
      expect(p.approximation.interval).toEqual([-p.report.B, p.report.B]);
      expect(p.report.outsideFraction).toBe(0);
    }
  });

  it('normalise: the normalised network computes the polynomial network; depth is the sum over blocks', () => {
    expect(network.depth).toBe(network.depthPerStage.reduce((a, b) => a + b, 0));
    network.blocks.forEach((b, i) => b.kind === 'affine' && expect(network.depthPerStage[i]).toBe(1));
    for (let n = 0; n < 5; n++) {
      const x = cal.subarray(n * inputSize, (n + 1) * inputSize);
      let polyOut: Float64Array = Float64Array.from(x);
      let normOut: Float64Array = Float64Array.from(x);
      blocks.forEach((b, i) => {
        if (b.kind === 'affine') {
          polyOut = applyAffine(b.map, polyOut);
          normOut = applyAffine(network.maps[i]!, normOut);
        } else {
          const p = planned.find((q) => q.block === i)!;
          const act = network.activations.get(i)!;
          polyOut = polyOut.map((v) => polyValue(p.approximation, v));
          normOut = normOut.map((t) => evalCircuitActivation(act, t));
        }
      });
      for (let j = 0; j < polyOut.length; j++) expect(normOut[j]).toBeCloseTo(polyOut[j]!, 8);
    }
  });

  it('select parameters: within the 128-bit bound, depth levels at a scale no smaller than the precision needs', () => {
    expect(params.totalBits).toBeLessThanOrEqual(MAX_COEFF_MODULUS_BITS_128[params.polyModulusDegree]!);
    expect(params.maxLevel).toBe(network.depth);
    expect(params.scaleBits).toBeGreaterThanOrEqual(minimumScaleBits(precision.max()));
    expect(params.coeffModulusBits.slice(1, -1).every((b) => b === params.scaleBits)).toBe(true);
    if (mode === 'latency') expect(params.slotCount).toBeGreaterThanOrEqual(inputSize);
    expect(note).toMatch(
      new RegExp(`^scale 2\\^${params.scaleBits}: the largest N=${params.polyModulusDegree} holds at depth ${network.depth}`),
    );
  });

  it('schedule and pack: every stage lands on its scheduled levels, the last at level 0', () => {
    expect(schedule[0]!.levelIn).toBe(params.maxLevel);
    expect(schedule.at(-1)!.levelOut).toBe(0);
    expect(() => checkSchedule(schedule, packed.stages, packed.spans)).not.toThrow();
    if (mode === 'throughput') {
      expect(packed.inputLayout.length).toBe(inputSize);
      expect(packed.outputs.length).toBe(3);
    } else expect(packed.outputs.length).toBe(1);
    for (const r of packed.outputs) expect(builder.level[r]).toBe(0);
  });

  it('keys: exactly the rotation steps the ops use, ascending (none in throughput mode)', () => {
    const used = [...new Set(builder.ops.flatMap((op) => (op.op === 'rotate' ? [op.steps] : [])))].sort((a, b) => a - b);
    expect(selectRotationKeys(builder)).toEqual(used);
    if (mode === 'throughput') expect(used).toEqual([]);
  });

  it('report and verify: the whole compile gives the same circuit; op counts add up; the replay check passes', () => {
    const circuit: Circuit = compileNetwork(model, {
      precisionBits: k,
      calibration: { inputs: cal, count, label: 'test' },
      provider,
      mode,
      range: { rule: 'max', margin: 1.1 },
      refresh: { maxRounds: 0 }, // the passes above build one chain
    });
    expect(circuit.ops).toEqual(builder.ops);
    expect(circuit.params.coeffModulusBits).toEqual(params.coeffModulusBits);
    const r = circuit.report;
    expect(r.depth).toBe(network.depth);
    const perStage = r.opCountsPerStage.reduce((a, s) => a + s.ctMultiplications + s.plainMultiplications + s.rotations, 0);
    expect(perStage).toBe(r.opCounts.ctMultiplications + r.opCounts.plainMultiplications + r.opCounts.rotations);
    expect(countOps(circuit.ops)).toEqual(r.opCounts);
    const stageMs = r.predicted.latencyMsPerStage.reduce((a, s) => a + s.ms, 0);
    const split = r.predicted.split!;
    // the client's encrypt and decrypt and the server's stages, then the link (every ciphertext at 100 Mbit/s)
    expect(stageMs).toBeCloseTo(split.serverMs + split.clientMs, 9);
    expect(split.serverMs + split.clientMs + split.linkMs).toBeCloseTo(r.predicted.latencyMs, 9);
    const ciphertexts = (mode === 'throughput' ? 64 : 1) * r.predicted.seededCiphertextBytes;
    expect(split.bytesUp).toBe(ciphertexts);
    expect(split.linkMs).toBeCloseTo(((split.bytesUp + split.bytesDown) * 8) / 1e5, 9);
    expect(() => verifyCircuit(circuit)).not.toThrow();
  });
});

describe('schedule', () => {
  it('refuses a network deeper than the chain', () => {
    expect(() => scheduleLevels([1, 3, 1], 4)).toThrow(/depth 5 does not fit the 4 levels/);
  });
});

function polyValue(a: import('../../src/approx/polynomial.js').PolynomialApproximation, x: number): number {
  // one-stage fits from the fixture provider: Clenshaw on the stage's interval
  const s = a.stages[0]!;
  const [lo, hi] = s.interval;
  const t = (2 * x - lo - hi) / (hi - lo);
  const c = s.coefficients;
  let b1 = 0;
  let b2 = 0;
  for (let j = c.length - 1; j >= 1; j--) {
    const b0 = 2 * t * b1 - b2 + c[j]!;
    b2 = b1;
    b1 = b0;
  }
  return t * b1 - b2 + c[0]!;
}
