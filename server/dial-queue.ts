// Dials of other servers. Addresses that peers named in `update_servers` go one at a time through
// a token bucket (a burst, then a steady rate), each queued once, and one that could not be reached
// is left alone for a while — so a peer's list cannot turn a server into a port scanner. Servers
// this one was linked to and lost (or knew before a restart) are re-dialed with exponential backoff
// until they are back, so a restart or a healed split rejoins the set with no operator.
import { Limits } from '../shared/protocol.js';
import { TokenBucket } from './limits.js';

/** An address that could not be dialed is not dialed again for this long. */
const FAILED_DIAL_BACKOFF_MS = 30_000;
/** Re-dials of a lost peer wait this long at first, doubling (with jitter) up to RETRY_MAX_MS. */
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10_000;

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
  /** Lost peers being re-dialed, with their next attempt. */
  readonly #retries = new Map<string, { attempt: number; timer: NodeJS.Timeout | undefined }>();

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

  /** `url` is linked: no backoff holds for it any more, and no re-dial is needed. */
  linked(url: string): void {
    this.#failedUntil.delete(url);
    this.forget(url);
  }

  /** Re-dial a lost peer until it is back (`now`: the first attempt at once, else after a backoff). */
  retry(url: string, now = false): void {
    if (this.#stopped || this.#retries.has(url)) return;
    const state: { attempt: number; timer: NodeJS.Timeout | undefined } = { attempt: 0, timer: undefined };
    this.#retries.set(url, state);
    const attempt = () => {
      if (this.#stopped || this.#retries.get(url) !== state) return;
      if (!this.opts.wanted(url)) return this.forget(url); // linked meanwhile (it dialed us)
      this.opts.dial(url).then(
        () => this.forget(url),
        () => schedule(),
      );
    };
    const schedule = () => {
      if (this.#stopped || this.#retries.get(url) !== state) return;
      const wait = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** state.attempt++) * (0.5 + Math.random() / 2);
      state.timer = setTimeout(attempt, wait);
      state.timer.unref();
    };
    if (now) attempt();
    else schedule();
  }

  /** Stop re-dialing `url` (it left the set on purpose, or is linked). */
  forget(url: string): void {
    clearTimeout(this.#retries.get(url)?.timer);
    this.#retries.delete(url);
  }

  /** Peers being re-dialed. */
  retrying(): string[] {
    return [...this.#retries.keys()];
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#queue.length = 0;
    for (const url of [...this.#retries.keys()]) this.forget(url);
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
