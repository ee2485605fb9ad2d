/**
 * A served model's public description (GET /v1/models/:id): everything a client needs to make keys for exactly
 * this circuit, encrypt an input into its slot layout at its scale, and decode the result — and nothing secret
 * (the weights live in the circuit's plaintexts, which never leave the server). The client validates a
 * description before using it, field by field, since it comes over the network.
 */
import type { Circuit, SlotLayout } from '../circuit/index.js';
import { InputError, ServerError } from '../errors.js';

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

function invalid(path: string, msg: string): never {
  throw new ServerError(502, 'bad_description', `model description: ${path}: ${msg}`);
}

function field(o: Record<string, unknown>, key: string, path: string): unknown {
  if (!(key in o)) invalid(`${path}.${key}`, 'missing');
  return o[key];
}

function object(v: unknown, path: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) invalid(path, 'expected an object');
  return v as Record<string, unknown>;
}

function integer(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    invalid(path, `expected an integer in ${min}…${max}, got ${JSON.stringify(v)}`);
  return v;
}

function finite(v: unknown, path: string, positive = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (positive && !(v > 0)))
    invalid(path, `expected a ${positive ? 'positive' : 'finite'} number, got ${JSON.stringify(v)}`);
  return v;
}

function list(v: unknown, path: string, max: number): unknown[] {
  if (!Array.isArray(v)) invalid(path, 'expected an array');
  if (v.length > max) invalid(path, `${v.length} entries, at most ${max} make sense`);
  return v;
}

function slotLayout(v: unknown, path: string, slotCount: number, maxLevel: number, input: boolean): DescribedLayout {
  const o = object(v, path);
  const length = integer(field(o, 'length', path), `${path}.length`, 1, slotCount);
  const slots = list(field(o, 'slots', path), `${path}.slots`, slotCount).map((s, i) =>
    list(s, `${path}.slots[${i}]`, slotCount).map((x, j) => integer(x, `${path}.slots[${i}][${j}]`, 0, slotCount - 1)),
  );
  if (slots.length !== length) invalid(`${path}.slots`, `${slots.length} entries for length ${length}`);
  slots.forEach((s, i) => {
    if (s.length === 0) invalid(`${path}.slots[${i}]`, 'no slot');
  });
  const level = integer(field(o, 'level', path), `${path}.level`, 0, maxLevel);
  if (input && level !== maxLevel) invalid(`${path}.level`, `a fresh encryption is at level ${maxLevel}, not ${level}`);
  return {
    length,
    slots,
    multiplier: finite(field(o, 'multiplier', path), `${path}.multiplier`),
    level,
    scale: finite(field(o, 'scale', path), `${path}.scale`, true),
    ciphertexts: integer(field(o, 'ciphertexts', path), `${path}.ciphertexts`, 1, 1),
  };
}

/** Validate a description received from a server; throws a ServerError naming the bad field. */
export function parseModelDescription(raw: unknown): ModelDescription {
  const o = object(raw, 'description');
  const str = (key: string): string => {
    const v = field(o, key, 'description');
    if (typeof v !== 'string' || v.length === 0 || v.length > 256) invalid(key, 'expected a non-empty string');
    return v;
  };
  const p = object(field(o, 'params', 'description'), 'params');
  const n = integer(field(p, 'polyModulusDegree', 'params'), 'params.polyModulusDegree', 1024, 32768);
  if ((n & (n - 1)) !== 0) invalid('params.polyModulusDegree', `${n} is not a power of two`);
  const bits = list(field(p, 'coeffModulusBits', 'params'), 'params.coeffModulusBits', 64).map((b, i) =>
    integer(b, `params.coeffModulusBits[${i}]`, 1, 60),
  );
  if (bits.length < 2) invalid('params.coeffModulusBits', 'at least two primes (one data prime and the special prime)');
  const primes = list(field(p, 'primes', 'params'), 'params.primes', 64).map((q, i) => {
    if (typeof q !== 'string' || !/^[1-9][0-9]{0,18}$/.test(q)) invalid(`params.primes[${i}]`, 'expected a decimal integer string');
    return q;
  });
  if (primes.length !== bits.length) invalid('params.primes', `${primes.length} primes for ${bits.length} bit sizes`);
  const security = field(p, 'security', 'params');
  if (security !== 'tc128') invalid('params.security', `expected "tc128", got ${JSON.stringify(security)}`);
  const slotCount = n / 2;
  const maxLevel = bits.length - 2;
  const input = slotLayout(field(o, 'input', 'description'), 'input', slotCount, maxLevel, true);
  const inputObj = object(o.input, 'input');
  const range = list(field(inputObj, 'range', 'input'), 'input.range', 2).map((x, i) => finite(x, `input.range[${i}]`));
  if (range.length !== 2) invalid('input.range', 'expected [low, high]');
  const pred = object(field(o, 'predicted', 'description'), 'predicted');
  const num = (key: string) => finite(field(pred, key, 'predicted'), `predicted.${key}`);
  const acts = list(field(o, 'activations', 'description'), 'activations', 1000).map((a, i) => {
    const x = object(a, `activations[${i}]`);
    const activation = field(x, 'activation', `activations[${i}]`);
    if (typeof activation !== 'string') invalid(`activations[${i}].activation`, 'expected a string');
    return {
      layer: integer(field(x, 'layer', `activations[${i}]`), `activations[${i}].layer`, 0, 1e6),
      activation,
      B: finite(field(x, 'B', `activations[${i}]`), `activations[${i}].B`, true),
      precisionBits: finite(field(x, 'precisionBits', `activations[${i}]`), `activations[${i}].precisionBits`),
      degree: list(field(x, 'degree', `activations[${i}]`), `activations[${i}].degree`, 64).map((d, j) =>
        integer(d, `activations[${i}].degree[${j}]`, 0, 1e6),
      ),
    };
  });
  const steps = list(field(o, 'rotationSteps', 'description'), 'rotationSteps', slotCount).map((s, i) =>
    integer(s, `rotationSteps[${i}]`, 1, slotCount - 1),
  );
  if (new Set(steps).size !== steps.length) invalid('rotationSteps', 'repeated step');
  return {
    id: str('id'),
    name: str('name'),
    model: str('model'),
    params: {
      polyModulusDegree: n,
      coeffModulusBits: bits,
      primes,
      scaleBits: integer(field(p, 'scaleBits', 'params'), 'params.scaleBits', 1, 60),
      security: 'tc128',
    },
    input: { ...input, range: [range[0]!, range[1]!] },
    output: slotLayout(field(o, 'output', 'description'), 'output', slotCount, maxLevel, false),
    rotationSteps: steps,
    activations: acts,
    predicted: {
      depth: num('depth'),
      latencyMs: num('latencyMs'),
      seededCiphertextBytes: num('seededCiphertextBytes'),
      outputCiphertextBytes: num('outputCiphertextBytes'),
      relinKeyBytes: num('relinKeyBytes'),
      galoisKeyBytes: num('galoisKeyBytes'),
      evaluationKeyUploadBytes: num('evaluationKeyUploadBytes'),
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
