/**
 * The executor: runs a compiled circuit on a Backend, op for op, freeing each register after its last use.
 * Plaintexts are encoded once per (circuit, backend) and reused across inferences.
 */
import type { Circuit, CircuitOp } from '../circuit/index.js';
import type { Backend, CipherHandle, PlainHandle } from './backend.js';
import { InputError, RuntimeError } from './errors.js';

/** Per-stage wall-clock times of one evaluation. */
export interface StageTiming {
  name: string;
  ms: number;
}

/**
 * Latency circuits keep every plaintext encoded (each evaluation reuses them all). Throughput circuits keep only
 * plaintexts used by at least this many ops per evaluation; their one-off weights (tens of thousands of
 * constants) are encoded when used — the constant fast path, no FFT — and freed right after.
 */
const CACHE_MIN_USES = 2;

/** A circuit bound to a backend: plaintexts encoded, last uses computed. Dispose to free the plaintexts. */
export class PreparedCircuit {
  readonly circuit: Circuit;
  readonly backend: Backend;
  readonly #plain: (PlainHandle | null)[];
  readonly #uses: Int32Array;
  readonly #lastUse: Int32Array;
  readonly #inputCount: number;
  #disposed = false;

  constructor(circuit: Circuit, backend: Backend) {
    if (backend.slotCount !== circuit.params.polyModulusDegree / 2) {
      throw new RuntimeError(`backend has ${backend.slotCount} slots, circuit needs ${circuit.params.polyModulusDegree / 2}`);
    }
    const expectedLevel = circuit.params.coeffModulusBits.length - 2;
    if (backend.maxLevel !== expectedLevel) {
      throw new RuntimeError(`backend max level ${backend.maxLevel} ≠ circuit's ${expectedLevel}`);
    }
    for (let i = 0; i < circuit.params.primeValues.length; i++) {
      if (backend.primes[i] !== circuit.params.primeValues[i]) {
        throw new RuntimeError(`backend prime ${i} is ${backend.primes[i]}, circuit expects ${circuit.params.primeValues[i]}`);
      }
    }
    this.circuit = circuit;
    this.backend = backend;
    this.#plain = circuit.plaintexts.map(() => null);
    this.#uses = new Int32Array(circuit.plaintexts.length);
    for (const op of circuit.ops) if (op.op === 'mulPlain' || op.op === 'addPlain') this.#uses[op.pt]!++;
    this.#lastUse = lastUses(circuit.ops, circuit.registerCount);
    this.#inputCount = circuit.mode === 'throughput' ? circuit.inputLayout.length : 1;
  }

  /** Number of input ciphertexts an evaluation takes (1 in latency mode). */
  get inputCount(): number {
    return this.#inputCount;
  }

