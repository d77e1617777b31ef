/**
 * The stand-in speaks the Kubernetes wire format (REFERENCE §4): checked here with raw HTTPS
 * requests, so that promgate's tests are only as good as a stand-in that is itself tested.
 */
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { startKubeStandin, type KubeStandin } from './standin.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): Record<string, unknown>;
}

function call(
  kube: KubeStandin,
  method: string,
  path: string,
  body?: unknown,
  credential: string | null = kube.credential,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${kube.url}${path}`,
      {
        method,
        ca: kube.caPem,
        headers: {
          ...(credential !== null ? { authorization: `Bearer ${credential}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text) as Record<string, unknown>,
          });
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    if (body !== undefined) req.write(JSON.stringify(body));
    req.end();
  });
}

/** Opens a watch and collects NDJSON events until the stream ends or `count` arrived. */
function watch(
  kube: KubeStandin,
  query: string,
  count: number,
): Promise<{ status: number; events: Record<string, unknown>[]; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const events: Record<string, unknown>[] = [];
    const req = request(
      `${kube.url}/api/v1/namespaces?watch=true&${query}`,
      { ca: kube.caPem, headers: { authorization: `Bearer ${kube.credential}` } },
      (res) => {
        let buf = '';
        const finish = (ended: boolean): void => {
          resolve({ status: res.statusCode ?? 0, events, ended });
          req.destroy();
        };
        res.on('data', (c: Buffer) => {
          buf += c.toString('utf8');
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            events.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
            buf = buf.slice(nl + 1);
            if (events.length >= count) finish(false);
          }
        });
        res.on('end', () => finish(true));
      },
    );
    req.on('error', (err) => (events.length > 0 ? undefined : reject(err)));
    req.setTimeout(5000, () => req.destroy(new Error('watch timeout')));
    req.end();
  });
}

const tr = (token: string, audiences?: string[]): unknown => ({
  apiVersion: 'authentication.k8s.io/v1',
  kind: 'TokenReview',
  spec: { token, ...(audiences ? { audiences } : {}) },
});

const sar = (spec: Record<string, unknown>): unknown => ({
  apiVersion: 'authorization.k8s.io/v1',
  kind: 'SubjectAccessReview',
  spec,
});

