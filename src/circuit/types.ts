/**
 * The circuit IR: a straight-line program over ciphertext registers, with every register's level and scale
 * fixed at compile time. The compiler writes it, the runtime only executes it; nothing in it is secret (weights
 * are the model owner's, which the server holds anyway).
 */
import type { ScaledParameters } from '../ckks/params/index.js';

/** One operation. `dst` registers are written once (SSA). */
export type CircuitOp =
  | { op: 'rotate'; dst: number; src: number; steps: number }
  | { op: 'mulPlain'; dst: number; src: number; pt: number }
  | { op: 'addPlain'; dst: number; src: number; pt: number }
  | { op: 'mul'; dst: number; a: number; b: number }
  | { op: 'add'; dst: number; a: number; b: number }
  | { op: 'sub'; dst: number; a: number; b: number }
  | { op: 'rescale'; dst: number; src: number }
  | { op: 'drop'; dst: number; src: number; level: number }
  | { op: 'setScale'; dst: number; src: number; scale: number }
  /**
   * Client-aided refresh (docs/refresh.md): the evaluator adds a fresh uniform mask r ∈ [−maskBound, maskBound] to
   * every slot, the key holder decrypts x + r and encrypts it afresh at the top level and the canonical scale, the
   * evaluator subtracts r. dst is at maxLevel. Consecutive refresh ops form one round.
   */
  | { op: 'refresh'; dst: number; src: number; maskBound: number };

export type OpName = CircuitOp['op'];

/** A plaintext: a dense or sparse slot vector, or a constant in every slot, encoded at a level and scale. */
export interface CircuitPlaintext {
  level: number;
  scale: number;
  /** Constant in every slot … */
  constant?: number;
  /** … or sparse slot values (slot indices ascending). */
  indices?: Int32Array;
  values?: Float64Array;
}

/** Where each logical value of a vector sits in the slots. */
export interface SlotLayout {
  /** Logical length. */
  length: number;
  /** For each logical index, the slots holding it (every copy). */
  slots: number[][];
}

/**
 * A free relayout at a refresh round (docs/refresh.md): the key holder moves the decrypted masked values to the
 * slots the next segment's linear layer wants, and the evaluator moves its masks the same way, so a layout change
 * that would cost rotations and Galois keys costs nothing. Logical value i is read from slot `from[i]` of each
 * masked ciphertext of the round and written to every slot of `to[i]` in its fresh one (none: no later layer reads
 * it); every other fresh slot is 0.
 */
export interface Relayout {
  from: number[];
  to: number[][];
}

/** A compiled layer's place in the op list, for reports and per-layer timing. */
export interface CircuitStage {
  name: string;
  kind: 'linear' | 'activation';
  /** [first, last) op indices. */
  ops: [number, number];
  levelIn: number;
  levelOut: number;
  detail: Record<string, unknown>;
}

/**
 * - `latency`: one input per evaluation; register 0 holds it, value j in the slots inputLayout.slots[j] (copies),
 *   and the outputs are read from register `outputRegister` at outputLayout.slots[i][0].
 * - `throughput`: up to N/2 inputs per evaluation, slot b holding input b; registers 0 … inputLayout.length − 1
 *   hold value j of every input (inputLayout.slots[j] = [j]), and output i is register outputLayout.slots[i][0].
 */
export type CircuitMode = 'latency' | 'throughput';

/** A compiled CKKS circuit: parameters, layouts, registers with their levels and scales, plaintexts, ops, and the compile report. */
export interface Circuit {
  name: string;
  mode: CircuitMode;
  /** N, the chain and its primes, and the default scale 2^scaleBits every layer lands on. */
  params: ScaledParameters;
  /** The input registers (see CircuitMode) are at level `maxLevel` and scale `inputScale`. */
  inputScale: number;
  inputLayout: SlotLayout;
  /** Multiply raw inputs by this before encoding (1 unless the compiler folded a scaling into the input). */
  inputMultiplier: number;
  /** Calibrated range of raw inputs (for the out-of-range report). */
  inputRange: [number, number];
  /** Latency mode: the register holding every output. Throughput: the first output's register. */
  outputRegister: number;
  outputLayout: SlotLayout;
  /** Registers the evaluation returns (latency: [outputRegister]; throughput: one per output). */
  outputRegisters: number[];
  /** Decoded output values are multiplied by this to give the model's logits. */
  outputMultiplier: number;
  registerCount: number;
  /** Level and scale of every register after it is written. */
  registerLevel: Int32Array;
  registerScale: Float64Array;
  plaintexts: CircuitPlaintext[];
  ops: CircuitOp[];
  /**
   * Free relayouts at refresh rounds, by round index (absent: every round keeps the slots as they are): for every
   * ciphertext of the round, or — with `ciphertext` — for that one only (a round carrying a residual value as well).
   */
  relayouts?: (Relayout & { round: number; ciphertext?: number })[];
  rotationSteps: number[];
  stages: CircuitStage[];
  /** Everything the compiler decided and measured, for `pann compile`'s report. */
  report: CompileReport;
  /** The model and calibration data the circuit was compiled from (absent in circuit files before it existed). */
  source?: CircuitSource;
}

/** What a circuit was compiled from: enough to find and check the same float model and calibration data later. */
export interface CircuitSource {
  model: {
    name: string;
    /** modelSha256 (src/nn/fingerprint.ts): layers, shapes and weights at float64; not the name or metadata. */
    sha256: string;
    /** Where the model file was, relative to the circuit file's folder (set when the compile saved both). */
    path?: string;
  };
  calibration: {
    /** e.g. "mnist train[0:1000]" or the user's dataset. */
    label: string;
    count: number;
    /** SHA-256 of the calibration inputs as float64 little-endian. */
    sha256: string;
  };
}

