/**
 * Junk tokens never reach the API server with `--jwks` (issue 4 "Proof"), through the real
 * server in kubernetes mode (`--jwks --token-audience promgate`, ES256 ServiceAccount keys):
 * 10,000 distinct junk tokens — foreign signature, wrong issuer, expired, wrong audience,
 * tampered payload, unknown key id, alg none, garbage, JWT-shaped garbage — sent 32 at a time
 * each get 401 with WWW-Authenticate and Prometheus's error JSON; the stand-in sees not one
 * TokenReview, the JWKS is refetched at most a couple of times (rate-limited), the upstream sees
 * no request, no JWT reaches the log, and a good token cached before the flood still needs no
 * review after it.
 *
 * The upstream is a stub that counts requests (401s must never reach it), so no Prometheus is
 * needed here.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startKubeStandin, type KubeStandin } from '../k8s/standin.js';
import { mapLimit } from './support/compare.js';
import {
  assertNoTokens,
  demoClusterNamespaces,
  rawCall,
  startKubeGate,
  type KubeGate,
} from './k8s-support/kube-gate.js';

const PATH = '/api/v1/query?query=up';
const JUNK = 10_000;
const IN_FLIGHT = 32;

const b64url = (v: unknown): string =>
  Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** Randomly ordered copy (Fisher–Yates). */
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('kubernetes mode with --jwks: a junk-token flood', () => {
  let kube: KubeStandin;
  let upstream: Server;
  /** Requests the stub upstream received, other than promgate's readiness probe. */
  const forwarded: string[] = [];
  let gate: KubeGate;
  const sampleTokens: string[] = [];

  before(async () => {
    kube = await startKubeStandin({ namespaces: demoClusterNamespaces(), algorithm: 'ES256' });
    upstream = createServer((req, res) => {
      if (!(req.url ?? '').startsWith('/api/v1/status/buildinfo')) forwarded.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"success","data":{"resultType":"vector","result":[]}}');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    gate = await startKubeGate({
      kube,
      upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      version: 3,
      tenancy: 'serviceaccount',
      args: ['--jwks', '--token-audience=promgate'],
    });
  });
  after(async () => {
    if (gate) {
      const log = gate.logText();
      assert.doesNotMatch(log, /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/, 'a JWT reached the log');
      assertNoTokens(log, sampleTokens, 'the log');
    }
    await gate?.stop();
    const closed = new Promise<void>((resolve) => upstream?.close(() => resolve()) ?? resolve());
    upstream?.closeAllConnections();
    await closed;
    await kube?.stop();
  });

  test(`${JUNK} junk tokens at ${IN_FLIGHT} in flight: each 401, not one TokenReview`, async () => {
    const good = await kube.issueToken('team-a-dev/grafana', { audiences: ['promgate'] });
    sampleTokens.push(good);
    assert.equal((await rawCall(gate.url, PATH, `Bearer ${good}`)).status, 200);

    const sa = 'team-a-dev/junk';
    const kinds: [string, () => Promise<string> | string][] = [
      [
        'foreign signature',
        () => kube.issueToken(sa, { signer: 'foreign', audiences: ['promgate'] }),
      ],
      [
        'wrong issuer',
        () => kube.issueToken(sa, { issuer: 'https://other.example', audiences: ['promgate'] }),
      ],
      ['expired', () => kube.issueToken(sa, { expiresInSeconds: -3600, audiences: ['promgate'] })],
      ['wrong audience', () => kube.issueToken(sa, { audiences: ['not-promgate'] })],
      [
        'tampered payload',
        async () => {
          const [h, , s] = (await kube.issueToken(sa, { audiences: ['promgate'] })).split('.');
          const payload = {
            sub: 'system:serviceaccount:kube-system:admin',
            aud: ['promgate'],
            n: randomBytes(6).toString('hex'),
          };
          return `${h}.${b64url(payload)}.${s}`;
        },
      ],
      [
        'unknown key id',
        () =>
          `${b64url({ alg: 'ES256', kid: `k-${randomBytes(4).toString('hex')}` })}.${b64url({ sub: 'x', aud: ['promgate'] })}.${randomBytes(64).toString('base64url')}`,
      ],
      [
        'alg none',
        () =>
          `${b64url({ alg: 'none' })}.${b64url({ sub: randomBytes(8).toString('hex'), aud: ['promgate'] })}.`,
      ],
      ['garbage', () => randomBytes(24).toString('base64url')],
      [
        'JWT-shaped garbage',
        () =>
          `${randomBytes(20).toString('base64url')}.${randomBytes(40).toString('base64url')}.${randomBytes(32).toString('base64url')}`,
      ],
    ];
    const junk: { kind: string; token: string }[] = [];
    for (let i = 0; i < JUNK; i++) {
      const [kind, make] = kinds[i % kinds.length] as (typeof kinds)[number];
      junk.push({ kind, token: await make() });
    }
    assert.equal(new Set(junk.map((j) => j.token)).size, JUNK, 'junk tokens are distinct');
    for (let i = 0; i < junk.length; i += 250) {
      sampleTokens.push((junk[i] as (typeof junk)[number]).token);
    }

    kube.resetCounters();
    forwarded.length = 0;
    const started = Date.now();
    const wrong = new Map<string, number>();
    await mapLimit(shuffled(junk), IN_FLIGHT, async ({ kind, token }) => {
      const r = await rawCall(gate.url, PATH, `Bearer ${token}`);
      const ok =
        r.status === 401 &&
        /^Bearer\b/.test(r.headers.get('www-authenticate') ?? '') &&
        (r.json as { errorType?: string } | undefined)?.errorType === 'unauthorized';
      if (!ok) {
        const k = `${kind}: HTTP ${r.status} ${r.text.slice(0, 120)}`;
        wrong.set(k, (wrong.get(k) ?? 0) + 1);
      }
    });
    const seconds = (Date.now() - started) / 1000;
    const c = kube.counters;
    console.log(
      `junk: ${JUNK} tokens (${kinds.length} kinds) at ${IN_FLIGHT} in flight in ${seconds.toFixed(1)} s ` +
        `(${(JUNK / seconds).toFixed(0)}/s): ${c.tokenreviews} TokenReviews, ${c.jwks} JWKS and ` +
        `${c.discovery} discovery fetches, ${forwarded.length} upstream requests`,
    );
    assert.deepEqual([...wrong.entries()], [], 'junk not answered 401 with WWW-Authenticate');
    assert.equal(c.tokenreviews, 0, 'junk reached TokenReview');
    assert.ok(
      c.jwks + c.discovery <= 4,
      `${c.jwks} JWKS + ${c.discovery} discovery fetches for unknown key ids`,
    );
    assert.deepEqual(forwarded, [], 'a refused request reached the upstream');

    // The flood did not push the good identity out: still served without a review.
    assert.equal((await rawCall(gate.url, PATH, `Bearer ${good}`)).status, 200);
    assert.equal(kube.counters.tokenreviews, 0);
  });
});
