/**
 * The circuit file: format "pann-circuit", version 1. JSON with typed arrays as base64 (little-endian).
 * Loading validates every field (a message names the bad one) and then re-verifies the whole program: it replays
 * every op through the same level/scale checks the compiler applied, so a malformed, tampered or
 * other-version file is rejected before any SEAL call.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { CkksParameters, MAX_COEFF_MODULUS_BITS_128, coeffModulusPrimes } from '../ckks/params/index.js';
import { CircuitError, errorMessage } from '../errors.js';
import type { Circuit, CircuitOp, CircuitPlaintext, CompileReport, SlotLayout } from './types.js';
import { verifyCircuit } from './verify.js';

export const CIRCUIT_FORMAT = 'pann-circuit';
export const CIRCUIT_VERSION = 1;

type Json = Record<string, unknown>;

const OPCODES = ['rotate', 'mulPlain', 'addPlain', 'mul', 'add', 'sub', 'rescale', 'drop', 'setScale'] as const;

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
    stages: c.stages,
    report: c.report,
  };
}

export function serializeCircuit(c: Circuit): string {
  return `${JSON.stringify(circuitToJSON(c))}\n`;
}

export function saveCircuit(path: string, c: Circuit): void {
  writeFileSync(path, serializeCircuit(c));
}

// ---- loading ---------------------------------------------------------------------------------------------

function fail(path: string, msg: string): never {
  throw new CircuitError(`${path}: ${msg}`);
}

function obj(v: unknown, path: string): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(path, 'expected an object');
  return v as Json;
}

function int(v: unknown, path: string, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(path, `expected an integer, got ${JSON.stringify(v)}`);
  if (v < min || v > max) fail(path, `${v} is outside ${min}..${max}`);
  return v;
}

function num(v: unknown, path: string, positive = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(path, `expected a finite number, got ${JSON.stringify(v)}`);
  if (positive && !(v > 0)) fail(path, `expected a positive number, got ${v}`);
  return v;
}

function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(path, 'expected an array');
  return v;
}

function fromB64<T extends Int32Array | Float64Array>(
  v: unknown,
  path: string,
  ctor: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number },
  length?: number,
): T {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) fail(path, 'expected base64 data');
  const buf = Buffer.from(v, 'base64');
  if (buf.length % ctor.BYTES_PER_ELEMENT !== 0) fail(path, `byte length ${buf.length} is not a multiple of ${ctor.BYTES_PER_ELEMENT}`);
  const out = new ctor(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  if (length !== undefined && out.length !== length) fail(path, `expected ${length} values, got ${out.length}`);
  return out;
}

/** A layout: slot indices (latency mode, `limit` = slots) or register indices (throughput mode, `limit` = registers). */
function layoutFromJSON(v: unknown, path: string, limit: number): SlotLayout {
  const slots = limit;
  const o = obj(v, path);
  const length = int(o.length, `${path}.length`, 1, 1 << 24);
  const s = arr(o.slots, `${path}.slots`);
  if (s.length !== length) fail(`${path}.slots`, `expected ${length} entries, got ${s.length}`);
  const seen = new Set<number>();
  const out = s.map((copies, i) => {
    const c = arr(copies, `${path}.slots[${i}]`);
    if (c.length === 0) fail(`${path}.slots[${i}]`, 'no slot');
    return c.map((x, k) => {
      const slot = int(x, `${path}.slots[${i}][${k}]`, 0, slots - 1);
      if (seen.has(slot)) fail(`${path}.slots[${i}][${k}]`, `slot ${slot} holds two values`);
      seen.add(slot);
      return slot;
    });
  });
  return { length, slots: out };
}

function opFromJSON(v: unknown, path: string, registers: number, plaintexts: number): CircuitOp {
  const a = arr(v, path);
  const name = a[0];
  if (typeof name !== 'string' || !(OPCODES as readonly string[]).includes(name)) {
    fail(path, `unknown op ${JSON.stringify(name)} (valid: ${OPCODES.join(', ')})`);
  }
  const reg = (i: number) => int(a[i], `${path}[${i}]`, 0, registers - 1);
  const dst = reg(1);
  switch (name as CircuitOp['op']) {
    case 'rotate':
      return { op: 'rotate', dst, src: reg(2), steps: int(a[3], `${path}[3]`, 1, 1 << 20) };
    case 'mulPlain':
      return { op: 'mulPlain', dst, src: reg(2), pt: int(a[3], `${path}[3]`, 0, plaintexts - 1) };
    case 'addPlain':
      return { op: 'addPlain', dst, src: reg(2), pt: int(a[3], `${path}[3]`, 0, plaintexts - 1) };
    case 'mul':
      return { op: 'mul', dst, a: reg(2), b: reg(3) };
    case 'add':
      return { op: 'add', dst, a: reg(2), b: reg(3) };
    case 'sub':
      return { op: 'sub', dst, a: reg(2), b: reg(3) };
    case 'rescale':
      return { op: 'rescale', dst, src: reg(2) };
    case 'drop':
      return { op: 'drop', dst, src: reg(2), level: int(a[3], `${path}[3]`, 0, 1000) };
    case 'setScale':
      return { op: 'setScale', dst, src: reg(2), scale: num(a[3], `${path}[3]`, true) };
  }
}

