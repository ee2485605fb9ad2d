/**
 * The circuit file: format "pann-circuit", version 1. JSON with typed arrays as base64 (little-endian).
 * Loading checks every field against CircuitSchema (schema.ts; a message names the bad one), then what depends
 * on other fields, and then re-verifies the whole program: it replays every op through the same level/scale checks
 * the compiler applied, so a malformed, tampered or other-version file is rejected before any SEAL call.
 */
import { readFileSync } from 'node:fs';
import { CkksParameters, MAX_COEFF_MODULUS_BITS_128, coeffModulusPrimes } from '../ckks/params/index.js';
import { CircuitError, errorMessage } from '../errors.js';
import {
  ELEMENT_BYTES,
  FIELD_STYLE_GOT_UNDEFINED,
  checkSchema,
  decodeBase64Values,
  fieldError,
  type CheckOptions,
} from '../schema/index.js';
import { CIRCUIT_FORMAT, CIRCUIT_VERSION, CircuitSchema, outsideText, type CircuitJson, type CircuitOpJson } from './schema.js';
import type { Circuit, CircuitOp, CircuitPlaintext, CompileReport, SlotLayout } from './types.js';
import { verifyCircuit } from './verify.js';
import { writeFileAtomic } from '../files.js';

export { CIRCUIT_FORMAT, CIRCUIT_VERSION } from './schema.js';

type Json = Record<string, unknown>;

