/**
 * The typed client of pann's inference API. The secret key is made here and never leaves this process: the
 * client fetches a model's public description, generates keys locally for exactly that model (Galois keys for
 * its rotation steps only), uploads the evaluation keys (SEAL's seeded form) to open a session, then for each
 * input encrypts (symmetric, seeded form: half a ciphertext), sends, receives the encrypted result, decrypts. At a
 * refresh round the server answers with masked ciphertexts instead; the client decrypts them, encrypts the values
 * afresh and sends them back, as often as the model has rounds. Every stage is timed and every byte each way
 * counted, per round too.
 */
import { Agent } from 'node:http';
import { ciphertextRelayout, relayoutSlots } from '../circuit/rounds.js';
import { CkksContext, CkksEncryptor, generateKeys, loadCiphertext, type ClientKeys } from '../ckks/index.js';
import { InputError, ServerError } from '../errors.js';
import { checkSchema } from '../schema/index.js';
import { apiResult, apiError, httpRequest, type HttpResponse } from './http-request.js';
import { parseModelDescription, inputSlots, outputValues, type ModelDescription } from './model-description.js';
import {
  API_PREFIX,
  encodeKeyUpload,
  encodeRefreshReply,
  isRefreshRequest,
  joinSealObjects,
  parseRefreshRequest,
  splitSealObjects,
} from './protocol.js';
import { SessionOpenedSchema } from './protocol-schema.js';

/** Where the server is, and the HTTP client's limits. */
export interface PannClientOptions {
  /** Timeout of one HTTP exchange. @default 10 min (a key upload can be hundreds of MB) */
  timeoutMs?: number;
  /** Bearer token for a server run with --auth. @default none */
  token?: string;
}

export interface ModelSummary {
  id: string;
  name: string;
  model: string;
  polyModulusDegree: number;
  depth: number;
  inputLength: number;
  outputLength: number;
  rotationSteps: number;
  /** Client-aided refresh rounds per inference (0: answered at once). */
  refreshRounds: number;
  evaluationKeyUploadBytes: number;
  predictedLatencyMs: number;
}

export interface OpenSessionOptions {
  /** Key upload progress: bytes sent so far, total. */
  onProgress?: (sent: number, total: number) => void;
  /** Each setup stage as it finishes. */
  onStage?: (stage: string, ms: number) => void;
}

export interface SessionSetup {
  /** Context and key generation (secret, public, relinearisation, Galois for exactly the model's steps). */
  keygenMs: number;
  /** Upload and the server's validation and loading of the keys. */
  openMs: number;
  /** Bytes of the key envelope sent, and of the answer. */
  bytesSent: number;
  bytesReceived: number;
  /** Relinearisation + Galois key bytes (seeded) inside the envelope. */
  keyBytes: number;
  /** The compiler's prediction of keyBytes. */
  predictedKeyBytes: number;
}

/** One refresh round of an inference, as the key holder (this client) played it. */
export interface ClientRound {
  /** 0-based. */
  round: number;
  /** Masked ciphertexts received, fresh ones sent back. */
  ciphertexts: number;
  /** Bytes of the refresh request (header and masked ciphertexts), and of the reply (header, token, fresh ciphertexts). */
  bytesReceived: number;
  bytesSent: number;
  /** Check, decrypt and encrypt afresh, here. */
  keyHolderMs: number;
  /** The reply's exchange: send, the server's next segment, receive. */
  roundTripMs: number;
  /** The server's evaluation of the segment after this round (Server-Timing). */
  serverEvalMs: number;
}

export interface ClientInference {
  logits: Float64Array;
  prediction: number;
  timings: {
    /** Encode + encrypt (seeded symmetric form). */
    encryptMs: number;
    /** Send, server work, receive: every exchange of the inference together. */
    roundTripMs: number;
    /** Server-side, from its Server-Timing headers, summed over the exchanges: waiting for a worker, evaluating. */
    serverQueueMs: number;
    serverEvalMs: number;
    /** The key holder's work at refresh rounds, here (0 without rounds). */
    refreshMs: number;
    /** Validate, decrypt, decode. */
    decryptMs: number;
    totalMs: number;
  };
  /** Every exchange of the inference together: the input and the replies sent, the requests and the result received. */
  bytesSent: number;
  bytesReceived: number;
  /** The refresh rounds, in order (empty for a circuit without rounds). */
  rounds: ClientRound[];
}

