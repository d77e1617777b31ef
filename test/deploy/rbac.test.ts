/**
 * The ClusterRole in deploy/ grants exactly what promgate's code calls. The expected rules
 * are derived from the source (TypeScript AST of every module that uses
 * @kubernetes/client-node): API-client method calls, informers and the OIDC discovery URLs.
 * A new API call without its RBAC rule, or a rule no code needs any more, fails here.
 * Each overlay's share is measured by running its tenancy mode against the Kubernetes API
 * stand-in (test/k8s/standin.ts) and mapping the calls it received to RBAC rules.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import ts from 'typescript';
import { createKubernetesBackend } from '../../src/auth/kubernetes/index.js';
import { KUBERNETES_DEFAULTS } from '../../src/auth/kubernetes/options.js';
import { createMetrics } from '../../src/metrics.js';
import { waitFor } from '../k8s/helpers.js';
import { type Endpoint, startKubeStandin } from '../k8s/standin.js';
import {
  at,
  objs,
  type Obj,
  renderKustomization,
  renderWithComponents,
  repoRoot,
  strs,
} from './support.js';

/** `group/resource` or a non-resource URL → verbs. */
type Rules = Map<string, Set<string>>;

function add(rules: Rules, key: string, ...verbs: string[]): void {
  const set = rules.get(key) ?? new Set<string>();
  for (const v of verbs) set.add(v);
  rules.set(key, set);
}

/** What each client-node API method needs. A method missing here fails the test. */
const METHOD_RULES: Record<string, readonly [string, ...string[]] | null> = {
  createTokenReview: ['authentication.k8s.io/tokenreviews', 'create'],
  createSubjectAccessReview: ['authorization.k8s.io/subjectaccessreviews', 'create'],
  // Self reviews are open to every authenticated identity (system:basic-user).
  createSelfSubjectAccessReview: null,
  createSelfSubjectRulesReview: null,
  listNamespace: ['/namespaces', 'list'],
  readNamespace: ['/namespaces', 'get'],
  getServiceAccountIssuerOpenIDConfiguration: ['/.well-known/openid-configuration', 'get'],
  getServiceAccountIssuerOpenIDKeyset: ['/openid/v1/jwks', 'get'],
};
const OIDC_URLS = ['/.well-known/openid-configuration', '/openid/v1/jwks'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.isFile() && p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** `/api/v1/namespaces?…` → `/namespaces`; `/apis/g/v/r` → `g/r`. */
function resourceOfPath(path: string): string | undefined {
  const core = /^\/api\/v1\/([a-z]+)/.exec(path);
  if (core?.[1] !== undefined) return `/${core[1]}`;
  const grouped = /^\/apis\/([^/]+)\/[^/]+\/([a-z]+)/.exec(path);
  if (grouped?.[1] !== undefined && grouped[2] !== undefined) return `${grouped[1]}/${grouped[2]}`;
  return undefined;
}

function literalText(node: ts.Node): string | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) return node.head.text;
  return undefined;
}

interface Derived {
  readonly rules: Rules;
  /** Where each rule comes from, for messages. */
  readonly evidence: string[];
  readonly files: string[];
}

