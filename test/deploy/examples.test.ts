/**
 * deploy/examples: every Kubernetes manifest validates; the Grafana datasource sends the
 * token the way promgate reads it (REFERENCE §2) to the promgate Service; the federating
 * Prometheus configuration passes `promtool check config` (2.x and 3.x) and asks promgate for
 * selectors its engine accepts; the Rancher project matches the project overlay's label; the
 * cert-manager Certificate issues the Secret the tls component mounts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DEFAULT_POLICY, enforceSelector } from '../../src/promql/index.js';
import { prometheusBinaries } from '../support/index.js';
import {
  at,
  isObj,
  objs,
  type Obj,
  parseYamlDocuments,
  renderWithComponents,
  repoRoot,
  strs,
} from './support.js';
import { validateObject } from './schemas.js';

const examples = join(repoRoot, 'deploy/examples');
const load = (name: string): Obj[] =>
  parseYamlDocuments(readFileSync(join(examples, name), 'utf8'), name);
const work = mkdtempSync(join(tmpdir(), 'promgate-examples-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Host and port of the promgate Service in the serviceaccount overlay (`promgate.monitoring.svc:8080`). */
function promgateService(): { host: string; port: number } {
  const svc = renderWithComponents('overlays/serviceaccount', []).find(
    (d) => d.kind === 'Service' && at(d, 'metadata', 'name') === 'promgate',
  );
  assert.ok(svc);
  return {
    host: `promgate.${String(at(svc, 'metadata', 'namespace'))}.svc`,
    port: Number(at(svc, 'spec', 'ports', 0, 'port')),
  };
}

test('every example file parses, and every Kubernetes manifest validates', () => {
  const files = readdirSync(examples).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 5);
  for (const f of files) {
    for (const doc of load(f)) {
      const kubernetes = typeof doc.apiVersion === 'string' && typeof doc.kind === 'string';
      if (kubernetes && !String(doc.apiVersion).startsWith('cert-manager.io/')) validateObject(doc);
    }
  }
});

test('Grafana datasource: Authorization header with a Bearer token, POST, to the promgate Service', () => {
  const [doc] = load('grafana-datasource.yaml');
  assert.equal(doc?.apiVersion, 1, 'Grafana provisioning format');
  const sources = objs(doc?.datasources);
  assert.ok(sources.length > 0);
  const { host, port } = promgateService();
  for (const ds of sources) {
    assert.equal(ds.type, 'prometheus');
    assert.equal(ds.access, 'proxy', 'server access: the token stays in Grafana');
    assert.equal(new URL(String(ds.url)).host, `${host}:${port}`, 'the promgate Service');
    assert.equal(at(ds, 'jsonData', 'httpHeaderName1'), 'Authorization');
    assert.match(
      String(at(ds, 'secureJsonData', 'httpHeaderValue1')),
      /^Bearer \$\{?[A-Z_]+\}?$/,
      'Bearer <token from env>',
    );
    assert.equal(at(ds, 'jsonData', 'httpMethod'), 'POST');
  }
});

test('Grafana ServiceAccount: token Secret and RoleBinding refer to the ServiceAccount', () => {
  const docs = load('grafana-serviceaccount.yaml');
  const sa = docs.find((d) => d.kind === 'ServiceAccount');
  assert.ok(sa);
  const [name, namespace] = [at(sa, 'metadata', 'name'), at(sa, 'metadata', 'namespace')];
  const secret = docs.find((d) => d.kind === 'Secret');
  assert.equal(secret?.type, 'kubernetes.io/service-account-token');
  assert.equal(at(secret, 'metadata', 'annotations', 'kubernetes.io/service-account.name'), name);
  assert.equal(at(secret, 'metadata', 'namespace'), namespace);
  for (const rb of docs.filter((d) => d.kind === 'RoleBinding')) {
    assert.deepEqual(
      objs(at(rb, 'subjects')).map((s) => [s.kind, s.name, s.namespace]),
      [['ServiceAccount', name, namespace]],
    );
  }
});

