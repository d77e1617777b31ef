/**
 * A concurrency limiter for calls to the Kubernetes API: at most `max` run at once, at most
 * `maxQueue` wait (more are refused at once with {@link LimiterFullError}), and a waiter whose
 * signal aborts leaves the queue. client-node has no QPS limit of its own (REFERENCE §4.6).
 *
 * @example
 *   const limiter = new Limiter(16, 1000);
 *   const status = await limiter.run(() => api.createTokenReview({ body }), AbortSignal.timeout(5000));
 */

export class LimiterFullError extends Error {
  constructor() {
    super('too many Kubernetes API calls waiting');
    this.name = 'LimiterFullError';
  }
}

interface Waiter {
  readonly grant: () => void;
}

export class Limiter {
  private active = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    readonly max: number,
    readonly maxQueue: number,
  ) {
    if (!(max >= 1)) throw new RangeError(`limiter max must be >= 1, got ${max}`);
  }

  /** Calls running now. */
  get running(): number {
    return this.active;
  }

  /** Calls waiting for a slot. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Runs `fn` once a slot is free. Rejects with the signal's reason if it aborts first. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve();
    }
    if (this.queue.length >= this.maxQueue) return Promise.reject(new LimiterFullError());
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  private release(): void {
    const next = this.queue.shift();
    // Hand the slot over directly: `active` stays the same.
    if (next) next.grant();
    else this.active--;
  }
}
