/**
 * Renders every overlay of deploy/ with `kubectl kustomize` — alone, with each optional
 * component, and with all of them — and checks each rendering: every object validates
 * against Kubernetes' schemas, and the objects fit together (namespaces, selectors, ports,
 * probes, bindings, the security context, promgate's flags, RBAC for --jwks only).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe as suite, test } from 'node:test';
import {
  at,
  describe,
  isObj,
  objs,
  type Obj,
  parseYamlDocuments,
  renderKustomization,
  renderWithComponents,
  repoRoot,
  splitFlag,
  strs,
} from './support.js';
import { CLUSTER_SCOPED, validateObject } from './schemas.js';
import { parseTokensFile } from '../../src/auth/static.js';
import { buildConfig, type Config, OPTION_LIST } from '../../src/config/index.js';
import * as values from '../../src/config/values.js';

const deploy = join(repoRoot, 'deploy');

interface Overlay {
  readonly path: string;
  readonly auth: 'kubernetes' | 'static';
  readonly tenancy?: 'serviceaccount' | 'project' | 'rbac';
  /** Components that make no sense with it. */
  readonly without?: readonly string[];
}

const OVERLAYS: readonly Overlay[] = [
  { path: 'overlays/serviceaccount', auth: 'kubernetes', tenancy: 'serviceaccount' },
  { path: 'overlays/project', auth: 'kubernetes', tenancy: 'project' },
  { path: 'overlays/rbac', auth: 'kubernetes', tenancy: 'rbac' },
  // --jwks pre-checks Kubernetes tokens: meaningless with static tokens.
  { path: 'examples/static-tokens', auth: 'static', without: ['components/jwks'] },
];

const COMPONENTS = [
  'components/hpa',
  'components/networkpolicy',
  'components/servicemonitor',
  'components/prometheusrule',
  'components/tls',
  'components/jwks',
  'dashboards',
];

/** What each component must add to a rendering. */
const COMPONENT_ADDS: Record<string, (docs: Obj[]) => void> = {
  'components/hpa': (docs) => one(docs, 'HorizontalPodAutoscaler'),
  'components/networkpolicy': (docs) => one(docs, 'NetworkPolicy'),
  'components/servicemonitor': (docs) => one(docs, 'ServiceMonitor'),
  'components/prometheusrule': (docs) => one(docs, 'PrometheusRule'),
  'components/tls': (docs) =>
    assert.ok(
      promgateArgs(docs).some((a) => a.startsWith('--tls-cert-file=')),
      'tls adds --tls-cert-file',
    ),
  'components/jwks': (docs) => assert.ok(promgateArgs(docs).includes('--jwks'), 'jwks adds --jwks'),
  dashboards: (docs) => one(docs, 'ConfigMap', 'promgate-dashboard'),
};

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
const dashboardJson = readFileSync(join(deploy, 'dashboards/promgate.json'), 'utf8');

