/**
 * Runs promgate the way each overlay's Deployment does — the image's ENTRYPOINT
 * (`node dist/main.js`) with the container's args — and plays kubelet: the manifest's
 * liveness and readiness probes answer 200, the tenant port answers (401 without a token),
 * and after SIGTERM readiness fails while the tenant port keeps serving (--shutdown-delay).
 * Substituted, because there is no cluster: the upstream is a stub Prometheus API, the
 * listeners move to free loopback ports, files come from the pod's Secret mounts, and in the
 * kubernetes modes the API server is the stand-in (an added --kubeconfig).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { startKubeStandin, type KubeStandin } from '../k8s/standin.js';
import { freePort, startProcess, waitFor } from '../support/index.js';
import { at, objs, type Obj, renderWithComponents, repoRoot, splitFlag, strs } from './support.js';

const main = join(repoRoot, 'dist/main.js');
let upstream: Server;
let upstreamUrl: string;
let kube: KubeStandin;
const work = mkdtempSync(join(tmpdir(), 'promgate-pod-'));

before(async () => {
  upstream = createServer((req, res) => {
    if (req.url?.startsWith('/api/v1/status/buildinfo')) {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          status: 'success',
          data: {
            version: '2.42.0',
            revision: '',
            branch: '',
            buildUser: '',
            buildDate: '',
            goVersion: '',
          },
        }),
      );
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const addr = upstream.address();
  assert.ok(addr !== null && typeof addr === 'object');
  upstreamUrl = `http://127.0.0.1:${addr.port}`;
  kube = await startKubeStandin({
    namespaces: [{ name: 'team-a', labels: { 'field.cattle.io/projectId': 'p-1' } }, 'team-b'],
  });
});

after(async () => {
  await kube?.stop();
  await new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve()));
  rmSync(work, { recursive: true, force: true });
});

async function status(url: string): Promise<number> {
  const r = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  await r.arrayBuffer();
  return r.status;
}

/** The container's args, with the substitutions described above. */
async function localArgs(
  docs: Obj[],
  dir: string,
): Promise<{ args: string[]; tenant: number; metrics: number }> {
  const deployment = docs.find((d) => d.kind === 'Deployment');
  const spec = at(deployment, 'spec', 'template', 'spec');
  const container = objs(at(spec, 'containers'))[0];
  const mounts = objs(container?.volumeMounts);
  const volumes = objs(at(spec, 'volumes'));
  const [tenant, metrics] = [await freePort(), await freePort()];
  const args = strs(container?.args).map((a) => {
    const [name, value = ''] = splitFlag(a) ?? [a];
    if (name === 'upstream') return `--upstream=${upstreamUrl}`;
    if (name === 'listen') return `--listen=127.0.0.1:${tenant}`;
    if (name === 'metrics-listen') return `--metrics-listen=127.0.0.1:${metrics}`;
    const mount = mounts.find((m) => value.startsWith(`${String(m.mountPath)}/`));
    if (mount === undefined) return a;
    // A file on a Secret volume: write the Secret's key where the pod would see it.
    const secretName = at(
      volumes.find((v) => v.name === mount.name),
      'secret',
      'secretName',
    );
    const secret = docs.find(
      (d) => d.kind === 'Secret' && at(d, 'metadata', 'name') === secretName,
    );
    const content = at(secret, 'stringData', value.split('/').pop() ?? '');
    assert.equal(typeof content, 'string', `${value} comes from Secret ${String(secretName)}`);
    const local = join(dir, value);
    mkdirSync(dirname(local), { recursive: true });
    writeFileSync(local, String(content));
    return `--${name}=${local}`;
  });
  if (args.includes('--auth=kubernetes')) args.push(`--kubeconfig=${kube.kubeconfigPath}`);
  return { args, tenant, metrics };
}

for (const overlay of [
  'overlays/serviceaccount',
  'overlays/project',
  'overlays/rbac',
  'examples/static-tokens',
]) {
  test(`${overlay}: the container starts, its probes pass, SIGTERM fails readiness first`, async (t) => {
    assert.ok(existsSync(main), `${main} is missing: run \`npm run build\` (npm test does)`);
    const docs = renderWithComponents(overlay, []);
    const container = objs(
      at(
        docs.find((d) => d.kind === 'Deployment'),
        'spec',
        'template',
        'spec',
        'containers',
      ),
    )[0];
    const liveness = String(at(container, 'livenessProbe', 'httpGet', 'path'));
    const readiness = String(at(container, 'readinessProbe', 'httpGet', 'path'));
    const dir = mkdtempSync(join(work, 'pod-'));
    const { args, tenant, metrics } = await localArgs(docs, dir);
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('PROMGATE_')),
    );
    const proc = await startProcess({
      name: `promgate (${overlay})`,
      command: process.execPath,
      args: [main, ...args],
      cwd: dir,
      env,
    });
    t.after(() => proc.stop(1_000));
    const probe = `http://127.0.0.1:${metrics}`;
    await waitFor(
      `${overlay}: liveness ${liveness} answers 200`,
      async () => (await status(probe + liveness)) === 200,
      { timeoutMs: 20_000 },
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\npromgate output:\n${proc.output()}`);
    });
    await waitFor(
      `${overlay}: readiness ${readiness} answers 200`,
      async () => (await status(probe + readiness)) === 200,
      { timeoutMs: 20_000 },
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\npromgate output:\n${proc.output()}`);
    });
    const tenantUrl = `http://127.0.0.1:${tenant}/api/v1/query?query=up`;
    assert.equal(await status(tenantUrl), 401, 'the tenant port asks for a token');

    process.kill(proc.pid, 'SIGTERM');
    await waitFor(
      `${overlay}: readiness fails after SIGTERM`,
      async () => (await status(probe + readiness)) !== 200,
      { timeoutMs: 3_000 },
    );
    assert.equal(
      await status(tenantUrl),
      401,
      'the tenant port still serves during --shutdown-delay',
    );
    assert.equal(proc.exited, false, 'promgate keeps running during --shutdown-delay');
  });
}
