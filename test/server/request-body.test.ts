/** Reading a request body under limits, on a stand-in request that emits what a socket would. */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ServerError } from '../../src/errors.js';
import { declaredBodyLength, receiveBody, type ReceiveBodyOptions } from '../../src/server/request-body.js';

function request(headers: Record<string, string>): IncomingMessage & EventEmitter {
  return Object.assign(new EventEmitter(), { headers }) as unknown as IncomingMessage & EventEmitter;
}

function options(o: Partial<ReceiveBodyOptions> = {}): ReceiveBodyOptions {
  return { length: null, limit: 100, what: 'the body', reserve: () => true, maxBufferedBytes: 1000, onEnd: () => {}, ...o };
}

async function rejection(p: Promise<unknown>): Promise<ServerError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ServerError);
  return err as ServerError;
}

describe('declaredBodyLength', () => {
  const octets = { 'content-type': 'application/octet-stream; x=1' };
  it('reads the declared length, or null for a chunked body', () => {
    expect(declaredBodyLength(request({ ...octets, 'content-length': '12' }), 100, 'the body')).toBe(12);
    expect(declaredBodyLength(request(octets), 100, 'the body')).toBeNull();
  });
  it('refuses another content type, a bad length and a length over the limit', () => {
    expect(() => declaredBodyLength(request({ 'content-type': 'text/plain' }), 100, 'the body')).toThrow(
      /the body must be sent as application\/octet-stream, not "text\/plain"/,
    );
    expect(() => declaredBodyLength(request({}), 100, 'the body')).toThrow(/without a content type/);
    expect(() => declaredBodyLength(request({ ...octets, 'content-length': '-1' }), 100, 'the body')).toThrow(/bad Content-Length "-1"/);
    expect(() => declaredBodyLength(request({ ...octets, 'content-length': '101' }), 100, 'the body')).toThrow(
      /the body of 101 bytes is larger than this route's limit of 100 bytes/,
    );
  });
});

describe('receiveBody', () => {
  it('reads a body of known length into its buffer, and joins a chunked one', async () => {
    const req = request({});
    let ended = false;
    const known = receiveBody(req, options({ length: 5, onEnd: () => (ended = true) }));
    req.emit('data', Buffer.from('ab'));
    req.emit('data', Buffer.from('cde'));
    req.emit('end');
    expect((await known).toString()).toBe('abcde');
    expect(ended).toBe(true);
    expect(req.listenerCount('data')).toBe(0);

    const reserved: number[] = [];
    const chunked = receiveBody(req, options({ reserve: (n) => (reserved.push(n), true) }));
    req.emit('data', Buffer.from('xy'));
    req.emit('data', Buffer.from('z'));
    req.emit('end');
    expect((await chunked).toString()).toBe('xyz');
    expect(reserved).toEqual([2, 1]);
  });

  it('charges a body of known length as its bytes arrive, not as declared', async () => {
    const req = request({});
    const reserved: number[] = [];
    const body = receiveBody(req, options({ length: 5, reserve: (n) => (reserved.push(n), true) }));
    expect(reserved).toEqual([]); // a declaration alone holds nothing
    req.emit('data', Buffer.from('abc'));
    expect(reserved).toEqual([3]);
    req.emit('data', Buffer.from('de'));
    req.emit('end');
    expect((await body).toString()).toBe('abcde');
    expect(reserved).toEqual([3, 2]);
  });

  it('stops at the limit, the declared length or the buffering budget', async () => {
    let req = request({});
    const overLimit = receiveBody(req, options({ limit: 3 }));
    req.emit('data', Buffer.from('abcd'));
    expect((await rejection(overLimit)).message).toBe("the body is larger than this route's limit of 3 bytes");

    req = request({});
    const overDeclared = receiveBody(req, options({ length: 2 }));
    req.emit('data', Buffer.from('abc'));
    expect((await rejection(overDeclared)).message).toBe('the body is larger than its Content-Length');

    req = request({});
    const overBudget = receiveBody(req, options({ reserve: () => false, maxBufferedBytes: 7 }));
    req.emit('data', Buffer.from('a'));
    const e = await rejection(overBudget);
    expect([e.status, e.apiCode]).toEqual([503, 'overloaded']);
    expect(e.message).toMatch(/limit 7 bytes/);
  });

  it('reports a short body, a client that stops and a stream error', async () => {
    let req = request({});
    const short = receiveBody(req, options({ length: 4 }));
    req.emit('data', Buffer.from('ab'));
    req.emit('end');
    expect((await rejection(short)).message).toBe('body ended after 2 of 4 declared bytes');

    req = request({});
    const aborted = receiveBody(req, options());
    req.emit('data', Buffer.from('abc'));
    req.emit('aborted');
    expect((await rejection(aborted)).message).toBe('the client stopped sending after 3 bytes');

    req = request({});
    const failed = receiveBody(req, options());
    req.emit('error', new Error('socket hang up'));
    expect((await rejection(failed)).message).toBe('reading the body failed: socket hang up');
  });
});
