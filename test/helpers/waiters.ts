// Waiting for something a socket or a process will produce: a probe is re-checked whenever new
// input arrives (wake), and fails with a description after a timeout.
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
