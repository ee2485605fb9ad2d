import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CkksEvaluator, loadCiphertext, saveCiphertext } from '../../src/ckks/index.js';
import { relayoutSlots, type Circuit } from '../../src/circuit/index.js';
import { loadMnistSplit } from '../../src/nn/mnist.js';
import { PreparedCircuit, encodeInput } from '../../src/runtime/executor.js';
import { runSim } from '../../src/runtime/inference.js';
import { localRefreshClient, type RoundMasks } from '../../src/runtime/refresh.js';
import { SimBackend } from '../../src/runtime/sim-backend.js';
import { PannClient, type ClientSession } from '../../src/server/client.js';
import type { HttpResponse } from '../../src/server/http-request.js';
import { outputValues } from '../../src/server/model-description.js';
import {
  encodeRefreshReply,
  isRefreshRequest,
  joinSealObjects,
  parseRefreshRequest,
  splitSealObjects,
  type RefreshRequest,
} from '../../src/server/protocol.js';
import { PannServer } from '../../src/server/server.js';
import { denseCircuit, errorCode, localKeys, post, refreshCircuit, vector, type LocalKeys } from './fixtures.js';

const ROUND_TTL_MS = 2000;
const bytesOf = (res: HttpResponse) => new Uint8Array(res.body.buffer, res.body.byteOffset, res.body.length);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The multi-round protocol end to end: a real server on 127.0.0.1 (two worker threads, real SEAL) serving the
 * MNIST CNN with two client-aided refresh rounds; the typed client, the CLI, and raw requests for everything a
 * hostile or broken key holder could send. After each bad request a good inference still gives sim's logits.
 */