/** Parse and verify a circuit from its JSON object. */
export function circuitFromJSON(raw: unknown): Circuit {
  const o = obj(raw, 'circuit');
  if (o.format !== CIRCUIT_FORMAT)
    fail('format', `expected "${CIRCUIT_FORMAT}", got ${JSON.stringify(o.format)} (is this a pann circuit?)`);
  if (o.version !== CIRCUIT_VERSION)
    fail('version', `this pann reads circuit version ${CIRCUIT_VERSION}, the file is version ${JSON.stringify(o.version)}; recompile it`);
  if (typeof o.name !== 'string') fail('name', 'expected a string');
  const p = obj(o.params, 'params');
  const N = int(p.polyModulusDegree, 'params.polyModulusDegree', 1024, 32768);
  const maxBits = MAX_COEFF_MODULUS_BITS_128[N];
  if (maxBits === undefined) fail('params.polyModulusDegree', `${N} is not a supported ring dimension`);
  const bits = arr(p.coeffModulusBits, 'params.coeffModulusBits').map((x, i) => int(x, `params.coeffModulusBits[${i}]`, 14, 60));
  if (bits.length < 2) fail('params.coeffModulusBits', 'needs at least a data prime and the special prime');
  const total = bits.reduce((a, b) => a + b, 0);
  if (total > maxBits) fail('params.coeffModulusBits', `${total} bits exceed the 128-bit bound ${maxBits} for N=${N}`);
  const primes = arr(p.primes, 'params.primes').map((x, i) => {
    if (typeof x !== 'string' || !/^\d+$/.test(x)) fail(`params.primes[${i}]`, 'expected a decimal string');
    return x;
  });
  const expected = coeffModulusPrimes(N, bits);
  if (!expected || expected.map(String).join(',') !== primes.join(',')) {
    fail('params.primes', 'do not match the primes SEAL picks for these bit sizes');
  }
  const scaleBits = int(p.scaleBits, 'params.scaleBits', 14, 60);
  const params = CkksParameters.from({ polyModulusDegree: N, coeffModulusBits: bits, scaleBits });
  const slots = N / 2;
  const registerCount = int(o.registerCount, 'registerCount', 1, 1 << 24);
  const mode = o.mode === undefined ? 'latency' : o.mode;
  if (mode !== 'latency' && mode !== 'throughput') fail('mode', `expected "latency" or "throughput", got ${JSON.stringify(o.mode)}`);
  const layoutLimit = mode === 'throughput' ? registerCount : slots;
  const plaintextsRaw = arr(o.plaintexts, 'plaintexts');
  const plaintexts: CircuitPlaintext[] = plaintextsRaw.map((v, i) => {
    const q = obj(v, `plaintexts[${i}]`);
    const level = int(q.level, `plaintexts[${i}].level`, 0, bits.length - 2);
    const scale = num(q.scale, `plaintexts[${i}].scale`, true);
    if (q.constant !== undefined) return { level, scale, constant: num(q.constant, `plaintexts[${i}].constant`) };
    const indices = fromB64(q.indices, `plaintexts[${i}].indices`, Int32Array);
    const values = fromB64(q.values, `plaintexts[${i}].values`, Float64Array, indices.length);
    for (const x of values) if (!Number.isFinite(x)) fail(`plaintexts[${i}].values`, 'non-finite value');
    return { level, scale, indices, values };
  });
  const ops = arr(o.ops, 'ops').map((v, i) => opFromJSON(v, `ops[${i}]`, registerCount, plaintexts.length));
  const circuit: Circuit = {
    name: o.name,
    mode,
    params,
    inputScale: num(o.inputScale, 'inputScale', true),
    inputLayout: layoutFromJSON(o.inputLayout, 'inputLayout', layoutLimit),
    inputMultiplier: num(o.inputMultiplier, 'inputMultiplier'),
    inputRange: arr(o.inputRange, 'inputRange').map((x, i) => num(x, `inputRange[${i}]`)) as [number, number],
    outputRegister: int(o.outputRegister, 'outputRegister', 0, registerCount - 1),
    outputLayout: layoutFromJSON(o.outputLayout, 'outputLayout', layoutLimit),
    outputRegisters:
      o.outputRegisters === undefined
        ? [int(o.outputRegister, 'outputRegister', 0, registerCount - 1)]
        : arr(o.outputRegisters, 'outputRegisters').map((x, i) => int(x, `outputRegisters[${i}]`, 0, registerCount - 1)),
    outputMultiplier: num(o.outputMultiplier, 'outputMultiplier'),
    registerCount,
    registerLevel: fromB64(o.registerLevel, 'registerLevel', Int32Array, registerCount),
    registerScale: fromB64(o.registerScale, 'registerScale', Float64Array, registerCount),
    plaintexts,
    ops,
    rotationSteps: arr(o.rotationSteps, 'rotationSteps').map((x, i) => int(x, `rotationSteps[${i}]`, 1, slots - 1)),
    stages: arr(o.stages, 'stages') as Circuit['stages'],
    report: obj(o.report, 'report') as unknown as CompileReport,
  };
  verifyCircuit(circuit);
  return circuit;
}

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

export function loadCircuit(path: string): Circuit {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CircuitError(`cannot read circuit ${path}: ${errorMessage(err)}`);
  }
  return parseCircuit(text, path);
}
