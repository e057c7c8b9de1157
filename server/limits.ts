// What one client, one address and one peer may cost a server (docs/protocol.md § Limits). Every
// limit is an option with the default here, and this is the one place they are checked.

export interface ServerLimits {
  /** Frames a client may send at once before the steady rate applies. Default 60. */
  clientBurst: number;
  /** Frames per second a client may send, steadily. Default 20. */
  clientRate: number;
  /** Refused frames in a row after which a flooding client is disconnected. Default 200. */
  floodDisconnectAfter: number;
  /** Joins one IP address may make at once before its steady rate applies. Default 30. */
  joinBurstPerAddress: number;
  /** Joins per second from one IP address, steadily. Default 5. */
  joinRatePerAddress: number;
  /** Open sockets from one IP address that have not joined yet. Default 32. */
  pendingPerAddress: number;
  /** Open sockets of every address that have not joined yet. Default 512. */
  pendingTotal: number;
  /** Clients on this server, and the most buddies a peer server may claim. Default 10,000. */
  maxClients: number;
  /** A peer event whose `ts` is further than this from this server's clock gets this server's time. Default 5 min. */
  maxClockSkewMs: number;
  /** Server links this server may dial at once before its steady rate applies. Default 8. */
  dialBurst: number;
  /** Server links dialed per second, steadily. Default 2. */
  dialRate: number;
  /** Wrong invites, passphrases or secrets one IP address may try at once. Default 5. */
  authFailBurst: number;
  /** Wrong tries per second from one IP address, steadily, after the burst. Default 0.2 (one every 5 s). */
  authFailRate: number;
  /** Bytes of files one person's events may share in the set's history (upload quota). Default 1 GiB. */
  fileBytesPerPerson: number;
  /** Bytes of files a server holds, past which it takes no upload (the disk it gives files; fetches from peers count, are not refused). Default 10 GiB. */
  fileBytesTotal: number;
  /** An upload slower than this (bytes a second, over 15 s) is cut: a trickle must not hold a slot for hours. Default 4,096. */
  uploadMinBytesPerSecond: number;
  /** HTTP requests (page, uploads, downloads) one IP address may have under way at once. Default 32. */
  httpRequestsPerAddress: number;
  /**
   * Bytes of history pages and search results served to one client per second, steadily (a
   * burst of four seconds' worth first): asking is cheap, answering is not. Default 1 MiB.
   */
  servedBytesPerClient: number;
  /** The same for one IP address, all its clients together. Default 4 MiB. */
  servedBytesPerAddress: number;
}

export const DEFAULT_LIMITS: Readonly<ServerLimits> = Object.freeze({
  clientBurst: 60,
  clientRate: 20,
  floodDisconnectAfter: 200,
  joinBurstPerAddress: 30,
  joinRatePerAddress: 5,
  pendingPerAddress: 32,
  pendingTotal: 512,
  maxClients: 10_000,
  maxClockSkewMs: 5 * 60_000,
  dialBurst: 8,
  dialRate: 2,
  authFailBurst: 5,
  authFailRate: 0.2,
  fileBytesPerPerson: 1024 ** 3,
  fileBytesTotal: 10 * 1024 ** 3,
  uploadMinBytesPerSecond: 4096,
  httpRequestsPerAddress: 32,
  servedBytesPerClient: 1024 ** 2,
  servedBytesPerAddress: 4 * 1024 ** 2,
});

/** Served-bytes buckets hold this many seconds of their rate. */
export const SERVED_BURST_SECONDS = 4;

/** Defaults merged with `overrides`; a name that is no limit, or a value that is not a positive number, throws. */
export function resolveLimits(overrides: Partial<ServerLimits> = {}): ServerLimits {
  for (const [key, value] of Object.entries(overrides)) {
    if (!Object.hasOwn(DEFAULT_LIMITS, key)) throw new TypeError(`unknown limit "${key}" (known: ${Object.keys(DEFAULT_LIMITS).join(', ')})`);
    if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value))
      throw new TypeError(`limit ${key} must be a positive number, not ${String(value)}`);
  }
  return { ...DEFAULT_LIMITS, ...overrides };
}