function b64(a: Int32Array | Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function encodeOp(op: CircuitOp): (number | string)[] {
  switch (op.op) {
    case 'rotate':
      return [op.op, op.dst, op.src, op.steps];
    case 'mulPlain':
    case 'addPlain':
      return [op.op, op.dst, op.src, op.pt];
    case 'mul':
    case 'add':
    case 'sub':
      return [op.op, op.dst, op.a, op.b];
    case 'rescale':
      return [op.op, op.dst, op.src];
    case 'drop':
      return [op.op, op.dst, op.src, op.level];
    case 'setScale':
      return [op.op, op.dst, op.src, op.scale];
    case 'refresh':
      return [op.op, op.dst, op.src, op.maskBound];
  }
}

function layoutToJSON(l: SlotLayout): Json {
  return { length: l.length, slots: l.slots };
}

/** The JSON object of a circuit. */
export function circuitToJSON(c: Circuit): Json {
  return {
    format: CIRCUIT_FORMAT,
    version: CIRCUIT_VERSION,
    name: c.name,
    mode: c.mode,
    params: {
      polyModulusDegree: c.params.polyModulusDegree,
      coeffModulusBits: c.params.coeffModulusBits,
      primes: c.params.primeDecimals,
      primeValues: c.params.primeValues,
      scaleBits: c.params.scaleBits,
    },
    inputScale: c.inputScale,
    inputLayout: layoutToJSON(c.inputLayout),
    inputMultiplier: c.inputMultiplier,
    inputRange: c.inputRange,
    outputRegister: c.outputRegister,
    outputLayout: layoutToJSON(c.outputLayout),
    outputRegisters: c.outputRegisters,
    outputMultiplier: c.outputMultiplier,
    registerCount: c.registerCount,
    registerLevel: b64(c.registerLevel),
    registerScale: b64(c.registerScale),
    rotationSteps: c.rotationSteps,
    plaintexts: c.plaintexts.map((p) =>
      p.constant !== undefined
        ? { level: p.level, scale: p.scale, constant: p.constant }
        : { level: p.level, scale: p.scale, indices: b64(p.indices!), values: b64(p.values!) },
    ),
    ops: c.ops.map(encodeOp),
    ...(c.relayouts?.length
      ? {
          relayouts: c.relayouts.map((r) => ({
            round: r.round,
            ...(r.ciphertext !== undefined ? { ciphertext: r.ciphertext } : {}),
            from: r.from,
            to: r.to,
          })),
        }
      : {}),
    stages: c.stages,
    report: c.report,
    ...(c.source ? { source: c.source } : {}),
  };
}

/** A circuit as its file text (pann-circuit JSON, typed arrays as base64); the same circuit gives the same bytes. */
export function serializeCircuit(c: Circuit): string {
  return `${JSON.stringify(circuitToJSON(c))}\n`;
}

/** Write a circuit file. */
export function saveCircuit(path: string, c: Circuit): void {
  writeFileAtomic(path, serializeCircuit(c));
}

// ---- loading ---------------------------------------------------------------------------------------------

const CHECK: CheckOptions = { error: (message) => new CircuitError(message), root: 'circuit', style: FIELD_STYLE_GOT_UNDEFINED };

function fail(path: string, text: string): never {
  throw fieldError(CHECK, path, text);
}

/** Where a value sits, spelled out only for a message (a throughput circuit has hundreds of thousands of ops). */
type Path = () => string;

/** An index the schema checked as an integer ≥ min, within its bound known only now. */
function within(v: number, min: number, max: number, path: Path): number {
  if (v > max) fail(path(), outsideText(v, min, max));
  return v;
}

function decode(text: string, type: 'int32', path: Path, length?: number): Int32Array;
function decode(text: string, type: 'float64', path: Path, length?: number): Float64Array;
function decode(text: string, type: 'int32' | 'float64', path: Path, length?: number): Int32Array | Float64Array {
  const { byteLength, values } = decodeBase64Values(text, type);
  if (!values) fail(path(), `byte length ${byteLength} is not a multiple of ${ELEMENT_BYTES[type]}`);
  if (length !== undefined && values.length !== length) fail(path(), `expected ${length} values, got ${values.length}`);
  return values;
}

/** A layout: slot indices (latency mode, `limit` = slots) or register indices (throughput mode, `limit` = registers). */
function layoutFromJSON(l: CircuitJson['inputLayout'], path: string, limit: number): SlotLayout {
  if (l.slots.length !== l.length) fail(`${path}.slots`, `expected ${l.length} entries, got ${l.slots.length}`);
  const seen = new Set<number>();
  l.slots.forEach((copies, i) =>
    copies.forEach((slot, k) => {
      within(slot, 0, limit - 1, () => `${path}.slots[${i}][${k}]`);
      if (seen.has(slot)) fail(`${path}.slots[${i}][${k}]`, `slot ${slot} holds two values`);
      seen.add(slot);
    }),
  );
  return { length: l.length, slots: l.slots };
}

function opFromJSON(a: CircuitOpJson, n: number, registers: number, plaintexts: number): CircuitOp {
  const reg = (i: 1 | 2 | 3) => within(a[i] as number, 0, registers - 1, () => `ops[${n}][${i}]`);
  const dst = reg(1);
  switch (a[0]) {
    case 'rotate':
      return { op: 'rotate', dst, src: reg(2), steps: a[3] };
    case 'mulPlain':
    case 'addPlain':
      return { op: a[0], dst, src: reg(2), pt: within(a[3], 0, plaintexts - 1, () => `ops[${n}][3]`) };
    case 'mul':
    case 'add':
    case 'sub':
      return { op: a[0], dst, a: reg(2), b: reg(3) };
    case 'rescale':
      return { op: 'rescale', dst, src: reg(2) };
    case 'drop':
      return { op: 'drop', dst, src: reg(2), level: a[3] };
    case 'setScale':
      return { op: 'setScale', dst, src: reg(2), scale: a[3] };
    case 'refresh':
      return { op: 'refresh', dst, src: reg(2), maskBound: a[3] };
  }
}

/** Parse and verify a circuit from its JSON object: the schema (CircuitSchema), then the checks across fields. */
export function circuitFromJSON(raw: unknown): Circuit {
  checkSchema(CircuitSchema, raw, CHECK);
  const o = raw;
  const p = o.params;
  const N = p.polyModulusDegree;
  const maxBits = MAX_COEFF_MODULUS_BITS_128[N];
  if (maxBits === undefined) fail('params.polyModulusDegree', `${N} is not a supported ring dimension`);
  const bits = p.coeffModulusBits;
  const total = bits.reduce((a, b) => a + b, 0);
  if (total > maxBits) fail('params.coeffModulusBits', `${total} bits exceed the 128-bit bound ${maxBits} for N=${N}`);
  const expected = coeffModulusPrimes(N, bits);
  if (!expected || expected.map(String).join(',') !== p.primes.join(',')) {
    fail('params.primes', 'do not match the primes SEAL picks for these bit sizes');
  }
  const params = CkksParameters.from({ polyModulusDegree: N, coeffModulusBits: bits, scaleBits: p.scaleBits });
  const slots = N / 2;
  const registerCount = o.registerCount;
  const mode = o.mode ?? 'latency';
  const layoutLimit = mode === 'throughput' ? registerCount : slots;
  const plaintexts: CircuitPlaintext[] = o.plaintexts.map((q, i) => {
    const level = within(q.level, 0, bits.length - 2, () => `plaintexts[${i}].level`);
    if (q.constant !== undefined) return { level, scale: q.scale, constant: q.constant };
    const indices = decode(q.indices, 'int32', () => `plaintexts[${i}].indices`);
    const values = decode(q.values, 'float64', () => `plaintexts[${i}].values`, indices.length);
    for (let k = 0; k < values.length; k++) if (!Number.isFinite(values[k]!)) fail(`plaintexts[${i}].values`, 'non-finite value');
    return { level, scale: q.scale, indices, values };
  });
  const ops = o.ops.map((v, i) => opFromJSON(v, i, registerCount, plaintexts.length));
  const circuit: Circuit = {
    name: o.name,
    mode,
    params,
    inputScale: o.inputScale,
    inputLayout: layoutFromJSON(o.inputLayout, 'inputLayout', layoutLimit),
    inputMultiplier: o.inputMultiplier,
    inputRange: o.inputRange,
    outputRegister: within(o.outputRegister, 0, registerCount - 1, () => 'outputRegister'),
    outputLayout: layoutFromJSON(o.outputLayout, 'outputLayout', layoutLimit),
    outputRegisters: (o.outputRegisters ?? [o.outputRegister]).map((x, i) =>
      within(x, 0, registerCount - 1, () => (o.outputRegisters ? `outputRegisters[${i}]` : 'outputRegister')),
    ),
    outputMultiplier: o.outputMultiplier,
    registerCount,
    registerLevel: decode(o.registerLevel, 'int32', () => 'registerLevel', registerCount),
    registerScale: decode(o.registerScale, 'float64', () => 'registerScale', registerCount),
    plaintexts,
    ops,
    ...(o.relayouts ? { relayouts: o.relayouts } : {}),
    rotationSteps: o.rotationSteps.map((x, i) => within(x, 1, slots - 1, () => `rotationSteps[${i}]`)),
    stages: o.stages as Circuit['stages'],
    report: o.report as unknown as CompileReport,
    ...(o.source ? { source: o.source } : {}),
  };
  verifyCircuit(circuit);
  return circuit;
}

/** Parse and fully check a circuit file's text (schema, then the replay check); `source` names it in errors. */
export function parseCircuit(text: string, source = 'circuit'): Circuit {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CircuitError(`${source}: not valid JSON (${errorMessage(err)}); truncated or not a circuit file?`);
  }
  try {
    return circuitFromJSON(raw);
  } catch (err) {
    if (err instanceof CircuitError) throw new CircuitError(`${source}: ${err.message}`);
    throw err;
  }
}

/** Read, parse and fully check a circuit file; a CircuitError names the file and the bad field or op. */
export function loadCircuit(path: string): Circuit {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CircuitError(`cannot read circuit ${path}: ${errorMessage(err)}`);
  }
  return parseCircuit(text, path);
}
