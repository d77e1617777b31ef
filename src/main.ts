#!/usr/bin/env node
/**
 * The `promgate` command: parse the configuration (flags > PROMGATE_* environment > --config
 * file), start the tenant and operator listeners, and shut down gracefully on SIGTERM or
 * SIGINT (a second signal exits at once).
 *
 * Exit codes: 0 after a clean shutdown or --help; 2 for an invalid configuration or tokens
 * file (the message names key, value and why); 1 for any other start-up failure.
 *
 * @example
 *   promgate --upstream http://prometheus:9090 --tokens-file tokens.yaml
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TokensFileError } from './auth/static.js';
import { buildConfig, ConfigError, helpText, wantsHelp, type Config } from './config/index.js';
import { startPromgate } from './server.js';

function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'promgate') return pkg.version ?? 'unknown';
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const wants = wantsHelp(argv);
  if (wants === 'help') {
    process.stdout.write(helpText());
    return;
  }
  if (wants === 'version') {
    process.stdout.write(`promgate ${version()}\n`);
    return;
  }
  let config: Config;
  try {
    config = buildConfig(argv, process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`promgate: ${e.message}\n(see promgate --help)\n`);
      process.exit(2);
    }
    throw e;
  }
  let promgate;
  try {
    promgate = await startPromgate(config);
  } catch (e) {
    if (e instanceof TokensFileError || e instanceof ConfigError) {
      process.stderr.write(`promgate: ${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`promgate: cannot start: ${(e as Error).message}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      promgate.logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    promgate.logger.info({ signal }, 'signal received');
    promgate.close().then(
      () => process.exit(0),
      (e: unknown) => {
        promgate.logger.error({ err: (e as Error).message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((e: unknown) => {
  process.stderr.write(`promgate: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