describe('refresh rounds over HTTP', () => {
  let circuit: Circuit;
  let server: PannServer;
  let base: string;
  let ka: LocalKeys; // the raw key holder of session `session`
  let kd: LocalKeys; // keys of another model (other parameters)
  let session: string;
  let client: PannClient;
  let typed: ClientSession;
  const notices: string[] = [];
  const test = loadMnistSplit('test');
  const digit = (i: number) => test.inputs.subarray(i * 784, (i + 1) * 784);
  const sim = new Map<number, Float64Array>();
  const simLogits = (i: number) => {
    if (!sim.has(i)) sim.set(i, runSim(circuit, digit(i), 1)[0]!.logits);
    return sim.get(i)!;
  };

  beforeAll(async () => {
    circuit = refreshCircuit();
    const dense = denseCircuit('dense', 16, 3, 4096);
    server = await PannServer.start({
      models: [
        { id: 'cnn', circuit },
        { id: 'dense', circuit: dense },
      ],
      port: 0,
      limits: { workers: 2, roundTtlMs: ROUND_TTL_MS, maxPendingPerSession: 2 },
      onNotice: (n) => notices.push(n),
    });
    base = `${server.url}/v1`;
    client = new PannClient(server.url);
    [ka, kd, typed] = await Promise.all([localKeys('cnn', circuit), localKeys('dense', dense), client.openSession('cnn')]);
    const res = await post(`${base}/sessions`, ka.envelope());
    expect(res.status).toBe(201);
    session = (JSON.parse(res.body.toString()) as { session: string }).session;
  });
  afterAll(async () => {
    await typed?.close();
    client?.close();
    ka?.dispose();
    kd?.dispose();
    await server?.close();
  });

  // --- the raw key holder -------------------------------------------------------------------------------------
  const url = (route: string, id = session) => `${base}/sessions/${id}/${route}`;

  /** A refresh request's header and masked ciphertexts (the answer must be one). */
  function refreshRequest(res: HttpResponse): { request: RefreshRequest; masked: Uint8Array[] } {
    expect(res.status).toBe(200);
    expect(isRefreshRequest(bytesOf(res))).toBe(true);
    return parseRefreshRequest(bytesOf(res));
  }

  /** Decrypt the masked ciphertexts of round `round` (what the key holder sees). */
  function decryptMasked(masked: Uint8Array[], round: number): Float64Array[] {
    return masked.map((bytes, k) => {
      const ct = loadCiphertext(ka.context, bytes, ka.description.rounds[round]!.masked[k]);
      try {
        return ka.encryptor.decrypt(ct);
      } finally {
        ct.free();
      }
    });
  }

  /** The honest key holder's fresh ciphertexts for a refresh request (values moved as the round's relayout says). */
  function fresh(req: { request: RefreshRequest; masked: Uint8Array[] }): Uint8Array[] {
    const relayout = ka.description.rounds[req.request.round]!.relayout;
    return decryptMasked(req.masked, req.request.round).map((v) =>
      ka.encryptor.encryptSerialized(relayoutSlots(v, relayout, v.length), req.request.scale),
    );
  }

  const start = async (i: number) => refreshRequest(await post(url('infer'), ka.encrypt(digit(i))));
  const answer = (token: string, cts: Uint8Array[], id = session) => post(url('infer/continue', id), encodeRefreshReply(token, cts));

  /** Play the remaining rounds honestly and check the result against sim. */
  async function finish(i: number, req: { request: RefreshRequest; masked: Uint8Array[] }): Promise<void> {
    let res = await answer(req.request.token, fresh(req));
    while (isRefreshRequest(bytesOf(res))) {
      const next = refreshRequest(res);
      res = await answer(next.request.token, fresh(next));
    }
    expect(res.status).toBe(200);
    const d = ka.description;
    const ct = loadCiphertext(ka.context, splitSealObjects(bytesOf(res))[0]!, { level: d.output.level, scale: d.output.scale });
    const got = outputValues(d, ka.encryptor.decrypt(ct));
    ct.free();
    const want = simLogits(i);
    got.forEach((v, j) => expect(Math.abs(v - want[j]!)).toBeLessThan(0.05));
  }

  const goodInference = async (i: number) => finish(i, await start(i));

  // --- the tests ----------------------------------------------------------------------------------------------
  it('the typed client plays both rounds: logits equal the sim backend (pann run --backend sim) within CKKS noise', async () => {
    expect(typed.model.rounds).toHaveLength(2);
    // both rounds move the values to the layout the next linear layer wants (free relayout): the client does it
    expect(typed.model.rounds.every((r) => r.relayout !== undefined)).toBe(true);
    let maxErr = 0;
    for (let i = 0; i < 3; i++) {
      const r = await typed.infer(digit(i));
      expect(r.prediction).toBe(runSim(circuit, digit(i), 1)[0]!.prediction);
      simLogits(i).forEach((v, j) => (maxErr = Math.max(maxErr, Math.abs(v - r.logits[j]!))));
      expect(r.rounds.map((x) => [x.round, x.ciphertexts])).toEqual([
        [0, 1],
        [1, 1],
      ]);
      for (const x of r.rounds) {
        expect(x.serverEvalMs).toBeGreaterThan(0);
        expect(x.roundTripMs).toBeGreaterThanOrEqual(x.serverEvalMs);
        expect(x.bytesSent).toBeGreaterThan(circuit.report.predicted.seededCiphertextBytes); // a seeded fresh ciphertext + envelope
        expect(x.bytesSent).toBeLessThan(circuit.report.predicted.seededCiphertextBytes + 400);
      }
      // the masked ciphertext of round 0 is full size at its level; round 1's source is two levels lower
      // every segment runs down to level 1 before its round: the masked ciphertexts are the same size
      expect(r.rounds[0]!.bytesReceived).toBe(r.rounds[1]!.bytesReceived);
      expect(r.bytesSent).toBe(circuit.report.predicted.seededCiphertextBytes + r.rounds[0]!.bytesSent + r.rounds[1]!.bytesSent);
      expect(r.bytesReceived).toBe(
        r.rounds[0]!.bytesReceived + r.rounds[1]!.bytesReceived + circuit.report.predicted.outputCiphertextBytes,
      );
    }
    expect(maxErr).toBeGreaterThan(0); // real CKKS noise, not sim run twice
    expect(maxErr).toBeLessThan(0.05);
  });

  it('the key holder sees x + r only: masks differ per inference and per round, are never sent, and are uniform on [−R, R]', async () => {
    // the true values at each round, from the sim backend with zero masks
    const zero: RoundMasks = (_r, _k, n) => new Float64Array(n);
    const be = new SimBackend({ params: circuit.params });
    const prepared = new PreparedCircuit(circuit, be);
    const truth: Float64Array[] = [];
    let step = prepared.start([be.encrypt(encodeInput(circuit, digit(5)), circuit.inputScale)], zero);
    while (step.kind === 'round') {
      truth.push(be.decrypt(step.masked[0]!));
      step = prepared.resume(step.round.index, localRefreshClient(be)(step.masked, step.round), zero);
    }
    const a0 = await start(5);
    const b0 = await start(5);
    expect(a0.request.token).not.toBe(b0.request.token);
    // nothing but the header and the ciphertexts is sent: the header has exactly these fields
    expect(Object.keys(a0.request).sort()).toEqual(['ciphertexts', 'level', 'round', 'rounds', 'scale', 'token']);
    expect(a0.request).toMatchObject({ round: 0, rounds: 2, ciphertexts: 1, level: circuit.params.maxLevel });
    const [a] = decryptMasked(a0.masked, 0);
    const [b] = decryptMasked(b0.masked, 0);
    const a1 = refreshRequest(await answer(a0.request.token, fresh(a0)));
    const [a2] = decryptMasked(a1.masked, 1);
    const R = circuit.ops.filter((o) => o.op === 'refresh').map((o) => (o as { maskBound: number }).maskBound);
    const used = Array.from({ length: 2000 }, (_, s) => s); // every slot is masked, used or not
    const ra = used.map((s) => a![s]! - truth[0]![s]!);
    const rb = used.map((s) => b![s]! - truth[0]![s]!);
    const r1 = used.map((s) => a2![s]! - truth[1]![s]!);
    for (const [r, bound] of [
      [ra, R[0]!],
      [rb, R[0]!],
      [r1, R[1]!],
    ] as const) {
      const meanAbs = r.reduce((x, v) => x + Math.abs(v), 0) / r.length;
      expect(meanAbs / bound).toBeGreaterThan(0.45); // uniform on [−R, R]: E|r| = R/2
      expect(meanAbs / bound).toBeLessThan(0.55);
      expect(Math.max(...r.map(Math.abs))).toBeLessThanOrEqual(bound * (1 + 1e-6));
    }
    // the masks of two inferences of the same digit, and of two rounds, are unrelated
    const corr = (x: number[], y: number[]) =>
      x.reduce((s, v, i) => s + v * y[i]!, 0) / Math.sqrt(x.reduce((s, v) => s + v * v, 0) * y.reduce((s, v) => s + v * v, 0));
    expect(Math.abs(corr(ra, rb))).toBeLessThan(0.1);
    expect(Math.abs(corr(ra, r1))).toBeLessThan(0.1);
    await finish(5, a1); // unmasking re-derives the same r: the result is right
    await finish(5, b0);
    prepared.dispose();
  });

  it('a replayed, forged or foreign token is refused (409, 403, 403) and the inference it belongs to goes on', async () => {
    const r0 = await start(6);
    const reply = fresh(r0);
    const r1 = refreshRequest(await answer(r0.request.token, reply));
    const replay = await answer(r0.request.token, reply);
    expect({ status: replay.status, code: errorCode(replay) }).toEqual({ status: 409, code: 'stale_token' });
    expect(replay.body.toString()).toMatch(/already answered: the inference waits for round 1/);
    const t = r1.request.token;
    const flip = (at: number) => t.slice(0, at) + (t[at] === 'A' ? 'B' : 'A') + t.slice(at + 1);
    for (const forged of [flip(5), flip(t.length - 3)]) {
      const res = await answer(forged, fresh(r1));
      expect({ status: res.status, code: errorCode(res) }).toEqual({ status: 403, code: 'forged_token' });
    }
    const foreign = await answer(t, fresh(r1), typed.id);
    expect({ status: foreign.status, code: errorCode(foreign) }).toEqual({ status: 403, code: 'foreign_token' });
    expect(foreign.body.toString()).toMatch(/belongs to another session/);
    const malformed = await answer('not-a-token', fresh(r1));
    expect({ status: malformed.status, code: errorCode(malformed) }).toEqual({ status: 400, code: 'bad_token' });
    await finish(6, r1);
    const again = await answer(t, fresh(r1)); // the inference is over: its last token is dead too
    expect({ status: again.status, code: errorCode(again) }).toEqual({ status: 409, code: 'stale_token' });
  });

  it('an expired token gets 410; abandoned inferences expire; a session holds at most 2 waiting inferences (429)', async () => {
    const abandoned = await start(7);
    const kept = await start(8);
    const third = await post(url('infer'), ka.encrypt(digit(9)));
    expect({ status: third.status, code: errorCode(third) }).toEqual({ status: 429, code: 'too_many_inferences' });
    expect(Number(third.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(server.metrics().pendingInferences.waiting).toBe(2);
    await finish(8, kept); // completing one frees its place
    await goodInference(9);
    await sleep(ROUND_TTL_MS + 600);
    const late = await answer(abandoned.request.token, fresh(abandoned));
    expect({ status: late.status, code: errorCode(late) }).toEqual({ status: 410, code: 'expired_token' });
    expect(late.body.toString()).toMatch(/expired .* s ago/);
    expect(server.metrics().pendingInferences.waiting).toBe(0);
    expect(notices.some((n) => /abandoned at a refresh round expired/.test(n))).toBe(true);
    await goodInference(7);
  }, 30_000);

  /** A bad reply to a fresh inference's first round: [name, body maker, status, code]. */
  type Case = [string, number, string, (req: { request: RefreshRequest; masked: Uint8Array[] }) => Uint8Array, RegExp];
  const reply = (token: string, cts: Uint8Array[]) => encodeRefreshReply(token, cts);
  const envelope = (magic: string, header: unknown, parts: Uint8Array[]) => {
    const h = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(16 + h.length);
    out.set(new TextEncoder().encode(magic));
    new DataView(out.buffer).setUint32(8, 1, true);
    new DataView(out.buffer).setUint32(12, h.length, true);
    out.set(h, 16);
    return joinSealObjects([out, ...parts]);
  };
  const lowerLevel = (bytes: Uint8Array) => {
    const ct = loadCiphertext(ka.context, bytes);
    const low = new CkksEvaluator(ka.context).dropToLevel(ct, ct.level - 1);
    try {
      return saveCiphertext(low);
    } finally {
      ct.free();
      low.free();
    }
  };
  const cases: Case[] = [
    [
      'two ciphertexts for one',
      400,
      'bad_ciphertext_count',
      (q) => reply(q.request.token, [...fresh(q), ...fresh(q)]),
      /round 0 of model cnn takes 1 fresh ciphertext\(s\), the reply holds 2/,
    ],
    ['no ciphertext', 400, 'bad_ciphertext_count', (q) => reply(q.request.token, []), /the reply holds 0/],
    [
      'the wrong level',
      400,
      'bad_ciphertext',
      (q) => reply(q.request.token, fresh(q).map(lowerLevel)),
      /refresh round 0: fresh ciphertext 0: .*level 4, expected level 5/,
    ],
    [
      'the wrong scale',
      400,
      'bad_ciphertext',
      (q) => reply(q.request.token, [ka.encryptor.encryptSerialized(decryptMasked(q.masked, 0)[0]!, q.request.scale * 2)]),
      /fresh ciphertext 0: .*has scale .*, expected/,
    ],
    [
      'garbage bytes',
      400,
      'bad_ciphertext',
      (q) => reply(q.request.token, [Uint8Array.from(vector(5000, 3), (v) => Math.floor((v + 1) * 127))]),
      /ciphertext 0: not SEAL data/,
    ],
    [
      'garbage after a SEAL header',
      400,
      'bad_ciphertext',
      (q) => {
        const bytes = Uint8Array.from(fresh(q)[0]!);
        bytes.fill(0x5a, 40, 4000);
        return reply(q.request.token, [bytes]);
      },
      /fresh ciphertext 0: /,
    ],
    [
      'parameters of another model',
      400,
      'bad_ciphertext',
      (q) => reply(q.request.token, [kd.encrypt(vector(16, 4))]),
      /fresh ciphertext 0: /,
    ],
    [
      'a masked ciphertext sent back as it came',
      400,
      'bad_ciphertext',
      (q) => reply(q.request.token, q.masked),
      /level 1, expected level 5/,
    ],
    ['not a PANNCONT envelope', 400, 'bad_request', (q) => joinSealObjects(fresh(q)), /refresh reply: magic .*expected "PANNCONT"/],
    [
      'an unknown header field',
      400,
      'bad_request',
      (q) => envelope('PANNCONT', { token: q.request.token, secretKey: 'x' }, fresh(q)),
      /unknown header field "secretKey"/,
    ],
  ];

  it.each(cases)(
    'a reply with %s is refused (%i %s), ends that inference, and a good inference still works',
    async (_name, status, code, make, message) => {
      const q = await start(10);
      const res = await post(url('infer/continue'), make(q));
      expect({ status: res.status, code: errorCode(res) }).toEqual({ status, code });
      expect((JSON.parse(res.body.toString()) as { error: { message: string } }).error.message).toMatch(message);
      if (code !== 'bad_request') {
        // a reply that failed after its token was taken ends the inference
        const retry = await answer(q.request.token, fresh(q));
        expect({ status: retry.status, code: errorCode(retry) }).toEqual({ status: 409, code: 'stale_token' });
      } else await finish(10, q); // refused before the token was read: the inference waits on
      await goodInference(11);
    },
  );

  it('pann client infer prints each round with its bytes and times, and --json has them', async () => {
    const run = promisify(execFile);
    const args = ['bin/pann.js', 'client', 'infer', '-s', server.url, '-m', 'cnn', '--index', '2', '-q'];
    const [out, text] = await Promise.all([run('node', [...args, '--json']), run('node', args)]);
    const json = JSON.parse(out.stdout) as {
      results: { prediction: number; rounds: { round: number; bytesSent: number; bytesReceived: number; keyHolderMs: number }[] }[];
    };
    const r = json.results[0]!;
    expect(r.prediction).toBe(runSim(circuit, digit(2), 1)[0]!.prediction);
    expect(r.rounds.map((x) => x.round)).toEqual([0, 1]);
    for (const x of r.rounds) {
      expect(x.bytesSent).toBeGreaterThan(100_000);
      expect(x.bytesReceived).toBeGreaterThan(100_000);
      expect(x.keyHolderMs).toBeGreaterThan(0);
    }
    expect(text.stdout).toMatch(/round 1\/2: 1 ciphertext\(s\); received [\d.]+ kB, sent [\d.]+ kB/);
    expect(text.stdout).toMatch(/round 2\/2: /);
  }, 60_000);
});
