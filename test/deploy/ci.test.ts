/**
 * The CI workflow and Dependabot configuration: CI runs the same entry point as the
 * workplace's CI (.ci/run → npm test) on every supported Node release, including the
 * Dockerfile's; lint, type check and the image build run; Dependabot watches npm, the
 * Dockerfile and the workflow's actions.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { at, isObj, objs, parseYamlDocuments, repoRoot, strs } from './support.js';

const read = (path: string) => {
  const [doc] = parseYamlDocuments(readFileSync(join(repoRoot, path), 'utf8'), path);
  assert.ok(doc, `${path} is empty`);
  return doc;
};

const runs = (job: unknown): string[] => objs(at(job, 'steps')).map((s) => String(s.run ?? ''));

test('ci.yml: .ci/run on every supported Node release, lint, type check, image build', () => {
  const ci = read('.github/workflows/ci.yml');
  const jobs = ci.jobs;
  assert.ok(isObj(jobs));
  const testJob = Object.values(jobs).find((j) => runs(j).some((r) => r.includes('bash .ci/run')));
  assert.ok(testJob, 'a job runs bash .ci/run');
  const versions = (at(testJob, 'strategy', 'matrix', 'node') as unknown[]).map(Number);
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    engines: { node: string };
  };
  const minMajor = Number(/>=\s*(\d+)/.exec(pkg.engines.node)?.[1]);
  assert.ok(versions.includes(minMajor), `the oldest supported Node (${minMajor}) is tested`);
  const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
  const imageMajor = Number(/^FROM node:(\d+)\./m.exec(dockerfile)?.[1]);
  assert.ok(versions.includes(imageMajor), `the image's Node ${imageMajor} is tested`);
  const all = Object.values(jobs).flatMap(runs).join('\n');
  assert.match(all, /npm run lint/);
  assert.match(all, /npm run typecheck/);
  assert.match(all, /docker build /);
  assert.doesNotMatch(all, /docker push/, 'CI builds the image, never pushes it');
  assert.deepEqual(strs(Object.keys(at(ci, 'permissions') ?? {})), ['contents']);
});

test('dependabot.yml: npm, docker and github-actions', () => {
  const d = read('.github/dependabot.yml');
  const ecosystems = objs(d.updates).map((u) => String(u['package-ecosystem']));
  assert.deepEqual(ecosystems.sort(), ['docker', 'github-actions', 'npm']);
});
