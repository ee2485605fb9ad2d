import { describe, expect, it } from 'vitest';
import { ServerError } from '../../src/errors.js';
import { ContinuationTokens, PendingInferences, serverSecrets } from '../../src/server/continuation.js';

/** The error a call throws, as status and API code. */
function refusal(f: () => unknown): { status: number; code: string; message: string } {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ServerError);
    const e = err as ServerError;
    return { status: e.status, code: e.apiCode, message: e.message };
  }
  throw new Error('expected a refusal');
}

describe('continuation tokens', () => {
  const { tokenKey, maskSecret } = serverSecrets(new Uint8Array(32).fill(1));
  const tokens = new ContinuationTokens(tokenKey);
  const c = { inference: Uint8Array.from({ length: 16 }, (_, i) => i), round: 1, opIndex: 237, expiresAt: 1_000_000 };

  it('carry the inference, round, op index and expiry, for their session only', () => {
    const t = tokens.issue('session-a', c);
    expect(t).toMatch(/^[A-Za-z0-9_-]{106}$/);
    expect(tokens.open(t, 'session-a', 999_999)).toEqual(c);
    expect(refusal(() => tokens.open(t, 'session-b', 0))).toMatchObject({ status: 403, code: 'foreign_token' });
    // the tag and mask keys are independent halves of one secret
    expect(Buffer.from(tokenKey).equals(Buffer.from(maskSecret))).toBe(false);
    expect(maskSecret).toHaveLength(32);
  });

  it('refuse an altered token (any byte), another server’s, an expired or malformed one', () => {
    const t = tokens.issue('s', c);
    for (const at of [0, 3, 20, 50, 70, 104]) {
      const altered = t.slice(0, at) + (t[at] === 'A' ? 'B' : 'A') + t.slice(at + 1);
      const r = refusal(() => tokens.open(altered, 's', 0));
      expect([r.status, r.code]).toEqual(at === 0 ? [400, 'bad_token'] : [403, 'forged_token']); // byte 0 is the version
    }
    const other = new ContinuationTokens(serverSecrets().tokenKey);
    expect(refusal(() => other.open(t, 's', 0))).toMatchObject({ status: 403, code: 'forged_token' });
    expect(refusal(() => tokens.open(t, 's', 1_000_001))).toMatchObject({ status: 410, code: 'expired_token' });
    // the last character carries 2 data bits and 4 unused ones: a character with the same data bits is refused too
    const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(t.at(-1)!);
    const twin = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[last ^ 1]!;
    for (const bad of ['', 'abc', `${t}A`, t.replace(/.$/, '='), t.slice(0, -1) + twin]) {
      expect(refusal(() => tokens.open(bad, 's', 0))).toMatchObject({ status: 400, code: 'bad_token' });
    }
  });
});

describe('pending inferences', () => {
  let now = 0;
  const table = () => new PendingInferences({ maxPending: 3, maxPendingPerSession: 2, roundTtlMs: 100 }, () => now);

  it('single use: a round is claimed once, the next round only after the server waits for it', () => {
    now = 0;
    const p = table();
    const id = p.begin('s');
    expect(refusal(() => p.claim(id, 's', 0)).message).toMatch(/being answered by another request/);
    p.wait(id, 0);
    expect(refusal(() => p.claim(id, 't', 0))).toMatchObject({ status: 409, code: 'stale_token' });
    p.claim(id, 's', 0);
    expect(refusal(() => p.claim(id, 's', 0)).message).toMatch(/being answered by another request/);
    p.wait(id, 1);
    expect(refusal(() => p.claim(id, 's', 0)).message).toMatch(/already answered: the inference waits for round 1/);
    p.claim(id, 's', 1);
    p.finish(id);
    expect(refusal(() => p.claim(id, 's', 1)).message).toMatch(/no longer valid/);
    expect(p.count).toBe(0);
  });

  it('bounds waiting inferences per session (429) and in all (503); abandoned ones expire and free their place', () => {
    now = 0;
    const p = table();
    const a = [p.begin('s'), p.begin('s')];
    for (const id of a) p.wait(id, 0);
    expect(refusal(() => p.begin('s'))).toMatchObject({ status: 429, code: 'too_many_inferences' });
    const t = p.begin('t');
    p.wait(t, 0);
    expect(refusal(() => p.begin('u'))).toMatchObject({ status: 503, code: 'inferences_full' });
    now = 150; // past every deadline
    expect(refusal(() => p.claim(a[0]!, 's', 0)).message).toMatch(/no longer valid/);
    expect(p.expire()).toBe(3);
    p.begin('s');
    p.begin('s');
    p.dropSession('s');
    expect(p.count).toBe(0);
  });

  it('a busy inference (a reply being evaluated) does not expire, but goes with its session', () => {
    now = 0;
    const p = table();
    const id = p.begin('s');
    now = 1000;
    expect(p.expire()).toBe(0);
    expect(p.wait(id, 0)).toBe(1100);
    p.claim(id, 's', 0);
    p.dropSession('s'); // deleted while its segment ran
    expect(refusal(() => p.wait(id, 1))).toMatchObject({ status: 404, code: 'unknown_session' });
  });
});