/** Index of the largest value. */
function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

function serverTiming(res: HttpResponse, name: string): number {
  const header = res.headers['server-timing'];
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  const m = new RegExp(`(?:^|,)\\s*${name};dur=([0-9.]+)`).exec(text);
  return m ? Number(m[1]) : NaN;
}

/** The client side of the encrypted inference server: lists models, opens sessions (uploads evaluation keys), encrypts, infers, decrypts. The secret key never leaves it. */
export class PannClient {
  readonly baseUrl: string;
  readonly #agent = new Agent({ keepAlive: true });
  readonly #timeoutMs: number;
  readonly #token: string | undefined;

  /** A client of the server at `baseUrl` (e.g. http://127.0.0.1:8080). */
  constructor(baseUrl: string, options: PannClientOptions = {}) {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new InputError(`server URL ${JSON.stringify(baseUrl)} is not a URL (e.g. http://127.0.0.1:8080)`);
    }
    if (url.protocol !== 'http:') throw new InputError(`server URL ${baseUrl}: only http:// is supported (put TLS in a proxy in front)`);
    this.baseUrl = url.origin;
    this.#timeoutMs = options.timeoutMs ?? 600_000;
    if (options.token !== undefined && !/^[\x21-\x7e]{1,512}$/.test(options.token))
      throw new InputError('the token must be 1–512 printable characters without spaces (as `pann serve token create` printed it)');
    this.#token = options.token;
  }

  /** @internal */
  request(path: string, options: Parameters<typeof httpRequest>[1] = {}): Promise<HttpResponse> {
    const auth: Record<string, string> = this.#token ? { Authorization: `Bearer ${this.#token}` } : {};
    return httpRequest(`${this.baseUrl}${API_PREFIX}${path}`, {
      agent: this.#agent,
      timeoutMs: this.#timeoutMs,
      ...options,
      headers: { ...auth, ...(options.headers ?? {}) },
    });
  }

  async health(): Promise<{ status: string; sessions: number; queue: number; workers: { ready: number; total: number } }> {
    return apiResult(await this.request('/health'), 'health');
  }

  async listModels(): Promise<ModelSummary[]> {
    return apiResult<{ models: ModelSummary[] }>(await this.request('/models'), 'list models').models;
  }

  /** A model's description, validated field by field. */
  async describeModel(id: string): Promise<ModelDescription> {
    const d = parseModelDescription(apiResult(await this.request(`/models/${encodeURIComponent(id)}`), `model ${id}`));
    if (d.id !== id) throw new ServerError(502, 'bad_description', `asked for model ${id}, the server described ${d.id}`);
    return d;
  }

  /** Make keys for `modelId` here, upload the evaluation keys, and return the open session. */
  async openSession(modelId: string, options: OpenSessionOptions = {}): Promise<ClientSession> {
    const description = await this.describeModel(modelId);
    const t0 = performance.now();
    const p = description.params;
    const context = await CkksContext.create({ polyModulusDegree: p.polyModulusDegree, coeffModulusBits: p.coeffModulusBits });
    let keys: ClientKeys | null = null;
    let encryptor: CkksEncryptor | null = null;
    try {
      const mismatch = context.params.primeDecimals.findIndex((q, i) => q !== p.primes[i]);
      if (mismatch >= 0) {
        throw new ServerError(
          502,
          'bad_description',
          `model ${modelId}: SEAL's prime ${mismatch} here is ${context.params.primeDecimals[mismatch]}, the server's is ${p.primes[mismatch]}`,
        );
      }
      keys = generateKeys(context, { rotationSteps: description.rotationSteps });
      const evaluation = keys.serializeEvaluationKeys();
      encryptor = new CkksEncryptor(keys);
      const keygenMs = performance.now() - t0;
      options.onStage?.('keygen', keygenMs);
      const envelope = encodeKeyUpload({ model: modelId, relin: evaluation.relin, galois: evaluation.galois ?? new Uint8Array(0) });
      const t1 = performance.now();
      const res = await this.request('/sessions', {
        method: 'POST',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: envelope,
        ...(options.onProgress ? { onUploadProgress: options.onProgress } : {}),
      });
      const opened = apiResult<unknown>(res, `open a session of ${modelId}`);
      checkSchema(SessionOpenedSchema, opened, {
        error: () => new ServerError(502, 'bad_response', 'open session: the answer has no session id'),
      });
      const openMs = performance.now() - t1;
      options.onStage?.('upload + server key load', openMs);
      const setup: SessionSetup = {
        keygenMs,
        openMs,
        bytesSent: res.bytesSent,
        bytesReceived: res.bytesReceived,
        keyBytes: evaluation.relin.length + (evaluation.galois?.length ?? 0),
        predictedKeyBytes: description.predicted.evaluationKeyUploadBytes,
      };
      return new ClientSession(this, opened.session, description, context, keys, encryptor, setup);
    } catch (err) {
      encryptor?.dispose();
      keys?.dispose();
      context.dispose();
      throw err;
    }
  }

  /** Close idle keep-alive connections. */
  close(): void {
    this.#agent.destroy();
  }
}

