/**
 * Bounded polling for end-to-end tests: wait until a condition holds, or fail with a message
 * that says what was awaited and what the last attempt saw.
 *
 * @example
 * ```ts
 * import { waitFor } from '../support/index.js';
 * const series = await waitFor('team-b series scraped', async () => {
 *   const r = await prom.api('/api/v1/series', { 'match[]': '{namespace="team-b"}' });
 *   return r.ok && r.data.length > 0 ? r.data : undefined; // undefined = not yet
 * }, { timeoutMs: 10_000 });
 * ```
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** Give up after this long (default 15 s). */
  readonly timeoutMs?: number;
  /** Pause between attempts (default 100 ms). */
  readonly intervalMs?: number;
}

/**
 * Calls `attempt` until it returns something other than `undefined` (or `false`), and
 * returns that. Exceptions count as "not yet"; the last one is reported on timeout.
 */
export async function waitFor<T>(
  what: string,
  attempt: () => Promise<T | undefined | false> | T | undefined | false,
  opts: WaitOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const intervalMs = opts.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let last: unknown = 'no attempt finished';
  for (let i = 0; ; i++) {
    try {
      const v = await attempt();
      if (v !== undefined && v !== false) return v;
      last = `attempt ${i + 1} returned ${String(v)}`;
    } catch (err) {
      last = err;
    }
    if (Date.now() + intervalMs > deadline) break;
    await sleep(intervalMs);
  }
  const detail = last instanceof Error ? last.message : String(last);
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${detail})`);
}
