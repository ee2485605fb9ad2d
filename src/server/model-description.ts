/**
 * A served model's public description (GET /v1/models/:id): everything a client needs to make keys for exactly
 * this circuit, encrypt an input into its slot layout at its scale, and decode the result — and nothing secret
 * (the weights live in the circuit's plaintexts, which never leave the server). The client validates a
 * description before using it, field by field, since it comes over the network.
 */
import { refreshRounds, relayoutProblem, type Circuit, type Relayout, type SlotLayout } from '../circuit/index.js';
import { InputError, ServerError } from '../errors.js';
import { checkSchema, fieldError, type CheckOptions } from '../schema/index.js';
import {
  DESCRIPTION_STYLE,
  ModelDescriptionSchema,
  integerText,
  tooLongText,
  type ModelDescriptionJson,
} from './model-description-schema.js';

export interface DescribedLayout {
  /** Logical length (input features, output classes). */
  length: number;
  /** For each logical index, the slots that hold it (inputs are replicated into every copy). */
  slots: number[][];
  /** Inputs: multiply raw values by this before encoding. Outputs: multiply decoded values by this. */
  multiplier: number;
  /** Level of the ciphertext (input: a fresh encryption; output: what the server returns). */
  level: number;
  /** Its exact CKKS scale. */
  scale: number;
  /** How many ciphertexts (pann circuits take and return one). */
  ciphertexts: number;
}

/** One client-aided refresh round, as the key holder meets it (docs/refresh.md). */
export interface DescribedRound {
  /** Masked ciphertexts the server sends, and fresh ones the client returns. */
  ciphertexts: number;
  /** Level and scale of each masked ciphertext. */
  masked: { level: number; scale: number }[];
  /** Level (the top of the chain) and exact scale the client encrypts the fresh ciphertexts at. */
  fresh: { level: number; scale: number };
  /** Where the client moves the decrypted values before encrypting them (absent: every value stays in its slot). */
  relayout?: Relayout;
  /** Per ciphertext instead, when they differ (a round that carries residual values too): its relayout or null. */
  relayouts?: (Relayout | null)[];
}

export interface ModelDescription {
  /** The id in URLs (the circuit file's name). */
  id: string;
  /** Circuit name and the model it was compiled from. */
  name: string;
  model: string;
  params: {
    polyModulusDegree: number;
    coeffModulusBits: number[];
    /** The primes, exact, as decimal strings (the client checks its SEAL context finds the same). */
    primes: string[];
    scaleBits: number;
    security: 'tc128';
  };
  input: DescribedLayout & {
    /** Calibrated range of raw input values. */
    range: [number, number];
  };
  output: DescribedLayout;
  /** Normalised rotation steps: the client makes Galois keys for exactly these, no more. */
  rotationSteps: number[];
  /** Refresh rounds each inference makes, in order (empty: the server answers with the result at once). */
  rounds: DescribedRound[];
  activations: { layer: number; activation: string; B: number; precisionBits: number; degree: number[] }[];
  /** The compiler's predictions (sizes in bytes, SEAL's seeded forms for uploads). */
  predicted: {
    depth: number;
    latencyMs: number;
    seededCiphertextBytes: number;
    outputCiphertextBytes: number;
    relinKeyBytes: number;
    galoisKeyBytes: number;
    evaluationKeyUploadBytes: number;
  };
}

function layout(l: SlotLayout): Pick<DescribedLayout, 'length' | 'slots'> {
  return { length: l.length, slots: l.slots.map((s) => [...s]) };
}

