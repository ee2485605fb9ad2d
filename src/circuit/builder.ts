/**
 * Builds a circuit op by op while tracking every register's level and scale exactly as SEAL will compute them
 * (float64 products and quotients by the dropped prime). Every precondition SEAL checks at run time
 * (matching levels, matching scales, scale within the modulus, a level left to rescale) is checked here, so a
 * circuit built (or replayed, see verify.ts) through it cannot hit a parameter-mismatch or scale-out-of-bounds
 * error. The compiler writes circuits with it; the loader replays them through it.
 */
import type { CkksParameters, ScaledParameters } from '../ckks/params/index.js';
import { CompileError } from '../errors.js';
import type { CircuitOp, CircuitPlaintext } from './types.js';

/** Which Galois keys a circuit may use. */
export type RotationKeySet = 'exact' | 'powers-of-two' | { exact: readonly number[] };

export interface BuilderOptions {
  /**
   * 'exact': one Galois key per distinct rotation step the circuit uses (fewest key switches);
   * 'powers-of-two': only steps ±2^i, each other rotation decomposed into its non-adjacent form (at most
   * log2(N/2) keys, the smallest upload when circuits use many distinct steps, more key switches);
   * `{ exact }`: a key for each listed step and for ±2^i, every other rotation decomposed (a key memory budget:
   * the most used steps keep their own key).
   * @default 'exact'
   */
  rotationKeys?: RotationKeySet;
}

/** Non-adjacent form of s modulo n: signed powers of two summing to s (fewest nonzero digits). */
export function signedPowerSteps(s: number, n: number): number[] {
  let v = ((s % n) + n) % n;
  if (v > n / 2) v -= n; // a left rotation by v ≡ a right rotation by n − v
  const out: number[] = [];
  let bit = 1;
  while (v !== 0) {
    if (v % 2 !== 0) {
      const d = ((v % 4) + 4) % 4 === 1 ? 1 : -1;
      out.push(d * bit);
      v -= d;
    }
    v /= 2;
    bit *= 2;
  }
  return out;
}

/** Relative tolerance for relabelling a scale (absorbs float rounding only). */
const SCALE_RELABEL_TOLERANCE = 1e-9;

export class CircuitBuilder {
  readonly ops: CircuitOp[] = [];
  readonly plaintexts: CircuitPlaintext[] = [];
  readonly level: number[] = [];
  readonly scales: number[] = [];
  readonly rotationSteps = new Set<number>();
  /** The parameters (with their default scale): chain, canonical scales per level, scale bounds. */
  readonly params: ScaledParameters;
  readonly maxLevel: number;
  readonly slotCount: number;
  readonly #constCache = new Map<string, number>();
  readonly #rotationKeys: RotationKeySet;
  readonly #exactSteps: ReadonlySet<number> | null;

  constructor(params: CkksParameters, options: BuilderOptions = {}) {
    if (!params.hasScale()) throw new CompileError('circuit builder: the parameters need a default scale (scaleBits)');
    this.params = params;
    this.maxLevel = params.maxLevel;
    this.slotCount = params.slotCount;
    this.#rotationKeys = options.rotationKeys ?? 'exact';
    const keys = this.#rotationKeys;
    this.#exactSteps =
      typeof keys === 'object' ? new Set(keys.exact.map((k) => ((k % this.slotCount) + this.slotCount) % this.slotCount)) : null;
  }

  /** Canonical scale at a level (CkksParameters.canonicalScales). */
  canonical(level: number): number {
    const s = this.params.canonicalScales[level];
    if (s === undefined) throw new CompileError(`no level ${level} (max level ${this.maxLevel})`);
    return s;
  }

  /** The prime dropped when rescaling from `level`. */
  prime(level: number): number {
    const q = this.params.primeValues[level];
    if (q === undefined || level < 1 || level > this.maxLevel) {
      throw new CompileError(`no level ${level} to rescale from (max level ${this.maxLevel})`);
    }
    return q;
  }

  /** An encrypted input register (inputs are the first registers, created before any op). */
  input(scale: number): number {
    if (this.ops.length !== 0) throw new CompileError('inputs must be created before any op');
    return this.#newReg(this.maxLevel, scale);
  }

