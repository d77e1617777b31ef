/**
 * Tokens are secrets (DESIGN.md invariant 6; issue 5 "Proof"): promgate runs as a child process
 * at `--log-level debug` (the most talkative level: query texts are logged too) in front of a
 * real Prometheus 3.5, and distinctive tokens — valid, valid by digest only, invalid, and one
 * revoked by a tokens-file reload — are sent every way a client might: Bearer, lower-case
 * bearer, Basic password, Basic username, malformed headers, and also outside the credentials
 * (`?token=`, `X-Request-Id`, `User-Agent`, a `match[]` value, a query, the path, a form body),
 * through every failure path (401, 403, 400, 404, 405, 413, 502) and a tokens file that does
 * not parse. Afterwards neither stdout, stderr nor `/metrics` may hold any token, any part of
 * one, its SHA-256 (hex or base64) or a Basic credential blob.
 *
 * One exception, by design: text the client itself chose to send outside its credentials may
 * be echoed in the request's own log line, in the fields that exist to echo it — `reqId`
 * (X-Request-Id, kept when it is a plausible id), `userAgent` and, at debug level or with
 * `--log-queries`, `queries`. promgate cannot tell a token pasted into a query from data. The
 * test allows exactly that (same request, one of those fields, the raw string the client put
 * there) and reports each such echo as a diagnostic; anything else fails.
 *
 * Needs the test bed's Prometheus 3 (`npm run testbed`); without it this file fails.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomInt } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import {
  makeTempDir,
  removeDir,
  startPrometheus,
  waitFor,
  type PrometheusServer,
} from '../support/index.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

/** A token that is also a valid label and metric name, so it can travel every path. */
function makeToken(kind: string): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  let core = '';
  for (let i = 0; i < 24; i++) core += alphabet[randomInt(alphabet.length)];
  return `pgtok_${kind}_${core}`;
}

const VALID = makeToken('valid');
const DIGEST_ONLY = makeToken('digest');
const REVOKED = makeToken('revoked');
const INVALID = makeToken('invalid');
const TOKENS = [VALID, DIGEST_ONLY, REVOKED, INVALID];

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

function tokensFile(withRevoked: boolean): string {
  return stringify({
    tokens: [
      { name: 'team-a', token: VALID, namespaces: ['team-a-dev'] },
      { name: 'team-d', sha256: sha256(DIGEST_ONLY).toString('hex'), namespaces: ['team-d'] },
      ...(withRevoked ? [{ name: 'team-r', token: REVOKED, namespaces: ['team-r'] }] : []),
    ],
  });
}

/** Every form of a secret that must never be written: raw, its random core, digests, Basic blobs. */
const forbidden = new Map<string, string>(); // text → what it is
for (const t of TOKENS) {
  forbidden.set(t, `token ${t}`);
  forbidden.set(t.slice(t.lastIndexOf('_') + 1), `the random part of ${t}`);
  const d = sha256(t);
  forbidden.set(d.toString('hex'), `sha256 hex of ${t}`);
  forbidden.set(d.toString('hex').toUpperCase(), `SHA256 HEX of ${t}`);
  forbidden.set(d.toString('base64'), `sha256 base64 of ${t}`);
  forbidden.set(d.toString('base64url'), `sha256 base64url of ${t}`);
}
/** Basic credential blobs actually sent (added as they are built). */
function basic(user: string, password: string): string {
  const blob = b64(`${user}:${password}`);
  forbidden.set(blob, `Basic blob of ${user}:${password}`);
  return `Basic ${blob}`;
}

/** Log fields that exist to echo what the client sent. */
const ECHO_FIELDS = new Set(['reqId', 'userAgent', 'queries']);

interface Sent {
  readonly what: string;
  readonly status: number;
  readonly requestId: string;
  /** Tokens the client put outside its credentials (may be echoed in ECHO_FIELDS). */
  readonly echoable: ReadonlySet<string>;
}

