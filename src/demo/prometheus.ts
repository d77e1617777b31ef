/**
 * The demo's Prometheus: find a real binary, backfill the demo cluster's recent history with
 * promtool, and start it scraping the live exporter.
 *
 * Binaries, in order: `PROMGATE_DEMO_PROMETHEUS` + `PROMGATE_DEMO_PROMTOOL` (both set);
 * Prometheus 3.x from the test bed cache (`.cache/testbed/prometheus-3/usr/bin`, filled by
 * `npm run testbed`); Debian's 2.x in `/usr/bin` (`bash scripts/install-testbed.sh
 * --demo-only`); `prometheus`/`promtool` on PATH.
 *
 * @example
 * ```ts
 * const bins = findPrometheus(repoRoot);      // { prometheus, promtool, version: '3.5.3+ds1', major: 3 }
 * await backfillHistory(bins, dataDir, now);  // the last 3 hours, one sample a minute
 * ```
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openMetricsChunks } from './data.js';
import { runCommand } from './processes.js';

export interface PrometheusBinaries {
  readonly prometheus: string;
  readonly promtool: string;
  /** From `prometheus --version`, e.g. `3.5.3+ds1`. */
  readonly version: string;
  readonly major: number;
}

/** The history the demo backfills: this long, one sample per step, ending just before now. */
export const HISTORY_SECONDS = 3 * 3600;
export const HISTORY_STEP = 60;

/** The repository root: the nearest directory above this module with promgate's package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'promgate') {
          return dir;
        }
      } catch {
        // not ours; keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find promgate's package.json above ${import.meta.url}`);
    dir = up;
  }
}

/** `<bin> --version` → `3.5.3+ds1`, or undefined when it is missing or does not run. */
function versionOf(bin: string): string | undefined {
  if (!existsSync(bin)) return undefined;
  try {
    const out = execFileSync(bin, ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 20_000,
    });
    return /^\w+, version (\S+)/m.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/**
 * The Prometheus + promtool pair the demo runs (see the module comment for the order).
 * Throws an error that says how to install one.
 */
export function findPrometheus(root: string): PrometheusBinaries {
  const env = process.env;
  const candidates: [string, string][] = [];
  if (env.PROMGATE_DEMO_PROMETHEUS && env.PROMGATE_DEMO_PROMTOOL) {
    candidates.push([env.PROMGATE_DEMO_PROMETHEUS, env.PROMGATE_DEMO_PROMTOOL]);
  }
  const cache = join(root, '.cache', 'testbed', 'prometheus-3', 'usr', 'bin');
  candidates.push([join(cache, 'prometheus'), join(cache, 'promtool')]);
  candidates.push(['/usr/bin/prometheus', '/usr/bin/promtool']);
  const p = onPath('prometheus');
  const t = onPath('promtool');
  if (p && t) candidates.push([p, t]);

  const tried: string[] = [];
  for (const [prometheus, promtool] of candidates) {
    const version = versionOf(prometheus);
    const toolVersion = versionOf(promtool);
    if (version && toolVersion) {
      return { prometheus, promtool, version, major: Number(version.split('.')[0]) };
    }
    tried.push(prometheus);
  }
  throw new Error(
    `no working Prometheus + promtool found (tried ${tried.join(', ')}).\n` +
      'Install one with: sudo bash scripts/install-testbed.sh --demo-only   ' +
      '(Debian bookworm: apt-get install --no-install-recommends prometheus)',
  );
}

/** The backfilled window for a demo started at `now` (Unix seconds): past samples only. */
export function historyWindow(now: number): { start: number; end: number; step: number } {
  // Whole minutes, ending a minute before now: backfill must stay below the first live
  // scrape, or those scrapes would be refused as out of bounds.
  const end = Math.floor(now / HISTORY_STEP) * HISTORY_STEP - HISTORY_STEP;
  return { start: end - HISTORY_SECONDS, end, step: HISTORY_STEP };
}

/**
 * Writes the demo history into `dataDir` (of a Prometheus that is not running yet) with
 * `promtool tsdb create-blocks-from openmetrics`. `work` holds the temporary OpenMetrics file.
 */
export async function backfillHistory(
  bins: PrometheusBinaries,
  dataDir: string,
  work: string,
  now: number,
): Promise<void> {
  const file = join(work, 'history.om');
  const out = createWriteStream(file);
  for (const chunk of openMetricsChunks({ ...historyWindow(now), namespaces: 'all' })) {
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  await mkdir(dataDir, { recursive: true });
  const r = await runCommand(
    bins.promtool,
    ['tsdb', 'create-blocks-from', 'openmetrics', file, dataDir],
    { timeoutMs: 120_000 },
  );
  await rm(file, { force: true });
  if (r.code !== 0) {
    throw new Error(
      `backfill failed: ${bins.promtool} tsdb create-blocks-from openmetrics exited ${r.code}:\n` +
        `${r.stdout}${r.stderr}`.trim(),
    );
  }
}

/** prometheus.yml: scrape the live exporter (with its own labels) every few seconds. */
export function prometheusConfig(exporterTarget: string): string {
  return [
    'global:',
    '  scrape_interval: 5s',
    '  evaluation_interval: 5s',
    'scrape_configs:',
    '  - job_name: demo-exporter',
    "    honor_labels: true # keep the demo series' own job, instance and namespace",
    '    scrape_interval: 5s',
    '    static_configs:',
    `      - targets: ['${exporterTarget}']`,
    '',
  ].join('\n');
}

/** Command-line flags for the demo Prometheus. */
export function prometheusArgs(configFile: string, dataDir: string, port: number): string[] {
  return [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${dataDir}`,
    // Retention counts from the newest block; the history is recent, this is only headroom.
    '--storage.tsdb.retention.time=30d',
    `--web.listen-address=127.0.0.1:${port}`,
  ];
}