export class ClientSession {
  readonly id: string;
  readonly model: ModelDescription;
  readonly setup: SessionSetup;
  readonly #client: PannClient;
  readonly #context: CkksContext;
  readonly #keys: ClientKeys;
  readonly #encryptor: CkksEncryptor;
  #disposed = false;

  /** @internal (PannClient.openSession makes sessions). */
  constructor(
    client: PannClient,
    id: string,
    model: ModelDescription,
    context: CkksContext,
    keys: ClientKeys,
    encryptor: CkksEncryptor,
    setup: SessionSetup,
  ) {
    this.#client = client;
    this.id = id;
    this.model = model;
    this.#context = context;
    this.#keys = keys;
    this.#encryptor = encryptor;
    this.setup = setup;
  }

  #live(what: string): void {
    if (this.#disposed) throw new InputError(`${what}: the session was closed`);
  }

  /** POST a binary body to a session route; a non-200 answer becomes a ServerError. */
  async #post(route: string, body: Uint8Array, what: string): Promise<{ res: HttpResponse; bytes: Uint8Array; ms: number }> {
    const t0 = performance.now();
    const res = await this.#client.request(`/sessions/${this.id}/${route}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream' },
      body,
    });
    const ms = performance.now() - t0;
    if (res.status !== 200) throw apiError(res, what);
    this.#live(what);
    return { res, bytes: new Uint8Array(res.body.buffer, res.body.byteOffset, res.body.length), ms };
  }

  /**
   * Encrypt one raw input (the model's input length), run it on the server, playing the key holder at each
   * refresh round the server asks for, and decrypt the logits.
   */
  async infer(input: ArrayLike<number>): Promise<ClientInference> {
    this.#live('infer');
    const d = this.model;
    const t0 = performance.now();
    const ct = this.#encryptor.encryptSerialized(inputSlots(d, input), d.input.scale);
    const t1 = performance.now();
    let answer = await this.#post('infer', joinSealObjects([ct]), 'infer');
    const exchanges = [answer];
    const rounds: ClientRound[] = [];
    while (isRefreshRequest(answer.bytes)) {
      const k0 = performance.now();
      const reply = this.#refresh(answer.bytes, rounds.length);
      const keyHolderMs = performance.now() - k0;
      const next = await this.#post('infer/continue', reply.body, `refresh round ${rounds.length}`);
      rounds.push({
        round: rounds.length,
        ciphertexts: reply.ciphertexts,
        bytesReceived: answer.res.bytesReceived,
        bytesSent: next.res.bytesSent,
        keyHolderMs,
        roundTripMs: next.ms,
        serverEvalMs: serverTiming(next.res, 'eval'),
      });
      exchanges.push((answer = next));
    }
    if (rounds.length !== d.rounds.length) {
      throw new ServerError(
        502,
        'bad_response',
        `the server answered after ${rounds.length} refresh round(s), the model has ${d.rounds.length}`,
      );
    }
    const t2 = performance.now();
    const logits = this.#decryptResult(answer.bytes);
    const t3 = performance.now();
    const sum = (f: (e: (typeof exchanges)[number]) => number) => exchanges.reduce((a, e) => a + f(e), 0);
    return {
      logits,
      prediction: argmax(logits),
      timings: {
        encryptMs: t1 - t0,
        roundTripMs: sum((e) => e.ms),
        serverQueueMs: sum((e) => serverTiming(e.res, 'queue')),
        serverEvalMs: sum((e) => serverTiming(e.res, 'eval')),
        refreshMs: rounds.reduce((a, r) => a + r.keyHolderMs, 0),
        decryptMs: t3 - t2,
        totalMs: t3 - t0,
      },
      bytesSent: sum((e) => e.res.bytesSent),
      bytesReceived: sum((e) => e.res.bytesReceived),
      rounds,
    };
  }

  /**
   * The key holder's part of refresh round `n`: the request is checked against the model's description before any
   * work (round, count, levels and scales: 502 bad_response naming the mismatch), each masked ciphertext decrypted
   * and its values encrypted afresh (seeded form) at the round's level and scale.
   */
  #refresh(bytes: Uint8Array, n: number): { body: Uint8Array; ciphertexts: number } {
    const { request, masked } = parseRefreshRequest(bytes);
    const want = this.model.rounds[n];
    const bad = (message: string) => new ServerError(502, 'bad_response', `refresh request: ${message}`);
    if (!want) throw bad(`round ${request.round} asked for, the model has ${this.model.rounds.length} round(s)`);
    if (request.round !== n || request.rounds !== this.model.rounds.length) {
      throw bad(`round ${request.round} of ${request.rounds}, expected round ${n} of ${this.model.rounds.length}`);
    }
    if (request.ciphertexts !== want.ciphertexts || masked.length !== want.ciphertexts) {
      throw bad(`${request.ciphertexts} ciphertexts announced and ${masked.length} sent, the round has ${want.ciphertexts}`);
    }
    if (request.level !== want.fresh.level || request.scale !== want.fresh.scale) {
      throw bad(
        `asks for level ${request.level}, scale ${request.scale}; the model's round is at level ${want.fresh.level}, scale ${want.fresh.scale}`,
      );
    }
    const fresh = masked.map((part, k) => {
      const ct = loadCiphertext(this.#context, part, want.masked[k]);
      try {
        const values = this.#encryptor.decrypt(ct);
        return this.#encryptor.encryptSerialized(relayoutSlots(values, ciphertextRelayout(want, k), values.length), want.fresh.scale);
      } finally {
        ct.free();
      }
    });
    return { body: encodeRefreshReply(request.token, fresh), ciphertexts: fresh.length };
  }

  /** The logits from the server's final answer (the output ciphertexts at the model's output level and scale). */
  #decryptResult(bytes: Uint8Array): Float64Array {
    const d = this.model;
    const parts = splitSealObjects(bytes, 'ciphertext');
    if (parts.length !== d.output.ciphertexts)
      throw new ServerError(502, 'bad_response', `the server returned ${parts.length} ciphertexts, the model has ${d.output.ciphertexts}`);
    const out = loadCiphertext(this.#context, parts[0]!, { level: d.output.level, scale: d.output.scale });
    try {
      return outputValues(d, this.#encryptor.decrypt(out));
    } finally {
      out.free();
    }
  }

  /** Delete the session on the server (its keys are freed there) and free the local keys. */
  async close(): Promise<void> {
    if (this.#disposed) return;
    try {
      const res = await this.#client.request(`/sessions/${this.id}`, { method: 'DELETE' });
      if (res.status !== 204 && res.status !== 404) throw apiError(res, 'close session');
    } finally {
      this.dispose();
    }
  }

  /** Free the local SEAL objects (the secret key with them) without telling the server. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#encryptor.dispose();
    this.#keys.dispose();
    this.#context.dispose();
  }
}
