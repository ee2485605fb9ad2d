/**
 * Report pass: everything the compiler decided and predicts, for `pann compile` and the circuit file — depth per
 * block, parameters, op counts, rotation keys, activations, predicted sizes and latency (the op-cost model of
 * src/ckks/params), calibration, and notes where the user should look twice.
 */
import { type OpCostFn, type ScaledParameters, predictSizes } from '../ckks/params/index.js';
import { type CircuitBuilder, type CircuitMode, type CompileReport, countOps, predictOpsMs } from '../circuit/index.js';
import type { RangeRule } from './calibrate.js';
import type { NormalisedNetwork } from './normalise.js';
import type { PackedNetwork } from './pack.js';
import type { PolynomialActivation } from './polynomialise.js';
import type { RefreshPlan } from './refresh-points.js';

export interface ReportInput {
  modelName: string;
  mode: CircuitMode;
  params: ScaledParameters;
  network: NormalisedNetwork;
  planned: readonly PolynomialActivation[];
  builder: CircuitBuilder;
  packed: PackedNetwork;
  rotationSteps: number[];
  registerLevel: Int32Array;
  inputSize: number;
  opCost: OpCostFn;
  calibration: { count: number; label: string };
  range: RangeRule;
  /** Notes so far (the parameter choice's); the report adds its own after them. */
  notes: string[];
  /** The refresh rounds placed (refresh-points.ts) and the depth of each segment between them. */
  refresh: { plan: RefreshPlan; segmentDepths: number[] };
}

/** The compile report (the noise estimate, when one is made, is added later). */
export function compileReport(r: ReportInput): CompileReport {
  const { params, packed, builder, opCost, mode } = r;
  const N = params.polyModulusDegree;
  const ops = builder.ops;
  const outputLevel = builder.level[packed.outputs[0]!]!;
  const perStageMs = packed.stages.map((s) => ({ name: s.name, ms: predictOpsMs(ops, r.registerLevel, N, opCost, s.ops[0], s.ops[1]) }));
  const encryptMs =
    (opCost('encryptSymmetric', N, builder.maxLevel) + opCost('encode', N, builder.maxLevel)) * (mode === 'throughput' ? r.inputSize : 1);
  const decryptMs = opCost('decrypt', N, outputLevel) * packed.outputs.length;
  const notes = [...r.notes, ...outsideRangeNotes(r.planned)];
  return {
    model: r.modelName,
    mode,
    batchSize: mode === 'throughput' ? params.slotCount : 1,
    depth: r.network.depth,
    depthPerStage: r.network.blocks.map((b, i) => ({ name: b.name, depth: r.network.depthPerStage[i]! })),
    ringDimension: N,
    coeffModulusBits: [...params.coeffModulusBits],
    totalModulusBits: params.totalBits,
    maxModulusBits: params.maxTotalBits,
    scaleBits: params.scaleBits,
    slots: params.slotCount,
    opCounts: countOps(ops),
    opCountsPerStage: packed.stages.map((s) => ({ name: s.name, ...countOps(ops, s.ops[0], s.ops[1]) })),
    rotationSteps: r.rotationSteps,
    activations: r.planned.map((p) => ({ ...p.report, depth: r.network.activations.get(p.block)!.depth })),
    predicted: {
      ...predictedSizes(params, r.rotationSteps, outputLevel),
      latencyMs: encryptMs + decryptMs + perStageMs.reduce((s, p) => s + p.ms, 0),
      latencyMsPerStage: [{ name: 'encode+encrypt', ms: encryptMs }, ...perStageMs, { name: 'decrypt+decode', ms: decryptMs }],
    },
    calibration: {
      count: r.calibration.count,
      split: r.calibration.label,
      marginRule: `${r.range.rule ?? 'max'} × ${r.range.margin ?? 1.1}${r.range.rule === 'percentile' ? ` (p${r.range.percentile ?? 99.9})` : ''}`,
    },
    notes,
    ...refreshReport(r.refresh.plan, r.refresh.segmentDepths),
  };
}

/** The report's refresh section, for circuits with rounds. */
function refreshReport(plan: RefreshPlan, segmentDepths: number[]): Pick<CompileReport, 'refresh'> {
  if (plan.layers.length === 0) return {};
  return { refresh: { rounds: plan.layers.length, beforeLayers: plan.layers, maskBits: plan.maskBits, segmentDepths } };
}

/** What a client and the server exchange: ciphertexts in and out, seeded evaluation keys. */
function predictedSizes(params: ScaledParameters, rotationSteps: readonly number[], outputLevel: number) {
  const sz = predictSizes(params, rotationSteps);
  return {
    ciphertextBytes: sz.ciphertext[sz.ciphertext.length - 1]!,
    seededCiphertextBytes: sz.seededCiphertext,
    outputCiphertextBytes: sz.ciphertext[outputLevel]!,
    relinKeyBytes: sz.seededRelinKeys,
    galoisKeyBytes: sz.seededGaloisKeys ?? 0,
    evaluationKeyUploadBytes: sz.evaluationKeyUpload,
  };
}

function outsideRangeNotes(planned: readonly PolynomialActivation[]): string[] {
  return planned
    .filter((p) => p.report.outsideFraction > 0)
    .map(
      (p) =>
        `layers[${p.report.layer}]: ${(100 * p.report.outsideFraction).toFixed(3)}% of calibration inputs fall outside [-B, B] (B=${p.report.B.toPrecision(4)}): the polynomial is not accurate there`,
    );
}
