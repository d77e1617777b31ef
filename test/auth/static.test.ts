import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import {
  createStaticBackend,
  parseTokensFile,
  TokensFileError,
  type StaticBackend,
} from '../../src/auth/static.js';
import { createMetrics } from '../../src/metrics.js';

const SECRET_A = 's3cr3t-token-of-team-a';
const SECRET_B = 'another-s3cr3t-of-team-b';
const sha = (t: string): string => createHash('sha256').update(t).digest('hex');

const VALID = `tokens:
  - name: team-a
    token: "${SECRET_A}"
    namespaces: [ns-2, ns-1, ns-1]
  - name: ops
    sha256: "${sha(SECRET_B)}"
    clusterWide: true
`;

function problemsOf(text: string): string[] {
  try {
    parseTokensFile(text, 'tokens.yaml');
  } catch (e) {
    assert.ok(e instanceof TokensFileError);
    return [...e.problems];
  }
  assert.fail('expected TokensFileError');
}

describe('tokens file validation', () => {
  it('accepts tokens and digests, namespaces and clusterWide', () => {
    const tokens = parseTokensFile(VALID, 'tokens.yaml');
    assert.equal(tokens.length, 2);
    assert.deepEqual(tokens[0]?.scope, { kind: 'values', values: ['ns-1', 'ns-2'] });
    assert.deepEqual(tokens[1]?.scope, { kind: 'all' });
    assert.equal(tokens[0]?.digest.toString('hex'), sha(SECRET_A));
    assert.deepEqual(parseTokensFile('tokens: []\n', 'x'), []);
  });

  const cases: [string, string, RegExp][] = [
    [
      'duplicate names',
      `tokens:\n  - {name: a, token: "t1-xxxxxxxx", namespaces: [x]}\n  - {name: a, token: "t2-xxxxxxxx", namespaces: [x]}\n`,
      /tokens\[1\] \("a"\): name already used by tokens\[0\]/,
    ],
    [
      'duplicate tokens (token and digest)',
      `tokens:\n  - {name: a, token: "${SECRET_A}", namespaces: [x]}\n  - {name: b, sha256: "${sha(SECRET_A)}", namespaces: [y]}\n`,
      /tokens\[1\] \("b"\): same token as tokens\[0\] \("a"\)/,
    ],
    [
      'both token and sha256',
      `tokens:\n  - {name: a, token: "${SECRET_A}", sha256: "${sha(SECRET_A)}", namespaces: [x]}\n`,
      /has both "token" and "sha256"/,
    ],
    [
      'neither token nor sha256',
      `tokens:\n  - {name: a, namespaces: [x]}\n`,
      /needs "token" or "sha256"/,
    ],
    [
      'neither namespaces nor clusterWide',
      `tokens:\n  - {name: a, token: "${SECRET_A}"}\n`,
      /needs "namespaces: \[...\]" or "clusterWide: true"/,
    ],
    [
      'clusterWide false only',
      `tokens:\n  - {name: a, token: "${SECRET_A}", clusterWide: false}\n`,
      /needs "namespaces/,
    ],
    [
      'both namespaces and clusterWide',
      `tokens:\n  - {name: a, token: "${SECRET_A}", namespaces: [x], clusterWide: true}\n`,
      /has both "namespaces" and "clusterWide: true"/,
    ],
    [
      'empty namespaces',
      `tokens:\n  - {name: a, token: "${SECRET_A}", namespaces: []}\n`,
      /"namespaces" must be a non-empty list/,
    ],
    [
      'empty namespace name',
      `tokens:\n  - {name: a, token: "${SECRET_A}", namespaces: [""]}\n`,
      /"namespaces" must be a non-empty list of non-empty strings/,
    ],
    [
      'typo in a key',
      `tokens:\n  - {name: a, token: "${SECRET_A}", namespace: [x]}\n`,
      /unknown key "namespace"/,
    ],
    [
      'bad digest',
      `tokens:\n  - {name: a, sha256: "abc", namespaces: [x]}\n`,
      /"sha256" must be 64 hex digits/,
    ],
    [
      'token with spaces',
      `tokens:\n  - {name: a, token: "has space", namespaces: [x]}\n`,
      /"token" must be a string of visible ASCII/,
    ],
    [
      'missing name',
      `tokens:\n  - {token: "${SECRET_A}", namespaces: [x]}\n`,
      /tokens\[0\]: "name" must be a non-empty string/,
    ],
    [
      'clusterWide not boolean',
      `tokens:\n  - {name: a, token: "${SECRET_A}", clusterWide: "yes"}\n`,
      /"clusterWide" must be true or false/,
    ],
    ['no tokens list', `users: []\n`, /unknown top-level key "users"/],
    ['not a mapping', `- a\n`, /must be a YAML mapping/],
    [
      'bad YAML',
      `tokens:\n  - name: a\n    token: "${SECRET_A}\n  bad: [\n`,
      /not valid YAML at line \d+, column \d+/,
    ],
  ];
  for (const [name, text, expected] of cases) {
    it(`refuses: ${name}, without echoing any token`, () => {
      const problems = problemsOf(text).join('\n');
      assert.match(problems, expected);
      assert.doesNotMatch(problems, new RegExp(SECRET_A));
      assert.doesNotMatch(problems, new RegExp(sha(SECRET_A)));
    });
  }
});