function overlayNamespace(overlay: Overlay): string {
  const dir = join(deploy, overlay.path);
  const [k] = parseYamlDocuments(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'), dir);
  const ns = k?.namespace;
  assert.ok(typeof ns === 'string' && ns !== '', `${overlay.path} must set namespace:`);
  return ns;
}

const render = (overlay: Overlay, components: readonly string[]): Obj[] =>
  renderWithComponents(overlay.path, components);

function find(docs: Obj[], kind: string, name?: string): Obj[] {
  return docs.filter(
    (d) => d.kind === kind && (name === undefined || at(d, 'metadata', 'name') === name),
  );
}

function one(docs: Obj[], kind: string, name?: string): Obj {
  const found = find(docs, kind, name);
  assert.equal(
    found.length,
    1,
    `expected one ${kind}${name === undefined ? '' : ` ${name}`}, found ${found.length}`,
  );
  return found[0] as Obj;
}

function promgateContainer(docs: Obj[]): Obj {
  const containers = objs(
    at(one(docs, 'Deployment', 'promgate'), 'spec', 'template', 'spec', 'containers'),
  );
  const c = containers.find((x) => x.name === 'promgate');
  assert.ok(c, 'Deployment promgate has a container named promgate');
  return c;
}

function promgateArgs(docs: Obj[]): string[] {
  const c = promgateContainer(docs);
  assert.equal(c.command, undefined, 'the image ENTRYPOINT runs promgate: no command override');
  return strs(c.args);
}

function labelsMatch(selector: unknown, labels: unknown): boolean {
  if (!isObj(selector) || !isObj(labels) || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** The checks every rendering must pass. */
function checkRendering(overlay: Overlay, docs: Obj[]): void {
  const namespace = overlayNamespace(overlay);

  // Every object is valid and unique, in the overlay's namespace unless cluster-scoped.
  const seen = new Set<string>();
  for (const d of docs) {
    validateObject(d);
    const key = describe(d);
    assert.ok(!seen.has(key), `${key} rendered twice`);
    seen.add(key);
    const ns = at(d, 'metadata', 'namespace');
    if (CLUSTER_SCOPED.has(String(d.kind))) assert.equal(ns, undefined, `${key} is cluster-scoped`);
    else assert.equal(ns, namespace, `${key} must be in namespace ${namespace}`);
  }

  const deployment = one(docs, 'Deployment', 'promgate');
  const podSpec = at(deployment, 'spec', 'template', 'spec');
  const podLabels = at(deployment, 'spec', 'template', 'metadata', 'labels');
  assert.ok(
    labelsMatch(at(deployment, 'spec', 'selector', 'matchLabels'), podLabels),
    'Deployment selector',
  );
  const c = promgateContainer(docs);

  // Image: the release of this package.json.
  assert.match(
    String(c.image),
    new RegExp(`:${pkg.version.replaceAll('.', '\\.')}$`),
    'image tag = package.json version',
  );

  // Security context (pod and container).
  assert.equal(at(podSpec, 'securityContext', 'runAsNonRoot'), true);
  assert.equal(at(podSpec, 'securityContext', 'seccompProfile', 'type'), 'RuntimeDefault');
  const sc = c.securityContext;
  assert.equal(at(sc, 'runAsNonRoot'), true, 'runAsNonRoot');
  assert.equal(at(sc, 'readOnlyRootFilesystem'), true, 'readOnlyRootFilesystem');
  assert.equal(at(sc, 'allowPrivilegeEscalation'), false, 'allowPrivilegeEscalation');
  assert.notEqual(at(sc, 'privileged'), true, 'not privileged');
  assert.deepEqual(at(sc, 'capabilities', 'drop'), ['ALL'], 'drop ALL capabilities');
  assert.equal(at(sc, 'capabilities', 'add'), undefined, 'no capabilities added');
  assert.equal(at(sc, 'seccompProfile', 'type'), 'RuntimeDefault');
  assert.equal(at(podSpec, 'hostNetwork'), undefined, 'no host network');
  // Pods of a Deployment should not all land on one node.
  assert.ok(
    objs(
      at(podSpec, 'affinity', 'podAntiAffinity', 'preferredDuringSchedulingIgnoredDuringExecution'),
    ).some((t) => labelsMatch(at(t, 'podAffinityTerm', 'labelSelector', 'matchLabels'), podLabels)),
    'pod anti-affinity on its own pods',
  );

  // Resources, ports and probes.
  assert.ok(at(c, 'resources', 'requests', 'cpu') !== undefined, 'cpu request');
  assert.ok(at(c, 'resources', 'requests', 'memory') !== undefined, 'memory request');
  assert.ok(at(c, 'resources', 'limits', 'memory') !== undefined, 'memory limit');
  const ports = new Map(objs(c.ports).map((p) => [String(p.name), Number(p.containerPort)]));
  assert.equal(ports.get('tenant'), 8080, 'tenant port 8080');
  assert.equal(ports.get('metrics'), 8081, 'metrics port 8081');
  const portNumber = (p: unknown): number | undefined =>
    typeof p === 'number' ? p : ports.get(String(p));
  assert.equal(at(c, 'livenessProbe', 'httpGet', 'path'), '/healthz');
  assert.equal(
    portNumber(at(c, 'livenessProbe', 'httpGet', 'port')),
    8081,
    'liveness on the metrics port',
  );
  assert.equal(at(c, 'readinessProbe', 'httpGet', 'path'), '/readyz');
  assert.equal(
    portNumber(at(c, 'readinessProbe', 'httpGet', 'port')),
    8081,
    'readiness on the metrics port',
  );

  // Volumes: every mount has its volume; the root filesystem is read-only, so /tmp is a volume.
  const volumes = new Map(objs(at(podSpec, 'volumes')).map((v) => [String(v.name), v]));
  const mounts = objs(c.volumeMounts);
  for (const m of mounts)
    assert.ok(volumes.has(String(m.name)), `volume ${String(m.name)} is defined`);
  assert.ok(
    mounts.some((m) => m.mountPath === '/tmp'),
    '/tmp is a writable volume',
  );
  const mountedFrom = (file: string): Obj | undefined => {
    const m = mounts.find((x) => file.startsWith(`${String(x.mountPath)}/`));
    return m === undefined ? undefined : volumes.get(String(m.name));
  };

  // promgate's flags: the container's args go through promgate's own configuration parser
  // (src/config), with every file they name present as the pod's mounts provide it.
  const args = promgateArgs(docs);
  for (const a of args)
    assert.ok(splitFlag(a), `container arg ${JSON.stringify(a)}: use --flag or --flag=value`);
  const secretFile = (file: string): string | undefined => {
    const secret = at(mountedFrom(file), 'secret', 'secretName');
    if (typeof secret !== 'string') return undefined;
    const key = file.split('/').pop() ?? '';
    // Secrets made outside the rendering (promgate-tls from cert-manager) get a placeholder.
    const s = find(docs, 'Secret', secret)[0];
    if (s === undefined) return undefined;
    const plainText = at(s, 'stringData', key);
    const encoded = at(s, 'data', key);
    if (typeof plainText === 'string') return plainText;
    return typeof encoded === 'string' ? Buffer.from(encoded, 'base64').toString('utf8') : '';
  };
  const podFiles = mkdtempSync(join(tmpdir(), 'promgate-podfs-'));
  let config: Config;
  try {
    const argv = args.map((a) => {
      const [name, value] = splitFlag(a) ?? [];
      const option = OPTION_LIST.find((o) => o.name === name);
      if (option?.type !== values.file || value === undefined) return a;
      assert.ok(mountedFrom(value), `--${String(name)}=${value} lies on a mounted volume`);
      const local = join(podFiles, value);
      mkdirSync(dirname(local), { recursive: true });
      writeFileSync(local, secretFile(value) ?? 'placeholder');
      return `--${String(name)}=${local}`;
    });
    try {
      config = buildConfig(argv, {});
    } catch (err) {
      throw new Error(
        `promgate refuses the container args ${JSON.stringify(args)}: ${(err as Error).message}`,
      );
    }
    if (config.auth.mode === 'static') {
      // The tokens file in the Secret is one promgate accepts.
      const tokens = parseTokensFile(
        readFileSync(config.auth.tokensFile, 'utf8'),
        config.auth.tokensFile,
      );
      assert.ok(tokens.length > 0, 'the tokens file lists tokens');
    }
  } finally {
    rmSync(podFiles, { recursive: true, force: true });
  }
  assert.deepEqual(config.warnings, [], 'no option without effect');
  assert.match(
    config.upstream.url.href,
    /^https?:\/\/[^/]+\.svc:\d+\/$/,
    '--upstream is an in-cluster Service',
  );
  assert.equal(config.auth.mode, overlay.auth);
  if (config.auth.mode === 'kubernetes')
    assert.equal(config.auth.kubernetes.tenancy, overlay.tenancy);
  assert.equal(config.listen.port, 8080, 'tenant listener on 8080');
  assert.equal(config.metricsListen.port, 8081, 'metrics listener on 8081');
  const flagged = (name: string): boolean => args.some((a) => splitFlag(a)?.[0] === name);
  assert.equal(config.server.tls !== null, flagged('tls-cert-file'));
  // Kubernetes waits terminationGracePeriodSeconds after SIGTERM: longer than promgate's own
  // drain (shutdown delay, then in-flight requests up to the shutdown timeout).
  const grace = Number(at(podSpec, 'terminationGracePeriodSeconds'));
  const drain = (config.server.shutdownDelayMs + config.server.shutdownTimeoutMs) / 1000;
  assert.ok(
    grace >= drain + 5,
    `terminationGracePeriodSeconds ${grace} leaves room for the ${drain} s drain`,
  );
  assert.ok(
    config.server.shutdownDelayMs > 0,
    '--shutdown-delay lets endpoints drop the pod before the listener closes',
  );

  // Services: `promgate` for tenants, `promgate-metrics` for operators; both reach the pods.
  const tenantSvc = one(docs, 'Service', 'promgate');
  const metricsSvc = one(docs, 'Service', 'promgate-metrics');
  for (const [svc, port] of [
    [tenantSvc, 8080],
    [metricsSvc, 8081],
  ] as const) {
    assert.ok(
      labelsMatch(at(svc, 'spec', 'selector'), podLabels),
      `${describe(svc)} selects the pods`,
    );
    const svcPorts = objs(at(svc, 'spec', 'ports'));
    assert.equal(svcPorts.length, 1, `${describe(svc)} has one port`);
    assert.equal(
      portNumber(at(svcPorts[0], 'targetPort')),
      port,
      `${describe(svc)} targets ${port}`,
    );
  }
  const tls = config.server.tls !== null;
  assert.deepEqual(
    [at(tenantSvc, 'spec', 'ports', 0, 'name'), at(tenantSvc, 'spec', 'ports', 0, 'port')],
    tls ? ['https', 8443] : ['http', 8080],
    'tenant Service port',
  );

  // ServiceAccount and RBAC.
  const saName = at(podSpec, 'serviceAccountName');
  assert.equal(saName, 'promgate');
  one(docs, 'ServiceAccount', 'promgate');
  const clusterRoles = find(docs, 'ClusterRole');
  for (const b of [...find(docs, 'ClusterRoleBinding'), ...find(docs, 'RoleBinding')]) {
    const ref = at(b, 'roleRef', 'name');
    assert.ok(
      clusterRoles.some((r) => at(r, 'metadata', 'name') === ref),
      `${describe(b)} refers to a rendered role`,
    );
    for (const s of objs(at(b, 'subjects'))) {
      assert.equal(s.kind, 'ServiceAccount', `${describe(b)} binds a ServiceAccount`);
      assert.ok(
        docs.some(
          (d) =>
            d.kind === 'ServiceAccount' &&
            at(d, 'metadata', 'name') === s.name &&
            at(d, 'metadata', 'namespace') === s.namespace,
        ),
        `${describe(b)} subject ${String(s.namespace)}/${String(s.name)} is the rendered ServiceAccount`,
      );
    }
  }
  const automount = at(podSpec, 'automountServiceAccountToken');
  if (overlay.auth === 'kubernetes') {
    assert.equal(automount, true, 'kubernetes auth needs the ServiceAccount token');
    const role = one(docs, 'ClusterRole', 'promgate');
    one(docs, 'ClusterRoleBinding', 'promgate');
    const nonResource = objs(role.rules).filter((r) => r.nonResourceURLs !== undefined);
    if (flagged('jwks')) {
      assert.deepEqual(
        nonResource.map((r) => [strs(r.nonResourceURLs).sort(), strs(r.verbs)]),
        [[['/.well-known/openid-configuration', '/openid/v1/jwks'], ['get']]],
        'with --jwks: get on the two OIDC discovery URLs',
      );
    } else {
      assert.deepEqual(nonResource, [], 'nonResourceURLs only with --jwks');
    }
  } else {
    assert.equal(automount, false, 'static tokens: no Kubernetes API token in the pod');
    assert.equal(clusterRoles.length, 0, 'static tokens need no ClusterRole');
    assert.equal(
      find(docs, 'ClusterRoleBinding').length,
      0,
      'static tokens need no ClusterRoleBinding',
    );
  }

  // PodDisruptionBudget and autoscaling keep at least one pod serving.
  const pdb = one(docs, 'PodDisruptionBudget', 'promgate');
  assert.ok(
    labelsMatch(at(pdb, 'spec', 'selector', 'matchLabels'), podLabels),
    'PDB selects the pods',
  );
  assert.equal(at(pdb, 'spec', 'maxUnavailable'), 1);
  const hpas = find(docs, 'HorizontalPodAutoscaler');
  if (hpas.length > 0) {
    const hpa = hpas[0] as Obj;
    assert.equal(at(hpa, 'spec', 'scaleTargetRef', 'name'), 'promgate');
    assert.equal(at(hpa, 'spec', 'scaleTargetRef', 'kind'), 'Deployment');
    assert.ok(Number(at(hpa, 'spec', 'minReplicas')) >= 2, 'HPA keeps two replicas for the PDB');
    assert.equal(
      at(deployment, 'spec', 'replicas'),
      undefined,
      'with an HPA the Deployment sets no replicas',
    );
  } else {
    assert.ok(Number(at(deployment, 'spec', 'replicas')) >= 2, 'two replicas at least');
  }

  for (const np of find(docs, 'NetworkPolicy')) {
    assert.ok(
      labelsMatch(at(np, 'spec', 'podSelector', 'matchLabels'), podLabels),
      'NetworkPolicy selects the pods',
    );
    const ingressPorts = objs(at(np, 'spec', 'ingress')).flatMap((r) =>
      objs(r.ports).map((p) => portNumber(p.port)),
    );
    assert.deepEqual(
      ingressPorts.sort(),
      [8080, 8081],
      'NetworkPolicy admits the tenant and metrics ports',
    );
  }
  for (const sm of find(docs, 'ServiceMonitor')) {
    assert.ok(
      labelsMatch(at(sm, 'spec', 'selector', 'matchLabels'), at(metricsSvc, 'metadata', 'labels')),
      'ServiceMonitor selects promgate-metrics',
    );
    assert.ok(
      !labelsMatch(at(sm, 'spec', 'selector', 'matchLabels'), at(tenantSvc, 'metadata', 'labels')),
      'ServiceMonitor does not select the tenant Service',
    );
    assert.deepEqual(
      objs(at(sm, 'spec', 'endpoints')).map((e) => [e.port, e.path]),
      [['metrics', '/metrics']],
    );
  }
  for (const cm of find(docs, 'ConfigMap', 'promgate-dashboard')) {
    assert.equal(at(cm, 'metadata', 'labels', 'grafana_dashboard'), '1');
    assert.equal(
      at(cm, 'data', 'promgate.json'),
      dashboardJson,
      'the ConfigMap holds deploy/dashboards/promgate.json',
    );
  }
}

for (const overlay of OVERLAYS) {
  suite(`deploy/${overlay.path}`, () => {
    const components = COMPONENTS.filter((c) => !(overlay.without ?? []).includes(c));
    test('renders alone and validates', () => {
      const docs = render(overlay, []);
      checkRendering(overlay, docs);
      for (const kind of [
        'HorizontalPodAutoscaler',
        'NetworkPolicy',
        'ServiceMonitor',
        'PrometheusRule',
        'ConfigMap',
      ]) {
        assert.equal(find(docs, kind).length, 0, `${kind} only from a component`);
      }
      assert.ok(!promgateArgs(docs).includes('--jwks'));
    });
    for (const component of components) {
      test(`renders with ${component} and validates`, () => {
        const docs = render(overlay, [component]);
        checkRendering(overlay, docs);
        COMPONENT_ADDS[component]?.(docs);
      });
    }
    test('renders with all components and validates', () => {
      const docs = render(overlay, components);
      checkRendering(overlay, docs);
      for (const c of components) COMPONENT_ADDS[c]?.(docs);
    });
  });
}

test('every component and overlay directory is covered by this test', () => {
  const listed = (dir: string): string[] =>
    readdirSync(join(deploy, dir)).map((d) => `${dir}/${d}`);
  assert.deepEqual(
    listed('components').sort(),
    COMPONENTS.filter((c) => c.startsWith('components/')).sort(),
  );
  assert.deepEqual(
    listed('overlays').sort(),
    OVERLAYS.map((o) => o.path)
      .filter((p) => p.startsWith('overlays/'))
      .sort(),
  );
  for (const c of COMPONENTS) {
    const [k] = parseYamlDocuments(readFileSync(join(deploy, c, 'kustomization.yaml'), 'utf8'), c);
    assert.equal(k?.kind, 'Component', `${c} is a kustomize Component`);
  }
});

test('the base is namespace-agnostic', () => {
  const [k] = parseYamlDocuments(
    readFileSync(join(deploy, 'base/kustomization.yaml'), 'utf8'),
    'base',
  );
  assert.equal(k?.namespace, undefined, 'base sets no namespace');
  for (const d of renderKustomization(join(deploy, 'base'))) {
    if (d.kind === 'ClusterRoleBinding') continue; // subjects carry a placeholder the overlays rewrite
    assert.equal(
      at(d, 'metadata', 'namespace'),
      undefined,
      `${describe(d)} has no namespace in the base`,
    );
  }
});
