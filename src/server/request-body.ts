/**
 * Reading a binary request body under limits. The content type and the declared length are checked before a byte
 * is read; a body of known length is read straight into its final buffer (one allocation that owns its memory, so
 * it can be transferred to a worker, made when its first byte arrives), a chunked body is collected, then joined.
 * Bytes received are charged to the server's budget for all requests through a callback, chunk by chunk, so the
 * budget counts what has arrived, never what a client merely declared.
 */
import type { IncomingMessage } from 'node:http';
import { ServerError, errorMessage } from '../errors.js';

/** The body's declared length (null for a chunked body), after checking its content type and the route's limit. */
export function declaredBodyLength(req: IncomingMessage, limit: number, what: string): number | null {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/octet-stream') {
    throw new ServerError(
      415,
      'unsupported_media_type',
      `${what} must be sent as application/octet-stream, not ${type ? JSON.stringify(type) : 'without a content type'}`,
    );
  }
  const declared = req.headers['content-length'];
  const length = declared === undefined ? null : Number(declared);
  if (length !== null && !(Number.isSafeInteger(length) && length >= 0))
    throw new ServerError(400, 'bad_request', `bad Content-Length ${JSON.stringify(declared)}`);
  if (length !== null && length > limit) {
    throw new ServerError(413, 'body_too_large', `${what} of ${length} bytes is larger than this route's limit of ${limit} bytes`);
  }
  return length;
}

export interface ReceiveBodyOptions {
  /** The declared length, or null for a chunked body. */
  length: number | null;
  /** The route's limit in bytes. */
  limit: number;
  /** What the body is, for messages ('the key envelope'). */
  what: string;
  /** Charge a received chunk to the server's buffering budget; false when it does not fit. */
  reserve: (bytes: number) => boolean;
  /** The server's buffering budget, for the message when a chunk does not fit. */
  maxBufferedBytes: number;
  /** Called when the request's body has been read to its end. */
  onEnd: () => void;
  /**
   * Looks at the body's first `bytes` bytes (or the whole body when shorter; or fewer, as soon as `enough` says
   * they are) as soon as they have arrived, while the rest still streams; a ServerError it throws ends the read.
   */
  inspect?: { bytes: number; enough?: (head: Buffer) => boolean; check: (head: Buffer) => void };
}

/** Read the body into one buffer; rejects with a ServerError (413, 503 or 400) naming what went wrong. */
export function receiveBody(req: IncomingMessage, o: ReceiveBodyOptions): Promise<Buffer> {
  const { length, limit, what } = o;
  return new Promise<Buffer>((resolveBody, rejectBody) => {
    let direct: Buffer | null = null;
    const chunks: Buffer[] = [];
    let received = 0;
    let inspected = !o.inspect;
    /** Run the inspection once its bytes are in; false when it refused the body (and the read was stopped). */
    const inspect = (atEnd: boolean): boolean => {
      if (inspected || !o.inspect) return true;
      const n = Math.min(received, o.inspect.bytes);
      const head = direct ? direct.subarray(0, n) : Buffer.concat(chunks, n); // the first n bytes only
      if (!atEnd && n < o.inspect.bytes && !o.inspect.enough?.(head)) return true;
      inspected = true;
      try {
        o.inspect.check(head);
        return true;
      } catch (err) {
        stop(err instanceof ServerError ? err : new ServerError(400, 'bad_request', `${what}: ${errorMessage(err)}`));
        return false;
      }
    };
    const stop = (err: ServerError | null, value?: Buffer) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('aborted', onAborted);
      req.off('error', onError);
      if (err) rejectBody(err);
      else resolveBody(value!);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit || (length !== null && received > length)) {
        const over = length !== null && received > length ? 'its Content-Length' : `this route's limit of ${limit} bytes`;
        return stop(new ServerError(413, 'body_too_large', `${what} is larger than ${over}`));
      }
      if (!o.reserve(chunk.length)) {
        return stop(
          new ServerError(
            503,
            'overloaded',
            `the server is buffering too many request bodies (limit ${o.maxBufferedBytes} bytes); retry later`,
          ),
        );
      }
      if (length !== null) {
        direct ??= Buffer.allocUnsafeSlow(length);
        chunk.copy(direct, received - chunk.length);
      } else chunks.push(chunk);
      inspect(length !== null && received === length);
    };
    const onEnd = () => {
      o.onEnd();
      if (!inspect(true)) return;
      if (length !== null && received !== length)
        return stop(new ServerError(400, 'bad_request', `body ended after ${received} of ${length} declared bytes`));
      stop(null, length !== null ? (direct ?? Buffer.allocUnsafeSlow(0)) : joinChunks(chunks, received));
    };
    const onAborted = () => stop(new ServerError(400, 'bad_request', `the client stopped sending after ${received} bytes`));
    const onError = (err: Error) => stop(new ServerError(400, 'bad_request', `reading the body failed: ${errorMessage(err)}`));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('aborted', onAborted);
    req.on('error', onError);
  });
}

/** The chunks of a chunked body in one buffer that owns its memory. */
function joinChunks(chunks: readonly Buffer[], total: number): Buffer {
  const joined = Buffer.allocUnsafeSlow(total);
  let at = 0;
  for (const c of chunks) {
    c.copy(joined, at);
    at += c.length;
  }
  return joined;
}