let prom: PrometheusServer | undefined;
let dir: string;
let tokensPath: string;
let child: ChildProcess | undefined;
let url = '';
let metricsUrl = '';
let stdout = '';
let stderr = '';
let exited: Promise<void> = Promise.resolve();
const sent: Sent[] = [];

before(async () => {
  dir = makeTempDir('promgate-secrets-');
  tokensPath = join(dir, 'tokens.yaml');
  await writeFile(tokensPath, tokensFile(true));
  prom = await startPrometheus({ version: 3 });
  const c = spawn(
    process.execPath,
    [
      MAIN,
      `--upstream=${prom.url}`,
      `--tokens-file=${tokensPath}`,
      '--listen=127.0.0.1:0',
      '--metrics-listen=127.0.0.1:0',
      '--log-level=debug',
      '--file-poll-interval=200ms',
      '--max-body-bytes=4KiB',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child = c;
  let gone = false;
  exited = new Promise((resolve) =>
    c.once('exit', () => {
      gone = true;
      resolve();
    }),
  );
  process.once('exit', () => c.kill('SIGKILL'));
  c.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
  c.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  for (const deadline = Date.now() + 30_000; ; await sleep(50)) {
    const line = stdout.split('\n').find((l) => l.includes('"promgate started"'));
    if (line !== undefined) {
      const started = JSON.parse(line) as { listen: string; metrics: string };
      url = started.listen;
      metricsUrl = started.metrics;
      break;
    }
    if (gone || Date.now() > deadline)
      throw new Error(`promgate did not start:\n${stdout}${stderr}`);
  }
  await waitFor('promgate ready', async () => (await fetch(`${metricsUrl}/readyz`)).ok);
});

after(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await exited;
  await prom?.stop();
  if (dir) removeDir(dir);
});

async function send(
  what: string,
  path: string,
  opts: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    /** Tokens placed outside the credentials. */
    echoable?: readonly string[];
  } = {},
): Promise<Sent> {
  const res = await fetch(`${url}${path}`, {
    method: opts.method ?? 'GET',
    headers: opts.headers ?? {},
    ...(opts.body === undefined ? {} : { body: opts.body }),
    signal: AbortSignal.timeout(30_000),
  });
  await res.arrayBuffer();
  const s: Sent = {
    what,
    status: res.status,
    requestId: res.headers.get('x-request-id') ?? '',
    echoable: new Set(opts.echoable ?? []),
  };
  assert.notEqual(s.requestId, '', `${what}: a request id`);
  sent.push(s);
  return s;
}

