/**
 * The `static` auth mode: a YAML tokens file maps tokens to names and scopes.
 *
 * ```yaml
 * tokens:
 *   - name: team-a            # shown in logs and metrics, never the token
 *     token: "s3cr3t-a"       # or  sha256: "<hex digest of the token>"
 *     namespaces: [ns-1, ns-2]
 *   - name: ops
 *     sha256: "9f86d0…"
 *     clusterWide: true       # scope: all
 * ```
 *
 * Only SHA-256 digests are kept in memory, in a map keyed by digest: a presented token is
 * hashed and looked up, so the cost does not grow with the number of tokens. (A lookup's
 * timing can only tell an attacker about digests, which reveal nothing about tokens.) The file is reloaded when it changes (file-system notifications
 * plus a poll, since some volume updates go unnoticed); a version that does not validate is
 * refused, logged and counted, and the previous one stays in force.
 *
 * @example
 *   const backend = await createStaticBackend({ path: 'tokens.yaml', pollIntervalMs: 10_000 }, { metrics, logger });
 *   const identity = await backend.authenticator.authenticate(token); // null when unknown
 *   const scope = identity && (await backend.scopes.resolve(identity));
 */
import { hash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { Metrics } from '../metrics.js';
import { ALL, scopeOf, type Scope } from '../scope.js';
import type { AccessBackend, Identity } from './types.js';

export interface StaticToken {
  readonly name: string;
  /** SHA-256 of the token. */
  readonly digest: Buffer;
  readonly scope: Scope;
}

/** A tokens file that does not validate; every problem names the entry and never a secret. */
export class TokensFileError extends Error {
  constructor(
    readonly path: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid tokens file ${path}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'TokensFileError';
  }
}

const ENTRY_KEYS = new Set(['name', 'token', 'sha256', 'namespaces', 'clusterWide']);
const TOKEN = /^[\x21-\x7e]+$/;
const SHA256 = /^[0-9a-fA-F]{64}$/;

export function sha256(token: string): Buffer {
  return hash('sha256', token, 'buffer');
}

/** The same digest as lower-case hex: what a request is looked up by (hex output is about
 * three times cheaper than a Buffer from the one-shot hash). */
export function sha256Hex(token: string): string {
  return hash('sha256', token, 'hex');
}

/** Parses and validates a tokens file's text; throws {@link TokensFileError} listing every problem. */
export function parseTokensFile(text: string, path: string): StaticToken[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    // Position only: the parser's excerpt of the line could contain a token.
    const where =
      e instanceof YAMLParseError && e.linePos
        ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}`
        : '';
    throw new TokensFileError(path, [
      `not valid YAML${where}${e instanceof YAMLParseError ? ` (${e.code})` : ''}`,
    ]);
  }
  const problems: string[] = [];
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new TokensFileError(path, ['must be a YAML mapping with a "tokens:" list']);
  }
  for (const key of Object.keys(doc)) {
    if (key !== 'tokens') problems.push(`unknown top-level key "${key}"; only "tokens" is allowed`);
  }
  const list = (doc as Record<string, unknown>)['tokens'];
  if (!Array.isArray(list)) {
    throw new TokensFileError(path, [...problems, '"tokens" must be a list of entries']);
  }
  const out: StaticToken[] = [];
  const names = new Map<string, number>();
  const digests = new Map<string, string>();
  list.forEach((entry: unknown, i) => {
    const at = `tokens[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(
        `${at}: must be a mapping with name, token or sha256, namespaces or clusterWide`,
      );
      return;
    }
    const e = entry as Record<string, unknown>;
    const name = e['name'];
    const label = typeof name === 'string' && name !== '' ? `${at} (${JSON.stringify(name)})` : at;
    const before = problems.length;
    for (const key of Object.keys(e)) {
      if (!ENTRY_KEYS.has(key)) {
        problems.push(
          `${label}: unknown key "${key}"; allowed: name, token, sha256, namespaces, clusterWide`,
        );
      }
    }
    if (typeof name !== 'string' || name.trim() === '') {
      problems.push(`${label}: "name" must be a non-empty string (it names the caller in logs)`);
    } else if (names.has(name)) {
      problems.push(
        `${label}: name already used by tokens[${names.get(name)}]; names must be unique`,
      );
    } else names.set(name, i);

    const token = e['token'];
    const hash = e['sha256'];
    let digest: Buffer | undefined;
    if (token !== undefined && hash !== undefined) {
      problems.push(`${label}: has both "token" and "sha256"; keep one`);
    } else if (token === undefined && hash === undefined) {
      problems.push(`${label}: needs "token" or "sha256"`);
    } else if (token !== undefined) {
      if (typeof token !== 'string' || !TOKEN.test(token)) {
        problems.push(
          `${label}: "token" must be a string of visible ASCII characters without spaces ` +
            '(quote it in YAML)',
        );
      } else digest = sha256(token);
    } else if (typeof hash !== 'string' || !SHA256.test(hash)) {
      problems.push(`${label}: "sha256" must be 64 hex digits (e.g. the output of sha256sum)`);
    } else digest = Buffer.from(hash, 'hex');

    const namespaces = e['namespaces'];
    const clusterWide = e['clusterWide'];
    let scope: Scope | undefined;
    if (clusterWide !== undefined && typeof clusterWide !== 'boolean') {
      problems.push(`${label}: "clusterWide" must be true or false`);
    } else if (clusterWide === true && namespaces !== undefined) {
      problems.push(`${label}: has both "namespaces" and "clusterWide: true"; keep one`);
    } else if (clusterWide === true) {
      scope = ALL;
    } else if (namespaces === undefined) {
      problems.push(`${label}: needs "namespaces: [...]" or "clusterWide: true"`);
    } else if (
      !Array.isArray(namespaces) ||
      namespaces.length === 0 ||
      !namespaces.every((n) => typeof n === 'string' && n !== '')
    ) {
      problems.push(`${label}: "namespaces" must be a non-empty list of non-empty strings`);
    } else scope = scopeOf(namespaces as string[]);

    if (digest) {
      const hex = digest.toString('hex');
      const other = digests.get(hex);
      if (other !== undefined) {
        problems.push(`${label}: same token as ${other}; every token must be unique`);
      } else digests.set(hex, label);
    }
    if (problems.length === before && digest && scope && typeof name === 'string') {
      out.push({ name, digest, scope });
    }
  });
  if (problems.length > 0) throw new TokensFileError(path, problems);
  return out;
}