describe('Kubernetes API stand-in', () => {
  let kube: KubeStandin;
  before(async () => {
    kube = await startKubeStandin({
      namespaces: ['alpha', { name: 'beta', labels: { team: 'b' } }, 'gamma'],
    });
  });
  after(() => kube.stop());

  test('every endpoint wants promgate’s credential (401 Status otherwise)', async () => {
    const r = await call(kube, 'GET', '/api/v1/namespaces', undefined, null);
    assert.equal(r.status, 401);
    assert.equal(r.json().kind, 'Status');
    assert.equal(r.json().reason, 'Unauthorized');
    const wrong = await call(kube, 'GET', '/api/v1/namespaces', undefined, 'nope');
    assert.equal(wrong.status, 401);
  });

  test('TokenReview: 201, echoes the token, authenticated SA with groups and extra', async () => {
    const token = await kube.issueToken('alpha/grafana', { audiences: ['promgate'], pod: 'g-1' });
    const r = await call(
      kube,
      'POST',
      '/apis/authentication.k8s.io/v1/tokenreviews',
      tr(token, ['promgate']),
    );
    assert.equal(r.status, 201);
    const body = r.json();
    assert.equal(body.kind, 'TokenReview');
    assert.equal((body.spec as { token: string }).token, token);
    const status = body.status as Record<string, unknown>;
    assert.equal(status.authenticated, true);
    assert.deepEqual(status.audiences, ['promgate']);
    const user = status.user as Record<string, unknown>;
    assert.equal(user.username, 'system:serviceaccount:alpha:grafana');
    assert.deepEqual(user.groups, [
      'system:serviceaccounts',
      'system:serviceaccounts:alpha',
      'system:authenticated',
    ]);
    assert.deepEqual(
      (user.extra as Record<string, string[]>)['authentication.kubernetes.io/pod-name'],
      ['g-1'],
    );
  });

  test('TokenReview: a bad token is still 201, with authenticated absent and an error', async () => {
    for (const bad of ['junk', 'a.b.c', (await kube.issueToken('alpha/x')).slice(0, -4) + 'AAAA']) {
      const r = await call(kube, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', tr(bad));
      assert.equal(r.status, 201);
      const status = r.json().status as Record<string, unknown>;
      assert.equal(status.authenticated, undefined);
      assert.equal(typeof status.error, 'string');
    }
  });

  test('TokenReview: audiences per the API server’s rules', async () => {
    const path = '/apis/authentication.k8s.io/v1/tokenreviews';
    const bound = await kube.issueToken('alpha/grafana', { audiences: ['promgate'] });
    const other = await call(kube, 'POST', path, tr(bound, ['other']));
    const s1 = other.json().status as Record<string, unknown>;
    assert.equal(s1.authenticated, undefined);
    assert.match(String(s1.error), /token audiences .* is invalid for the target audiences/);
    // Default audience: the API server's own (the issuer) — a promgate-only token fails it.
    const s2 = (await call(kube, 'POST', path, tr(bound))).json().status as Record<string, unknown>;
    assert.equal(s2.authenticated, undefined);
    // A default pod token passes with empty audiences and reports the API audience.
    const pod = await kube.issueToken('alpha/default');
    const s3 = (await call(kube, 'POST', path, tr(pod))).json().status as Record<string, unknown>;
    assert.equal(s3.authenticated, true);
    assert.deepEqual(s3.audiences, [kube.issuer]);
    // Legacy tokens are audience-agnostic: only the API server's audience.
    const legacy = await kube.issueToken('alpha/old', { legacy: true });
    const s4 = (await call(kube, 'POST', path, tr(legacy))).json().status as Record<
      string,
      unknown
    >;
    assert.equal(s4.authenticated, true);
    const s5 = (await call(kube, 'POST', path, tr(legacy, ['promgate']))).json().status as Record<
      string,
      unknown
    >;
    assert.notEqual(s5.authenticated, true);
  });

  test('TokenReview: expired, foreign-signed, revoked and deleted-SA tokens fail; empty is 400', async () => {
    const path = '/apis/authentication.k8s.io/v1/tokenreviews';
    const expired = await kube.issueToken('alpha/a', { expiresInSeconds: -60 });
    const foreign = await kube.issueToken('alpha/a', { signer: 'foreign' });
    const revoked = await kube.issueToken('alpha/a');
    kube.revokeToken(revoked);
    const deleted = await kube.issueToken('alpha/gone');
    kube.deleteServiceAccount('alpha', 'gone');
    for (const t of [expired, foreign, revoked, deleted]) {
      const s = (await call(kube, 'POST', path, tr(t))).json().status as Record<string, unknown>;
      assert.equal(s.authenticated, undefined);
    }
    const empty = await call(kube, 'POST', path, tr(''));
    assert.equal(empty.status, 400);
    assert.equal(empty.json().kind, 'Status');
  });

  test('TokenReview: user tokens for non-ServiceAccount users', async () => {
    const token = kube.addUserToken({ username: 'alice@example.com', groups: ['devs'] });
    const r = await call(kube, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', tr(token));
    const status = r.json().status as {
      authenticated: boolean;
      user: { username: string; groups: string[] };
    };
    assert.equal(status.authenticated, true);
    assert.equal(status.user.username, 'alice@example.com');
    assert.deepEqual(status.user.groups, ['devs', 'system:authenticated']);
  });

  test('SubjectAccessReview: RoleBinding, ClusterRoleBinding, group subjects, 422s', async () => {
    const path = '/apis/authorization.k8s.io/v1/subjectaccessreviews';
    const ask = async (spec: Record<string, unknown>): Promise<boolean> => {
      const r = await call(kube, 'POST', path, sar(spec));
      assert.equal(r.status, 201);
      return (r.json().status as { allowed: boolean }).allowed;
    };
    const pods = (namespace?: string): Record<string, unknown> => ({
      ...(namespace ? { namespace } : {}),
      verb: 'get',
      group: '',
      resource: 'pods',
    });
    assert.equal(await ask({ user: 'bob', resourceAttributes: pods('alpha') }), false);
    const revoke = kube.grant({
      user: 'bob',
      namespace: 'alpha',
      verbs: ['get'],
      resources: ['pods'],
    });
    assert.equal(await ask({ user: 'bob', resourceAttributes: pods('alpha') }), true);
    assert.equal(await ask({ user: 'bob', resourceAttributes: pods('beta') }), false);
    assert.equal(
      await ask({ user: 'bob', resourceAttributes: pods() }),
      false,
      'RoleBinding is not cluster-wide',
    );
    revoke();
    assert.equal(await ask({ user: 'bob', resourceAttributes: pods('alpha') }), false);
    kube.grant({ group: 'admins', verbs: ['*'], apiGroups: ['*'], resources: ['*'] });
    assert.equal(
      await ask({ user: 'carol', groups: ['admins'], resourceAttributes: pods() }),
      true,
    );
    assert.equal(
      await ask({ user: 'carol', resourceAttributes: pods() }),
      false,
      'groups must be passed',
    );
    kube.clearGrants();

    const none = await call(kube, 'POST', path, sar({ resourceAttributes: pods('alpha') }));
    assert.equal(none.status, 422);
    assert.equal(none.json().reason, 'Invalid');
    const neither = await call(kube, 'POST', path, sar({ user: 'bob' }));
    assert.equal(neither.status, 422);
  });

  test('namespace list: items, resourceVersion, limit/continue, and 410 for a stale continue', async () => {
    const all = (await call(kube, 'GET', '/api/v1/namespaces')).json();
    assert.equal(all.kind, 'NamespaceList');
    const items = all.items as { metadata: { name: string; labels: Record<string, string> } }[];
    assert.deepEqual(
      items.map((i) => i.metadata.name),
      ['alpha', 'beta', 'gamma'],
    );
    assert.equal(items[1]?.metadata.labels.team, 'b');
    assert.match(String((all.metadata as { resourceVersion: string }).resourceVersion), /^\d+$/);

    const p1 = (await call(kube, 'GET', '/api/v1/namespaces?limit=2')).json();
    const meta1 = p1.metadata as { continue: string; resourceVersion: string };
    assert.equal((p1.items as unknown[]).length, 2);
    assert.ok(meta1.continue);
    kube.upsertNamespace('delta'); // pages stay one consistent snapshot
    const p2 = (
      await call(
        kube,
        'GET',
        `/api/v1/namespaces?limit=2&continue=${encodeURIComponent(meta1.continue)}`,
      )
    ).json();
    assert.deepEqual(
      (p2.items as { metadata: { name: string } }[]).map((i) => i.metadata.name),
      ['gamma'],
    );
    assert.equal(
      (p2.metadata as { resourceVersion: string }).resourceVersion,
      meta1.resourceVersion,
    );

    const p3 = (await call(kube, 'GET', '/api/v1/namespaces?limit=1')).json();
    kube.compact();
    const stale = await call(
      kube,
      'GET',
      `/api/v1/namespaces?limit=1&continue=${encodeURIComponent((p3.metadata as { continue: string }).continue)}`,
    );
    assert.equal(stale.status, 410);
    assert.equal(stale.json().reason, 'Expired');
    kube.deleteNamespace('delta');
  });

  test('watch: ADDED / MODIFIED (Terminating) / DELETED, BOOKMARK, then 410 for a compacted RV', async () => {
    const rv = (
      (await call(kube, 'GET', '/api/v1/namespaces')).json().metadata as { resourceVersion: string }
    ).resourceVersion;
    const pending = watch(kube, `resourceVersion=${rv}&allowWatchBookmarks=true`, 5);
    const { setTimeout: delay } = await import('node:timers/promises');
    for (let i = 0; i < 100 && kube.openWatches() === 0; i++) await delay(10);
    kube.upsertNamespace('epsilon');
    kube.upsertNamespace({ name: 'epsilon', labels: { x: 'y' } });
    kube.bookmark();
    kube.deleteNamespace('epsilon');
    const { status, events } = await pending;
    assert.equal(status, 200);
    assert.deepEqual(
      events.map((e) => e.type),
      ['ADDED', 'MODIFIED', 'BOOKMARK', 'MODIFIED', 'DELETED'],
    );
    const terminating = events[3]?.object as { status: { phase: string } };
    assert.equal(terminating.status.phase, 'Terminating');
    const bookmark = events[2]?.object as { metadata: Record<string, unknown> };
    assert.deepEqual(Object.keys(bookmark.metadata), ['resourceVersion']);

    kube.compact();
    const gone = await watch(kube, `resourceVersion=${rv}`, 1);
    assert.equal(gone.status, 200);
    const err = gone.events[0] as {
      type: string;
      object: { kind: string; code: number; reason: string };
    };
    assert.equal(err.type, 'ERROR');
    assert.equal(err.object.kind, 'Status');
    assert.equal(err.object.code, 410);
    assert.equal(err.object.reason, 'Expired');
  });

  test('watch without a resourceVersion starts with ADDED for every namespace', async () => {
    const r = await watch(kube, 'timeoutSeconds=1', 100);
    assert.equal(r.ended, true, 'timeoutSeconds ends the stream');
    assert.deepEqual(
      r.events.map((e) => (e.object as { metadata: { name: string } }).metadata.name),
      kube.namespaceNames(),
    );
  });

  test('OIDC discovery and JWKS', async () => {
    const d = await call(kube, 'GET', '/.well-known/openid-configuration');
    assert.equal(d.status, 200);
    assert.equal(d.json().issuer, kube.issuer);
    assert.equal(d.json().jwks_uri, `${kube.url}/openid/v1/jwks`);
    const j = await call(kube, 'GET', '/openid/v1/jwks');
    assert.equal(j.headers['content-type'], 'application/jwk-set+json');
    assert.match(String(j.headers['cache-control']), /max-age=3600/);
    const keys = j.json().keys as { kty: string; kid: string; alg: string; use: string }[];
    assert.equal(keys.length >= 1, true);
    assert.equal(keys[0]?.alg, 'RS256');
    assert.equal(keys[0]?.use, 'sig');
  });

  test('faults: status with Retry-After, times, down; counters count every call', async () => {
    kube.resetCounters();
    kube.fail('tokenreviews', { status: 429, times: 1 });
    const r1 = await call(kube, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', tr('x'));
    assert.equal(r1.status, 429);
    assert.equal(r1.headers['retry-after'], '1');
    assert.equal(r1.json().reason, 'TooManyRequests');
    const r2 = await call(kube, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', tr('x'));
    assert.equal(r2.status, 201, 'the fault was for one call');
    assert.equal(kube.counters.tokenreviews, 2);
    kube.setDown(true);
    await assert.rejects(call(kube, 'GET', '/api/v1/namespaces'));
    kube.setDown(false);
    assert.equal((await call(kube, 'GET', '/api/v1/namespaces')).status, 200);
  });
});

describe('Kubernetes API stand-in: watchGone http', () => {
  test('a too-old RV is HTTP 410 with a Status', async () => {
    const kube = await startKubeStandin({ namespaces: ['a'], watchGone: 'http' });
    try {
      kube.upsertNamespace('b');
      kube.compact();
      const r = await call(kube, 'GET', '/api/v1/namespaces?watch=1&resourceVersion=1');
      assert.equal(r.status, 410);
      assert.equal(r.json().reason, 'Expired');
    } finally {
      await kube.stop();
    }
  });
});
