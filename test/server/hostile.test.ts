import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CkksEvaluator, saveCiphertext, loadCiphertext } from '../../src/ckks/index.js';
import type { Circuit } from '../../src/circuit/index.js';
import { runSim } from '../../src/runtime/inference.js';
import { httpRequest, type HttpResponse } from '../../src/server/http-request.js';
import { outputValues } from '../../src/server/model-description.js';
import { encodeKeyUpload, joinSealObjects, splitSealObjects } from '../../src/server/protocol.js';
import { PannServer } from '../../src/server/server.js';
import { sessionMemoryBytes } from '../../src/server/sessions.js';
import { type RequestLogEntry, sessionTag } from '../../src/server/logging.js';
import { denseCircuit, errorCode, localKeys, post, postChunked, vector, type LocalKeys } from './fixtures.js';

/**
 * Hostile input against a real server on 127.0.0.1 with real SEAL in its workers: every case gets its intended
 * 4xx, and afterwards the server still answers a valid request correctly.
 */
describe('server under hostile input', () => {
  let a: Circuit; // N=4096, the model under attack
  let c: Circuit; // N=8192: other parameters
  let server: PannServer;
  let base: string;
  let ka: LocalKeys;
  let kc: LocalKeys;
  let session: string;
  const logs: RequestLogEntry[] = [];
  const x = vector(16, 11);

  beforeAll(async () => {
    a = denseCircuit('dense-a', 16, 3, 4096);
    c = denseCircuit('dense-c', 16, 3, 8192, 9);
    server = await PannServer.start({
      models: [
        { id: 'a', circuit: a },
        { id: 'c', circuit: c },
      ],
      port: 0,
      limits: { workers: 2, maxKeysBodyBytes: 8_000_000, maxInferBodyBytes: 1_000_000 },
      onLog: (e) => logs.push(e),
    });
    base = `${server.url}/v1`;
    [ka, kc] = await Promise.all([localKeys('a', a), localKeys('c', c)]);
    const res = await post(`${base}/sessions`, ka.envelope());
    expect(res.status).toBe(201);
    session = (JSON.parse(res.body.toString()) as { session: string }).session;
  });
  afterAll(async () => {
    ka?.dispose();
    kc?.dispose();
    await server?.close();
  });

  /** Decrypted logits of an answer from model a. */
  function logitsOf(res: HttpResponse): Float64Array {
    expect(res.status).toBe(200);
    const [bytes] = splitSealObjects(new Uint8Array(res.body.buffer, res.body.byteOffset, res.body.length));
    const d = ka.description;
    const ct = loadCiphertext(ka.context, bytes!, { level: d.output.level, scale: d.output.scale });
    try {
      return outputValues(d, ka.encryptor.decrypt(ct));
    } finally {
      ct.free();
    }
  }

  function expectSimLogits(res: HttpResponse, input: Float64Array): void {
    const got = logitsOf(res);
    const want = runSim(a, input, 1)[0]!.logits;
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-3);
  }

  it('serves a valid request (the baseline the corpus is measured against)', async () => {
    expectSimLogits(await post(`${base}/sessions/${session}/infer`, ka.encrypt(x)), x);
  });

  // --- the corpus: [name, request, status, code] ----------------------------------------------------------
  type Case = [string, () => Promise<HttpResponse>, number, string];
  const envelope = (header: unknown, rest: Uint8Array = new Uint8Array(0), version = 1, headerLength?: number): Uint8Array => {
    const h = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
    const out = new Uint8Array(16 + h.length + rest.length);
    out.set(new TextEncoder().encode('PANNKEYS'));
    new DataView(out.buffer).setUint32(8, version, true);
    new DataView(out.buffer).setUint32(12, headerLength ?? h.length, true);
    out.set(h, 16);
    out.set(rest, 16 + h.length);
    return out;
  };
  const keysFor = (relin: Uint8Array, galois: Uint8Array, model = 'a') => encodeKeyUpload({ model, relin, galois });
  const random = (n: number, seed: number) => Uint8Array.from(vector(n, seed), (v) => Math.floor((v + 1) * 127.9));
  const sessions = () => `${base}/sessions`;
  const infer = (id = session) => `${base}/sessions/${id}/infer`;
  const withByte = (bytes: Uint8Array, at: number, fill: (v: DataView) => void) => {
    const copy = Uint8Array.from(bytes);
    fill(new DataView(copy.buffer, at));
    return copy;
  };

  const cases: Case[] = [
    // key envelope and keys (POST /v1/sessions)
    ['empty key body', () => post(sessions(), new Uint8Array(0)), 400, 'bad_request'],
    [
      'keys as JSON',
      () => post(sessions(), new TextEncoder().encode('{"model":"a"}'), { 'Content-Type': 'application/json' }),
      415,
      'unsupported_media_type',
    ],
    ['keys without a content type', () => httpRequest(sessions(), { method: 'POST', body: ka.envelope() }), 415, 'unsupported_media_type'],
    ['bad envelope magic', () => post(sessions(), random(64, 1)), 400, 'bad_request'],
    [
      'envelope version 2',
      () => post(sessions(), envelope({ model: 'a', relinBytes: 0, galoisBytes: 0 }, undefined, 2)),
      400,
      'bad_request',
    ],
    ['header length 0', () => post(sessions(), envelope('', undefined, 1, 0)), 400, 'bad_request'],
    ['header length past the body', () => post(sessions(), envelope('{}', undefined, 1, 4000)), 400, 'bad_request'],
    ['header not JSON', () => post(sessions(), envelope('{model: a')), 400, 'bad_request'],
    ['header is an array', () => post(sessions(), envelope([1, 2])), 400, 'bad_request'],
    ['header without model', () => post(sessions(), envelope({ relinBytes: 1, galoisBytes: 0 }, new Uint8Array(1))), 400, 'bad_request'],
    [
      'a secretKey field in the header',
      () => post(sessions(), envelope({ model: 'a', relinBytes: 1, galoisBytes: 0, secretKey: 1 }, new Uint8Array(1))),
      400,
      'bad_request',
    ],
    ['negative relinBytes', () => post(sessions(), envelope({ model: 'a', relinBytes: -5, galoisBytes: 0 })), 400, 'bad_request'],
    ['truncated envelope', () => post(sessions(), ka.envelope().subarray(0, 5000)), 400, 'bad_request'],
    ['trailing bytes after the keys', () => post(sessions(), joinSealObjects([ka.envelope(), new Uint8Array(7)])), 400, 'bad_request'],
    ['unknown model', () => post(sessions(), ka.envelope('nope')), 404, 'unknown_model'],
    ['random relin bytes', () => post(sessions(), keysFor(random(ka.relin.length, 2), ka.galois)), 400, 'bad_keys'],
    [
      'relin keys with a valid header, random body',
      () => post(sessions(), keysFor(joinSealObjects([ka.relin.subarray(0, 16), random(ka.relin.length - 16, 3)]), ka.galois)),
      400,
      'bad_keys',
    ],
    [
      'relin keys cut short (header size disagrees)',
      () => post(sessions(), keysFor(ka.relin.subarray(0, ka.relin.length - 8), ka.galois)),
      400,
      'bad_keys',
    ],
    ['a secret key in place of the relin keys', () => post(sessions(), keysFor(ka.keys.saveSecretKey(), ka.galois)), 400, 'bad_keys'],
    ['keys made under other parameters (model c)', () => post(sessions(), kc.envelope('a')), 400, 'bad_keys'],
    [
      'galois keys missing a step',
      async () => {
        const k = await localKeys('a', a, a.rotationSteps.slice(1));
        try {
          return await post(sessions(), k.envelope());
        } finally {
          k.dispose();
        }
      },
      400,
      'bad_keys',
    ],
    [
      'galois keys with extra steps',
      async () => {
        const k = await localKeys('a', a, [...a.rotationSteps, 3, 5]);
        try {
          return await post(sessions(), k.envelope());
        } finally {
          k.dispose();
        }
      },
      400,
      'bad_keys',
    ],
    ['relin and galois swapped', () => post(sessions(), keysFor(ka.galois, ka.relin)), 400, 'bad_keys'],
    ['galois keys left out', () => post(sessions(), keysFor(ka.relin, new Uint8Array(0))), 400, 'bad_keys'],
    [
      'zlib bomb as relin keys',
      () => {
        const body = deflateSync(new Uint8Array(64 * 1024 * 1024));
        const bomb = new Uint8Array(16 + body.length);
        bomb.set(ka.relin.subarray(0, 16));
        const v = new DataView(bomb.buffer);
        v.setUint8(5, 1);
        v.setBigUint64(8, BigInt(bomb.length), true);
        bomb.set(body, 16);
        return post(sessions(), keysFor(bomb, ka.galois));
      },
      400,
      'bad_keys',
    ],
    ['key body over the route limit (Content-Length)', () => post(sessions(), new Uint8Array(8_000_001)), 413, 'body_too_large'],
    // ciphertexts (POST /v1/sessions/:id/infer)
    ['unknown session', () => post(infer('AAAAAAAAAAAAAAAAAAAAAA'), ka.encrypt(x)), 404, 'unknown_session'],
    ['malformed session id', () => post(infer('../../etc'), ka.encrypt(x)), 404, 'not_found'],
    ['session id of the wrong shape', () => post(infer('abc'), ka.encrypt(x)), 404, 'unknown_session'],
    ['empty ciphertext body', () => post(infer(), new Uint8Array(0)), 400, 'bad_ciphertext'],
    ['ciphertext as text/plain', () => post(infer(), ka.encrypt(x), { 'Content-Type': 'text/plain' }), 415, 'unsupported_media_type'],
    [
      'truncated ciphertext',
      () => {
        const ct = ka.encrypt(x);
        return post(infer(), ct.subarray(0, ct.length - 100));
      },
      400,
      'bad_ciphertext',
    ],
    ['random bytes of the right length', () => post(infer(), random(ka.encrypt(x).length, 4)), 400, 'bad_ciphertext'],
    [
      'SEAL header then random bytes',
      () => {
        const ct = ka.encrypt(x);
        return post(infer(), joinSealObjects([ct.subarray(0, 16), random(ct.length - 16, 5)]));
      },
      400,
      'bad_ciphertext',
    ],
    ['ciphertext under other parameters', () => post(infer(), kc.encrypt(x)), 400, 'bad_ciphertext'],
    ['wrong scale', () => post(infer(), ka.encrypt(x, ka.description.input.scale * 2)), 400, 'bad_ciphertext'],
    [
      'wrong level',
      () => {
        const full = ka.encryptor.encryptSymmetric(new Float64Array(4), ka.description.input.scale);
        const ev = new CkksEvaluator(ka.context);
        const low = ev.dropToLevel(full, 0);
        try {
          return post(infer(), saveCiphertext(low));
        } finally {
          full.free();
          low.free();
        }
      },
      400,
      'bad_ciphertext',
    ],
    [
      'two ciphertexts where the model takes one',
      () => post(infer(), joinSealObjects([ka.encrypt(x), ka.encrypt(x)])),
      400,
      'bad_ciphertext_count',
    ],
    [
      'trailing bytes after the ciphertext',
      () => post(infer(), joinSealObjects([ka.encrypt(x), new Uint8Array(5)])),
      400,
      'bad_ciphertext',
    ],
    [
      'coefficient not reduced modulo its prime',
      () => {
        const full = ka.encryptor.encryptSymmetric(new Float64Array(4), ka.description.input.scale);
        try {
          const bytes = saveCiphertext(full);
          return post(
            infer(),
            withByte(bytes, bytes.length - 8, (v) => v.setBigUint64(0, 2n ** 64n - 1n, true)),
          );
        } finally {
          full.free();
        }
      },
      400,
      'bad_ciphertext',
    ],
    [
      'size field 3 (unrelinearised)',
      () => {
        const ct = ka.encrypt(x);
        return post(
          infer(),
          withByte(ct, 16 + 33, (v) => v.setBigUint64(0, 3n, true)),
        );
      },
      400,
      'bad_ciphertext',
    ],
    [
      'NaN scale',
      () => {
        const ct = ka.encrypt(x);
        return post(
          infer(),
          withByte(ct, 16 + 57, (v) => v.setFloat64(0, NaN, true)),
        );
      },
      400,
      'bad_ciphertext',
    ],
    ['the key envelope sent as a ciphertext', () => post(infer(), ka.envelope().subarray(0, 50_000)), 400, 'bad_ciphertext'],
    ['ciphertext body over the route limit', () => post(infer(), new Uint8Array(1_000_001)), 413, 'body_too_large'],
    // routes
    ['unknown route', () => httpRequest(`${base}/nothing`), 404, 'not_found'],
    ['outside the API prefix', () => httpRequest(`${server.url}/admin`), 404, 'not_found'],
    ['PUT on /v1/models', () => httpRequest(`${base}/models`, { method: 'PUT' }), 405, 'method_not_allowed'],
    ['GET on the infer route', () => httpRequest(infer()), 405, 'method_not_allowed'],
    ['unknown model description', () => httpRequest(`${base}/models/nope`), 404, 'unknown_model'],
    ['bad percent-encoding', () => httpRequest(`${base}/models/%E0%A4%A`), 400, 'bad_request'],
    [
      'DELETE an unknown session',
      () => httpRequest(`${base}/sessions/BBBBBBBBBBBBBBBBBBBBBB`, { method: 'DELETE' }),
      404,
      'unknown_session',
    ],
  ];

  it(`has at least 30 hostile cases (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  for (const [name, send, status, code] of cases) {
    it(`${name} → ${status} ${code}`, async () => {
      const res = await send();
      expect({ status: res.status, code: errorCode(res) }).toEqual({ status, code });
      const message = (JSON.parse(res.body.toString()) as { error: { message: string } }).error.message;
      expect(message.length).toBeGreaterThan(10);
    });
  }

  it('HEAD answers where GET does, with the same headers and no body; elsewhere 405 naming the methods', async () => {
    for (const path of ['/health', '/models', '/models/a']) {
      const get = await httpRequest(`${base}${path}`);
      const head = await httpRequest(`${base}${path}`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.body.length).toBe(0);
      expect(head.headers['content-type']).toBe(get.headers['content-type']);
      if (path !== '/health') expect(head.headers['content-length']).toBe(get.headers['content-length']); // health's figures move
    }
    const refused = await httpRequest(infer(), { method: 'HEAD' });
    expect(refused.status).toBe(405);
    expect(refused.headers.allow).toBe('POST');
    expect((await httpRequest(`${base}/models`, { method: 'PUT' })).headers.allow).toBe('GET, HEAD');
  });

  it('a chunked key body over the limit gets 413 without being buffered whole; one that is not keys, 400 from its head', async () => {
    const chunk = new Uint8Array(1 << 20);
    chunk.set(ka.envelope().subarray(0, 4096)); // a valid envelope head, then far more bytes than it announces
    const res = await postChunked(sessions(), chunk, 12);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.code).toBe('body_too_large');
    const zeros = await postChunked(sessions(), new Uint8Array(1 << 20), 12);
    expect(zeros.status).toBe(400);
    expect(JSON.parse(zeros.body).error.message).toMatch(/key envelope: magic/);
  });

  it('names the problem: secret key, missing steps, other parameters, wrong scale', async () => {
    const msg = async (r: Promise<HttpResponse>) => (JSON.parse((await r).body.toString()) as { error: { message: string } }).error.message;
    expect(await msg(post(sessions(), keysFor(ka.keys.saveSecretKey(), ka.galois)))).toMatch(/relinearisation keys/);
    expect(await msg(post(sessions(), kc.envelope('a')))).toMatch(/other encryption parameters|N=8192/);
    expect(await msg(post(infer(), ka.encrypt(x, ka.description.input.scale * 2)))).toMatch(/scale/);
    expect(await msg(post(sessions(), envelope({ model: 'a', relinBytes: 1, galoisBytes: 0, secretKey: 1 }, new Uint8Array(1))))).toMatch(
      /unknown header field "secretKey"/,
    );
  });

  it('a DELETE during an inference: the accepted inference finishes, later ones get 404', async () => {
    const opened = await post(sessions(), ka.envelope());
    const id = (JSON.parse(opened.body.toString()) as { session: string }).session;
    const y = vector(16, 12);
    const running = post(infer(id), ka.encrypt(y));
    await new Promise((r) => setTimeout(r, 5));
    const deleted = await httpRequest(`${base}/sessions/${id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    const first = await running;
    // accepted before the DELETE: answered correctly; arrived after it: told the session was deleted
    if (first.status === 200) expectSimLogits(first, y);
    else expect({ status: first.status, code: errorCode(first) }).toEqual({ status: 404, code: 'unknown_session' });
    const after = await post(infer(id), ka.encrypt(y));
    expect(after.status).toBe(404);
    expect(after.body.toString()).toMatch(/was deleted/);
  });

  it('after the whole corpus the server is healthy and serves a valid request correctly', async () => {
    const health = await httpRequest(`${base}/health`);
    expect(JSON.parse(health.body.toString())).toMatchObject({ status: 'ok', workers: { ready: 2, total: 2 } });
    const y = vector(16, 99);
    expectSimLogits(await post(`${base}/sessions/${session}/infer`, ka.encrypt(y)), y);
    expect(server.metrics().workers.every((w) => w.restarts === 0)).toBe(true);
  });

  it('logs one structured line per request and counts errors in /v1/metrics', async () => {
    const res = await httpRequest(`${base}/metrics`);
    expect(JSON.parse(res.body.toString())).toMatchObject({
      requests: expect.any(Number),
      routes: expect.any(Object),
      workers: expect.any(Array),
    });
    while (logs.at(-1)?.route !== 'GET /v1/metrics') await new Promise((r) => setImmediate(r));
    const m = server.metrics();
    expect(m.requests).toBe(logs.length);
    expect(m.errors).toBe(logs.filter((e) => e.status >= 400).length);
    expect(m.errorsByCode.bad_ciphertext).toBeGreaterThanOrEqual(10);
    const inferLine = logs.find((e) => e.route === 'POST /v1/sessions/:id/infer' && e.status === 200)!;
    expect(inferLine).toMatchObject({ session: sessionTag(session), model: 'a', worker: expect.any(Number) });
    expect(JSON.stringify(logs)).not.toContain(session); // session ids are bearer secrets
    expect(inferLine.bytesIn).toBe(ka.encrypt(x).length);
    expect(inferLine.bytesOut).toBe(a.report.predicted.outputCiphertextBytes);
    expect(m.routes['POST /v1/sessions/:id/infer']!.latencyMs.p50).toBeGreaterThan(0);
  });

  it('accounts session memory as predicted (keys + plaintexts)', () => {
    const m = server.metrics();
    expect(m.sessions.open).toBe(1);
    expect(m.sessions.memoryBytes).toBe(sessionMemoryBytes(a));
  });
});

