/**
 * The executor: runs a compiled circuit on a Backend, op for op, freeing each register after its last use.
 * Plaintexts are encoded once per (circuit, backend) and reused across inferences.
 */
import type { Circuit, CircuitOp } from '../compiler/circuit.js';
import type { Backend, CipherHandle, PlainHandle } from './backend.js';
import { InputError, RuntimeError } from './errors.js';

/** Per-stage wall-clock times of one evaluation. */
export interface StageTiming {
  name: string;
  ms: number;
}

/** A circuit bound to a backend: plaintexts encoded, last uses computed. Dispose to free the plaintexts. */
export class PreparedCircuit {
  readonly circuit: Circuit;
  readonly backend: Backend;
  readonly #plain: (PlainHandle | null)[];
  readonly #lastUse: Int32Array;
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
    this.#lastUse = lastUses(circuit.ops, circuit.registerCount);
  }

  #plaintext(id: number): PlainHandle {
    const cached = this.#plain[id];
    if (cached) return cached;
    const p = this.circuit.plaintexts[id];
    if (!p) throw new RuntimeError(`circuit references plaintext ${id}, which does not exist`);
    const values = new Float64Array(this.backend.slotCount);
    if (p.constant !== undefined) values.fill(p.constant);
    else if (p.indices && p.values) for (let i = 0; i < p.indices.length; i++) values[p.indices[i]!] = p.values[i]!;
    const h = this.backend.encode(values, p.level, p.scale);
    this.#plain[id] = h;
    return h;
  }

  /** Encode every plaintext now (otherwise they are encoded lazily on first use). */
  encodeAll(): void {
    for (let i = 0; i < this.circuit.plaintexts.length; i++) this.#plaintext(i);
  }

  /**
   * Evaluate on an encrypted input (the caller keeps ownership of `input`). Returns the output ciphertext
   * (owned by the caller) and per-stage timings.
   */
  evaluate(input: CipherHandle): { output: CipherHandle; timings: StageTiming[] } {
    if (this.#disposed) throw new RuntimeError('prepared circuit was disposed');
    const c = this.circuit;
    const be = this.backend;
    if (input.level !== be.maxLevel) throw new InputError(`input ciphertext is at level ${input.level}, expected ${be.maxLevel}`);
    if (Math.abs(input.scale / c.inputScale - 1) > 1e-9) {
      throw new InputError(`input ciphertext scale ${input.scale} ≠ circuit input scale ${c.inputScale}`);
    }
    const regs: (CipherHandle | null)[] = new Array(c.registerCount).fill(null);
    regs[0] = input;
    const owned = new Uint8Array(c.registerCount); // 1 = this evaluation created it (may free)
    const timings: StageTiming[] = [];
    let stage = 0;
    let stageStart = performance.now();
    const get = (r: number): CipherHandle => {
      const h = regs[r];
      if (!h) throw new RuntimeError(`register ${r} read before it was written`);
      return h;
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
            out = be.mulPlain(get(op.src), this.#plaintext(op.pt));
            break;
          case 'addPlain':
            out = be.addPlain(get(op.src), this.#plaintext(op.pt));
            break;
          case 'mul':
            out = be.mul(get(op.a), get(op.b));
            break;
          case 'add':
            out = be.add(get(op.a), get(op.b));
            break;
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
          if (h && this.#lastUse[r] === i && owned[r] && r !== c.outputRegister) {
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
      const output = get(c.outputRegister);
      regs[c.outputRegister] = null;
      if (c.outputRegister === 0) {
        throw new RuntimeError('circuit output is its input');
      }
      return { output, timings };
    } finally {
      for (let r = 1; r < regs.length; r++) {
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
