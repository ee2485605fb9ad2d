import { describe, expect, it } from 'vitest';
import { affineFromTriplets, applyAffine } from '../../src/compiler/affine.js';
import { CircuitBuilder } from '../../src/circuit/index.js';
import type { Circuit, SlotLayout } from '../../src/circuit/index.js';
import { emitLinear, planLinear, splitOffsets } from '../../src/compiler/pack-linear.js';
import { channelStridedLayout, spreadLayouts } from '../../src/compiler/pack.js';
import type { ConvGeometry } from '../../src/compiler/fold.js';
import { selectParameters } from '../../src/compiler/select-params.js';
import { PreparedCircuit } from '../../src/runtime/executor.js';
import { SimBackend } from '../../src/runtime/sim-backend.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

const params = selectParameters({ depth: 2, minScaleBits: 30, maxScaleBits: 30, headroomBits: 10, minSlots: 256, candidates: [8192] });
const slots = params.polyModulusDegree / 2;

function run(build: (b: CircuitBuilder, x: number) => number, inputSlots: Float64Array): Float64Array {
  const b = new CircuitBuilder(params);
  const x = b.input(b.canonical(b.maxLevel));
  const y = build(b, x);
  const circuit = {
    params,
    inputScale: b.canonical(b.maxLevel),
    registerCount: b.registerCount(),
    plaintexts: b.plaintexts,
    ops: b.ops,
    stages: [],
    mode: 'latency',
    outputRegister: y,
    outputRegisters: [y],
  } as unknown as Circuit;
  const be = new SimBackend({ params });
  const prepared = new PreparedCircuit(circuit, be);
  const ct = be.encrypt(inputSlots, circuit.inputScale);
  const { output } = prepared.evaluate(ct);
  return be.decrypt(output);
}

function randomMap(rnd: () => number, outDim: number, inDim: number, density: number) {
  const t: [number, number, number][] = [];
  for (let i = 0; i < outDim; i++) for (let j = 0; j < inDim; j++) if (Math.abs(rnd()) < density) t.push([i, j, rnd()]);
  return affineFromTriplets(
    outDim,
    inDim,
    t,
    Float64Array.from({ length: outDim }, () => rnd()),
  );
}

