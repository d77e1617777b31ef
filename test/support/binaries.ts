/**
 * Finds the test bed's Prometheus binaries, installed by `npm run testbed`
 * (scripts/install-testbed.sh): 2.x from Debian bookworm in /usr/bin, 3.x extracted from
 * Debian sid's packages into `.cache/testbed/prometheus-3/usr/bin`. Missing binaries are an
 * error that says how to install them — end-to-end tests fail, they never skip.
 *
 * Overrides (e.g. for a developer machine with its own builds):
 * `PROMGATE_PROMETHEUS2=/path/prometheus`, `PROMGATE_PROMTOOL2`, `PROMGATE_PROMETHEUS3`,
 * `PROMGATE_PROMTOOL3`.
 *
 * @example
 * ```ts
 * import { prometheusBinaries } from '../support/index.js';
 * const { v2, v3 } = prometheusBinaries();
 * v3.prometheus; // '/…/.cache/testbed/prometheus-3/usr/bin/prometheus'
 * v2.version;    // '2.42.0+ds'
 * ```
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PrometheusBinarySet {
  /** Absolute path of the `prometheus` server binary. */
  readonly prometheus: string;
  /** Absolute path of the matching `promtool`. */
  readonly promtool: string;
  /** Version reported by `prometheus --version`, e.g. `3.5.3+ds1`. */
  readonly version: string;
  /** Major version, 2 or 3. */
  readonly major: 2 | 3;
}

export interface PrometheusBinaries {
  readonly v2: PrometheusBinarySet;
  readonly v3: PrometheusBinarySet;
}

const INSTALL_HINT =
  'run `npm run testbed` (as root: bash scripts/install-testbed.sh) to install the test bed';

let root: string | undefined;

/** The repository root: the nearest directory above this file with promgate's package.json. */
export function repoRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const name: unknown = (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name;
        if (name === 'promgate') return (root = dir);
      } catch {
        // not ours; keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find promgate's package.json above ${import.meta.url}`);
    dir = up;
  }
}

/** The test bed's cache directory (`.cache/testbed` under the repository root). */
export function testbedDir(): string {
  return join(repoRoot(), '.cache', 'testbed');
}

/** Version from `<bin> --version` ("prometheus, version 2.42.0+ds (branch: …)"). */
function versionOf(bin: string): string {
  let out: string;
  try {
    out = execFileSync(bin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(`${bin} --version failed (${(err as Error).message}); ${INSTALL_HINT}`);
  }
  const m = /^\w+, version (\S+)/m.exec(out);
  if (!m?.[1]) throw new Error(`cannot read the version of ${bin} from: ${out.slice(0, 200)}`);
  return m[1];
}

function binarySet(major: 2 | 3, prometheus: string, promtool: string): PrometheusBinarySet {
  for (const bin of [prometheus, promtool]) {
    if (!existsSync(bin)) {
      throw new Error(`Prometheus ${major}.x binary ${bin} is missing; ${INSTALL_HINT}`);
    }
  }
  const version = versionOf(prometheus);
  const toolVersion = versionOf(promtool);
  if (!version.startsWith(`${major}.`) || !toolVersion.startsWith(`${major}.`)) {
    throw new Error(
      `expected Prometheus ${major}.x, found prometheus ${version} (${prometheus}) and promtool ` +
        `${toolVersion} (${promtool}); ${INSTALL_HINT}`,
    );
  }
  return Object.freeze({ prometheus, promtool, version, major });
}

let cached: PrometheusBinaries | undefined;

/**
 * Both Prometheus versions of the test bed, checked by running `--version` (once per process).
 * Throws an Error naming the missing binary and saying "run `npm run testbed`".
 */
export function prometheusBinaries(): PrometheusBinaries {
  if (cached) return cached;
  const env = process.env;
  const p3 = join(testbedDir(), 'prometheus-3', 'usr', 'bin');
  const v2 = binarySet(
    2,
    resolve(env.PROMGATE_PROMETHEUS2 ?? '/usr/bin/prometheus'),
    resolve(env.PROMGATE_PROMTOOL2 ?? '/usr/bin/promtool'),
  );
  const v3 = binarySet(
    3,
    resolve(env.PROMGATE_PROMETHEUS3 ?? join(p3, 'prometheus')),
    resolve(env.PROMGATE_PROMTOOL3 ?? join(p3, 'promtool')),
  );
  return (cached = Object.freeze({ v2, v3 }));
}
