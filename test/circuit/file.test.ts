import { describe, expect, it } from 'vitest';
import { circuitToJSON, parseCircuit, serializeCircuit } from '../../src/circuit/index.js';
import { compileNetwork } from '../../src/compiler/compile.js';
import { inputs, provider, tinyModel } from '../compiler/fixtures.js';

describe('circuit file', () => {
  const circuit = compileNetwork(tinyModel('relu', 'silu'), {
    precisionBits: 5,
    calibration: { inputs: inputs(20, 3), count: 20, label: 'test' },
    provider,
    ringDimensions: [8192, 16384],
  });
  const text = serializeCircuit(circuit);

  it('round-trips exactly (ops, plaintexts, levels, scales, layouts)', () => {
    const back = parseCircuit(text);
    expect(serializeCircuit(back)).toBe(text);
    expect(back.ops).toEqual(circuit.ops);
    expect(back.registerScale).toEqual(circuit.registerScale);
  });

  const mutate = (f: (j: Record<string, any>) => void): string => {
    const j = JSON.parse(text);
    f(j);
    return JSON.stringify(j);
  };

  it('rejects malformed, other-version, truncated and tampered files with a message naming the field', () => {
    expect(() => parseCircuit(text.slice(0, text.length / 2), 'x.json')).toThrow(/x\.json: not valid JSON.*truncated/);
    expect(() => parseCircuit('{"format":"pann-model"}')).toThrow(/format: expected "pann-circuit"/);
    expect(() => parseCircuit(mutate((j) => (j.version = 2)))).toThrow(/version 2; recompile/);
    expect(() => parseCircuit(mutate((j) => (j.params.primes[1] = '12345')))).toThrow(/params\.primes: do not match/);
    expect(() => parseCircuit(mutate((j) => (j.params.coeffModulusBits = [60, 60, 60, 60, 60])))).toThrow(
      /exceed the 128-bit bound|do not match/,
    );
    expect(() => parseCircuit(mutate((j) => j.ops.push(['frobnicate', 1, 0, 0])))).toThrow(/unknown op "frobnicate"/);
    expect(() => parseCircuit(mutate((j) => (j.ops[0][2] = 10 ** 9)))).toThrow(/ops\[0\]\[2\]: .* outside/);
    expect(() => parseCircuit(mutate((j) => (j.inputScale = j.inputScale * 2)))).toThrow(/ops\[\d+\]/);
    expect(() => parseCircuit(mutate((j) => (j.rotationSteps = [])))).toThrow(/rotationSteps/);
    expect(() => parseCircuit(mutate((j) => (j.registerLevel = 'AAAAAA==')))).toThrow(/registerLevel: expected \d+ values/);
    expect(() => parseCircuit(mutate((j) => (j.inputLayout.slots[0] = [999999])))).toThrow(/inputLayout\.slots\[0\]\[0\]/);
  });

  it('keeps the report', () => {
    expect((circuitToJSON(circuit).report as { depth: number }).depth).toBe(circuit.report.depth);
  });
});
