// Dials of addresses that peers named in `update_servers`: one at a time through a token bucket
// (a burst, then a steady rate), each address queued once, and an address that could not be
// reached left alone for a while — so a peer's list cannot turn a server into a port scanner.
import { Limits } from '../shared/protocol.js';
import { TokenBucket } from './limits.js';

/** An address that could not be dialed is not dialed again for this long. */
const FAILED_DIAL_BACKOFF_MS = 30_000;

export interface DialQueueOptions {
  burst: number;
  ratePerSecond: number;
  /** Link to `url`; rejects when it cannot. */
  dial: (url: string) => Promise<void>;
  /** Whether a dial is needed at all (no link to it yet). */
  wanted: (url: string) => boolean;
  onFailure: (url: string, err: Error) => void;
}

export class DialQueue {
  readonly #queue: string[] = [];
  readonly #bucket: TokenBucket;
  readonly #failedUntil = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(private readonly opts: DialQueueOptions) {
    this.#bucket = new TokenBucket(opts.burst, opts.ratePerSecond);
  }

  /** Dial `url` when its turn comes, unless it is queued already or failed lately. */
  add(url: string): void {
    if (this.#stopped || !this.opts.wanted(url) || this.#queue.includes(url)) return;
    if ((this.#failedUntil.get(url) ?? 0) > Date.now()) return;
    if (this.#queue.length >= Limits.MAX_SERVERS) return;
    this.#queue.push(url);
    this.#pump();
  }

  /** `url` linked to us by itself: no backoff holds for it any more. */
  linked(url: string): void {
    this.#failedUntil.delete(url);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#queue.length = 0;
  }

  #pump(): void {
    this.#timer = undefined;
    while (this.#queue.length && !this.#stopped && this.#bucket.take()) {
      const url = this.#queue.shift()!;
      if (!this.opts.wanted(url)) continue;
      this.opts.dial(url).catch((err: Error) => {
        this.#failedUntil.set(url, Date.now() + FAILED_DIAL_BACKOFF_MS);
        this.opts.onFailure(url, err);
      });
    }
    if (this.#queue.length && !this.#stopped && !this.#timer) {
      this.#timer = setTimeout(() => this.#pump(), this.#bucket.wait());
      this.#timer.unref();
    }
  }
}