/** The RBAC rules promgate's code needs, from the AST of every module using client-node. */
function deriveFromCode(): Derived {
  const src = join(repoRoot, 'src');
  const files = sourceFiles(src).filter((f) => {
    const text = readFileSync(f, 'utf8');
    const rel = relative(src, f);
    return (
      rel.startsWith('auth/kubernetes/') ||
      rel.startsWith('tenancy/') ||
      text.includes('@kubernetes/client-node')
    );
  });
  const rules: Rules = new Map();
  const evidence: string[] = [];
  const apiClasses = new Set<string>();
  const parsed = files.map((f) => ({
    file: relative(repoRoot, f),
    sf: ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.ES2022, true),
  }));

  // Pass 1: the client-node API classes the code imports (CoreV1Api, AuthenticationV1Api, …).
  for (const { sf } of parsed) {
    for (const st of sf.statements) {
      if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier)) continue;
      if (st.moduleSpecifier.text !== '@kubernetes/client-node') continue;
      const named = st.importClause?.namedBindings;
      if (named === undefined || !ts.isNamedImports(named)) continue;
      for (const el of named.elements) {
        const imported = (el.propertyName ?? el.name).text;
        if (/Api$/.test(imported)) apiClasses.add(imported);
      }
    }
  }
  const apiMethods = new Map<string, string>();
  for (const cls of apiClasses) {
    const ctor: unknown = (k8s as unknown as Record<string, unknown>)[cls];
    assert.ok(
      typeof ctor === 'function',
      `the code uses ${cls}, which @kubernetes/client-node does not export`,
    );
    const proto = (ctor as { prototype: object }).prototype;
    for (const m of Object.getOwnPropertyNames(proto)) {
      if (m !== 'constructor') apiMethods.set(m.replace(/WithHttpInfo$/, ''), cls);
    }
  }

  // Pass 2: calls of those methods, informers, OIDC URLs.
  for (const { file, sf } of parsed) {
    const where = (node: ts.Node): string =>
      `${file}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node)) {
        const callee = node.expression;
        const name = ts.isPropertyAccessExpression(callee)
          ? callee.name.text
          : ts.isIdentifier(callee)
            ? callee.text
            : undefined;
        const method = name?.replace(/WithHttpInfo$/, '');
        if (method !== undefined && apiMethods.has(method)) {
          const rule = METHOD_RULES[method];
          assert.ok(
            rule !== undefined,
            `${where(node)} calls ${apiMethods.get(method)}.${method}: add its RBAC rule to deploy/ and to METHOD_RULES in test/deploy/rbac.test.ts`,
          );
          if (rule !== null) {
            add(rules, rule[0], ...rule.slice(1));
            evidence.push(`${where(node)} ${method} → ${rule.join(' ')}`);
          }
        }
        if (name === 'makeInformer') {
          const path = node.arguments.map(literalText).find((t) => t?.startsWith('/api'));
          const resource = path === undefined ? undefined : resourceOfPath(path);
          assert.ok(resource, `${where(node)}: makeInformer with a path this test cannot read`);
          add(rules, resource, 'list', 'watch');
          evidence.push(`${where(node)} makeInformer(${path}) → ${resource} list watch`);
        }
      }
      if (
        ts.isNewExpression(node) &&
        ts.isIdentifier(node.expression) &&
        node.expression.text === 'Watch'
      ) {
        assert.fail(`${where(node)}: a raw Watch; teach test/deploy/rbac.test.ts its path`);
      }
      const text = literalText(node);
      if (text !== undefined) {
        for (const url of OIDC_URLS) {
          if (text === url || text.endsWith(url)) {
            add(rules, url, 'get');
            evidence.push(`${where(node)} "${url}" → get`);
          }
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return { rules, evidence, files: parsed.map((p) => p.file) };
}

/** A ClusterRole's rules in the same `group/resource` → verbs shape. */
function rulesOf(role: Obj): Rules {
  const rules: Rules = new Map();
  for (const r of objs(role.rules)) {
    assert.equal(at(r, 'resourceNames'), undefined, 'no resourceNames expected');
    for (const url of strs(r.nonResourceURLs)) add(rules, url, ...strs(r.verbs));
    for (const group of strs(r.apiGroups)) {
      for (const resource of strs(r.resources))
        add(rules, `${group}/${resource}`, ...strs(r.verbs));
    }
  }
  return rules;
}

function plain(rules: Rules): Record<string, string[]> {
  return Object.fromEntries(
    [...rules]
      .map(([k, v]) => [k, [...v].sort()])
      .sort(([a], [b]) => String(a).localeCompare(String(b))),
  );
}

function clusterRole(docs: Obj[]): Obj {
  const roles = docs.filter(
    (d) => d.kind === 'ClusterRole' && at(d, 'metadata', 'name') === 'promgate',
  );
  assert.equal(roles.length, 1, 'one ClusterRole promgate');
  return roles[0] as Obj;
}

let derivedOnce: Derived | undefined;
/** Derived once, inside the tests, so that a failure is reported as a test failure. */
function derived(): Derived {
  derivedOnce ??= deriveFromCode();
  return derivedOnce;
}
const isOidc = (key: string): boolean => OIDC_URLS.includes(key);

test('the code calls the Kubernetes API (the derivation sees something)', () => {
  assert.ok(
    derived().files.length > 0,
    'no module of src/auth/kubernetes, src/tenancy or using client-node',
  );
  assert.ok(
    derived().rules.size > 0,
    `no Kubernetes API call found in ${derived().files.join(', ')}`,
  );
  console.log(`RBAC derived from the code:\n  ${derived().evidence.join('\n  ')}`);
});

test('the base ClusterRole grants exactly the resource permissions the code uses', () => {
  const expected = new Map([...derived().rules].filter(([k]) => !isOidc(k)));
  const docs = renderKustomization(join(repoRoot, 'deploy/base'));
  assert.deepEqual(
    plain(rulesOf(clusterRole(docs))),
    plain(expected),
    derived().evidence.join('\n'),
  );
});

test('the jwks component adds exactly the OIDC discovery URLs the --jwks code reads', () => {
  const expected = new Map([...derived().rules].filter(([k]) => isOidc(k)));
  assert.ok(
    expected.size > 0,
    'the code reads no OIDC discovery URL: drop components/jwks or fix the derivation',
  );
  const plainRole = rulesOf(clusterRole(renderWithComponents('overlays/serviceaccount', [])));
  const jwksRole = rulesOf(
    clusterRole(renderWithComponents('overlays/serviceaccount', ['components/jwks'])),
  );
  const added: Rules = new Map([...jwksRole].filter(([k]) => !plainRole.has(k)));
  assert.deepEqual(plain(added), plain(expected), derived().evidence.join('\n'));
  const kept: Rules = new Map([...jwksRole].filter(([k]) => plainRole.has(k)));
  assert.deepEqual(plain(kept), plain(plainRole), 'jwks changes no other rule');
});

/** Stand-in endpoint → the RBAC rule a call to it needs. */
const ENDPOINT_RULES: Record<Endpoint, readonly [string, string]> = {
  tokenreviews: ['authentication.k8s.io/tokenreviews', 'create'],
  subjectaccessreviews: ['authorization.k8s.io/subjectaccessreviews', 'create'],
  namespaces: ['/namespaces', 'list'],
  watch: ['/namespaces', 'watch'],
  discovery: ['/.well-known/openid-configuration', 'get'],
  jwks: ['/openid/v1/jwks', 'get'],
};

const MODES = [
  ['overlays/serviceaccount', 'serviceaccount'],
  ['overlays/project', 'project'],
  ['overlays/rbac', 'rbac'],
] as const;

for (const [overlay, tenancy] of MODES) {
  for (const jwks of [false, true]) {
    const variant = `${overlay}${jwks ? ' + components/jwks' : ''}`;
    test(`${variant}: the ClusterRole grants exactly what ${tenancy} mode${jwks ? ' with --jwks' : ''} calls`, async (t) => {
      // Run the mode against the API stand-in through every path it has: start-up (informer,
      // JWKS), a token review, and a scope resolution (cluster-wide check, rbac SARs).
      const kube = await startKubeStandin({
        namespaces: [
          { name: 'team-a', labels: { 'field.cattle.io/projectId': 'p-1' } },
          { name: 'team-a-prod', labels: { 'field.cattle.io/projectId': 'p-1' } },
          'other',
        ],
      });
      t.after(() => kube.stop());
      const backend = await createKubernetesBackend(
        { ...KUBERNETES_DEFAULTS, tenancy, jwks, kubeconfig: kube.kubeconfigPath },
        { metrics: createMetrics({ collectDefault: false }), logger: pino({ level: 'silent' }) },
      );
      t.after(() => backend.close());
      await waitFor(() => backend.ready(), `the ${tenancy} backend is ready`, 10_000);
      kube.grant({
        user: 'system:serviceaccount:team-a:grafana',
        namespace: 'team-a-prod',
        verbs: ['get'],
        resources: ['pods'],
      });
      const identity = await backend.authenticator.authenticate(
        await kube.issueToken('team-a/grafana'),
      );
      assert.ok(identity, 'the stand-in token authenticates');
      await backend.scopes.resolve(identity);

      const used: Rules = new Map();
      for (const [endpoint, [key, verb]] of Object.entries(ENDPOINT_RULES)) {
        if (kube.counters[endpoint as Endpoint] > 0) add(used, key, verb);
      }
      assert.equal(kube.counters.unauthorized, 0);
      const granted = rulesOf(
        clusterRole(renderWithComponents(overlay, jwks ? ['components/jwks'] : [])),
      );
      assert.deepEqual(plain(granted), plain(used), `calls seen: ${JSON.stringify(kube.counters)}`);
    });
  }
}