describe('server limits', () => {
  let a: Circuit;
  let server: PannServer;
  let base: string;
  let ka: LocalKeys;
  const notices: string[] = [];

  beforeAll(async () => {
    a = denseCircuit('dense-a', 16, 3, 4096);
    server = await PannServer.start({
      models: [{ id: 'a', circuit: a }],
      port: 0,
      limits: { workers: 1, maxQueue: 1, maxSessions: 2, sessionTtlMs: 1500 },
      onNotice: (s) => notices.push(s),
    });
    base = `${server.url}/v1`;
    ka = await localKeys('a', a);
  });
  afterAll(async () => {
    ka?.dispose();
    await server?.close();
  });

  const open = async () => {
    const res = await post(`${base}/sessions`, ka.envelope());
    expect(res.status).toBe(201);
    return (JSON.parse(res.body.toString()) as { session: string }).session;
  };

  it('a full queue answers 503 with Retry-After; every accepted request is answered correctly', async () => {
    const id = await open();
    const inputs = Array.from({ length: 16 }, (_, i) => vector(16, 200 + i));
    const answers = await Promise.all(inputs.map((y) => post(`${base}/sessions/${id}/infer`, ka.encrypt(y))));
    const refused = answers.filter((r) => r.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(errorCode(r)).toBe('overloaded');
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    const d = ka.description;
    answers.forEach((r, i) => {
      if (r.status !== 200) return;
      const ct = loadCiphertext(ka.context, new Uint8Array(r.body.buffer, r.body.byteOffset, r.body.length), {
        level: d.output.level,
        scale: d.output.scale,
      });
      const got = outputValues(d, ka.encryptor.decrypt(ct));
      ct.free();
      const want = runSim(a, inputs[i]!, 1)[0]!.logits;
      got.forEach((v, j) => expect(Math.abs(v - want[j]!)).toBeLessThan(1e-3));
    });
    expect(answers.filter((r) => r.status === 200).length + refused.length).toBe(inputs.length);
  });

  it('more sessions than allowed evicts the least recently used one', async () => {
    const first = await open();
    const second = await open();
    await post(`${base}/sessions/${first}/infer`, ka.encrypt(vector(16, 1))); // first is now the most recent
    const third = await open();
    const gone = await post(`${base}/sessions/${second}/infer`, ka.encrypt(vector(16, 1)));
    expect({ status: gone.status, code: errorCode(gone) }).toEqual({ status: 404, code: 'unknown_session' });
    expect(gone.body.toString()).toMatch(/evicted/);
    expect((await post(`${base}/sessions/${first}/infer`, ka.encrypt(vector(16, 1)))).status).toBe(200);
    expect((await post(`${base}/sessions/${third}/infer`, ka.encrypt(vector(16, 1)))).status).toBe(200);
    expect(server.metrics().sessions.open).toBe(2);
    expect(notices.some((n) => /evicted/.test(n))).toBe(true);
  });

  it('an idle session expires after its TTL', async () => {
    const id = await open();
    await new Promise((r) => setTimeout(r, 2000));
    const res = await post(`${base}/sessions/${id}/infer`, ka.encrypt(vector(16, 1)));
    expect({ status: res.status, code: errorCode(res) }).toEqual({ status: 404, code: 'unknown_session' });
    expect(res.body.toString()).toMatch(/expired/);
  });

  it('keys larger than the whole key-memory budget get 413; a slow answer gets 503 timeout', async () => {
    const tight = await PannServer.start({
      models: [{ id: 'a', circuit: a }],
      port: 0,
      limits: { workers: 1, maxKeyMemoryBytes: 1024 * 1024 },
    });
    const slow = await PannServer.start({ models: [{ id: 'a', circuit: a }], port: 0, limits: { workers: 1, requestTimeoutMs: 1 } });
    try {
      const big = await post(`${tight.url}/v1/sessions`, ka.envelope());
      expect({ status: big.status, code: errorCode(big) }).toEqual({ status: 413, code: 'keys_too_large' });
      const late = await post(`${slow.url}/v1/sessions`, ka.envelope());
      expect({ status: late.status, code: errorCode(late) }).toEqual({ status: 503, code: 'timeout' });
      expect(Number(late.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // the session the worker opened after the deadline is closed again, not leaked
      await new Promise((r) => setTimeout(r, 500));
      expect(slow.metrics().sessions.open).toBe(0);
    } finally {
      await Promise.all([tight.close(), slow.close()]);
    }
  });

  it('graceful shutdown: an in-flight inference finishes, then the server refuses connections', async () => {
    const id = await open();
    const running = post(`${base}/sessions/${id}/infer`, ka.encrypt(vector(16, 3)));
    while (server.metrics().process.requestsInFlight === 0) await new Promise((r) => setImmediate(r));
    const closing = server.close();
    expect((await running).status).toBe(200);
    await closing;
    await expect(httpRequest(`${base}/health`)).rejects.toThrow(/ECONNREFUSED/);
  });
});
