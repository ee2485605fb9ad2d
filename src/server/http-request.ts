/**
 * One HTTP request from the client side (node:http): the body is written in chunks with backpressure so upload
 * progress is real, the response is read up to a size limit (a hostile server cannot exhaust memory), and the
 * exact body bytes each way are counted. API errors ({ error: { code, message } }) become ServerErrors.
 */
import { Agent, type ClientRequest, type IncomingMessage, request } from 'node:http';
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
  return new Promise<HttpResponse>((resolvePromise, rejectPromise) => new Exchange(url, options, resolvePromise, rejectPromise).start());
}

/** One request and its answer: settles once, with the response or a network ServerError (or StaleSocket). */
class Exchange {
  readonly #url: string;
  readonly #options: HttpRequestOptions;
  readonly #body: Uint8Array | null;
  readonly #resolve: (res: HttpResponse) => void;
  readonly #reject: (err: Error) => void;
  #done = false;
  #responded = false;
  /** Body bytes handed to the socket so far. */
  #sent = 0;

  constructor(url: string, options: HttpRequestOptions, resolve: (res: HttpResponse) => void, reject: (err: Error) => void) {
    this.#url = url;
    this.#options = options;
    this.#body = options.body ?? null;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** `GET http://…`, for messages. */
  get #what(): string {
    return `${this.#options.method ?? 'GET'} ${this.#url}`;
  }

  /** Open the request, listen for its answer, and write the body. */
  start(): void {
    const o = this.#options;
    const body = this.#body;
    let req: ClientRequest;
    try {
      req = request(this.#url, {
        method: o.method ?? 'GET',
        headers: { ...(o.headers ?? {}), ...(body ? { 'Content-Length': String(body.length) } : {}) },
        ...(o.agent ? { agent: o.agent } : {}),
        timeout: o.timeoutMs ?? 600_000,
      });
    } catch (err) {
      this.#fail(`${this.#what}: ${errorMessage(err)}`, err);
      return;
    }
    req.on('timeout', () => {
      req.destroy();
      this.#fail(`${this.#what}: no answer within ${o.timeoutMs ?? 600_000} ms`);
    });
    req.on('error', (err) => this.#onError(req, err));
    req.on('response', (res) => this.#read(res));
    if (!body || body.length === 0) {
      req.end();
      return;
    }
    this.#writeBody(req, body);
  }

  #finish(fn: () => void): void {
    if (this.#done) return;
    this.#done = true;
    fn();
  }

  #fail(message: string, cause?: unknown): void {
    this.#finish(() => this.#reject(new ServerError(0, 'network', message, { cause })));
  }

  #onError(req: ClientRequest, err: Error): void {
    if (req.reusedSocket && !this.#responded && (err as { code?: string }).code === 'ECONNRESET') {
      this.#finish(() => this.#reject(new StaleSocket()));
      return;
    }
    // a server that refuses a body early answers and closes: the write fails but the answer may still arrive
    if (!this.#responded) setTimeout(() => !this.#responded && this.#fail(`${this.#what}: ${errorMessage(err)}`, err), 200);
  }

  /** Collect the response body up to the size limit, then settle with it. */
  #read(res: IncomingMessage): void {
    this.#responded = true;
    const maxResponse = this.#options.maxResponseBytes ?? 64 * 1024 * 1024;
    const chunks: Buffer[] = [];
    let received = 0;
    res.on('data', (c: Buffer) => {
      received += c.length;
      if (received > maxResponse) {
        res.destroy();
        this.#fail(`${this.#url}: response larger than ${maxResponse} bytes`);
        return;
      }
      chunks.push(c);
    });
    res.on('end', () =>
      this.#finish(() =>
        this.#resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          bytesSent: this.#sent,
          bytesReceived: received,
        }),
      ),
    );
    res.on('error', (err) => this.#fail(`${this.#url}: ${errorMessage(err)}`, err));
  }

  /** Write the body in chunks, waiting for 'drain' when the socket's buffer is full (so progress is real). */
  #writeBody(req: ClientRequest, body: Uint8Array): void {
    const total = body.length;
    while (this.#sent < total && !req.destroyed) {
      const end = Math.min(total, this.#sent + CHUNK);
      const chunk = body.subarray(this.#sent, end);
      const more = req.write(chunk, () => this.#options.onUploadProgress?.(end, total));
      this.#sent = end;
      if (!more) {
        req.once('drain', () => this.#writeBody(req, body));
        return;
      }
    }
    if (this.#sent >= total) req.end();
  }
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
