/**
 * node-seal's WebAssembly instance: loaded once per thread, its heap size readable, every call into it guarded.
 *
 * Why the guard. node-seal 6.0.3 is built with Emscripten's JavaScript-based C++ exceptions and does not export
 * stackSave/stackRestore. Every C++ exception that escapes into JS leaves WASM's shadow-stack pointer where the
 * throw happened (measured: 1.5 KB for a failed CoeffModulus.Create, ~1.1 KB for a failed Ciphertext load); after
 * about 56 failed loads the 64 KiB stack runs into static data and every later call fails with "memory access out
 * of bounds" or hangs. So `loadSeal` instantiates the module with its single global (the stack pointer) exported
 * under an extra name, and `callSeal` puts it back after a throw — exactly what Emscripten's own invoke_*
 * wrappers do between WASM frames. If the module ever has another shape, the export is skipped and `callSeal`
 * falls back to a budget: after MAX_UNRESTORED_FAULTS throws the instance refuses further calls.
 *
 * Why out-of-memory is fatal. SEAL's global memory pool (MemoryPoolMT, util/mempool.cpp) guards its table of sizes
 * with a spinning reader-writer lock and each size's free list with a spinning flag; MemoryPoolHeadMT::get holds
 * both while it allocates the next batch with `new`, and when that throws std::bad_alloc neither is released (the
 * flag is set and cleared by hand; the reader lock's destructor evidently does not run as the JS-based exception
 * unwinds). Measured after filling the heap with 64 MiB plaintexts until bad_alloc: deleting one of them never
 * returns, nor does the garbage collector running node-seal's finalizers on them, nor does allocating any size the
 * pool has not seen before; only sizes it already holds still work. So the first bad_alloc marks the instance
 * unusable, and from then on every delete — `freeSeal`, node-seal's own, its finalizers' — is a no-op: the dead
 * instance's objects leak with it instead of hanging the thread.
 */
import sealModule from 'node-seal';
import type { SEALLibrary } from 'node-seal/implementation/seal.js';
import { CkksError, errorMessage } from '../errors.js';

/** The node-seal library object (factory functions, v6 API). */
export type SealLibrary = SEALLibrary;

/** How many throws an instance survives when its stack pointer cannot be restored (64 KiB / ~1.5 KB, halved). */
export const MAX_UNRESTORED_FAULTS = 20;

const STACK_POINTER_EXPORT = 'pann_stack_pointer';