  #encode(id: number): PlainHandle {
    const p = this.circuit.plaintexts[id];
    if (!p) throw new RuntimeError(`circuit references plaintext ${id}, which does not exist`);
    if (p.constant !== undefined) return this.backend.encodeConstant(p.constant, p.level, p.scale);
    const values = new Float64Array(this.backend.slotCount);
    if (p.indices && p.values) for (let i = 0; i < p.indices.length; i++) values[p.indices[i]!] = p.values[i]!;
    return this.backend.encode(values, p.level, p.scale);
  }

  /** The plaintext for an op, and whether the caller must free it after the op. */
  #plaintext(id: number): { h: PlainHandle; transient: boolean } {
    const cached = this.#plain[id];
    if (cached) return { h: cached, transient: false };
    const h = this.#encode(id);
    if (!this.#keep(id)) return { h, transient: true };
    this.#plain[id] = h;
    return { h, transient: false };
  }

  #keep(id: number): boolean {
    return this.circuit.mode === 'latency' || this.#uses[id]! >= CACHE_MIN_USES;
  }

  /** Encode every plaintext that stays encoded now (otherwise they are encoded lazily on first use). */
  encodeAll(): void {
    for (let i = 0; i < this.circuit.plaintexts.length; i++) if (!this.#plain[i] && this.#keep(i)) this.#plain[i] = this.#encode(i);
  }

  /**
   * Evaluate a latency circuit on one encrypted input (the caller keeps ownership of `input`). Returns the output
   * ciphertext (owned by the caller) and per-stage timings.
   */
  evaluate(input: CipherHandle): { output: CipherHandle; timings: StageTiming[] } {
    if (this.circuit.mode !== 'latency')
      throw new RuntimeError('evaluate: a throughput circuit takes one ciphertext per input value (evaluateBatch)');
    const { outputs, timings } = this.evaluateBatch([input]);
    return { output: outputs[0]!, timings };
  }

  /**
   * Evaluate on the input ciphertexts (latency: one; throughput: one per input value). The caller keeps ownership
   * of the inputs and owns the returned outputs.
   */
  evaluateBatch(inputs: readonly CipherHandle[]): { outputs: CipherHandle[]; timings: StageTiming[] } {
    if (this.#disposed) throw new RuntimeError('prepared circuit was disposed');
    const c = this.circuit;
    const be = this.backend;
    if (inputs.length !== this.#inputCount)
      throw new InputError(`circuit takes ${this.#inputCount} input ciphertext(s), got ${inputs.length}`);
    for (const [i, input] of inputs.entries()) {
      if (input.level !== be.maxLevel) throw new InputError(`input ciphertext ${i} is at level ${input.level}, expected ${be.maxLevel}`);
      if (Math.abs(input.scale / c.inputScale - 1) > 1e-9) {
        throw new InputError(`input ciphertext ${i} scale ${input.scale} ≠ circuit input scale ${c.inputScale}`);
      }
    }
    const regs: (CipherHandle | null)[] = new Array(c.registerCount).fill(null);
    inputs.forEach((h, i) => (regs[i] = h));
    const owned = new Uint8Array(c.registerCount); // 1 = this evaluation created it (may free)
    const isOutput = new Uint8Array(c.registerCount);
    for (const r of c.outputRegisters) isOutput[r] = 1;
    const timings: StageTiming[] = [];
    let stage = 0;
    let stageStart = performance.now();
    const get = (r: number): CipherHandle => {
      const h = regs[r];
      if (!h) throw new RuntimeError(`register ${r} read before it was written`);
      return h;
    };
    const withPlain = (id: number, f: (p: PlainHandle) => CipherHandle): CipherHandle => {
      const { h, transient } = this.#plaintext(id);
      try {
        return f(h);
      } finally {
        if (transient) be.free(h);
      }
    };
    try {
      for (let i = 0; i < c.ops.length; i++) {
        while (stage < c.stages.length && i >= c.stages[stage]!.ops[1]) {
          timings.push({ name: c.stages[stage]!.name, ms: performance.now() - stageStart });
          stageStart = performance.now();
          stage++;
        }
        const op = c.ops[i]!;
        let out: CipherHandle;
        switch (op.op) {
          case 'rotate':
            out = be.rotate(get(op.src), op.steps);
            break;
          case 'mulPlain':
            out = withPlain(op.pt, (p) => be.mulPlain(get(op.src), p));
            break;
          case 'addPlain':
            out = withPlain(op.pt, (p) => be.addPlain(get(op.src), p));
            break;
          case 'mul':
            out = be.mul(get(op.a), get(op.b));
            break;
          case 'add': {
            // accumulate into an operand nobody reads again (the multiply–accumulate chains of linear layers):
            // no new ciphertext and no copy of it; the register passes to dst
            const into = op.a !== op.b ? [op.a, op.b].find((r) => this.#lastUse[r] === i && owned[r] && !isOutput[r]) : undefined;
            if (into === undefined) {
              out = be.add(get(op.a), get(op.b));
              break;
            }
            out = get(into);
            be.addInPlace(out, get(into === op.a ? op.b : op.a));
            regs[into] = null;
            owned[into] = 0;
            break;
          }
          case 'sub':
            out = be.sub(get(op.a), get(op.b));
            break;
          case 'rescale':
            out = be.rescale(get(op.src));
            break;
          case 'drop':
            out = be.dropToLevel(get(op.src), op.level);
            break;
          case 'setScale': {
            // relabel in place: the compiler only emits setScale on a register's last use
            if (this.#lastUse[op.src] !== i) throw new RuntimeError(`op ${i}: setScale on register ${op.src}, which is read later`);
            out = get(op.src);
            be.setScale(out, op.scale);
            regs[op.src] = null;
            owned[op.dst] = owned[op.src]!;
            owned[op.src] = 0;
            break;
          }
        }
        regs[op.dst] = out;
        if (op.op !== 'setScale') owned[op.dst] = 1;
        for (const r of operands(op)) {
          const h = regs[r];
          if (h && this.#lastUse[r] === i && owned[r] && !isOutput[r]) {
            be.free(h);
            regs[r] = null;
          }
        }
      }
      while (stage < c.stages.length) {
        timings.push({ name: c.stages[stage]!.name, ms: performance.now() - stageStart });
        stageStart = performance.now();
        stage++;
      }
      const outputs = c.outputRegisters.map((r) => {
        if (r < this.#inputCount) throw new RuntimeError('circuit output is one of its inputs');
        const h = get(r);
        regs[r] = null;
        return h;
      });
      return { outputs, timings };
    } finally {
      for (let r = this.#inputCount; r < regs.length; r++) {
        const h = regs[r];
        if (h && owned[r]) be.free(h);
      }
    }
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const h of this.#plain) if (h) this.backend.free(h);
    this.#plain.fill(null);
  }
}

function operands(op: CircuitOp): number[] {
  return 'src' in op ? [op.src] : [op.a, op.b];
}

function lastUses(ops: readonly CircuitOp[], registers: number): Int32Array {
  const last = new Int32Array(registers).fill(-1);
  ops.forEach((op, i) => {
    for (const r of operands(op)) last[r] = i;
  });
  return last;
}

/**
 * Throughput mode: one slot vector per input value; slot b holds input b (count ≤ N/2 inputs of
 * inputLayout.length values, back to back).
 */
export function encodeBatch(circuit: Circuit, inputs: ArrayLike<number>, count: number): Float64Array[] {
  const n = circuit.inputLayout.length;
  const slots = circuit.params.polyModulusDegree / 2;
  if (!Number.isInteger(count) || count < 1 || count > slots) throw new InputError(`batch of ${count} inputs: must be 1..${slots}`);
  if (inputs.length !== count * n) throw new InputError(`expected ${count} inputs of ${n} values, got ${inputs.length} values`);
  const out = Array.from({ length: n }, () => new Float64Array(slots));
  for (let b = 0; b < count; b++)
    for (let j = 0; j < n; j++) {
      const v = inputs[b * n + j]!;
      if (!Number.isFinite(v)) throw new InputError(`input ${b} value ${j} is ${v}, not a finite number`);
      out[j]![b] = v * circuit.inputMultiplier;
    }
  return out;
}

/** Throughput mode: logits of `count` inputs from the decrypted output vectors (one per output). */
export function decodeBatch(circuit: Circuit, outputs: readonly ArrayLike<number>[], count: number): Float64Array[] {
  return Array.from({ length: count }, (_, b) => Float64Array.from(outputs, (o) => o[b]! * circuit.outputMultiplier));
}

/** Slot vector for one raw input (length = the circuit's input length), every copy filled. */
export function encodeInput(circuit: Circuit, input: ArrayLike<number>): Float64Array {
  const layout = circuit.inputLayout;
  if (input.length !== layout.length) {
    throw new InputError(`input has ${input.length} values, the circuit expects ${layout.length}`);
  }
  const slots = new Float64Array(circuit.params.polyModulusDegree / 2);
  for (let j = 0; j < layout.length; j++) {
    const v = input[j]!;
    if (!Number.isFinite(v)) throw new InputError(`input value ${j} is ${v}, not a finite number`);
    for (const s of layout.slots[j]!) slots[s] = v * circuit.inputMultiplier;
  }
  return slots;
}

/** Logits from decrypted slots. */
export function decodeOutput(circuit: Circuit, slots: ArrayLike<number>): Float64Array {
  const layout = circuit.outputLayout;
  return Float64Array.from({ length: layout.length }, (_, i) => slots[layout.slots[i]![0]!]! * circuit.outputMultiplier);
}
