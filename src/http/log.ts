/**
 * The one log line per tenant request, and the buffered stdout it goes to.
 *
 * promgate's logs are pino JSON lines. The request line is the only one written on every
 * request, so it is built here directly as the JSON pino would write for promgate's own
 * logger (`level` as a label, ISO `time`, `service`, the fields, `msg`), at a third of
 * pino's cost; a logger given from outside (an embedding program) gets the fields through
 * its own `info`. The fields are fixed (names, numbers, the user agent), never a header
 * value that could hold a credential, so pino's redaction has nothing to do here.
 *
 * `LineBuffer` collects lines and hands them to `process.stdout` 16 KiB at a time (and after a
 * quiet second, and at exit): one write per ~50 requests, where pino's async destination
 * (sonic-boom) re-measured its whole pending buffer for every line.
 *
 * @example
 *   const out = new LineBuffer();
 *   const logger = pino({ ...PINO_FORMAT, level: 'info' }, out);
 *   const line = requestLogger(logger, out);
 *   line({ reqId: 'r1', route: 'query', method: 'GET', status: 200, durationMs: 1.5, bytes: 42 });
 */
import type { DestinationStream, Logger } from 'pino';

/** The fields of a request line; undefined ones are left out. */
export interface RequestLine {
  readonly reqId: string;
  readonly route: string;
  readonly method: string;
  readonly status: number;
  readonly identity?: string | undefined;
  readonly scope?: number | 'all' | undefined;
  readonly durationMs: number;
  readonly authMs?: number | undefined;
  readonly upstreamMs?: number | undefined;
  readonly bytes: number;
  readonly userAgent?: string | undefined;
  readonly remote?: string | undefined;
  readonly queries?: readonly (readonly [string, string])[] | undefined;
}

/** The `service` every line of promgate's own logger carries (its pino `base`). */
export const SERVICE = 'promgate';

/**
 * Writes request lines. With `destination` (the stream of a logger built with promgate's own
 * format, see server.ts) the line is built by hand; otherwise through `logger.info`.
 */
export function requestLogger(
  logger: Logger,
  destination: DestinationStream | undefined,
): (line: RequestLine) => void {
  if (destination === undefined) {
    // Not promgate's own format: let the logger write it (no redaction needed, see above).
    const child = logger.child({}, { redact: { paths: [] } });
    return (line) => child.info(line, 'request');
  }
  const info = logger.levels.values['info'] ?? 30;
  let lastMs = 0;
  let lastIso = '';
  return (line) => {
    if (logger.levelVal > info) return;
    // Several lines a millisecond share one timestamp text (toISOString is the line's
    // largest single cost).
    const now = Date.now();
    if (now !== lastMs) {
      lastMs = now;
      lastIso = new Date(now).toISOString();
    }
    destination.write(requestLineJson(line, lastIso));
  };
}

const q = JSON.stringify;

/** The line as pino writes it with promgate's format, newline included. */
export function requestLineJson(f: RequestLine, time: string): string {
  let s = `{"level":"info","time":"${time}","service":"${SERVICE}","reqId":${q(f.reqId)},"route":${q(f.route)},"method":${q(f.method)},"status":${num(f.status)}`;
  if (f.identity !== undefined) s += `,"identity":${q(f.identity)}`;
  if (f.scope !== undefined)
    s += `,"scope":${typeof f.scope === 'number' ? num(f.scope) : q(f.scope)}`;
  s += `,"durationMs":${num(f.durationMs)}`;
  if (f.authMs !== undefined) s += `,"authMs":${num(f.authMs)}`;
  if (f.upstreamMs !== undefined) s += `,"upstreamMs":${num(f.upstreamMs)}`;
  s += `,"bytes":${num(f.bytes)}`;
  if (f.userAgent !== undefined) s += `,"userAgent":${q(f.userAgent)}`;
  if (f.remote !== undefined) s += `,"remote":${q(f.remote)}`;
  if (f.queries !== undefined) s += `,"queries":${q(f.queries)}`;
  return `${s},"msg":"request"}\n`;
}

/** A number as JSON writes it (null for NaN and infinities, as JSON.stringify does). */
function num(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/** Bytes collected before a write to stdout. */
const CHUNK = 16 * 1024;

/**
 * A pino destination that batches lines for `process.stdout` (synchronous for files and
 * pipes on Linux, so nothing is pending at exit once `flush()` returned).
 */
export class LineBuffer implements DestinationStream {
  private parts: string[] = [];
  private size = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {
    // A partly filled buffer is written after a quiet second.
    this.timer = setInterval(() => this.flush(), 1000);
    this.timer.unref();
    // Lines of a process that exits without close() (e.g. a fatal error) are written too.
    process.once('exit', () => this.flush());
  }

  write(line: string): void {
    this.parts.push(line);
    this.size += line.length;
    if (this.size >= CHUNK) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    const data = this.parts.join('');
    this.parts = [];
    this.size = 0;
    try {
      this.out.write(data);
    } catch {
      // stdout already gone: nothing else can show the line
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