/** The parts of the WebAssembly JS API used here (the project's TS lib settings do not declare it). */
interface WasmGlobal {
  value: unknown;
}
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
type Instantiate = (bytes: Uint8Array, imports?: object) => Promise<{ instance: WasmInstance }>;
interface WasmApi {
  instantiate: Instantiate;
  Memory: abstract new (...args: never[]) => WasmMemory;
  Global: abstract new (...args: never[]) => WasmGlobal;
  RuntimeError: abstract new (...args: never[]) => Error;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface SealRuntime {
  readonly seal: SealLibrary;
  readonly memory: WasmMemory | null;
  readonly stackPointer: WasmGlobal | null;
  /** Embind's ClassHandle prototype: every SEAL object's `delete` (node-seal wrappers and finalizers call it). */
  readonly classHandle: object | null;
  faults: number;
  /** Set when the instance trapped, ran out of memory or of unrestored-fault budget: no further calls. */
  broken: string | null;
}

/** A SEAL object: a node-seal wrapper or a raw embind handle. */
export interface SealDeletable {
  delete(): void;
}

const MIB = 2 ** 20;

let pending: Promise<SealRuntime> | null = null;
let runtime: SealRuntime | null = null;

/** Load node-seal once per thread (cached promise; a failed load is retried on the next call). */
export async function loadSeal(): Promise<SealLibrary> {
  pending ??= instantiate().then(
    (rt) => (runtime = rt),
    (err: unknown) => {
      pending = null;
      throw new CkksError(`cannot load node-seal: ${errorMessage(err)}`, { cause: err });
    },
  );
  return (await pending).seal;
}

/**
 * The loaded library, for synchronous code that runs after `await loadSeal()` (a CkksContext exists).
 * @public (test/ckks/wasm-oom.test.ts fills the heap with it in a child process, where no import shows it)
 */
export function sealLibrary(): SealLibrary {
  return loadedRuntime('node-seal').seal;
}

function loadedRuntime(what: string): SealRuntime {
  if (!runtime) throw new CkksError(`${what}: node-seal is not loaded yet (await loadSeal() or CkksContext.create first)`);
  return runtime;
}

/** Current size of SEAL's WASM heap in bytes (it only grows; SEAL's memory pool reuses freed blocks). */
export function wasmHeapBytes(): number {
  const rt = loadedRuntime('wasmHeapBytes');
  if (!rt.memory) throw new CkksError('wasmHeapBytes: the WASM memory of node-seal was not found when it loaded');
  return rt.memory.buffer.byteLength;
}

/** Health of the instance: exceptions SEAL has thrown so far, whether the stack is restored after each. */
export function wasmStatus(): { faults: number; stackRestored: boolean; broken: string | null } {
  const rt = loadedRuntime('wasmStatus');
  return { faults: rt.faults, stackRestored: rt.stackPointer !== null, broken: rt.broken };
}

/**
 * Run `fn` (which calls into SEAL) so that whatever it throws — an Error, a number (a C++ exception pointer), a
 * string — becomes a CkksError whose message starts with `what`, and the WASM stack pointer is restored.
 * Callers validate inputs first: SEAL throwing is the exception, not the way errors are found. A std::bad_alloc
 * (the WASM heap is full) leaves the instance unusable: it gets its own message and every later call is refused.
 */
export function callSeal<T>(what: string, fn: () => T): T {
  const rt = loadedRuntime(what);
  if (rt.broken) throw new CkksError(`${what}: this thread's SEAL instance is unusable (${rt.broken}); restart the process or worker`);
  const sp = rt.stackPointer?.value as number | undefined;
  try {
    return fn();
  } catch (err) {
    if (err instanceof CkksError) throw err;
    rt.faults++;
    if (rt.stackPointer && sp !== undefined) rt.stackPointer.value = sp;
    const message = sealErrorMessage(rt, err);
    if (/\bbad_alloc\b/.test(message)) {
      const heap = rt.memory ? `${Math.round(rt.memory.buffer.byteLength / MIB)} MiB of its 4 GiB limit` : '4 GiB limit';
      markBroken(rt, `SEAL's WebAssembly heap ran out at ${heap}`);
      throw new CkksError(
        `${what}: SEAL's WebAssembly heap is full (${heap}): ${message}; this thread's SEAL instance is now unusable, restart the process or worker (and run fewer or smaller circuits per process)`,
        { cause: err },
      );
    }
    if (err instanceof wasm.RuntimeError) {
      markBroken(rt, `SEAL trapped: ${err.message}`);
    } else if (!rt.stackPointer && rt.faults >= MAX_UNRESTORED_FAULTS) {
      markBroken(rt, `${rt.faults} exceptions without stack restore`);
    }
    throw new CkksError(`${what}: ${message}`, { cause: err });
  }
}

/**
 * Delete a SEAL object: the one way src/ckks frees WASM memory. Once the instance is unusable this does nothing
 * (the object leaks with the dead instance), because a delete could spin forever on a lock SEAL never released.
 */
export function freeSeal(obj: SealDeletable | null | undefined, what = 'free'): void {
  if (!obj) return;
  const rt = loadedRuntime(what);
  if (rt.broken) return;
  callSeal(what, () => obj.delete());
}

/** Refuse every later call and turn every delete of a SEAL object into a no-op (see the file comment). */
function markBroken(rt: SealRuntime, reason: string): void {
  rt.broken = reason;
  if (rt.classHandle) Object.defineProperty(rt.classHandle, 'delete', { value: () => {}, configurable: true, writable: true });
}

function sealErrorMessage(rt: SealRuntime, err: unknown): string {
  if (typeof err === 'number') {
    try {
      return rt.seal.Exception.safe(err).message;
    } catch {
      return `SEAL exception ${err}`;
    }
  }
  return errorMessage(err);
}

/** Instantiate node-seal through a one-shot hook on WebAssembly.instantiate that exports the stack pointer. */
async function instantiate(): Promise<SealRuntime> {
  const original = wasm.instantiate;
  let instance: WasmInstance | null = null;
  const hook: Instantiate = async (source, imports) => {
    Reflect.set(wasm, 'instantiate', original);
    const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
    const result = await original.call(wasm, withStackPointerExport(bytes) ?? bytes, imports);
    instance = result.instance;
    return result;
  };
  Reflect.set(wasm, 'instantiate', hook);
  let seal: SealLibrary;
  try {
    seal = await sealFactory()();
  } finally {
    Reflect.set(wasm, 'instantiate', original);
  }
  const exports = (instance as WasmInstance | null)?.exports ?? {};
  const memory = Object.values(exports).find((v): v is WasmMemory => v instanceof wasm.Memory) ?? null;
  const sp = exports[STACK_POINTER_EXPORT];
  return {
    seal,
    memory,
    stackPointer: sp instanceof wasm.Global ? sp : null,
    classHandle: classHandlePrototype(seal),
    faults: 0,
    broken: null,
  };
}

/** The prototype that gives embind handles their `delete` (read from a pool handle), or null if there is none. */
function classHandlePrototype(seal: SealLibrary): object | null {
  const handle = seal.MemoryPoolHandle.global as unknown;
  if (typeof handle !== 'object' || handle === null) return null;
  let proto = Object.getPrototypeOf(handle) as object | null;
  while (proto && proto !== Object.prototype && !Object.hasOwn(proto, 'delete')) proto = Object.getPrototypeOf(proto) as object | null;
  (handle as Partial<SealDeletable>).delete?.();
  return proto && proto !== Object.prototype ? proto : null;
}

/**
 * node-seal's entry is a CommonJS module whose `module.exports` is the factory; its typings declare an ES
 * `default` export, so TypeScript sees the factory one level deeper than Node puts it. Accept either.
 */
function sealFactory(): () => Promise<SealLibrary> {
  const m = sealModule as unknown as (() => Promise<SealLibrary>) | { default: () => Promise<SealLibrary> };
  return typeof m === 'function' ? m : m.default;
}

/**
 * A copy of the module with its only global exported as STACK_POINTER_EXPORT, or null unless the module has
 * exactly the Emscripten shape: no imported globals and one defined global of type mutable i32 (the stack
 * pointer). WebAssembly binary format, §5.5 (sections), LEB128 integers.
 */
export function withStackPointerExport(bytes: Uint8Array): Uint8Array | null {
  const r = { pos: 8 };
  const leb = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (r.pos >= bytes.length) throw new Error('truncated LEB128');
      const b = bytes[r.pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(b & 0x80)) return result;
    }
  };
  const encode = (n: number): number[] => {
    const out: number[] = [];
    do {
      let b = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) b |= 0x80;
      out.push(b);
    } while (n > 0);
    return out;
  };
  try {
    if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) return null;
    let globalsOk = false;
    let exportSection: { start: number; bodyStart: number; end: number } | null = null;
    while (r.pos < bytes.length) {
      const start = r.pos;
      const id = bytes[r.pos++]!;
      const size = leb();
      const bodyStart = r.pos;
      const end = bodyStart + size;
      if (id === 2 && importsAnyGlobal(bytes, r, leb)) return null;
      if (id === 6) {
        const count = leb();
        globalsOk = count === 1 && bytes[r.pos] === 0x7f && bytes[r.pos + 1] === 0x01;
      }
      if (id === 7) exportSection = { start, bodyStart, end };
      r.pos = end;
    }
    if (!globalsOk || !exportSection) return null;
    r.pos = exportSection.bodyStart;
    const count = leb();
    const name = new TextEncoder().encode(STACK_POINTER_EXPORT);
    const entries = bytes.subarray(r.pos, exportSection.end);
    const body = [...encode(count + 1), ...entries, ...encode(name.length), ...name, 0x03, 0x00];
    const section = [0x07, ...encode(body.length), ...body];
    const out = new Uint8Array(bytes.length - (exportSection.end - exportSection.start) + section.length);
    out.set(bytes.subarray(0, exportSection.start), 0);
    out.set(section, exportSection.start);
    out.set(bytes.subarray(exportSection.end), exportSection.start + section.length);
    return out;
  } catch {
    return null;
  }
}

/** Walk an import section; true if it imports a global (then the stack pointer is not global 0). */
function importsAnyGlobal(bytes: Uint8Array, r: { pos: number }, leb: () => number): boolean {
  const count = leb();
  for (let i = 0; i < count; i++) {
    for (let s = 0; s < 2; s++) {
      const length = leb(); // module name, then field name
      r.pos += length;
    }
    const kind = bytes[r.pos++]!;
    if (kind === 0) leb();
    else if (kind === 1 || kind === 2) {
      if (kind === 1) r.pos++; // reference type
      const flags = bytes[r.pos++]!;
      leb();
      if (flags & 1) leb();
    } else if (kind === 3) return true;
    else if (kind === 4) {
      r.pos++;
      leb();
    } else throw new Error(`unknown import kind ${kind}`);
  }
  return false;
}
