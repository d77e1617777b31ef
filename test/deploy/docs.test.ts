/**
 * docs/operations.md keeps up with the code and the manifests: every promgate metric family,
 * every alert, every overlay and component is documented, and its relative links resolve.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { createMetrics } from '../../src/metrics.js';
import { at, objs, parseYamlDocuments, repoRoot } from './support.js';

const docPath = join(repoRoot, 'docs/operations.md');
const doc = readFileSync(docPath, 'utf8');

test('every promgate metric family is documented', async () => {
  const metrics = createMetrics({ collectDefault: false });
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    assert.ok(doc.includes(`\`${m.name}\``), `docs/operations.md does not document ${m.name}`);
  }
});

test('every alert is documented', () => {
  const file = join(repoRoot, 'deploy/components/prometheusrule/prometheusrule.yaml');
  const [rule] = parseYamlDocuments(readFileSync(file, 'utf8'), file);
  const alerts = objs(at(rule, 'spec', 'groups'))
    .flatMap((g) => objs(g.rules))
    .map((r) => r.alert);
  assert.ok(alerts.length > 0);
  for (const a of alerts)
    assert.ok(
      doc.includes(`\`${String(a)}\``),
      `docs/operations.md does not document ${String(a)}`,
    );
});

test('every overlay and component is documented', () => {
  const dirs = [
    ...readdirSync(join(repoRoot, 'deploy/overlays')).map((d) => `deploy/overlays/${d}`),
    ...readdirSync(join(repoRoot, 'deploy/components')).map((d) => `deploy/components/${d}`),
    'deploy/dashboards',
    'deploy/examples/static-tokens',
  ];
  for (const d of dirs)
    assert.ok(doc.includes(`\`${d}\``), `docs/operations.md does not mention ${d}`);
});

test('relative links resolve', () => {
  const links = [...doc.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1] ?? '');
  const local = links.filter((l) => !/^[a-z]+:/.test(l));
  assert.ok(local.length > 0);
  for (const l of local) {
    assert.ok(existsSync(join(dirname(docPath), l)), `docs/operations.md links to missing ${l}`);
  }
  const anchors = [...doc.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1] ?? '');
  const headings = new Set(
    [...doc.matchAll(/^#+ (.+)$/gm)].map((m) =>
      (m[1] ?? '')
        .toLowerCase()
        .replace(/[^\w\s-]/g, '')
        .trim()
        .replace(/\s/g, '-'),
    ),
  );
  for (const a of anchors) assert.ok(headings.has(a), `docs/operations.md links to missing #${a}`);
});
