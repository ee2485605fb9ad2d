/** The client's HTTP exchange against a local server: bytes each way, upload progress, and each way it can fail. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerError } from '../../src/errors.js';
import { apiResult, httpRequest } from '../../src/server/http-request.js';

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => {
      if (req.url === '/big') return res.end(Buffer.alloc(5000));
      if (req.url === '/slow') return setTimeout(() => res.end('late'), 2000);
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ method: req.method, received: n }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

async function networkError(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ServerError);
  expect((err as ServerError).apiCode).toBe('network');
  return (err as ServerError).message;
}

describe('httpRequest', () => {
  it('sends the body in chunks with progress and counts the bytes each way', async () => {
    const body = new Uint8Array(3 * (1 << 20) + 5);
    const progress: number[] = [];
    const res = await httpRequest(`${base}/echo`, { method: 'POST', body, onUploadProgress: (sent) => progress.push(sent) });
    expect(apiResult(res, 'echo')).toEqual({ method: 'POST', received: body.length });
    expect(res.bytesSent).toBe(body.length);
    expect(res.bytesReceived).toBe(res.body.length);
    expect(progress).toEqual([1 << 20, 2 << 20, 3 << 20, body.length]);
    const get = await httpRequest(`${base}/echo`);
    expect([get.status, get.bytesSent]).toEqual([200, 0]);
  });

  it('fails with a network error on a response over the limit, a timeout, a refused connection and a bad URL', async () => {
    expect(await networkError(httpRequest(`${base}/big`, { maxResponseBytes: 1000 }))).toBe(`${base}/big: response larger than 1000 bytes`);
    expect(await networkError(httpRequest(`${base}/slow`, { timeoutMs: 100 }))).toBe(`GET ${base}/slow: no answer within 100 ms`);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    expect(await networkError(httpRequest(`http://127.0.0.1:${port}/x`, { method: 'PUT' }))).toMatch(
      new RegExp(`^PUT http://127.0.0.1:${port}/x: .*ECONNREFUSED`),
    );
    expect(await networkError(httpRequest('not a url'))).toMatch(/^GET not a url: /);
  });
});
