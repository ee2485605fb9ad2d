/**
 * One HTTP request from the client side (node:http): the body is written in chunks with backpressure so upload
 * progress is real, the response is read up to a size limit (a hostile server cannot exhaust memory), and the
 * exact body bytes each way are counted. API errors ({ error: { code, message } }) become ServerErrors.
 */
import { Agent, request } from 'node:http';
import { ServerError, errorMessage } from '../errors.js';
import { compiledSchema } from '../schema/index.js';
import { ErrorBodySchema } from './protocol-schema.js';

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Called as the body is written: bytes sent so far, total. */
  onUploadProgress?: (sent: number, total: number) => void;
  /** Largest response body accepted. @default 64 MiB */
  maxResponseBytes?: number;
  /** Abort when the whole exchange takes longer. @default 10 min */
  timeoutMs?: number;
  agent?: Agent;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  bytesSent: number;
  bytesReceived: number;
}

const CHUNK = 1 << 20;

/**
 * Send one request; resolves with any status (use `apiResult` to turn error statuses into ServerErrors). A
 * request on a kept-alive socket that the server had just closed (ECONNRESET before any answer) is sent again
 * once on a fresh connection.
 */
export async function httpRequest(url: string, options: HttpRequestOptions = {}): Promise<HttpResponse> {
  try {
    return await sendOnce(url, options);
  } catch (err) {
    if (err instanceof StaleSocket) return sendOnce(url, options);
    throw err;
  }
}

class StaleSocket extends Error {}

function sendOnce(url: string, options: HttpRequestOptions): Promise<HttpResponse> {
  const body = options.body ?? null;
  const maxResponse = options.maxResponseBytes ?? 64 * 1024 * 1024;
  return new Promise<HttpResponse>((resolvePromise, rejectPromise) => {
    let done = false;
    let responded = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      fn();
    };
    const fail = (message: string, cause?: unknown) => finish(() => rejectPromise(new ServerError(0, 'network', message, { cause })));
    let req: ReturnType<typeof request>;
    try {
      req = request(url, {
        method: options.method ?? 'GET',
        headers: { ...(options.headers ?? {}), ...(body ? { 'Content-Length': String(body.length) } : {}) },
        ...(options.agent ? { agent: options.agent } : {}),
        timeout: options.timeoutMs ?? 600_000,
      });
    } catch (err) {
      fail(`${options.method ?? 'GET'} ${url}: ${errorMessage(err)}`, err);
      return;
    }
    req.on('timeout', () => {
      req.destroy();
      fail(`${options.method ?? 'GET'} ${url}: no answer within ${options.timeoutMs ?? 600_000} ms`);
    });
    req.on('error', (err) => {
      if (req.reusedSocket && !responded && (err as { code?: string }).code === 'ECONNRESET') {
        finish(() => rejectPromise(new StaleSocket()));
        return;
      }
      // a server that refuses a body early answers and closes: the write fails but the answer may still arrive
      if (!responded) setTimeout(() => !responded && fail(`${options.method ?? 'GET'} ${url}: ${errorMessage(err)}`, err), 200);
    });
    req.on('response', (res) => {
      responded = true;
      const chunks: Buffer[] = [];
      let received = 0;
      res.on('data', (c: Buffer) => {
        received += c.length;
        if (received > maxResponse) {
          res.destroy();
          fail(`${url}: response larger than ${maxResponse} bytes`);
          return;
        }
        chunks.push(c);
      });
      res.on('end', () =>
        finish(() =>
          resolvePromise({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            bytesSent: sent,
            bytesReceived: received,
          }),
        ),
      );
      res.on('error', (err) => fail(`${url}: ${errorMessage(err)}`, err));
    });
    let sent = 0;
    if (!body || body.length === 0) {
      req.end();
      return;
    }
    const total = body.length;
    const writeMore = () => {
      while (sent < total && !req.destroyed) {
        const end = Math.min(total, sent + CHUNK);
        const chunk = body.subarray(sent, end);
        const more = req.write(chunk, () => options.onUploadProgress?.(end, total));
        sent = end;
        if (!more) {
          req.once('drain', writeMore);
          return;
        }
      }
      if (sent >= total) req.end();
    };
    writeMore();
  });
}

/** The JSON of a successful response, or a ServerError carrying the API error the server sent. */
export function apiResult<T>(res: HttpResponse, what: string): T {
  if (res.status >= 200 && res.status < 300) {
    if (res.body.length === 0) return undefined as T;
    try {
      return JSON.parse(res.body.toString('utf8')) as T;
    } catch {
      throw new ServerError(502, 'bad_response', `${what}: the server answered ${res.status} with a body that is not JSON`);
    }
  }
  throw apiError(res, what);
}

/** The ServerError for an error response (its API code and message when the body has them). */
export function apiError(res: HttpResponse, what: string): ServerError {
  let code = 'http_error';
  let message = `HTTP ${res.status}`;
  try {
    const body: unknown = JSON.parse(res.body.toString('utf8'));
    if (compiledSchema(ErrorBodySchema).Check(body)) ({ code, message } = body.error);
  } catch {
    /* not an API error body: keep the status */
  }
  return new ServerError(res.status, code, `${what}: ${message} (HTTP ${res.status} ${code})`);
}
