import { describe, expect, it } from 'vitest';
import { ServerError } from '../../src/errors.js';
import {
  KEYS_PREFIX_BYTES,
  encodeKeyUpload,
  encodeRefreshReply,
  encodeRefreshRequest,
  isRefreshRequest,
  joinSealObjects,
  parseKeyUpload,
  parseRefreshReply,
  parseRefreshRequest,
  splitSealObjects,
} from '../../src/server/protocol.js';

function sealObject(size: number, fill: number): Uint8Array {
  const b = new Uint8Array(size).fill(fill);
  const v = new DataView(b.buffer);
  v.setUint16(0, 0xa15e, true);
  v.setBigUint64(8, BigInt(size), true);
  return b;
}

describe('key envelope', () => {
  it('round-trips model and both key blobs as views (no copies)', () => {
    const relin = Uint8Array.from({ length: 100 }, (_, i) => i);
    const galois = Uint8Array.from({ length: 37 }, (_, i) => 255 - i);
    const bytes = encodeKeyUpload({ model: 'mnist', relin, galois });
    const back = parseKeyUpload(bytes);
    expect(back.model).toBe('mnist');
    expect(Array.from(back.relin)).toEqual(Array.from(relin));
    expect(Array.from(back.galois)).toEqual(Array.from(galois));
    expect(back.relin.buffer).toBe(bytes.buffer);
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe('PANNKEYS');
    expect(bytes.length).toBe(KEYS_PREFIX_BYTES + JSON.stringify({ model: 'mnist', relinBytes: 100, galoisBytes: 37 }).length + 137);
  });

  it('accepts an empty Galois blob (a circuit without rotations)', () => {
    expect(parseKeyUpload(encodeKeyUpload({ model: 'm', relin: new Uint8Array(3), galois: new Uint8Array(0) })).galois.length).toBe(0);
  });

  it.each([
    ['too short', new Uint8Array(10), /shorter than its 16-byte prefix/],
    ['empty', new Uint8Array(0), /empty body/],
  ])('rejects %s with a 400 naming it', (_name, bytes, message) => {
    expect(() => parseKeyUpload(bytes)).toThrow(message);
    try {
      parseKeyUpload(bytes);
    } catch (err) {
      expect(err).toBeInstanceOf(ServerError);
      expect((err as ServerError).status).toBe(400);
    }
  });

  it('names truncation and trailing bytes', () => {
    const good = encodeKeyUpload({ model: 'm', relin: new Uint8Array(50), galois: new Uint8Array(50) });
    expect(() => parseKeyUpload(good.subarray(0, good.length - 1))).toThrow(/truncated/);
    expect(() => parseKeyUpload(joinSealObjects([good, new Uint8Array(1)]))).toThrow(/trailing bytes/);
  });
});

describe('ciphertext framing', () => {
  it('splits objects laid back to back by their SEAL header size and joins them again', () => {
    const a = sealObject(40, 1);
    const b = sealObject(17, 2);
    const parts = splitSealObjects(joinSealObjects([a, b]));
    expect(parts.map((p) => p.length)).toEqual([40, 17]);
    expect(parts[1]![16]).toBe(2);
  });

  it('rejects a body that is not SEAL objects, naming the offset', () => {
    expect(() => splitSealObjects(new Uint8Array(0))).toThrow(/empty body/);
    expect(() => splitSealObjects(joinSealObjects([sealObject(40, 1), new Uint8Array(20)]))).toThrow(
      /ciphertext 1: not SEAL data \(magic 0x0000 at offset 40/,
    );
    const lying = sealObject(40, 1);
    new DataView(lying.buffer).setBigUint64(8, 4000n, true);
    expect(() => splitSealObjects(lying)).toThrow(/header says 4000 bytes, 40 remain/);
    const tiny = sealObject(16, 0);
    new DataView(tiny.buffer).setBigUint64(8, 3n, true);
    expect(() => splitSealObjects(tiny)).toThrow(/header says 3 bytes/);
  });
});

describe('refresh request and reply envelopes', () => {
  const request = { token: 'abc_-1', round: 1, rounds: 2, ciphertexts: 2, level: 5, scale: 134217728.5 };

  it('round-trip the header and the ciphertexts; a result is told apart from a request by its first bytes', () => {
    const masked = [sealObject(40, 1), sealObject(17, 2)];
    const bytes = encodeRefreshRequest(request, masked);
    expect(isRefreshRequest(bytes)).toBe(true);
    expect(isRefreshRequest(joinSealObjects(masked))).toBe(false);
    const back = parseRefreshRequest(bytes);
    expect(back.request).toEqual(request);
    expect(back.masked.map((m) => m.length)).toEqual([40, 17]);
    const reply = parseRefreshReply(encodeRefreshReply('tok', [sealObject(30, 3)]));
    expect(reply.token).toBe('tok');
    expect(splitSealObjects(reply.ciphertexts).map((p) => p.length)).toEqual([30]);
  });

  it('the client refuses a malformed request (502), the server a malformed reply (400), naming what is wrong', () => {
    const status = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return (err as ServerError).status;
      }
      return 0;
    };
    const bad = { ...request, level: -1 };
    expect(() => parseRefreshRequest(encodeRefreshRequest(bad, [sealObject(40, 1)]))).toThrow(/refresh request: header field "level"/);
    expect(status(() => parseRefreshRequest(encodeRefreshRequest(bad, [])))).toBe(502);
    expect(() => parseRefreshRequest(encodeRefreshRequest({ ...request, extra: 1 } as typeof request, []))).toThrow(
      /unknown header field "extra"/,
    );
    const reply = encodeRefreshReply('tok', []);
    reply[3] = 0x21;
    expect(() => parseRefreshReply(reply)).toThrow(/refresh reply: magic "PAN!CONT", expected "PANNCONT"/);
    expect(status(() => parseRefreshReply(reply))).toBe(400);
    expect(() => parseRefreshReply(encodeRefreshReply('not base64url!', []))).toThrow(/header field "token" must be a base64url string/);
    expect(() => parseRefreshReply(new Uint8Array(5))).toThrow(/refresh reply: 5 bytes is shorter than its 16-byte prefix/);
  });
});