/** A token bucket: `burst` tokens at most, refilled at `ratePerSecond`. */
export class TokenBucket {
  #tokens: number;
  #at: number;

  constructor(
    private readonly burst: number,
    private readonly ratePerSecond: number,
    now = Date.now(),
  ) {
    this.#tokens = burst;
    this.#at = now;
  }

  /** Take one token if there is one. */
  take(now = Date.now()): boolean {
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.ratePerSecond);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Take `count` tokens whatever is there (the bucket may go into debt): a cost known only after the work. */
  charge(count: number, now = Date.now()): void {
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.ratePerSecond) - count;
    this.#at = now;
  }

  /** Milliseconds until a token is there (0: now). */
  wait(now = Date.now()): number {
    const tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.ratePerSecond);
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / this.ratePerSecond) * 1000);
  }

  /** Full again: nothing taken for long enough that forgetting this bucket changes nothing. */
  full(now = Date.now()): boolean {
    return this.#tokens + ((now - this.#at) / 1000) * this.ratePerSecond >= this.burst;
  }
}

/**
 * Per-address join buckets and counts of sockets that have not joined yet. Buckets that have
 * filled up again are forgotten, so the map stays as small as the set of recent addresses.
 */
export class AddressLimits {
  readonly #joins: BucketsByAddress;
  readonly #authFailures: BucketsByAddress;
  readonly #served: BucketsByAddress;
  readonly #pending = new Map<string, number>();
  #pendingTotal = 0;

  constructor(private readonly limits: ServerLimits) {
    this.#joins = new BucketsByAddress(limits.joinBurstPerAddress, limits.joinRatePerAddress);
    this.#authFailures = new BucketsByAddress(limits.authFailBurst, limits.authFailRate);
    this.#served = new BucketsByAddress(limits.servedBytesPerAddress * SERVED_BURST_SECONDS, limits.servedBytesPerAddress);
  }

  /** What the clients of `address` were served (history pages, search results), counted against its rate. */
  served(address: string): TokenBucket {
    return this.#served.get(address);
  }

  /** A new socket from `address`; false when too many unjoined sockets are open. */
  openPending(address: string): boolean {
    const mine = this.#pending.get(address) ?? 0;
    if (mine >= this.limits.pendingPerAddress || this.#pendingTotal >= this.limits.pendingTotal) return false;
    this.#pending.set(address, mine + 1);
    this.#pendingTotal++;
    return true;
  }

  /** A socket from `address` joined, became a peer or closed before either. */
  closePending(address: string): void {
    const mine = this.#pending.get(address);
    if (!mine) return;
    if (mine === 1) this.#pending.delete(address);
    else this.#pending.set(address, mine - 1);
    this.#pendingTotal--;
  }

  /** A join from `address`: false when it is over its rate. */
  takeJoin(address: string): boolean {
    return this.#joins.get(address).take();
  }

  /** Whether `address` may try a proof now: not while it is over its rate of wrong ones. */
  mayTryAuth(address: string): boolean {
    return this.#authFailures.get(address).wait() === 0;
  }

  /** A wrong proof from `address`. */
  authFailed(address: string): void {
    this.#authFailures.get(address).take();
  }
}

/** One token bucket per address; buckets that have filled up again are forgotten now and then. */
class BucketsByAddress {
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly burst: number,
    private readonly ratePerSecond: number,
  ) {}

  get(address: string): TokenBucket {
    let bucket = this.#buckets.get(address);
    if (!bucket) {
      if (this.#buckets.size > 10_000) for (const [a, b] of this.#buckets) if (b.full()) this.#buckets.delete(a);
      bucket = new TokenBucket(this.burst, this.ratePerSecond);
      this.#buckets.set(address, bucket);
    }
    return bucket;
  }
}
