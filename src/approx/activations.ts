/**
 * The activation catalog: exact float64 definitions, derivatives (in x and in every learnable parameter),
 * parameter validation, and the structural facts the fitter exploits (parity, positive homogeneity).
 *
 * An activation is written as a spec string `name[:p=v,p=v]`, e.g. `relu`, `ulu:a1=0.5,a2=2`, `aulu:b1=0.7,b2=1.4`.
 */
import { ActivationError } from '../errors.js';
import { normalCdf, normalPdf, sigmoid, softplus } from './special.js';

/** One parameter of an activation. */
export interface ParamSpec {
  readonly name: string;
  readonly default: number;
  /** Smallest allowed value (inclusive unless `exclusiveMin`). */
  readonly min?: number;
  readonly exclusiveMin?: boolean;
  readonly max?: number;
  /** Trained by gradient descent when the activation sits in a network. */
  readonly learnable: boolean;
  readonly doc: string;
}

/**
 * Parity structure: f(x) − poly(x) is even or odd about 0, where `poly` holds power-basis coefficients
 * of an exact low-degree polynomial part (e.g. ReLU(x) = x/2 + |x|/2: even with poly [0, 0.5]).
 * On a symmetric interval the minimax polynomial of f is poly plus the minimax polynomial of the even/odd part.
 */
export interface ParityHint {
  readonly symmetry: 'even' | 'odd';
  readonly poly: readonly number[];
}

interface ActivationDef {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly summary: string;
  readonly params: readonly ParamSpec[];
  /** Infinitely differentiable on the real line (Chebyshev coefficients decay geometrically). */
  readonly smooth: boolean;
  /** f(x) for parameter values p (in `params` order). */
  f(x: number, p: readonly number[]): number;
  /** df/dx. At a kink the right derivative is used. */
  dfdx(x: number, p: readonly number[]): number;
  /** df/dp_i written into out[i] for every parameter (0 for non-learnable ones is fine). */
  dfdp?(x: number, p: readonly number[], out: Float64Array): void;
  parity(p: readonly number[]): ParityHint | null;
  /** Degree h of positive homogeneity f(λx) = λ^h f(x) for λ > 0, or null. */
  homogeneity(p: readonly number[]): number | null;
}

const positive = (name: string, def: number, learnable: boolean, doc: string): ParamSpec => ({
  name,
  default: def,
  min: 0,
  exclusiveMin: true,
  learnable,
  doc,
});

/** ULU core: 0.5·x·(tanh(a·x)+1) and its derivatives in x and a. */
function uluF(x: number, a: number): number {
  return 0.5 * x * (Math.tanh(a * x) + 1);
}
function uluDx(x: number, a: number): number {
  const t = Math.tanh(a * x);
  return 0.5 * (t + 1) + 0.5 * a * x * (1 - t * t);
}
function uluDa(x: number, a: number): number {
  const t = Math.tanh(a * x);
  return 0.5 * x * x * (1 - t * t);
}

/** Swim's algebraic sigmoid s(z) = (1 + z/√(1+z²))/2. */
function algebraicSigmoid(z: number): number {
  return 0.5 * (1 + z / Math.sqrt(1 + z * z));
}

const EVEN_PLUS_HALF_X: ParityHint = { symmetry: 'even', poly: [0, 0.5] };

