import { describe, expect, it } from 'vitest';
import { describeModel, inputSlots, outputValues, parseModelDescription } from '../../src/server/model-description.js';
import { denseCircuit, refreshCircuit } from './fixtures.js';

describe('model description', () => {
  const circuit = denseCircuit('dense', 16, 3, 4096);
  const d = describeModel('dense', circuit);

  it('is JSON that the client reads back unchanged', () => {
    expect(parseModelDescription(JSON.parse(JSON.stringify(d)))).toEqual(d);
    expect(d.rotationSteps).toEqual(circuit.rotationSteps);
    expect(d.input).toMatchObject({
      length: 16,
      level: circuit.params.coeffModulusBits.length - 2,
      scale: circuit.inputScale,
      ciphertexts: 1,
    });
    expect(d.predicted.evaluationKeyUploadBytes).toBe(circuit.report.predicted.evaluationKeyUploadBytes);
  });

  it('has nothing secret in it: no plaintexts, weights or ops', () => {
    const text = JSON.stringify(d);
    expect(text).not.toMatch(/plaintexts|"ops"|weight|registerScale/);
  });

  it.each([
    ['params.polyModulusDegree', (x: Record<string, any>) => (x.params.polyModulusDegree = 3000), /not a power of two/],
    ['params.primes', (x: Record<string, any>) => (x.params.primes[0] = '12x'), /params.primes\[0\]: expected a decimal integer string/],
    ['input.slots', (x: Record<string, any>) => (x.input.slots[2] = [99999]), /input.slots\[2\]\[0\]: expected an integer in 0…2047/],
    ['input.level', (x: Record<string, any>) => (x.input.level = 0), /input.level: a fresh encryption is at level 1/],
    ['output.scale', (x: Record<string, any>) => (x.output.scale = -1), /output.scale: expected a positive number/],
    ['rotationSteps', (x: Record<string, any>) => (x.rotationSteps = [1, 1]), /rotationSteps: repeated step/],
    ['params.security', (x: Record<string, any>) => (x.params.security = 'none'), /params.security: expected "tc128"/],
    ['id', (x: Record<string, any>) => delete x.id, /description.id: missing/],
  ])('a bad %s from a server is named', (_field, mutate, message) => {
    const copy = JSON.parse(JSON.stringify(d));
    mutate(copy);
    expect(() => parseModelDescription(copy)).toThrow(message);
  });

  it('describes the refresh rounds: ciphertexts, the masked levels and scales, the fresh level and scale', () => {
    expect(d.rounds).toEqual([]);
    const c = refreshCircuit();
    const r = describeModel('cnn', c);
    const top = c.params.maxLevel;
    expect(r.rounds.map((x) => [x.ciphertexts, x.masked.length, x.fresh.level])).toEqual([
      [1, 1, top],
      [1, 1, top],
    ]);
    // each segment starts at the level it needs, so every round comes at level 1
    expect(r.rounds.map((x) => x.masked[0]!.level)).toEqual([1, 1]);
    expect(parseModelDescription(JSON.parse(JSON.stringify(r)))).toEqual(r);
    const copy = JSON.parse(JSON.stringify(r));
    copy.rounds[0].fresh.level = top - 1;
    expect(() => parseModelDescription(copy)).toThrow(
      new RegExp(`rounds\\[0\\].fresh.level: a fresh encryption is at level ${top}, not ${top - 1}`),
    );
    copy.rounds[0].fresh.level = top;
    copy.rounds[0].masked.push({ level: 1, scale: 2 });
    expect(() => parseModelDescription(copy)).toThrow(/rounds\[0\].masked: 2 entries for 1 ciphertexts/);
    // the free relayouts travel with their rounds, checked against the slots like a layout
    expect(r.rounds.every((x) => x.relayout !== undefined)).toBe(true);
    const slots = c.params.polyModulusDegree / 2;
    const relaid = () => JSON.parse(JSON.stringify(r));
    const far = relaid();
    far.rounds[1].relayout.from[0] = slots;
    expect(() => parseModelDescription(far)).toThrow(new RegExp(`rounds\\[1\\]\\.relayout\\.from\\[0\\]`));
    const twice = relaid();
    twice.rounds[0].relayout.to[1] = [twice.rounds[0].relayout.to[0][0]];
    expect(() => parseModelDescription(twice)).toThrow(/rounds\[0\]\.relayout\.to\[1\]\[0\]: slot \d+ is written twice/);
    const short = relaid();
    short.rounds[0].relayout.to.pop();
    expect(() => parseModelDescription(short)).toThrow(/rounds\[0\]\.relayout\.to: \d+ entries for \d+ sources/);
    const old = JSON.parse(JSON.stringify(d));
    delete old.rounds; // a server from before rounds
    expect(parseModelDescription(old).rounds).toEqual([]);
  });

  it('lays an input into every slot copy and reads the logits back', () => {
    const x = Float64Array.from({ length: 16 }, (_, i) => i / 16);
    const slots = inputSlots(d, x);
    d.input.slots.forEach((where, j) => where.forEach((s) => expect(slots[s]).toBe(x[j]! * d.input.multiplier)));
    const out = new Float64Array(2048);
    d.output.slots.forEach((where, j) => (out[where[0]!] = j + 1));
    expect(Array.from(outputValues(d, out))).toEqual([1, 2, 3].map((v) => v * d.output.multiplier));
    expect(() => inputSlots(d, new Float64Array(15))).toThrow(/input has 15 values, model dense takes 16/);
    expect(() =>
      inputSlots(
        d,
        x.map((v, i) => (i === 4 ? NaN : v)),
      ),
    ).toThrow(/input value 4 is NaN/);
  });
});
