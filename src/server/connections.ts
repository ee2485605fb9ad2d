/**
 * A cap on open connections, in all and per client address, so idle sockets cannot exhaust the server's file
 * descriptors. A connection arriving at a cap takes the place of the oldest idle connection (one with no request
 * in progress, or that never sent one) — of its own address when its address is at its cap — and is refused only
 * when every connection there is busy. A flood of idle sockets therefore cycles through the cap while requests
 * (a health check on a new connection included) are still served.
 */
import type { Socket } from 'node:net';

interface Tracked {
  address: string;
  /** Requests in progress on the connection. */
  busy: number;
}

/** What a refused connection is told before it is closed. */
const REFUSAL = 'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n';

export interface ConnectionCounts {
  open: number;
  limit: number;
  perAddressLimit: number;
  /** Connections refused because every connection at the cap was busy. */
  refused: number;
  /** Idle connections closed to make room for new ones. */
  closedIdle: number;
}

export class ConnectionGuard {
  /** Open connections, oldest first (a Map keeps insertion order). */
  readonly #open = new Map<Socket, Tracked>();
  readonly #perAddress = new Map<string, number>();
  #refused = 0;
  #closedIdle = 0;

  constructor(
    readonly max: number,
    readonly maxPerAddress: number,
  ) {}

  /** A new connection: admitted (perhaps in place of an idle one) or refused with a 503 and closed. */
  admit(socket: Socket): void {
    const address = socket.remoteAddress ?? '?';
    const fits =
      ((this.#perAddress.get(address) ?? 0) < this.maxPerAddress || this.#closeIdle(address)) &&
      (this.#open.size < this.max || this.#closeIdle(null));
    if (!fits) {
      this.#refused++;
      socket.on('error', () => {}); // the client may already be gone
      socket.end(REFUSAL);
      socket.destroySoon();
      return;
    }
    this.#open.set(socket, { address, busy: 0 });
    this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1);
    socket.once('close', () => this.#forget(socket));
  }

  /** A request started (+1) or ended (−1) on `socket`. */
  busy(socket: Socket, delta: 1 | -1): void {
    const t = this.#open.get(socket);
    if (t) t.busy = Math.max(0, t.busy + delta);
  }

  counts(): ConnectionCounts {
    return {
      open: this.#open.size,
      limit: this.max,
      perAddressLimit: this.maxPerAddress,
      refused: this.#refused,
      closedIdle: this.#closedIdle,
    };
  }

  /** Close the oldest idle connection (of `address`, or any): whether one was closed. */
  #closeIdle(address: string | null): boolean {
    for (const [socket, t] of this.#open) {
      if (t.busy > 0 || (address !== null && t.address !== address)) continue;
      this.#forget(socket);
      socket.destroy();
      this.#closedIdle++;
      return true;
    }
    return false;
  }

  #forget(socket: Socket): void {
    const t = this.#open.get(socket);
    if (!t) return;
    this.#open.delete(socket);
    const left = (this.#perAddress.get(t.address) ?? 1) - 1;
    if (left > 0) this.#perAddress.set(t.address, left);
    else this.#perAddress.delete(t.address);
  }
}