const DEFS: readonly ActivationDef[] = [
  {
    name: 'relu',
    summary: 'max(0, x)',
    params: [],
    smooth: false,
    f: (x) => (x > 0 ? x : 0),
    dfdx: (x) => (x > 0 ? 1 : 0),
    parity: () => EVEN_PLUS_HALF_X,
    homogeneity: () => 1,
  },
  {
    name: 'abs',
    summary: '|x|',
    params: [],
    smooth: false,
    f: (x) => Math.abs(x),
    dfdx: (x) => (x >= 0 ? 1 : -1),
    parity: () => ({ symmetry: 'even', poly: [] }),
    homogeneity: () => 1,
  },
  {
    name: 'sign',
    summary: 'sign(x): -1, 0, 1 (fit it on [-1,-eps]∪[eps,1])',
    params: [],
    smooth: false,
    f: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
    dfdx: () => 0,
    parity: () => ({ symmetry: 'odd', poly: [] }),
    homogeneity: () => 0,
  },
  {
    name: 'step',
    aliases: ['heaviside'],
    summary: 'Heaviside step: 0 for x<0, 1/2 at 0, 1 for x>0',
    params: [],
    smooth: false,
    f: (x) => (x > 0 ? 1 : x < 0 ? 0 : 0.5),
    dfdx: () => 0,
    parity: () => ({ symmetry: 'odd', poly: [0.5] }),
    homogeneity: () => 0,
  },
  {
    name: 'leaky-relu',
    aliases: ['leaky'],
    summary: 'x for x>0, alpha·x otherwise',
    params: [{ name: 'alpha', default: 0.01, min: 0, max: 1, learnable: false, doc: 'slope for x<0' }],
    smooth: false,
    f: (x, [a]) => (x > 0 ? x : a! * x),
    dfdx: (x, [a]) => (x > 0 ? 1 : a!),
    parity: ([a]) => ({ symmetry: 'even', poly: [0, (1 + a!) / 2] }),
    homogeneity: () => 1,
  },
  {
    name: 'relu2',
    aliases: ['relu-squared'],
    summary: 'ReLU(x)²',
    params: [],
    smooth: false,
    f: (x) => (x > 0 ? x * x : 0),
    dfdx: (x) => (x > 0 ? 2 * x : 0),
    // relu(x)² = x²/2 + x|x|/2, and x|x| is odd
    parity: () => ({ symmetry: 'odd', poly: [0, 0, 0.5] }),
    homogeneity: () => 2,
  },
  {
    name: 'square',
    summary: 'x² (the CryptoNets activation; exact, degree 2)',
    params: [],
    smooth: true,
    f: (x) => x * x,
    dfdx: (x) => 2 * x,
    parity: () => ({ symmetry: 'even', poly: [] }),
    homogeneity: () => 2,
  },
  {
    name: 'sigmoid',
    summary: '1/(1+e^-x)',
    params: [],
    smooth: true,
    f: (x) => sigmoid(x),
    dfdx: (x) => {
      const s = sigmoid(x);
      return s * (1 - s);
    },
    parity: () => ({ symmetry: 'odd', poly: [0.5] }),
    homogeneity: () => null,
  },
  {
    name: 'tanh',
    summary: 'tanh(x)',
    params: [],
    smooth: true,
    f: (x) => Math.tanh(x),
    dfdx: (x) => {
      const t = Math.tanh(x);
      return 1 - t * t;
    },
    parity: () => ({ symmetry: 'odd', poly: [] }),
    homogeneity: () => null,
  },
  {
    // Hendrycks & Gimpel, "Gaussian Error Linear Units (GELUs)", 2016: exact erf form x·Φ(x).
    name: 'gelu',
    summary: 'x·Φ(x) = x/2·(1 + erf(x/√2)) (exact erf form)',
    params: [],
    smooth: true,
    f: (x) => x * normalCdf(x),
    dfdx: (x) => normalCdf(x) + x * normalPdf(x),
    parity: () => EVEN_PLUS_HALF_X,
    homogeneity: () => null,
  },
  {
    // Ramachandran, Zoph & Le, "Searching for Activation Functions", 2017: Swish_β(x) = x·σ(βx); β=1 is SiLU.
    name: 'silu',
    aliases: ['swish'],
    summary: 'x·sigmoid(beta·x) (SiLU at beta=1, Swish-β otherwise)',
    params: [{ name: 'beta', default: 1, min: 0, exclusiveMin: true, learnable: true, doc: 'gate sharpness' }],
    smooth: true,
    f: (x, [b]) => x * sigmoid(b! * x),
    dfdx: (x, [b]) => {
      const s = sigmoid(b! * x);
      return s + b! * x * s * (1 - s);
    },
    dfdp: (x, [b], out) => {
      const s = sigmoid(b! * x);
      out[0] = x * x * s * (1 - s);
    },
    parity: () => EVEN_PLUS_HALF_X,
    homogeneity: () => null,
  },
  {
    // Misra, "Mish: A Self Regularized Non-Monotonic Activation Function", 2019.
    name: 'mish',
    summary: 'x·tanh(softplus(x))',
    params: [],
    smooth: true,
    f: (x) => x * Math.tanh(softplus(x)),
    dfdx: (x) => {
      const t = Math.tanh(softplus(x));
      return t + x * (1 - t * t) * sigmoid(x);
    },
    parity: () => null,
    homogeneity: () => null,
  },
  {
    // Clevert, Unterthiner & Hochreiter, "Fast and Accurate Deep Network Learning by ELUs", 2015.
    name: 'elu',
    summary: 'x for x>0, alpha·(e^x − 1) otherwise',
    params: [{ name: 'alpha', default: 1, min: 0, exclusiveMin: true, learnable: false, doc: 'saturation value for x→−∞' }],
    smooth: false,
    f: (x, [a]) => (x > 0 ? x : a! * Math.expm1(x)),
    dfdx: (x, [a]) => (x > 0 ? 1 : a! * Math.exp(x)),
    parity: () => null,
    homogeneity: () => null,
  },
  {
    name: 'softplus',
    summary: 'log(1 + e^x)',
    params: [],
    smooth: true,
    f: (x) => softplus(x),
    dfdx: (x) => sigmoid(x),
    // softplus(x) − x/2 = log(2·cosh(x/2)) is even
    parity: () => EVEN_PLUS_HALF_X,
    homogeneity: () => null,
  },
  {
    // ULU: f(x; a) = 0.5·x·(tanh(a·x)+1) with a = a1 for x<0 and a = a2 for x≥0 (= x·σ(2a·x)).
    name: 'ulu',
    summary: '0.5·x·(tanh(a·x)+1), a = a1 for x<0, a2 for x≥0',
    params: [positive('a1', 1, false, 'sharpness for x<0'), positive('a2', 1, false, 'sharpness for x≥0')],
    smooth: false,
    f: (x, [a1, a2]) => uluF(x, x < 0 ? a1! : a2!),
    dfdx: (x, [a1, a2]) => uluDx(x, x < 0 ? a1! : a2!),
    parity: ([a1, a2]) => (a1 === a2 ? EVEN_PLUS_HALF_X : null),
    homogeneity: () => null,
  },
  {
    // AULU: ULU with a = β1² (x<0), β2² (x≥0), β learnable (squares keep a > 0 under gradient descent).
    name: 'aulu',
    summary: 'ULU with a = b1² for x<0, b2² for x≥0 (b1, b2 learnable)',
    params: [
      { name: 'b1', default: 1, learnable: true, doc: 'sqrt of the sharpness for x<0 (nonzero)' },
      { name: 'b2', default: 1, learnable: true, doc: 'sqrt of the sharpness for x≥0 (nonzero)' },
    ],
    smooth: false,
    f: (x, [b1, b2]) => uluF(x, x < 0 ? b1! * b1! : b2! * b2!),
    dfdx: (x, [b1, b2]) => uluDx(x, x < 0 ? b1! * b1! : b2! * b2!),
    dfdp: (x, [b1, b2], out) => {
      if (x < 0) {
        out[0] = 2 * b1! * uluDa(x, b1! * b1!);
        out[1] = 0;
      } else {
        out[0] = 0;
        out[1] = 2 * b2! * uluDa(x, b2! * b2!);
      }
    },
    parity: ([b1, b2]) => (b1! * b1! === b2! * b2! ? EVEN_PLUS_HALF_X : null),
    homogeneity: () => null,
  },
  {
    // xIELU: Huang, "Deriving Activation Functions via Integration" (arXiv:2411.13010), the integral of a
    // trainable affine ELU: f(x) = αp·x² + β·x for x>0, αn·(expm1(min(x, ε)) − x) + β·x for x≤0,
    // with αp > 0 (softplus-parametrised in the paper), αn > β, β = 0.5 and ε = −1e-6 as published.
    name: 'xielu',
    summary: 'ap·x² + beta·x for x>0; an·(expm1(min(x,eps)) − x) + beta·x for x≤0',
    params: [
      positive('ap', 0.8, true, 'quadratic slope for x>0'),
      { name: 'an', default: 0.8, min: 0, exclusiveMin: true, learnable: true, doc: 'negative-gradient flow for x≤0 (> beta)' },
      { name: 'beta', default: 0.5, learnable: false, doc: 'linear term' },
      { name: 'eps', default: -1e-6, max: 0, learnable: false, doc: 'clip of the exponent (≤ 0)' },
    ],
    smooth: false,
    f: (x, [ap, an, beta, eps]) => (x > 0 ? ap! * x * x + beta! * x : an! * (Math.expm1(Math.min(x, eps!)) - x) + beta! * x),
    dfdx: (x, [ap, an, beta, eps]) => (x > 0 ? 2 * ap! * x + beta! : an! * ((x < eps! ? Math.exp(x) : 0) - 1) + beta!),
    dfdp: (x, [, , , eps], out) => {
      out[0] = x > 0 ? x * x : 0;
      out[1] = x > 0 ? 0 : Math.expm1(Math.min(x, eps!)) - x;
      out[2] = 0;
      out[3] = 0;
    },
    parity: () => null,
    homogeneity: () => null,
  },
  {
    // Swim: Abdool & Dear, "Swim: A General-Purpose, High-Performing, and Efficient Activation Function for
    // Locomotion Control Tasks" (arXiv:2303.02640): Swish with the logistic gate replaced by the algebraic
    // sigmoid, Swim(x) = x/2·(1 + k·x/√(1 + k²x²)), k = 0.5.
    name: 'swim',
    summary: 'x/2·(1 + k·x/√(1+k²x²))',
    params: [positive('k', 0.5, false, 'gate sharpness')],
    smooth: true,
    f: (x, [k]) => x * algebraicSigmoid(k! * x),
    dfdx: (x, [k]) => {
      const z = k! * x;
      return algebraicSigmoid(z) + (0.5 * z) / Math.pow(1 + z * z, 1.5);
    },
    parity: () => EVEN_PLUS_HALF_X,
    homogeneity: () => null,
  },
  {
    // LSLU: Feng et al., "Activation function optimization method: Learnable series linear units (LSLUs)"
    // (arXiv:2409.08283). The element-wise unit of the series (their LSLU.py: x ← ReLU(x)·θ + ω) with learnable
    // amplitude θ and offset ω; the depthwise convolution that follows it in their layer is linear and belongs
    // to the adjacent linear layer in pann.
    name: 'lslu',
    summary: 'theta·ReLU(x) + omega (theta, omega learnable)',
    params: [
      { name: 'theta', default: 1, learnable: true, doc: 'amplitude (slope for x>0)' },
      { name: 'omega', default: 0, learnable: true, doc: 'offset' },
    ],
    smooth: false,
    f: (x, [t, w]) => t! * (x > 0 ? x : 0) + w!,
    dfdx: (x, [t]) => (x > 0 ? t! : 0),
    dfdp: (x, _p, out) => {
      out[0] = x > 0 ? x : 0;
      out[1] = 1;
    },
    parity: ([t, w]) => ({ symmetry: 'even', poly: [w!, t! / 2] }),
    homogeneity: ([, w]) => (w === 0 ? 1 : null),
  },
];

