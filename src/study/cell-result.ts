/**
 * What a study cell's measurement produces (written to the cell cache and the study's CSV/JSON): the types only,
 * so the cache, the measurement and the report share them without importing each other.
 */
import type { StudyCell } from './grid.js';

export type CellStage = 'load' | 'finetune' | 'compile' | 'simulate' | 'seal';

export interface CellCost {
  /** Per activation layer: method chosen, stage degrees, B, measured log2(max error / B), depth. */
  activations: { method: string; degrees: number[]; B: number; log2Error: number; depth: number }[];
  depth: number;
  ringDimension: number;
  coeffModulusBits: number[];
  totalModulusBits: number;
  scaleBits: number;
  rotations: number;
  rotationKeys: number;
  ctMultiplications: number;
  plainMultiplications: number;
  /** The compiler's latency prediction for one encrypted inference (encrypt + evaluate + decrypt), ms. */
  predictedLatencyMs: number;
  galoisKeyBytes: number;
}

export interface SealCheck {
  sample: number;
  /** Digits where SEAL's prediction equals the simulator's (same digits, same circuit). */
  agreeWithSim: number;
  /** Digits where SEAL's prediction equals the float network's. */
  agreeWithFloat: number;
  correct: number;
  /** Largest |logit_seal − logit_sim| over the sample. */
  maxLogitDifference: number;
  /** Measured encrypted latency per digit (encode+encrypt, evaluate, decrypt+decode), ms. */
  latencyMs: { median: number; min: number; max: number };
  /** Context, keys and plaintext encoding, once per circuit, ms. */
  setupMs: number;
  /** Set when the spot check itself failed (e.g. keys too large for the WASM heap). */
  error?: string;
}

export interface CellResult {
  id: string;
  key: string;
  cell: StudyCell;
  /** ok: measured; costed: compiled and costed, not simulated (ring above settings.maxSimulatedRing); failed. */
  status: 'ok' | 'costed' | 'failed';
  error?: { stage: CellStage; code: string; message: string };
  /** The model's name, activation names and layer types (e.g. conv2d-activation-flatten-dense-activation-dense). */
  model?: { name: string; activations: string[]; architecture: string };
  /** The float network (true activations) on the measured split. */
  float?: { accuracy: number; correct: number; count: number };
  /** The PANN through the sim backend with noise, on the same digits. */
  pann?: { accuracy: number; correct: number; count: number; lossPoints: number; agreement: number };
  /**
   * Fine-tuning (remedy finetune): float accuracy of the network with its polynomial stand-ins on the validation
   * split before and after fine-tuning, and on the measured split after; the ranges B; the time it took.
   */
  finetune?: { validationBefore: number; validationAfter: number; accuracy: number; bounds: number[]; ms: number };
  /** Fraction of activation inputs (measured split, float network of the cell) outside [−B, B], per layer. */
  outside?: { perLayer: number[]; max: number };
  cost?: CellCost;
  seal?: SealCheck;
  timing: { finetuneMs: number; compileMs: number; simMs: number; totalMs: number };
  notes: string[];
}
