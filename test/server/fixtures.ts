/** Shared set-up for the server tests: small circuits, local keys for a served model, raw requests. */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { request } from 'node:http';
import type { Readable } from 'node:stream';
import { CkksContext, CkksEncryptor, generateKeys, loadCiphertext, type ClientKeys } from '../../src/ckks/index.js';
import { runSim } from '../../src/runtime/inference.js';
import { expect } from 'vitest';
import type { Circuit } from '../../src/circuit/index.js';
import { compileNetwork } from '../../src/compiler/compile.js';
import type { Model } from '../../src/nn/model.js';
import { httpRequest, type HttpResponse } from '../../src/server/http-request.js';
import { describeModel, inputSlots, outputValues, type ModelDescription } from '../../src/server/model-description.js';
import { encodeKeyUpload, splitSealObjects } from '../../src/server/protocol.js';
import { loadMnistSplit } from '../../src/nn/mnist.js';
import { loadModel } from '../../src/nn/model-file.js';
import { compile } from '../../src/pipeline.js';
import { lcg } from '../compiler/fixtures.js';

/** A dense network (no activation: one level) — tiny keys and ciphertexts, for validation tests. */
export function denseCircuit(name: string, inputs: number, outputs: number, ring: number, seed = 7): Circuit {
  const rnd = lcg(seed);
  const model: Model = {
    name,
    inputShape: [inputs],
    metadata: {},
    layers: [
      {
        type: 'dense',
        inFeatures: inputs,
        outFeatures: outputs,
        weight: Float64Array.from({ length: inputs * outputs }, () => rnd() * 0.5),
        bias: Float64Array.from({ length: outputs }, () => rnd() * 0.1),
      },
    ],
  };
  const cal = lcg(3);
  return compileNetwork(model, {
    precisionBits: 8,
    calibration: { inputs: Float64Array.from({ length: 20 * inputs }, () => cal()), count: 20, label: 'test' },
    ringDimensions: [ring],
  });
}

/**
 * The shipped two-ReLU MNIST CNN at precision 5 with a refresh round before each activation layer: two rounds,
 * N=8192, about 0.7 s per encrypted digit (`pann compile models/mnist-cnn-relu.json -k 5 --refresh-before 0 1`,
 * calibrated on 200 training digits, no noise check).
 */
export function refreshCircuit(): Circuit {
  const train = loadMnistSplit('train');
  return compile(loadModel('models/mnist-cnn-relu.json'), {
    precisionBits: 5,
    calibration: { inputs: train.inputs.subarray(0, 200 * 784), count: 200, label: 'mnist train[0:200]' },
    refresh: { before: [0, 1] },
    noiseCheck: false,
  });
}

export function vector(n: number, seed: number): Float64Array {
  const rnd = lcg(seed);
  return Float64Array.from({ length: n }, () => rnd());
}

/** The client's side for one model, built from the library directly (so tests can also build bad uploads). */
export interface LocalKeys {
  description: ModelDescription;
  context: CkksContext;
  keys: ClientKeys;
  encryptor: CkksEncryptor;
  relin: Uint8Array;
  galois: Uint8Array;
  /** The PANNKEYS envelope for `model` (default: this model). */
  envelope(model?: string): Uint8Array;
  /** A seeded symmetric encryption of `x` at the model's scale (or `scale`). */
  encrypt(x: ArrayLike<number>, scale?: number): Uint8Array;
  dispose(): void;
}

export async function localKeys(
  id: string,
  circuit: Circuit,
  rotationSteps: readonly number[] = circuit.rotationSteps,
): Promise<LocalKeys> {
  const description = describeModel(id, circuit);
  const context = await CkksContext.create({
    polyModulusDegree: circuit.params.polyModulusDegree,
    coeffModulusBits: circuit.params.coeffModulusBits,
  });
  const keys = generateKeys(context, { rotationSteps });
  const encryptor = new CkksEncryptor(keys);
  const { relin, galois } = keys.serializeEvaluationKeys();
  const g = galois ?? new Uint8Array(0);
  return {
    description,
    context,
    keys,
    encryptor,
    relin,
    galois: g,
    envelope: (model = id) => encodeKeyUpload({ model, relin, galois: g }),
    encrypt: (x, scale = description.input.scale) => encryptor.encryptSerialized(inputSlots(description, x), scale),
    dispose() {
      encryptor.dispose();
      keys.dispose();
      context.dispose();
    },
  };
}

export const OCTET = { 'Content-Type': 'application/octet-stream' };

export function post(url: string, body: Uint8Array, headers: Record<string, string> = OCTET): Promise<HttpResponse> {
  return httpRequest(url, { method: 'POST', headers, body });
}

/** The API error code of a response (or null). */
export function errorCode(res: HttpResponse): string | null {
  try {
    return (JSON.parse(res.body.toString('utf8')) as { error?: { code?: string } }).error?.code ?? null;
  } catch {
    return null;
  }
}

/** POST a body with chunked transfer encoding (no Content-Length), `chunks` times `chunk`. */
export function postChunked(url: string, chunk: Uint8Array, chunks: number): Promise<{ status: number; body: string }> {
  return new Promise((resolvePromise, rejectPromise) => {
    let answered = false;
    const req = request(url, { method: 'POST', headers: { ...OCTET, 'Transfer-Encoding': 'chunked' } }, (res) => {
      answered = true;
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', (err) => setTimeout(() => !answered && rejectPromise(err), 200));
    let sent = 0;
    const more = () => {
      while (sent < chunks) {
        sent++;
        if (!req.write(chunk)) return void req.once('drain', more);
      }
      req.end();
    };
    more();
  });
}

/** `pann serve …` as a child process, once it says where it listens. */
export async function startServe(
  args: string[],
): Promise<{ child: ChildProcessByStdio<null, Readable, Readable>; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, ['bin/pann.js', 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const url = await new Promise<string>((resolveUrl, rejectUrl) => {
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)\/v1/.exec(err);
      if (m) resolveUrl(m[1]!);
    });
    child.on('exit', (code) => rejectUrl(new Error(`exited ${code}: ${err}`)));
  });
  return { child, url, stderr: () => err };
}

/** An infer answer (200) decrypted with the local keys: it must equal the simulator's logits for input `x`. */
export function expectSimAnswer(ka: LocalKeys, circuit: Circuit, res: HttpResponse, x: Float64Array): void {
  expect(res.status).toBe(200);
  const [bytes] = splitSealObjects(new Uint8Array(res.body.buffer, res.body.byteOffset, res.body.length));
  const d = ka.description;
  const ct = loadCiphertext(ka.context, bytes!, { level: d.output.level, scale: d.output.scale });
  const got = outputValues(d, ka.encryptor.decrypt(ct));
  ct.free();
  const want = runSim(circuit, x, 1)[0]!.logits;
  got.forEach((v, j) => expect(Math.abs(v - want[j]!)).toBeLessThan(1e-3));
}
