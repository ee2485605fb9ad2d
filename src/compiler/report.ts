/**
 * Report pass: everything the compiler decided and predicts, for `pann compile` and the circuit file — depth per
 * block, parameters, op counts, rotation keys, activations, predicted sizes and latency (the op-cost model of
 * src/ckks/params), calibration, and notes where the user should look twice.
 */
import { type OpCostFn, type ScaledParameters, predictSizes } from '../ckks/params/index.js';
import {
  type CircuitBuilder,
  type CircuitMode,
  type CompileReport,
  countOps,
  predictOpsMs,
  refreshClientMs,
  refreshRounds,
} from '../circuit/index.js';
import type { RangeRule } from './calibrate.js';
import type { NormalisedNetwork } from './normalise.js';
import type { PackedNetwork } from './pack.js';
import type { PolynomialActivation } from './polynomialise.js';
import { describeLink, type LinkModel, pointLabel, type RefreshPlan } from './refresh-points.js';

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
  /** The link transfers are priced at. */
  link: LinkModel;
}

/** The compile report (the noise estimate, when one is made, is added later). */
export function compileReport(r: ReportInput): CompileReport {
  const { params, packed, builder, opCost, mode } = r;
  const N = params.polyModulusDegree;
  const ops = builder.ops;
  const outputLevel = builder.level[packed.outputs[0]!]!;
  const perStageMs = packed.stages.map((s) => ({ name: s.name, ms: predictOpsMs(ops, r.registerLevel, N, opCost, s.ops[0], s.ops[1]) }));
  const inputs = mode === 'throughput' ? r.inputSize : 1;
  const encryptMs = (opCost('encryptSymmetric', N, builder.maxLevel) + opCost('encode', N, builder.maxLevel)) * inputs;
  const decryptMs = opCost('decrypt', N, outputLevel) * packed.outputs.length;
  const sizes = predictedSizes(params, r.rotationSteps, outputLevel);
  const rounds = roundsReport(r, sizes.ciphertextBytesAt, sizes.exchanged.seededCiphertextBytes);
  const serverMs = perStageMs.reduce((s, p) => s + p.ms, 0);
  const clientMs = encryptMs + decryptMs + rounds.reduce((s, q) => s + q.clientMs, 0);
  const bytesUp = sizes.exchanged.seededCiphertextBytes * inputs + rounds.reduce((s, q) => s + q.freshBytes, 0);
  const bytesDown = sizes.exchanged.outputCiphertextBytes * packed.outputs.length + rounds.reduce((s, q) => s + q.maskedBytes, 0);
  const linkMs = transferMs(r.link, bytesUp + bytesDown, 1 + rounds.length);
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
      ...sizes.exchanged,
      latencyMs: serverMs + clientMs + linkMs,
      latencyMsPerStage: [{ name: 'encode+encrypt', ms: encryptMs }, ...perStageMs, { name: 'decrypt+decode', ms: decryptMs }],
      split: { serverMs, clientMs, linkMs, link: describeLink(r.link), bytesUp, bytesDown },
    },
    calibration: {
      count: r.calibration.count,
      split: r.calibration.label,
      marginRule: `${r.range.rule ?? 'max'} × ${r.range.margin ?? 1.1}${r.range.rule === 'percentile' ? ` (p${r.range.percentile ?? 99.9})` : ''}`,
    },
    notes,
    ...refreshReport(r.refresh.plan, r.refresh.segmentDepths, rounds),
  };
}

type RoundReport = NonNullable<NonNullable<CompileReport['refresh']>['perRound']>[number];

/** Each refresh round: its ciphertexts, the bytes each way (masked at their level, fresh seeded) and the key holder's work. */
function roundsReport(r: ReportInput, ciphertextBytesAt: (level: number) => number, seeded: number): RoundReport[] {
  const rounds = refreshRounds({
    ops: r.builder.ops,
    registerLevel: r.registerLevel,
    registerScale: Float64Array.from(r.builder.scales),
    ...(r.packed.relayouts ? { relayouts: r.packed.relayouts } : {}),
  });
  return rounds.map((round) => {
    // the linear layer a relayout is for: the first one after the round
    const next = round.relayout ? r.packed.stages.find((st) => st.kind === 'linear' && st.ops[1] > round.end) : undefined;
    return {
      ciphertexts: round.sources.length,
      maskedBytes: round.masked.reduce((s, m) => s + ciphertextBytesAt(m.level), 0),
      freshBytes: seeded * round.sources.length,
      clientMs: refreshClientMs(round, r.params.polyModulusDegree, r.opCost),
      ...(next ? { relayoutFor: next.name } : {}),
    };
  });
}

/** Milliseconds to move `bytes` over the link, plus a round trip per exchange. */
function transferMs(link: LinkModel, bytes: number, exchanges: number): number {
  return (Number.isFinite(link.bitsPerSecond) ? (8 * bytes * 1000) / link.bitsPerSecond : 0) + link.rttMs * exchanges;
}

/** The report's refresh section, for circuits with rounds. */
function refreshReport(plan: RefreshPlan, segmentDepths: number[], perRound: RoundReport[]): Pick<CompileReport, 'refresh'> {
  if (plan.points.length === 0) return {};
  const { maskBits, placement } = plan;
  const beforeLayers = plan.points.filter((p) => p.stage === 0).map((p) => p.layer);
  const points = plan.points.map(pointLabel);
  return { refresh: { rounds: perRound.length, beforeLayers, points, maskBits, segmentDepths, placement, perRound } };
}

/** What a client and the server exchange: ciphertexts in and out, seeded evaluation keys; a ciphertext's size by level. */
function predictedSizes(params: ScaledParameters, rotationSteps: readonly number[], outputLevel: number) {
  const sz = predictSizes(params, rotationSteps);
  const exchanged = {
    ciphertextBytes: sz.ciphertext[sz.ciphertext.length - 1]!,
    seededCiphertextBytes: sz.seededCiphertext,
    outputCiphertextBytes: sz.ciphertext[outputLevel]!,
    relinKeyBytes: sz.seededRelinKeys,
    galoisKeyBytes: sz.seededGaloisKeys ?? 0,
    evaluationKeyUploadBytes: sz.evaluationKeyUpload,
  };
  return { exchanged, ciphertextBytesAt: (level: number) => sz.ciphertext[level]! };
}

function outsideRangeNotes(planned: readonly PolynomialActivation[]): string[] {
  return planned
    .filter((p) => p.report.outsideFraction > 0)
    .map(
      (p) =>
        `layers[${p.report.layer}]: ${(100 * p.report.outsideFraction).toFixed(3)}% of calibration inputs fall outside [-B, B] (B=${p.report.B.toPrecision(4)}): the polynomial is not accurate there`,
    );
}