const BY_NAME = new Map<string, ActivationDef>();
for (const d of DEFS) {
  BY_NAME.set(d.name, d);
  for (const a of d.aliases ?? []) BY_NAME.set(a, d);
}

/** Canonical names of every activation in the catalog. */
export const ACTIVATION_NAMES: readonly string[] = DEFS.map((d) => d.name);

/** Human-readable list of every activation with its parameters, for error messages and `--help`. */
export function describeActivations(): string {
  return DEFS.map((d) => {
    const ps = d.params.map((p) => `${p.name}=${p.default}${p.learnable ? '*' : ''}`).join(',');
    return `${d.name}${ps ? `:${ps}` : ''}  ${d.summary}`;
  }).join('\n');
}

function formatNumber(x: number): string {
  return Object.is(x, -0) ? '0' : String(x);
}

/** An activation with concrete parameter values. Immutable. */
export class Activation {
  readonly name: string;
  readonly values: readonly number[];
  readonly #def: ActivationDef;

  /** Use {@link activation} or {@link parseActivation}. */
  private constructor(def: ActivationDef, values: readonly number[]) {
    this.#def = def;
    this.name = def.name;
    this.values = Object.freeze([...values]);
  }

  /** @internal */
  static create(def: ActivationDef, values: readonly number[]): Activation {
    return new Activation(def, values);
  }