export interface OpCounts {
  ctMultiplications: number;
  plainMultiplications: number;
  rotations: number;
  rescales: number;
  additions: number;
  drops: number;
}

export interface ActivationReport {
  layer: number;
  activation: string;
  method: string;
  /** Calibrated range: the polynomial sees x/B ∈ [−1, 1]. */
  B: number;
  precisionBits: number;
  degree: number[];
  maxError: number;
  log2Error: number;
  depth: number;
  /** Fraction of calibration inputs with |x| > B (before the margin: always 0 for the max rule). */
  outsideFraction: number;
  source: string;
}

/** CKKS noise in the outputs, simulated on calibration inputs (src/runtime/noise.ts). */
export interface NoiseEstimate {
  inputs: number;
  seed: number;
  /** RMS and max |noisy − exact| over every logit. */
  rmsLogitError: number;
  maxLogitError: number;
  /** Inputs whose prediction the noise changed. */
  flips: number;
  /** Expected fraction of predictions the noise changes: P(top-two difference noise > gap), averaged over the inputs. */
  expectedFlipRate: number;
  /** Median gap between the exact top two logits: the noise a typical prediction can take. */
  medianTopTwoGap: number;
}

/** Simulates `count` inputs (back to back) through a circuit exactly and with CKKS noise (src/runtime/noise.ts). */
export type NoiseEstimator = (
  circuit: Circuit,
  inputs: Float64Array,
  count: number,
  onProgress?: (done: number, total: number) => void,
) => NoiseEstimate;

/** A circuit's refresh rounds, as the compile report shows them. */
export interface RefreshReport {
  rounds: number;
  /** Activation layers with a round right before them. */
  beforeLayers: number[];
  /** Every round: `n` before activation layer n, `n:s` inside it after composite stage s (absent in older files). */
  points?: string[];
  maskBits: number;
  /** Depth of each segment between rounds. */
  segmentDepths: number[];
  /** Whether the caller listed the layers or the compiler's search chose them (absent in older files). */
  placement?: 'explicit' | 'auto';
  /** Per round: ciphertexts, bytes to the key holder (masked, at their level) and back (fresh, seeded), its work. */
  /** relayoutFor: the linear layer the key holder moves the values into place for (a free relayout), if any. */
  perRound?: { ciphertexts: number; maskedBytes: number; freshBytes: number; clientMs: number; relayoutFor?: string }[];
}

/** The placements a compile compared, by predicted latency at `link`. */
export interface RefreshSearchReport {
  link: string;
  /** The cap the search ran under (null: one round per activation layer at most). */
  maxRounds: number | null;
  considered: {
    /** The rounds, as RefreshReport.points. */
    points: string[];
    /** The approximation method, when the search compared several (auto's choice, and composites). */
    method?: string;
    /** Ring and chain levels when the placement compiled … */
    ringDimension?: number;
    levels?: number;
    latencyMs?: number;
    /** … or why it did not. */
    rejected?: string;
  }[];
}

/** What the compiler decided and predicts for a circuit (shown by `pann compile`, stored in the circuit file). */
export interface CompileReport {
  model: string;
  mode: CircuitMode;
  /** Inputs per evaluation (1 in latency mode, N/2 in throughput mode). */
  batchSize: number;
  depth: number;
  depthPerStage: { name: string; depth: number }[];
  ringDimension: number;
  coeffModulusBits: number[];
  totalModulusBits: number;
  maxModulusBits: number;
  scaleBits: number;
  slots: number;
  opCounts: OpCounts;
  opCountsPerStage: ({ name: string } & OpCounts)[];
  rotationSteps: number[];
  activations: ActivationReport[];
  predicted: {
    /** Fresh ciphertext at the top level (what the client encrypts), uncompressed. */
    ciphertextBytes: number;
    /** The same in SEAL's seeded form (symmetric encryption: what the client uploads). */
    seededCiphertextBytes: number;
    /** The result the server returns (at the output level). */
    outputCiphertextBytes: number;
    /** Seeded relinearisation key. */
    relinKeyBytes: number;
    /** Seeded Galois keys for exactly the circuit's rotation steps. */
    galoisKeyBytes: number;
    /** relin + Galois, seeded: what a client uploads to open a session. */
    evaluationKeyUploadBytes: number;
    /** serverMs + clientMs + linkMs. */
    latencyMs: number;
    /** The client's encode+encrypt, each stage on the server (refresh rounds: the masking only), decrypt+decode. */
    latencyMsPerStage: { name: string; ms: number }[];
    /**
     * Where the time goes: the evaluator's ops (with masking and unmasking), the key holder's work (encrypt the
     * input, decrypt the result, decrypt and re-encrypt at each round), and the link (every ciphertext each way at
     * `link`, plus its round trips). Absent in circuit files older than refresh placement.
     */
    split?: { serverMs: number; clientMs: number; linkMs: number; link: string; bytesUp: number; bytesDown: number };
  };
  calibration: { count: number; split: string; marginRule: string };
  /** Client-aided refresh rounds (absent for single-chain circuits). */
  refresh?: RefreshReport;
  /** The refresh placements the compiler compared (absent when it compared none: explicit points, throughput mode). */
  refreshSearch?: RefreshSearchReport;
  /** Absent when the compile made no noise check (CompileOptions.noiseCheck) or in older circuit files. */
  noise?: NoiseEstimate;
  notes: string[];
}
