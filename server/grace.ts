// The grace period of buddies whose connection dropped: their names stay reserved while they
// reconnect (to this server or another of the set); a buddy that does not come back in time leaves.
export class Grace {
  readonly #timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly ms: number) {}

  /** Reserve `name`; `onExpire` runs if nobody cancels it within the grace period. */
  start(name: string, onExpire: () => void): void {
    this.cancel(name);
    const timer = setTimeout(() => {
      this.#timers.delete(name);
      onExpire();
    }, this.ms);
    timer.unref();
    this.#timers.set(name, timer);
  }

  /** The buddy is back (or gone for good): no expiry. */
  cancel(name: string): void {
    clearTimeout(this.#timers.get(name));
    this.#timers.delete(name);
  }

  stop(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