export interface StaticBackendOptions {
  readonly path: string;
  /** Poll interval for changes (file-system notifications miss some volume updates). */
  readonly pollIntervalMs: number;
}

export interface StaticBackend extends AccessBackend {
  /** Re-reads the file now; resolves true when a new valid version was loaded. */
  reload(): Promise<boolean>;
  /** Number of tokens in force. */
  size(): number;
}

/** Loads and validates the tokens file (throws {@link TokensFileError}), then watches it. */
export async function createStaticBackend(
  options: StaticBackendOptions,
  deps: { readonly metrics: Metrics; readonly logger: Logger },
): Promise<StaticBackend> {
  const { path } = options;
  const log = deps.logger.child({ component: 'tokens-file' });
  let text = await readText(path);
  let tokens = parseTokensFile(text, path);
  let byName = new Map(tokens.map((t) => [t.name, t]));
  let byDigest = digestsOf(tokens);
  let identities = identitiesOf(tokens);
  if (tokens.length === 0) log.warn({ path }, 'tokens file lists no tokens: every caller gets 401');

  let reloading: Promise<boolean> | undefined;
  let again = false;
  async function reloadOnce(): Promise<boolean> {
    let next: string;
    try {
      next = await readText(path);
    } catch (e) {
      deps.metrics.tokensFileReloads.inc({ result: 'error' });
      log.error(
        { path, err: (e as Error).message },
        'cannot read the tokens file; keeping the previous version',
      );
      return false;
    }
    if (next === text) return false;
    try {
      const parsed = parseTokensFile(next, path);
      tokens = parsed;
      byName = new Map(parsed.map((t) => [t.name, t]));
      byDigest = digestsOf(parsed);
      identities = identitiesOf(parsed);
      text = next;
      deps.metrics.tokensFileReloads.inc({ result: 'success' });
      log.info({ path, tokens: parsed.length }, 'tokens file reloaded');
      return true;
    } catch (e) {
      // Remember the bad text so the same bad version is reported once, not at every poll.
      text = next;
      deps.metrics.tokensFileReloads.inc({ result: 'error' });
      log.error(
        { path, problems: e instanceof TokensFileError ? e.problems : [(e as Error).message] },
        'tokens file is invalid; keeping the previous version',
      );
      return false;
    }
  }
  function reload(): Promise<boolean> {
    if (reloading) {
      again = true;
      return reloading;
    }
    reloading = (async () => {
      let changed = false;
      do {
        again = false;
        changed = (await reloadOnce()) || changed;
      } while (again);
      return changed;
    })().finally(() => {
      reloading = undefined;
    });
    return reloading;
  }

  // Watch the directory: editors and Kubernetes volumes replace the file rather than write it.
  let watcher: FSWatcher | undefined;
  let debounce: NodeJS.Timeout | undefined;
  try {
    const file = basename(path);
    watcher = watch(dirname(path), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== file && changed !== '..data') return;
      clearTimeout(debounce);
      debounce = setTimeout(() => void reload(), 50);
      debounce.unref();
    });
    watcher.on('error', () => watcher?.close());
  } catch {
    watcher = undefined; // the poll below still notices changes
  }
  const poll = setInterval(() => void reload(), options.pollIntervalMs);
  poll.unref();

  return {
    authenticator: {
      mode: 'static',
      async authenticate(token: string): Promise<Identity | null> {
        const found = byDigest.get(sha256Hex(token));
        return found ? (identities.get(found.name) ?? null) : null;
      },
    },
    scopes: {
      async resolve(identity: Identity): Promise<Scope> {
        // A token removed by a reload since authentication has no access any more.
        return byName.get(identity.name)?.scope ?? scopeOf([]);
      },
    },
    ready: () => true,
    reload,
    size: () => tokens.length,
    async close() {
      clearInterval(poll);
      clearTimeout(debounce);
      watcher?.close();
    },
  };
}

/** Entries by the hex SHA-256 digest of their token (digests are unique: the parser checks). */
function digestsOf(tokens: readonly StaticToken[]): Map<string, StaticToken> {
  return new Map(tokens.map((t) => [t.digest.toString('hex'), t]));
}

/** One frozen identity per entry: the same object for every request of a token. */
function identitiesOf(tokens: readonly StaticToken[]): Map<string, Identity> {
  const groups: readonly string[] = Object.freeze([]);
  return new Map(
    tokens.map((t) => [
      t.name,
      Object.freeze({ name: t.name, kind: 'static', groups }) as Identity,
    ]),
  );
}

async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8');
}