/** The public description of a circuit served under `id`. */
export function describeModel(id: string, c: Circuit): ModelDescription {
  const maxLevel = c.params.coeffModulusBits.length - 2;
  const r = c.report;
  return {
    id,
    name: c.name,
    model: r.model,
    params: {
      polyModulusDegree: c.params.polyModulusDegree,
      coeffModulusBits: [...c.params.coeffModulusBits],
      primes: c.params.primeDecimals,
      scaleBits: c.params.scaleBits,
      security: 'tc128',
    },
    input: {
      ...layout(c.inputLayout),
      multiplier: c.inputMultiplier,
      level: maxLevel,
      scale: c.inputScale,
      ciphertexts: 1,
      range: [c.inputRange[0], c.inputRange[1]],
    },
    output: {
      ...layout(c.outputLayout),
      multiplier: c.outputMultiplier,
      level: c.registerLevel[c.outputRegister]!,
      scale: c.registerScale[c.outputRegister]!,
      ciphertexts: 1,
    },
    rotationSteps: [...c.rotationSteps],
    rounds: refreshRounds(c).map((round) => ({
      ciphertexts: round.sources.length,
      masked: round.masked.map((m) => ({ level: m.level, scale: m.scale })),
      fresh: { level: round.fresh.level, scale: round.fresh.scale },
      ...(round.relayout ? { relayout: { from: round.relayout.from, to: round.relayout.to } } : {}),
      ...(round.relayouts ? { relayouts: round.relayouts.map((r) => (r ? { from: r.from, to: r.to } : null)) } : {}),
    })),
    activations: r.activations.map((a) => ({
      layer: a.layer,
      activation: a.activation,
      B: a.B,
      precisionBits: a.precisionBits,
      degree: [...a.degree],
    })),
    predicted: {
      depth: r.depth,
      latencyMs: r.predicted.latencyMs,
      seededCiphertextBytes: r.predicted.seededCiphertextBytes,
      outputCiphertextBytes: r.predicted.outputCiphertextBytes,
      relinKeyBytes: r.predicted.relinKeyBytes,
      galoisKeyBytes: r.predicted.galoisKeyBytes,
      evaluationKeyUploadBytes: r.predicted.evaluationKeyUploadBytes,
    },
  };
}

// ---- client-side validation ------------------------------------------------------------------------------

const CHECK: CheckOptions = {
  error: (message) => new ServerError(502, 'bad_description', message),
  source: 'model description',
  root: 'description',
  style: DESCRIPTION_STYLE,
};

function invalid(path: string, msg: string): never {
  throw fieldError(CHECK, path, msg);
}

/** An integer the schema checked against its fixed bounds, within `max` known only from N. */
function atMost(v: number, path: string, min: number, max: number): number {
  if (v > max) invalid(path, `expected ${integerText(min, max)}, got ${v}`);
  return v;
}

function fewer<T>(v: T[], path: string, max: number): T[] {
  if (v.length > max) invalid(path, tooLongText(v.length, max));
  return v;
}

function slotLayout(l: ModelDescriptionJson['output'], path: string, slotCount: number, maxLevel: number, input: boolean): DescribedLayout {
  const length = atMost(l.length, `${path}.length`, 1, slotCount);
  const slots = fewer(l.slots, `${path}.slots`, slotCount).map((s, i) =>
    fewer(s, `${path}.slots[${i}]`, slotCount).map((x, j) => atMost(x, `${path}.slots[${i}][${j}]`, 0, slotCount - 1)),
  );
  if (slots.length !== length) invalid(`${path}.slots`, `${slots.length} entries for length ${length}`);
  const level = atMost(l.level, `${path}.level`, 0, maxLevel);
  if (input && level !== maxLevel) invalid(`${path}.level`, `a fresh encryption is at level ${maxLevel}, not ${level}`);
  return { length, slots, multiplier: l.multiplier, level, scale: l.scale, ciphertexts: l.ciphertexts };
}

/** A round within the chain: one masked place per ciphertext, fresh ones at the top level. */
function describedRound(
  round: NonNullable<ModelDescriptionJson['rounds']>[number],
  path: string,
  maxLevel: number,
  slotCount: number,
): DescribedRound {
  if (round.masked.length !== round.ciphertexts) {
    invalid(`${path}.masked`, `${round.masked.length} entries for ${round.ciphertexts} ciphertexts`);
  }
  const masked = round.masked.map((m, i) => ({ level: atMost(m.level, `${path}.masked[${i}].level`, 0, maxLevel), scale: m.scale }));
  if (round.fresh.level !== maxLevel)
    invalid(`${path}.fresh.level`, `a fresh encryption is at level ${maxLevel}, not ${round.fresh.level}`);
  const fresh = { level: round.fresh.level, scale: round.fresh.scale };
  return {
    ciphertexts: round.ciphertexts,
    masked,
    fresh,
    ...(round.relayout ? { relayout: relayoutOf(round.relayout, `${path}.relayout`, slotCount) } : {}),
    ...(round.relayouts ? { relayouts: relayoutsOf(round, path, slotCount) } : {}),
  };
}