describe('linear packing', () => {
  const rnd = lcg(3);

  it('splits offsets into baby and giant steps (conv offsets dy·W + dx → W-spaced giants)', () => {
    const offsets = [];
    for (let dy = 0; dy < 5; dy++) for (let dx = 0; dx < 5; dx++) offsets.push(dy * 28 + dx);
    const s = splitOffsets(offsets);
    expect(s.babies.length - 1 + s.giants.length - 1).toBe(8);
  });

  for (const [outDim, inDim, density] of [
    [10, 64, 1],
    [64, 700, 0.3],
    [3, 5, 1],
    [100, 100, 0.05],
  ] as const) {
    it(`fold placement computes A·x + b exactly (${outDim}×${inDim}, density ${density})`, () => {
      const map = randomMap(rnd, outDim, inDim, density);
      const layout: SlotLayout = { length: inDim, slots: Array.from({ length: inDim }, (_, j) => [j]) };
      let m = 1;
      while (m < outDim) m *= 2;
      const pack = planLinear(map, layout, slots, { kind: 'fold', period: m });
      expect(pack.plainMultiplications).toBeLessThanOrEqual(m);
      const x = Float64Array.from({ length: inDim }, () => rnd());
      const xs = new Float64Array(slots);
      xs.set(x);
      const out = run((b, r) => emitLinear(b, r, map, pack), xs);
      const expected = applyAffine(map, x);
      for (let i = 0; i < outDim; i++) for (const s of pack.outLayout.slots[i]!) expect(out[s]).toBeCloseTo(expected[i]!, 9);
    });
  }

  it('anchored placement with replicated input copies (a strided conv) is exact and uses one diagonal per tap', () => {
    // 2 output channels, 3×3 kernel, stride 2, on a 9×9 image; input replicated once per channel
    const H = 9;
    const P = 128;
    const t: [number, number, number][] = [];
    const anchors: number[] = [];
    const w = Array.from({ length: 2 * 9 }, () => rnd());
    for (let o = 0; o < 2; o++)
      for (let oy = 0; oy < 4; oy++)
        for (let ox = 0; ox < 4; ox++) {
          const row = (o * 4 + oy) * 4 + ox;
          anchors.push(o * P + 2 * oy * H + 2 * ox);
          for (let dy = 0; dy < 3; dy++)
            for (let dx = 0; dx < 3; dx++) t.push([row, (2 * oy + dy) * H + 2 * ox + dx, w[o * 9 + dy * 3 + dx]!]);
        }
    const map = affineFromTriplets(32, 81, t, new Float64Array(32).fill(0.5));
    const layout: SlotLayout = { length: 81, slots: Array.from({ length: 81 }, (_, j) => [j, P + j]) };
    const pack = planLinear(map, layout, slots, { kind: 'anchored', slots: Int32Array.from(anchors) });
    expect(pack.diagonals.length).toBe(9);
    const x = Float64Array.from({ length: 81 }, () => rnd());
    const xs = new Float64Array(slots);
    for (let j = 0; j < 81; j++) for (const s of layout.slots[j]!) xs[s] = x[j]!;
    const out = run((b, r) => emitLinear(b, r, map, pack), xs);
    const expected = applyAffine(map, x);
    for (let i = 0; i < 32; i++) expect(out[anchors[i]!]).toBeCloseTo(expected[i]!, 9);
  });

  for (const [outDim, inDim] of [
    [64, 845],
    [10, 64],
    [7, 300],
  ] as const) {
    it(`folds on inputs spread over slot classes are exact and need d diagonals, not up to m (${outDim}×${inDim})`, () => {
      const map = randomMap(rnd, outDim, inDim, 1);
      const single: SlotLayout = { length: inDim, slots: Array.from({ length: inDim }, (_, j) => [j]) };
      let m = 1;
      while (m < outDim) m *= 2;
      const baseline = planLinear(map, single, slots, { kind: 'fold', period: m });
      const spreads = spreadLayouts(inDim, outDim, slots);
      expect(spreads.length).toBeGreaterThan(0);
      for (const spread of spreads) {
        // every slot at most once, every input at least once
        const used = spread.input.slots.flat();
        expect(new Set(used).size).toBe(used.length);
        expect(Math.max(...used)).toBeLessThan(slots);
        const pack = planLinear(map, spread.input, slots, { kind: 'fold', period: spread.period });
        expect(pack.diagonals.length).toBeLessThanOrEqual(spread.classes); // offsets 0 … d − 1 only
        expect(Math.max(...pack.diagonals)).toBeLessThan(spread.classes);
        const x = Float64Array.from({ length: inDim }, () => rnd());
        const xs = new Float64Array(slots);
        for (let j = 0; j < inDim; j++) for (const s of spread.input.slots[j]!) xs[s] = x[j]!;
        const out = run((b, r) => emitLinear(b, r, map, pack), xs);
        const expected = applyAffine(map, x);
        for (let i = 0; i < outDim; i++) for (const s of pack.outLayout.slots[i]!) expect(out[s]).toBeCloseTo(expected[i]!, 9);
      }
      // at the period of the one-copy fold, the spread needs fewer diagonals (a dense map: m of them with one copy)
      const same = spreads.find((s) => s.period === m)!;
      expect(same.classes).toBeLessThan(baseline.diagonals.length);
    });
  }

  /** A random convolution (square kernel, zero padding) as an affine map on CHW vectors, with its geometry. */
  function randomConv(inC: number, H: number, outC: number, k: number, stride: number, pad: number) {
    const outH = Math.floor((H + 2 * pad - k) / stride) + 1;
    const g: ConvGeometry = {
      inChannels: inC,
      inHeight: H,
      inWidth: H,
      outChannels: outC,
      outHeight: outH,
      outWidth: outH,
      kernel: [k, k],
      stride: [stride, stride],
      padding: [pad, pad],
    };
    const t: [number, number, number][] = [];
    for (let o = 0; o < outC; o++)
      for (let oy = 0; oy < outH; oy++)
        for (let ox = 0; ox < outH; ox++)
          for (let c = 0; c < inC; c++)
            for (let dy = 0; dy < k; dy++)
              for (let dx = 0; dx < k; dx++) {
                const y = oy * stride + dy - pad;
                const x = ox * stride + dx - pad;
                if (y >= 0 && y < H && x >= 0 && x < H) t.push([(o * outH + oy) * outH + ox, (c * H + y) * H + x, rnd()]);
              }
    const bias = Float64Array.from({ length: outC * outH * outH }, () => rnd());
    return { g, map: affineFromTriplets(outC * outH * outH, inC * H * H, t, bias) };
  }

  for (const [inC, H, outC, stride] of [
    [16, 8, 16, 1],
    [4, 8, 8, 2],
    [3, 7, 6, 1],
  ] as const) {
    it(`channel-strided conv layout is exact (${inC}→${outC} channels, ${H}×${H}, stride ${stride})`, () => {
      const { g, map } = randomConv(inC, H, outC, 3, stride, 1);
      const strided = channelStridedLayout(g, slots)!;
      expect(strided).not.toBeNull();
      const used = strided.input.slots.flat();
      expect(new Set(used).size).toBe(used.length);
      expect(Math.max(...used)).toBeLessThan(slots);
      const pack = planLinear(map, strided.input, slots, strided.placement);
      // with R ≤ C rotated replicas each slot class sums a share of the channels: at most ⌈C/R⌉·9 diagonals, not
      // C·9 (more replicas than channels add copies, not savings)
      const share = strided.replicas <= inC ? Math.ceil(inC / strided.replicas) : inC;
      expect(pack.diagonals.length).toBeLessThanOrEqual(share * 9);
      const x = Float64Array.from({ length: map.inDim }, () => rnd());
      const xs = new Float64Array(slots);
      for (let j = 0; j < map.inDim; j++) for (const s of strided.input.slots[j]!) xs[s] = x[j]!;
      const out = run((b, r) => emitLinear(b, r, map, pack), xs);
      const expected = applyAffine(map, x);
      for (let i = 0; i < map.outDim; i++) for (const s of pack.outLayout.slots[i]!) expect(out[s]).toBeCloseTo(expected[i]!, 9);
    });
  }

  it('channel-strided layout is refused when the output planes do not fit the slots (1→5 channels of 28×28 in 4096)', () => {
    // five 1024-slot output planes need 5120 slots: anchors past the last slot would wrap onto channel 0's
    expect(channelStridedLayout(randomConv(1, 28, 5, 5, 1, 0).g, slots)).toBeNull();
    expect(channelStridedLayout(randomConv(1, 28, 4, 5, 1, 0).g, slots)).not.toBeNull();
    expect(channelStridedLayout(randomConv(5, 28, 1, 5, 1, 0).g, slots)).toBeNull(); // the input planes do not fit
  });
});