test('federation and remote read: promtool check config passes, match[] selectors are accepted', () => {
  const [config] = load('prometheus-federation.yaml');
  assert.ok(config);
  const { host, port } = promgateService();
  const jobs = objs(config.scrape_configs);
  assert.ok(jobs.length > 0);
  for (const job of jobs) {
    assert.equal(job.metrics_path, '/federate');
    assert.equal(job.honor_labels, true, 'honor_labels keeps the original namespace label');
    assert.ok(at(job, 'authorization', 'credentials_file'), 'token from a file');
    const matches = strs(at(job, 'params', 'match[]'));
    assert.ok(matches.length > 0, 'promgate requires match[] on /federate');
    for (const m of matches)
      enforceSelector(m, { label: 'namespace', values: ['team-a'] }, DEFAULT_POLICY);
    const targets = objs(job.static_configs).flatMap((s) => strs(s.targets));
    assert.deepEqual(targets, [`${host}:${port}`]);
  }
  for (const rr of objs(config.remote_read)) {
    const url = new URL(String(rr.url));
    assert.equal(url.host, `${host}:${port}`);
    assert.equal(url.pathname, '/api/v1/read');
    assert.ok(at(rr, 'authorization', 'credentials_file'));
  }
  // promtool checks that credentials files exist: point them at a scratch file.
  const token = join(work, 'token');
  writeFileSync(token, 'x');
  const file = join(work, 'prometheus.yml');
  writeFileSync(
    file,
    readFileSync(join(examples, 'prometheus-federation.yaml'), 'utf8').replaceAll(
      '/var/run/secrets/tokens/promgate',
      token,
    ),
  );
  const bins = prometheusBinaries();
  for (const { promtool } of [bins.v2, bins.v3]) {
    const r = spawnSync(promtool, ['check', 'config', file], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `${promtool} check config:\n${r.stdout}\n${r.stderr}`);
  }
});

test("Rancher project: every namespace carries the project overlay's --project-label", () => {
  const docs = load('rancher-project.yaml');
  const overlay = renderWithComponents('overlays/project', []);
  const args = strs(
    at(
      overlay.find((d) => d.kind === 'Deployment'),
      'spec',
      'template',
      'spec',
      'containers',
      0,
      'args',
    ),
  );
  const key = args.find((a) => a.startsWith('--project-label='))?.split('=')[1];
  assert.ok(key, 'the project overlay names its label');
  const namespaces = docs.filter((d) => d.kind === 'Namespace');
  assert.ok(namespaces.length >= 2, 'a project of several namespaces');
  const projects = new Set(namespaces.map((n) => at(n, 'metadata', 'labels', key)));
  assert.equal(projects.size, 1, 'one project');
  const project = String([...projects][0]);
  for (const n of namespaces) {
    // Rancher's annotation of the same key is <cluster id>:<project id>.
    assert.match(
      String(at(n, 'metadata', 'annotations', key)),
      new RegExp(`^c-[\\w-]+:${project}$`),
    );
  }
  const sa = docs.find((d) => d.kind === 'ServiceAccount');
  assert.ok(
    namespaces.some((n) => at(n, 'metadata', 'name') === at(sa, 'metadata', 'namespace')),
    'the ServiceAccount lives in the project',
  );
});

test('cert-manager Certificate issues the Secret the tls component mounts, for the Service name', () => {
  const [cert] = load('certificate.yaml');
  assert.ok(cert && isObj(cert.spec));
  assert.equal(cert.apiVersion, 'cert-manager.io/v1');
  assert.equal(cert.kind, 'Certificate');
  const tls = renderWithComponents('overlays/serviceaccount', ['components/tls']);
  const volumes = objs(
    at(
      tls.find((d) => d.kind === 'Deployment'),
      'spec',
      'template',
      'spec',
      'volumes',
    ),
  );
  const secretNames = volumes.map((v) => String(at(v, 'secret', 'secretName')));
  assert.ok(secretNames.includes(String(at(cert, 'spec', 'secretName'))), 'the mounted Secret');
  const { host } = promgateService();
  assert.ok(strs(at(cert, 'spec', 'dnsNames')).includes(host), `dnsNames include ${host}`);
  assert.equal(at(cert, 'metadata', 'namespace'), host.split('.')[1]);
  assert.ok(at(cert, 'spec', 'issuerRef', 'name') && at(cert, 'spec', 'issuerRef', 'kind'));
});
