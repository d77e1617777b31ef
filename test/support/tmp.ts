/**
 * Temporary directories that are removed when the test process exits, even when a test
 * fails or forgets to clean up.
 *
 * @example
 * ```ts
 * import { makeTempDir } from '../support/index.js';
 * const dir = makeTempDir('promgate-data-'); // /tmp/promgate-data-XXXXXX, gone at exit
 * ```
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs = new Set<string>();
let hooked = false;

/** Creates a fresh directory under the OS temp dir, removed at process exit. */
export function makeTempDir(prefix = 'promgate-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const d of dirs) removeDir(d);
    });
  }
  return dir;
}

/** Removes a directory now (best effort) and forgets it. */
export function removeDir(dir: string): void {
  dirs.delete(dir);
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    // A leftover temp dir is not worth failing a test for.
  }
}
