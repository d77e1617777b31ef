/**
 * Small helpers shared by the Kubernetes-mode tests: a pino logger that records every line (so
 * tests can assert that no token was ever logged), bounded polling, and a metrics reader.
 *
 * @example
 *   const log = recordingLogger();
 *   await waitFor(() => informer.synced(), 'informer synced');
 *   assert.ok(!log.text().includes(token));
 *   assert.equal(await metricValue(metrics, 'promgate_kubernetes_tokenreviews_total', { result: 'authenticated' }), 1);
 */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { Metrics } from '../../src/metrics.js';

export interface RecordingLogger {
  readonly logger: Logger;
  readonly lines: string[];
  text(): string;
}

/** A debug-level pino logger writing into memory. */
export function recordingLogger(): RecordingLogger {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  const logger = pino({ level: 'debug' }, stream);
  return { logger, lines, text: () => lines.join('') };
}

/** Polls `cond` every 10 ms until true; throws after `timeoutMs` (default 5 s). */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(10);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The value of one sample of a metric family (0 when absent). */
export async function metricValue(
  metrics: Metrics,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): Promise<number> {
  const families = await metrics.registry.getMetricsAsJSON();
  // `name` is a family (counter, gauge) or a histogram sample such as `<family>_count`.
  const family = families.find(
    (f) => f.name === name || name === `${f.name}_count` || name === `${f.name}_sum`,
  );
  if (!family) throw new Error(`no metric family for ${name}`);
  let total = 0;
  const values = family.values as {
    value: number;
    labels: Record<string, unknown>;
    metricName?: string;
  }[];
  for (const v of values) {
    if ((v.metricName ?? family.name) !== name) continue;
    if (Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)) total += v.value;
  }
  return total;
}