  #newReg(level: number, scale: number): number {
    this.#checkScale(level, scale);
    this.level.push(level);
    this.scales.push(scale);
    return this.level.length - 1;
  }

  #checkScale(level: number, scale: number): void {
    if (!(scale > 0) || !Number.isFinite(scale)) throw new CompileError(`scale ${scale} at level ${level} is not positive`);
    if (level < 0 || level > this.maxLevel) throw new CompileError(`no level ${level} (max level ${this.maxLevel})`);
    if (!this.params.planAcceptsScale(level, scale)) {
      throw new CompileError(
        `scale 2^${Math.log2(scale).toFixed(1)} out of bounds at level ${level} (modulus ${this.params.levelBits(level)} bits)`,
      );
    }
  }

  #reg(r: number, what: string): void {
    if (!Number.isInteger(r) || r < 0 || r >= this.level.length) throw new CompileError(`${what}: unknown register ${r}`);
  }

  /** A plaintext slot vector (sparse entries) at a level and scale. */
  plain(indices: Int32Array, values: Float64Array, level: number, scale: number): number {
    this.#checkScale(level, scale);
    this.plaintexts.push({ level, scale, indices, values });
    return this.plaintexts.length - 1;
  }

  /** A constant in every slot at a level and scale (deduplicated). */
  constant(value: number, level: number, scale: number): number {
    const key = `${value}|${level}|${scale}`;
    const hit = this.#constCache.get(key);
    if (hit !== undefined) return hit;
    this.#checkScale(level, scale);
    this.plaintexts.push({ level, scale, constant: value });
    const id = this.plaintexts.length - 1;
    this.#constCache.set(key, id);
    return id;
  }

  rotate(src: number, steps: number): number {
    this.#reg(src, 'rotate');
    const s = ((steps % this.slotCount) + this.slotCount) % this.slotCount;
    if (s === 0) return src;
    const decompose = this.#rotationKeys === 'powers-of-two' || (this.#exactSteps !== null && !this.#exactSteps.has(s));
    if (decompose && (s & (s - 1)) !== 0 && ((this.slotCount - s) & (this.slotCount - s - 1)) !== 0) {
      let r = src;
      for (const d of signedPowerSteps(s, this.slotCount)) r = this.rotate(r, d);
      return r;
    }
    this.rotationSteps.add(s);
    const dst = this.#newReg(this.level[src]!, this.scales[src]!);
    this.ops.push({ op: 'rotate', dst, src, steps: s });
    return dst;
  }

  mulPlain(src: number, pt: number): number {
    this.#reg(src, 'mulPlain');
    const p = this.plaintexts[pt]!;
    if (p.level !== this.level[src]) throw new CompileError(`mulPlain: plaintext level ${p.level} ≠ ciphertext level ${this.level[src]}`);
    const dst = this.#newReg(p.level, this.scales[src]! * p.scale);
    this.ops.push({ op: 'mulPlain', dst, src, pt });
    return dst;
  }

  addPlain(src: number, pt: number): number {
    this.#reg(src, 'addPlain');
    const p = this.plaintexts[pt]!;
    if (p.level !== this.level[src]) throw new CompileError(`addPlain: plaintext level ${p.level} ≠ ciphertext level ${this.level[src]}`);
    if (p.scale !== this.scales[src]) throw new CompileError(`addPlain: plaintext scale ${p.scale} ≠ ciphertext scale ${this.scales[src]}`);
    const dst = this.#newReg(p.level, this.scales[src]);
    this.ops.push({ op: 'addPlain', dst, src, pt });
    return dst;
  }

  #binary(op: 'mul' | 'add' | 'sub', a: number, b: number): number {
    this.#reg(a, op);
    this.#reg(b, op);
    if (this.level[a] !== this.level[b]) throw new CompileError(`${op}: levels ${this.level[a]} and ${this.level[b]} differ`);
    if (op !== 'mul' && this.scales[a] !== this.scales[b]) {
      throw new CompileError(`${op}: scales ${this.scales[a]} and ${this.scales[b]} differ`);
    }
    const scale = op === 'mul' ? this.scales[a]! * this.scales[b]! : this.scales[a]!;
    const dst = this.#newReg(this.level[a]!, scale);
    this.ops.push({ op, dst, a, b });
    return dst;
  }

  mul(a: number, b: number): number {
    return this.#binary('mul', a, b);
  }
  add(a: number, b: number): number {
    return this.#binary('add', a, b);
  }
  sub(a: number, b: number): number {
    return this.#binary('sub', a, b);
  }

  rescale(src: number): number {
    this.#reg(src, 'rescale');
    const lvl = this.level[src]!;
    const q = this.prime(lvl);
    const dst = this.#newReg(lvl - 1, this.scales[src]! / q);
    this.ops.push({ op: 'rescale', dst, src });
    return dst;
  }

  /** Modulus-switch down to `level` (no-op when already there). */
  drop(src: number, level: number): number {
    this.#reg(src, 'drop');
    if (level === this.level[src]) return src;
    if (level > this.level[src]! || level < 0) throw new CompileError(`drop: cannot go from level ${this.level[src]} to ${level}`);
    const dst = this.#newReg(level, this.scales[src]!);
    this.ops.push({ op: 'drop', dst, src, level });
    return dst;
  }

  /** Relabel the scale when float rounding made it differ from the planned one (no-op when equal). */
  alignScale(src: number, scale: number): number {
    this.#reg(src, 'setScale');
    const cur = this.scales[src]!;
    if (cur === scale) return src;
    if (Math.abs(cur / scale - 1) > SCALE_RELABEL_TOLERANCE) {
      throw new CompileError(`internal: scale ${cur} differs from planned ${scale} by more than rounding`);
    }
    const dst = this.#newReg(this.level[src]!, scale);
    this.ops.push({ op: 'setScale', dst, src, scale });
    return dst;
  }

  /**
   * A client-aided refresh of `src`: a fresh ciphertext at the top level and its canonical scale. The masked
   * values |x + r| ≤ 2·maskBound must fit, at the source's scale, in the modulus of the source's level (one bit
   * below it, as SEAL decodes centred residues) — otherwise the key holder decrypts garbage.
   */
  refresh(src: number, maskBound: number): number {
    this.#reg(src, 'refresh');
    if (!(maskBound > 0) || !Number.isFinite(maskBound))
      throw new CompileError(`refresh: mask bound ${maskBound} is not a positive number`);
    const level = this.level[src]!;
    const needed = refreshBits(maskBound, this.scales[src]!);
    if (needed >= this.params.levelBits(level)) {
      throw new CompileError(
        `refresh: masked values up to 2^${Math.log2(2 * maskBound).toFixed(1)} at scale 2^${Math.log2(this.scales[src]!).toFixed(1)} need ` +
          `${needed.toFixed(1)} bits; level ${level} has ${this.params.levelBits(level)} (refresh one level earlier, or a smaller mask)`,
      );
    }
    const dst = this.#newReg(this.maxLevel, this.canonical(this.maxLevel));
    this.ops.push({ op: 'refresh', dst, src, maskBound });
    return dst;
  }

  /** a·b with both brought to the lower level, then rescaled. */
  mulRescale(a: number, b: number): number {
    const lvl = Math.min(this.level[a]!, this.level[b]!);
    const x = this.drop(a, lvl);
    const y = b === a ? x : this.drop(b, lvl);
    return this.rescale(this.mul(x, y));
  }

  /**
   * Σ c_i·v_i + c0 landing at exactly (level, scale): each term is dropped to level+1, multiplied by its constant
   * encoded at scale·q_{level+1}/scale(v_i), summed, shifted by c0, and rescaled once.
   */
  linearCombination(terms: readonly { v: number; c: number }[], c0: number, level: number, scale: number): number {
    const q = this.prime(level + 1);
    const target = scale * q;
    let acc: number | null = null;
    for (const { v, c } of terms) {
      if (c === 0) continue;
      if (this.level[v]! < level + 1) {
        throw new CompileError(`internal: linear term at level ${this.level[v]} cannot land at level ${level}`);
      }
      const x = this.drop(v, level + 1);
      const pt = this.constant(c, level + 1, target / this.scales[x]!);
      const prod = this.alignScale(this.mulPlain(x, pt), target);
      acc = acc === null ? prod : this.add(acc, prod);
    }
    if (acc === null) {
      // every coefficient zero: 0·v_0 keeps the data flow valid (rare: a polynomial with a vanishing leaf)
      const v = terms[0]?.v;
      if (v === undefined) throw new CompileError('internal: empty linear combination');
      const x = this.drop(v, level + 1);
      acc = this.alignScale(this.mulPlain(x, this.constant(0, level + 1, target / this.scales[x]!)), target);
    }
    if (c0 !== 0) acc = this.addPlain(acc, this.constant(c0, level + 1, target));
    return this.alignScale(this.rescale(acc), scale);
  }

  /** a + c for a constant c. */
  addConstant(a: number, c: number): number {
    if (c === 0) return a;
    return this.addPlain(a, this.constant(c, this.level[a]!, this.scales[a]!));
  }

  registerCount(): number {
    return this.level.length;
  }
}

/**
 * Bits of modulus the masked values of a refresh need: |x + r| ≤ 2·maskBound at `scale`, plus one (SEAL decodes
 * centred residues). The source's level must hold more than this.
 */
export function refreshBits(maskBound: number, scale: number): number {
  return Math.log2(2 * maskBound * scale) + 1;
}
