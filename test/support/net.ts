/**
 * Loopback port helpers.
 *
 * @example
 * ```ts
 * import { freePort } from '../support/index.js';
 * const port = await freePort(); // e.g. 41873, free on 127.0.0.1 a moment ago
 * ```
 */
import { createServer } from 'node:net';

/**
 * A TCP port that was free on 127.0.0.1 when asked (the OS picks it by listening on port 0).
 * Another process may still take it before you bind: servers that cannot bind should be
 * restarted on a new port (startPrometheus does this).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no port from listen(0)'))));
    });
  });
}