/** Every way of presenting token `t` as a credential, on a cheap query. */
async function credentialPaths(t: string, expect: number): Promise<void> {
  const q = '/api/v1/query?query=vector(1)';
  const statuses = [
    (await send(`Bearer ${t}`, q, { headers: { authorization: `Bearer ${t}` } })).status,
    (await send(`bearer ${t}`, q, { headers: { authorization: `bearer ${t}` } })).status,
    (await send(`BEARER ${t}`, q, { headers: { authorization: `BEARER  ${t}` } })).status,
    (await send(`Basic password ${t}`, q, { headers: { authorization: basic('grafana', t) } }))
      .status,
    await send(`Basic password ${t} (POST)`, '/api/v1/query', {
      method: 'POST',
      headers: {
        authorization: basic('', t),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'query=vector(1)',
    }).then((s) => s.status),
  ];
  for (const st of statuses) assert.equal(st, expect, `${t} as a credential`);
  // The token in the wrong place of a credential: the username, or malformed headers.
  for (const [what, header] of [
    ['Basic username', basic(t, '')],
    ['Basic username with a password', basic(t, 'x')],
    ['Bearer with a space', `Bearer ${t} extra`],
    ['unknown scheme', `Token ${t}`],
    ['no scheme', t],
    ['Basic, not base64', `Basic ${t}`],
  ] as const) {
    const s = await send(`${what}: ${t}`, q, { headers: { authorization: header } });
    assert.equal(s.status, 401, `${what}: ${t}`);
  }
}

/** Token `t` outside the credentials and through each failure path; `auth` authenticates. */
async function elsewhere(t: string, auth: string, scoped: boolean): Promise<void> {
  const h = { authorization: `Bearer ${auth}` };
  // The caller's own credential is redacted even from text it chose to send (request id,
  // User-Agent, queries); only someone else's token may be echoed back.
  const echo = t === auth ? [] : [t];
  const ok = scoped ? 200 : 401;
  const checks: [Sent, number][] = [
    [
      await send(`?token= and X-Request-Id: ${t}`, `/api/v1/query?query=vector(1)&token=${t}`, {
        headers: { ...h, 'x-request-id': t, 'user-agent': `client/${t}` },
        echoable: echo,
      }),
      ok,
    ],
    [
      await send(
        `match[] value ${t}`,
        `/api/v1/series?match[]=${encodeURIComponent(`{job="${t}"}`)}`,
        {
          headers: h,
          echoable: echo,
        },
      ),
      ok,
    ],
    [
      await send(`federate match[] ${t}`, `/federate?match[]=${t}`, { headers: h, echoable: echo }),
      ok,
    ],
    [
      await send(`query naming ${t}`, `/api/v1/query?query=${t}`, { headers: h, echoable: echo }),
      ok,
    ],
    [
      await send(`label values of ${t}`, `/api/v1/label/${t}/values`, {
        headers: h,
        echoable: echo,
      }),
      ok,
    ],
    [
      await send(
        `out of scope ${t}`,
        `/api/v1/query?query=${t}${encodeURIComponent('{namespace="zz"}')}`,
        {
          headers: h,
          echoable: echo,
        },
      ),
      scoped ? 403 : 401,
    ],
    [
      await send(`narrowing to ${t}`, `/api/v1/query?query=up&namespace=${t}`, {
        headers: h,
        echoable: echo,
      }),
      scoped ? 403 : 401,
    ],
    [
      await send(`parse error with ${t}`, `/api/v1/query?query=sum(${t}`, {
        headers: h,
        echoable: echo,
      }),
      scoped ? 400 : 401,
    ],
    [
      await send(`form body ${t}`, '/api/v1/query', {
        method: 'POST',
        headers: { ...h, 'content-type': 'application/x-www-form-urlencoded' },
        body: `query=${t}&token=${t}`,
        echoable: echo,
      }),
      ok,
    ],
    [await send(`path ${t}`, `/api/v1/${t}?token=${t}`, { headers: h, echoable: echo }), 404],
    [await send(`path /${t}`, `/${t}`, { headers: h, echoable: echo }), 404],
    [
      await send(`DELETE with ${t}`, `/api/v1/query?query=${t}`, {
        method: 'DELETE',
        headers: h,
        echoable: echo,
      }),
      405,
    ],
    [
      await send(`oversized body with ${t}`, '/api/v1/query', {
        method: 'POST',
        headers: { ...h, 'content-type': 'application/x-www-form-urlencoded' },
        body: `query=${t}&pad=${'p'.repeat(8192)}`,
        echoable: echo,
      }),
      scoped ? 413 : 401, // authentication comes before the body is read
    ],
  ];
  for (const [s, expect] of checks) assert.equal(s.status, expect, s.what);
}

test('no token, digest or Basic blob in logs (debug) or metrics, whatever the client sends', async (t) => {
  // Valid tokens (by value and by digest only), then the one about to be revoked, then invalid.
  await credentialPaths(VALID, 200);
  await credentialPaths(DIGEST_ONLY, 200);
  await credentialPaths(REVOKED, 200);
  await credentialPaths(INVALID, 401);
  await elsewhere(VALID, VALID, true);
  await elsewhere(INVALID, INVALID, false);
  await elsewhere(DIGEST_ONLY, VALID, true); // someone else's token, in a valid caller's request

  // A tokens file that does not parse, with tokens on the broken lines: refused, logged, kept.
  const reloads = async (result: string): Promise<number> => {
    const text = await (await fetch(`${metricsUrl}/metrics`)).text();
    const m = new RegExp(
      `^promgate_tokens_file_reloads_total\\{result="${result}"\\} (\\S+)$`,
      'm',
    );
    return Number(m.exec(text)?.[1] ?? 0);
  };
  const errors0 = await reloads('error');
  await writeFile(
    tokensPath,
    `tokens:\n  - name: broken\n    token: ${VALID}\n   bad: [${REVOKED}, ${INVALID}\n`,
  );
  await waitFor('the broken tokens file refused', async () => (await reloads('error')) > errors0);
  assert.equal(
    (
      await send('still valid after a bad reload', '/api/v1/query?query=vector(1)', {
        headers: { authorization: `Bearer ${REVOKED}` },
      })
    ).status,
    200,
  );

  // Revocation by reload: the token stops working.
  const ok0 = await reloads('success');
  await writeFile(tokensPath, tokensFile(false));
  await waitFor('the tokens file reloaded', async () => (await reloads('success')) > ok0);
  await credentialPaths(REVOKED, 401);
  await elsewhere(REVOKED, REVOKED, false);

  // The upstream goes away: 502 on streamed and on filtered routes.
  await prom?.stop();
  for (const path of [
    '/api/v1/query?query=vector(1)',
    '/api/v1/rules',
    '/api/v1/series?match[]=up',
  ]) {
    const s = await send(`upstream down: ${path}`, path, {
      headers: { authorization: `Bearer ${VALID}`, 'x-request-id': VALID },
      echoable: [VALID],
    });
    assert.equal(s.status, 502, s.what);
  }

  const statuses = new Set(sent.map((s) => s.status));
  for (const code of [200, 400, 401, 403, 404, 405, 413, 502])
    assert.ok(statuses.has(code), `a ${code} was exercised`);

  // /metrics: no secret anywhere (names, label values, HELP).
  const metrics = await (await fetch(`${metricsUrl}/metrics`)).text();
  for (const [text, what] of forbidden)
    assert.ok(!metrics.includes(text), `/metrics contains ${what}`);

  // Stop promgate: its buffered stdout is flushed on the way out.
  child?.kill('SIGTERM');
  await exited;
  for (const [text, what] of forbidden)
    assert.ok(!stderr.includes(text), `stderr contains ${what}`);

  const byId = new Map(sent.map((s) => [s.requestId, s]));
  const lines = stdout.split('\n').filter((l) => l !== '');
  assert.ok(lines.length > sent.length, 'a log line per request at least');
  const echoes: string[] = [];
  let debugQueries = 0;
  for (const raw of lines) {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      for (const [text, what] of forbidden)
        assert.ok(!raw.includes(text), `a non-JSON stdout line contains ${what}: ${raw}`);
      continue;
    }
    if (line['queries'] !== undefined) debugQueries++;
    const request = typeof line['reqId'] === 'string' ? byId.get(line['reqId']) : undefined;
    for (const [key, v] of Object.entries(line)) {
      const value = typeof v === 'string' ? v : JSON.stringify(v);
      for (const [text, what] of forbidden) {
        if (!value.includes(text)) continue;
        const echoed =
          request !== undefined &&
          ECHO_FIELDS.has(key) &&
          [...request.echoable].some((tok) => value.includes(tok) && tok.includes(text));
        assert.ok(echoed, `log field "${key}" contains ${what}: ${raw}`);
        if (TOKENS.includes(text)) echoes.push(`${key} of "${request?.what}"`);
      }
    }
  }
  assert.ok(debugQueries > 0, 'debug level logs query texts (so the test saw the riskiest level)');
  // Requests whose token was only a credential: their lines hold nothing of it (checked above,
  // since nothing is echoable for them); say which client-chosen texts were echoed.
  t.diagnostic(
    `client-chosen text echoed in its own request line (allowed): ${echoes.length} fields; ` +
      [...new Set(echoes.map((e) => e.split(' of ')[0]))].join(', '),
  );
});
