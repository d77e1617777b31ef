/**
 * Shared helpers of the deploy tests: the repository root, plain-object access, YAML
 * documents, and kubectl (for `kubectl kustomize`). Schema validation lives in schemas.ts,
 * metric names in metric-names.ts (both load large modules: import them only where needed).
 *
 * @example
 *   const docs = renderWithComponents('overlays/rbac', ['components/hpa']);
 *   docs.find((d) => d.kind === 'HorizontalPodAutoscaler');
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/** The repository root: the nearest ancestor of this file holding promgate's package.json. */
export const repoRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 10; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && /"name":\s*"promgate"/.test(readFileSync(pkg, 'utf8'))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`promgate's package.json not found above ${fileURLToPath(import.meta.url)}`);
})();

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `obj.a.b.c`, or undefined if any step is missing. */
export function at(obj: unknown, ...path: (string | number)[]): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (typeof key === 'number') {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[key];
    } else {
      if (!isObj(cur)) return undefined;
      cur = cur[key];
    }
  }
  return cur;
}

export function objs(v: unknown): Obj[] {
  return Array.isArray(v) ? v.filter(isObj) : [];
}

export function strs(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** `Kind namespace/name` for messages. */
export function describe(o: Obj): string {
  const ns = at(o, 'metadata', 'namespace');
  const name = String(at(o, 'metadata', 'name'));
  return `${String(o.kind)} ${typeof ns === 'string' ? `${ns}/` : ''}${name}`;
}

/** Every YAML document of `text` as a plain object; empty documents dropped; errors thrown. */
export function parseYamlDocuments(text: string, source: string): Obj[] {
  const out: Obj[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]?.message ?? ''}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (!isObj(value)) throw new Error(`${source}: a document is not a mapping`);
    out.push(value);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// kubectl

const INSTALL_HINT =
  'Install it with `bash scripts/install-kubectl.sh` (kubectl 1.32 from Debian trixie, into ' +
  '.cache/tools/bin, no system changes; scripts/install-testbed.sh runs it), or set KUBECTL to ' +
  'a kubectl >= 1.21.';

function kustomizeMajor(bin: string): number | null {
  const r = spawnSync(bin, ['version', '--client', '-o', 'json'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (r.status !== 0 || typeof r.stdout !== 'string') return null;
  const m = /"kustomizeVersion":\s*"v(\d+)\./.exec(r.stdout);
  return m?.[1] === undefined ? null : Number(m[1]);
}

let kubectlPath: string | undefined;

/**
 * A kubectl whose kustomize supports Components (>= 4): $KUBECTL, then
 * .cache/tools/bin/kubectl, then PATH. Throws with install instructions when there is none.
 */
export function kubectl(): string {
  if (kubectlPath !== undefined) return kubectlPath;
  const candidates = [
    process.env.KUBECTL,
    join(repoRoot, '.cache/tools/bin/kubectl'),
    'kubectl',
  ].filter((c): c is string => c !== undefined && c !== '');
  const tried: string[] = [];
  for (const c of candidates) {
    const major = kustomizeMajor(c);
    if (major !== null && major >= 4) {
      kubectlPath = c;
      return c;
    }
    tried.push(major === null ? `${c} (not found or not runnable)` : `${c} (kustomize v${major})`);
  }
  throw new Error(
    `kubectl with kustomize >= 4 is needed to render deploy/; tried ${tried.join(', ')}. ${INSTALL_HINT}`,
  );
}

/** `kubectl kustomize DIR`, parsed. Throws with kustomize's own error. */
export function renderKustomization(dir: string): Obj[] {
  const r = spawnSync(kubectl(), ['kustomize', dir], {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    throw new Error(`kubectl kustomize ${dir} failed: ${r.stderr || r.error?.message || ''}`);
  }
  return parseYamlDocuments(r.stdout, `kubectl kustomize ${dir}`);
}

/**
 * Renders the kustomization `dir` (relative to deploy/) plus `components` (relative to
 * deploy/) the way a user adds components: a kustomization of their own with `dir` as a
 * resource and `dir`'s namespace set (paths relative: kustomize refuses absolute ones).
 */
export function renderWithComponents(dir: string, components: readonly string[]): Obj[] {
  const deploy = join(repoRoot, 'deploy');
  if (components.length === 0) return renderKustomization(join(deploy, dir));
  const [k] = parseYamlDocuments(
    readFileSync(join(deploy, dir, 'kustomization.yaml'), 'utf8'),
    dir,
  );
  const namespace = k?.namespace;
  if (typeof namespace !== 'string') throw new Error(`deploy/${dir} sets no namespace`);
  const wrapper = mkdtempSync(join(tmpdir(), 'promgate-kustomize-'));
  try {
    const rel = (p: string): string => JSON.stringify(relative(wrapper, join(deploy, p)));
    writeFileSync(
      join(wrapper, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        `namespace: ${namespace}`,
        `resources: [${rel(dir)}]`,
        `components: [${components.map(rel).join(', ')}]`,
        '',
      ].join('\n'),
    );
    return renderKustomization(wrapper);
  } finally {
    rmSync(wrapper, { recursive: true, force: true });
  }
}

/** `--name=value` / `--name` → [name, value | undefined]; anything else → null. */
export function splitFlag(arg: string): [string, string | undefined] | null {
  const m = /^--([a-z0-9][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
  if (m?.[1] === undefined) return null;
  return [m[1], m[2]];
}
