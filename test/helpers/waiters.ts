// Waiting in tests, in one place: for something a socket or a process will produce (Waiters: a
// probe re-checked whenever new input arrives, failing with a description after a timeout), or
// for state that settles over several messages (eventually: polling).
export class Waiters {
  readonly #checks = new Set<() => boolean>();

  wake(): void {
    for (const check of [...this.#checks]) check();
  }

  until<T>(probe: () => T | undefined, timeoutMs: number, describeFailure: () => string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = probe();
        if (found === undefined) return false;
        this.#checks.delete(check);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        this.#checks.delete(check);
        reject(new Error(describeFailure()));
      }, timeoutMs);
      if (!check()) this.#checks.add(check);
    });
  }
}

/** Poll until `check` passes (for state that settles over several messages). */
export async function eventually(check: () => void, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