  get summary(): string {
    return this.#def.summary;
  }
  get paramSpecs(): readonly ParamSpec[] {
    return this.#def.params;
  }
  /** Parameter values by name. */
  get params(): Record<string, number> {
    const out: Record<string, number> = {};
    this.#def.params.forEach((p, i) => (out[p.name] = this.values[i]!));
    return out;
  }
  /** Indices (into `values`) of the learnable parameters. */
  get learnableIndices(): number[] {
    return this.#def.params.flatMap((p, i) => (p.learnable ? [i] : []));
  }
  get smooth(): boolean {
    return this.#def.smooth;
  }
  get parity(): ParityHint | null {
    return this.#def.parity(this.values);
  }
  get homogeneity(): number | null {
    return this.#def.homogeneity(this.values);
  }

  f(x: number): number {
    return this.#def.f(x, this.values);
  }
  dfdx(x: number): number {
    return this.#def.dfdx(x, this.values);
  }
  /** Gradient in every parameter (length = values.length); zeros where the activation has no learnable parameter. */
  dfdp(x: number, out: Float64Array = new Float64Array(this.values.length)): Float64Array {
    if (this.#def.dfdp) this.#def.dfdp(x, this.values, out);
    else out.fill(0);
    return out;
  }

  /** The same activation with some parameters replaced (validated). */
  with(params: Record<string, number>): Activation {
    return activation(this.name, { ...this.params, ...params });
  }

  /** Canonical spec string, e.g. `ulu:a1=0.5,a2=2` (all parameters, in catalog order). */
  toString(): string {
    if (this.#def.params.length === 0) return this.name;
    return `${this.name}:${this.#def.params.map((p, i) => `${p.name}=${formatNumber(this.values[i]!)}`).join(',')}`;
  }

  toJSON(): { name: string; params: Record<string, number> } {
    return { name: this.name, params: this.params };
  }
}

function lookup(name: string): ActivationDef {
  const def = BY_NAME.get(name.trim().toLowerCase());
  if (!def) {
    throw new ActivationError(
      `unknown activation '${name}'; valid activations (name:param=default, * = learnable):\n${describeActivations()}`,
    );
  }
  return def;
}

function validateParam(def: ActivationDef, spec: ParamSpec, v: number): void {
  const where = `activation ${def.name}: parameter ${spec.name}=${v}`;
  if (!Number.isFinite(v)) throw new ActivationError(`${where} is not a finite number`);
  if (spec.min !== undefined && (spec.exclusiveMin ? v <= spec.min : v < spec.min)) {
    throw new ActivationError(`${where} must be ${spec.exclusiveMin ? '>' : '≥'} ${spec.min} (${spec.doc})`);
  }
  if (spec.max !== undefined && v > spec.max) {
    throw new ActivationError(`${where} must be ≤ ${spec.max} (${spec.doc})`);
  }
}

/** Build an activation from a name and parameters (missing ones take their defaults). */
export function activation(name: string, params: Record<string, number> = {}): Activation {
  const def = lookup(name);
  const known = new Set(def.params.map((p) => p.name));
  for (const k of Object.keys(params)) {
    if (!known.has(k)) {
      const valid = def.params.length ? def.params.map((p) => `${p.name} (${p.doc})`).join(', ') : 'none';
      throw new ActivationError(`activation ${def.name} has no parameter '${k}'; its parameters: ${valid}`);
    }
  }
  const values = def.params.map((p) => {
    const v = params[p.name] ?? p.default;
    validateParam(def, p, v);
    return v;
  });
  if (def.name === 'aulu' && (values[0] === 0 || values[1] === 0)) {
    throw new ActivationError(`activation aulu: b1 and b2 must be nonzero (sharpness b² must be > 0)`);
  }
  if (def.name === 'xielu' && !(values[1]! > values[2]!)) {
    throw new ActivationError(`activation xielu: an=${values[1]} must be > beta=${values[2]} (the published constraint)`);
  }
  return Activation.create(def, values);
}

/** Parse `name[:p=v,p=v]`, e.g. `ulu:a1=0.5,a2=2`. */
export function parseActivation(spec: string): Activation {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new ActivationError(`empty activation spec; valid activations:\n${describeActivations()}`);
  }
  const colon = spec.indexOf(':');
  const name = colon < 0 ? spec : spec.slice(0, colon);
  const rest = colon < 0 ? '' : spec.slice(colon + 1).trim();
  const def = lookup(name);
  const params: Record<string, number> = {};
  if (rest !== '') {
    for (const part of rest.split(',')) {
      const eq = part.indexOf('=');
      if (eq < 0) throw new ActivationError(`activation ${def.name}: expected param=value, got '${part}'`);
      const k = part.slice(0, eq).trim();
      const raw = part.slice(eq + 1).trim();
      const v = raw === '' ? NaN : Number(raw);
      if (!Number.isFinite(v)) {
        throw new ActivationError(`activation ${def.name}: parameter ${k}='${raw}' is not a finite number`);
      }
      if (k in params) throw new ActivationError(`activation ${def.name}: parameter ${k} given twice`);
      params[k] = v;
    }
  }
  return activation(def.name, params);
}

/** Rebuild an activation from its JSON form `{ name, params }`. */
export function activationFromJSON(json: unknown): Activation {
  if (typeof json === 'string') return parseActivation(json);
  if (!json || typeof json !== 'object') throw new ActivationError(`activation must be a string or {name, params}`);
  const { name, params } = json as { name?: unknown; params?: unknown };
  if (typeof name !== 'string') throw new ActivationError(`activation.name must be a string`);
  if (params !== undefined && (params === null || typeof params !== 'object' || Array.isArray(params))) {
    throw new ActivationError(`activation.params must be an object of numbers`);
  }
  const ps: Record<string, number> = {};
  for (const [k, v] of Object.entries((params ?? {}) as Record<string, unknown>)) {
    if (typeof v !== 'number') throw new ActivationError(`activation ${name}: parameter ${k} must be a number`);
    ps[k] = v;
  }
  return activation(name, ps);
}