/** A round's per-ciphertext relayouts: one entry (or null) per ciphertext, each within the slots. */
function relayoutsOf(round: DescribedRound, path: string, slotCount: number): (Relayout | null)[] {
  const list = round.relayouts!;
  if (round.relayout) invalid(`${path}.relayouts`, 'a round has one relayout for all its ciphertexts or one per ciphertext, not both');
  if (list.length !== round.ciphertexts) invalid(`${path}.relayouts`, `${list.length} entries for ${round.ciphertexts} ciphertexts`);
  return list.map((r, k) => (r ? relayoutOf(r, `${path}.relayouts[${k}]`, slotCount) : null));
}

/** A round's relayout within the slots: one source per destination list, every destination slot written once. */
function relayoutOf(r: Relayout, path: string, slotCount: number): Relayout {
  if (r.from.length !== r.to.length) invalid(`${path}.to`, `${r.to.length} entries for ${r.from.length} sources`);
  const problem = relayoutProblem(r, slotCount);
  if (problem) invalid(`${path}${problem[0]}`, problem[1]);
  return { from: r.from, to: r.to };
}

/**
 * Validate a description received from a server: the schema (ModelDescriptionSchema), then the bounds that depend
 * on N; throws a ServerError naming the bad field.
 */
export function parseModelDescription(raw: unknown): ModelDescription {
  checkSchema(ModelDescriptionSchema, raw, CHECK);
  const { params: p, input: i } = raw;
  const n = p.polyModulusDegree;
  if ((n & (n - 1)) !== 0) invalid('params.polyModulusDegree', `${n} is not a power of two`);
  if (p.primes.length !== p.coeffModulusBits.length) {
    invalid('params.primes', `${p.primes.length} primes for ${p.coeffModulusBits.length} bit sizes`);
  }
  const slotCount = n / 2;
  const maxLevel = p.coeffModulusBits.length - 2;
  const input = slotLayout(i, 'input', slotCount, maxLevel, true);
  const steps = fewer(raw.rotationSteps, 'rotationSteps', slotCount).map((s, k) => atMost(s, `rotationSteps[${k}]`, 1, slotCount - 1));
  const rounds = (raw.rounds ?? []).map((round, k) => describedRound(round, `rounds[${k}]`, maxLevel, slotCount));
  return {
    id: raw.id,
    name: raw.name,
    model: raw.model,
    params: { polyModulusDegree: n, coeffModulusBits: p.coeffModulusBits, primes: p.primes, scaleBits: p.scaleBits, security: 'tc128' },
    input: { ...input, range: i.range },
    output: slotLayout(raw.output, 'output', slotCount, maxLevel, false),
    rotationSteps: steps,
    rounds,
    activations: raw.activations.map((a) => ({
      layer: a.layer,
      activation: a.activation,
      B: a.B,
      precisionBits: a.precisionBits,
      degree: a.degree,
    })),
    predicted: {
      depth: raw.predicted.depth,
      latencyMs: raw.predicted.latencyMs,
      seededCiphertextBytes: raw.predicted.seededCiphertextBytes,
      outputCiphertextBytes: raw.predicted.outputCiphertextBytes,
      relinKeyBytes: raw.predicted.relinKeyBytes,
      galoisKeyBytes: raw.predicted.galoisKeyBytes,
      evaluationKeyUploadBytes: raw.predicted.evaluationKeyUploadBytes,
    },
  };
}

/** The slot vector of one raw input for a described model (every copy filled, multiplier applied). */
export function inputSlots(d: ModelDescription, x: ArrayLike<number>): Float64Array {
  if (x.length !== d.input.length) throw new InputError(`input has ${x.length} values, model ${d.id} takes ${d.input.length}`);
  const slots = new Float64Array(d.params.polyModulusDegree / 2);
  d.input.slots.forEach((where, j) => {
    const v = x[j]!;
    if (!Number.isFinite(v)) throw new InputError(`input value ${j} is ${v}, not a finite number`);
    for (const s of where) slots[s] = v * d.input.multiplier;
  });
  return slots;
}

/** The model's outputs (logits) from decrypted slots. */
export function outputValues(d: ModelDescription, slots: ArrayLike<number>): Float64Array {
  return Float64Array.from(d.output.slots, (where) => slots[where[0]!]! * d.output.multiplier);
}