describe('static backend', () => {
  const dir = mkdtempSync(join(tmpdir(), 'promgate-static-'));
  const path = join(dir, 'tokens.yaml');
  writeFileSync(path, VALID);
  const lines: string[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _e, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  );
  const metrics = createMetrics({ collectDefault: false });
  let backend: StaticBackend;
  after(() => backend?.close());

  it('authenticates by token and by digest, and resolves scopes', async () => {
    backend = await createStaticBackend({ path, pollIntervalMs: 100 }, { metrics, logger });
    assert.equal(backend.authenticator.mode, 'static');
    assert.equal(backend.ready(), true);
    const a = await backend.authenticator.authenticate(SECRET_A);
    assert.deepEqual(a, { name: 'team-a', kind: 'static', groups: [] });
    assert.deepEqual(await backend.scopes.resolve(a as NonNullable<typeof a>), {
      kind: 'values',
      values: ['ns-1', 'ns-2'],
    });
    const ops = await backend.authenticator.authenticate(SECRET_B);
    assert.equal(ops?.name, 'ops');
    assert.deepEqual(await backend.scopes.resolve(ops as NonNullable<typeof ops>), { kind: 'all' });
    assert.equal(await backend.authenticator.authenticate('wrong'), null);
    assert.equal(await backend.authenticator.authenticate(SECRET_A + 'x'), null);
    assert.equal(
      await backend.authenticator.authenticate(sha(SECRET_B)),
      null,
      'the digest itself is not a token',
    );
  });

  it('finds each of thousands of tokens, and only its own', async () => {
    const many = join(dir, 'many.yaml');
    const entries = Array.from({ length: 5000 }, (_, i) =>
      i % 2 === 0
        ? `  - {name: t${i}, token: "token-number-${i}", namespaces: [ns-${i}]}`
        : `  - {name: t${i}, sha256: "${sha(`token-number-${i}`)}", namespaces: [ns-${i}]}`,
    );
    writeFileSync(many, `tokens:\n${entries.join('\n')}\n`);
    const big = await createStaticBackend(
      { path: many, pollIntervalMs: 60_000 },
      { metrics, logger },
    );
    try {
      for (const i of [0, 1, 2, 2499, 4998, 4999]) {
        const id = await big.authenticator.authenticate(`token-number-${i}`);
        assert.equal(id?.name, `t${i}`);
        assert.deepEqual(await big.scopes.resolve(id as NonNullable<typeof id>), {
          kind: 'values',
          values: [`ns-${i}`],
        });
      }
      assert.equal(await big.authenticator.authenticate('token-number-5000'), null);
    } finally {
      await big.close();
    }
  });

  it('reloads a changed file; a bad version is refused and the previous one kept', async () => {
    const NEW = 'brand-new-token-for-team-c';
    writeFileSync(
      `${path}.tmp`,
      `tokens:\n  - name: team-c\n    token: "${NEW}"\n    namespaces: [ns-c]\n`,
    );
    renameSync(`${path}.tmp`, path); // atomic replace, as editors and Kubernetes volumes do
    assert.equal(await backend.reload(), true);
    assert.equal((await backend.authenticator.authenticate(NEW))?.name, 'team-c');
    assert.equal(
      await backend.authenticator.authenticate(SECRET_A),
      null,
      'removed token no longer works',
    );
    // A removed identity that authenticated earlier has no scope any more.
    assert.deepEqual(await backend.scopes.resolve({ name: 'team-a', kind: 'static', groups: [] }), {
      kind: 'values',
      values: [],
    });

    const before = (await metrics.tokensFileReloads.get()).values;
    writeFileSync(
      path,
      `tokens:\n  - name: team-c\n    token: "${NEW}"\n  - name: team-c\n    token: "${SECRET_A}"\n    namespaces: [x]\n`,
    );
    assert.equal(await backend.reload(), false);
    assert.equal(
      (await backend.authenticator.authenticate(NEW))?.name,
      'team-c',
      'previous version still in force',
    );
    assert.equal(await backend.authenticator.authenticate(SECRET_A), null);
    const after = (await metrics.tokensFileReloads.get()).values;
    const errors = (vs: typeof after) => vs.find((v) => v.labels.result === 'error')?.value ?? 0;
    assert.equal(errors(after), errors(before) + 1);
    const log = lines.join('');
    assert.match(log, /tokens file is invalid; keeping the previous version/);
    assert.match(log, /name already used/);
    for (const secret of [NEW, SECRET_A, SECRET_B])
      assert.ok(!log.includes(secret), 'no token in the logs');
  });

  it('notices changes by itself (watch or poll)', async () => {
    const LATEST = 'latest-token-for-team-d';
    writeFileSync(
      path,
      `tokens:\n  - name: team-d\n    token: "${LATEST}"\n    namespaces: [ns-d]\n`,
    );
    let identity = null;
    for (let i = 0; i < 100 && identity === null; i++) {
      await new Promise((r) => setTimeout(r, 50));
      identity = await backend.authenticator.authenticate(LATEST);
    }
    assert.equal(identity?.name, 'team-d');
    assert.equal(backend.size(), 1);
  });

  it('refuses to start on an invalid file', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'tokens:\n  - name: x\n');
    await assert.rejects(
      createStaticBackend({ path: bad, pollIntervalMs: 1000 }, { metrics, logger }),
      TokensFileError,
    );
  });
});
