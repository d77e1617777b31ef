/**
 * Offline checks of the Dockerfile (no Docker engine runs here): the base images are pinned
 * Node LTS releases, the build is multi-stage and reproducible (npm ci from the lockfile, dev
 * dependencies pruned), every COPY source exists in the repository and passes .dockerignore
 * or is produced by its build stage, the runtime stage downloads nothing, runs as a numeric
 * non-root user, and its ENTRYPOINT is the file `npm run build` produces.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { builtinModules } from 'node:module';
import { test } from 'node:test';
import { repoRoot } from './support.js';

interface Instruction {
  readonly line: number;
  readonly op: string;
  readonly args: string;
}

interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

/** Instructions of a Dockerfile: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let line = lines[i] ?? '';
    if (/^\s*(#|$)/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      i++;
      const next = lines[i] ?? '';
      if (/^\s*#/.test(next)) continue;
      line = `${line.replace(/\\\s*$/, '')} ${next.trim()}`;
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    assert.ok(
      m?.[1] !== undefined && m[2] !== undefined,
      `Dockerfile:${start}: cannot parse ${line}`,
    );
    out.push({ line: start, op: m[1].toUpperCase(), args: m[2].trim() });
  }
  return out;
}

function stagesOf(instructions: Instruction[]): Stage[] {
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.op === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      assert.ok(m?.[1] !== undefined, `Dockerfile:${ins.line}: FROM ${ins.args}`);
      stages.push({ image: m[1], name: m[2], instructions: [] });
    } else {
      assert.ok(
        stages.length > 0 || ins.op === 'ARG',
        `Dockerfile:${ins.line}: ${ins.op} before FROM`,
      );
      stages[stages.length - 1]?.instructions.push(ins);
    }
  }
  return stages;
}

/** .dockerignore semantics: last matching pattern wins; a pattern also covers what lies below. */
function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = posix
        .normalize((negate ? l.slice(1) : l).replace(/^\/+/, ''))
        .replace(/\/+$/, '');
      const re = pattern
        .split(/(\*\*|\*|\?)/)
        .map((part) =>
          part === '**'
            ? '.*'
            : part === '*'
              ? '[^/]*'
              : part === '?'
                ? '[^/]'
                : part.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
        )
        .join('');
      return { negate, re: new RegExp(`^${re}$`) };
    });
  return (path: string): boolean => {
    const parts = posix.normalize(path).split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const r of rules) if (prefixes.some((p) => r.re.test(p))) excluded = !r.negate;
    return excluded;
  };
}

/** Splits an exec-form JSON array or a shell-form argument string. */
function words(args: string): string[] {
  if (args.startsWith('[')) return JSON.parse(args) as string[];
  return args.split(/\s+/).filter((w) => w !== '');
}

/** The commands a shell-form RUN runs (first word of each `&&`, `||`, `;`, `|` part). */
function commandsOf(run: string): string[] {
  return run
    .split(/&&|\|\||;|\|/)
    .map((part) => part.trim().split(/\s+/)[0] ?? '')
    .filter((c) => c !== '');
}

const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const instructions = parseDockerfile(dockerfile);
const stages = stagesOf(instructions);
const runtime = stages[stages.length - 1];
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  type?: string;
  bin?: Record<string, string>;
  engines?: { node?: string };
  scripts?: Record<string, string>;
};
const pkgDeps = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
};
const tsconfigBuild = JSON.parse(readFileSync(join(repoRoot, 'tsconfig.build.json'), 'utf8')) as {
  compilerOptions?: { rootDir?: string; outDir?: string };
};

test('multi-stage build on pinned Node LTS images', () => {
  assert.ok(stages.length >= 2, 'a build stage and a runtime stage');
  for (const s of stages) {
    const m =
      /^(?:docker\.io\/(?:library\/)?)?node:(\d+)\.(\d+)\.(\d+)-([a-z]+)-slim(@sha256:[0-9a-f]{64})?$/.exec(
        s.image,
      );
    assert.ok(
      m,
      `FROM ${s.image}: pin the official node image to an exact release, e.g. node:22.23.3-bookworm-slim`,
    );
    const major = Number(m[1]);
    assert.ok(major % 2 === 0 && major >= 22, `FROM ${s.image}: a current LTS (even major >= 22)`);
    const engines = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(pkg.engines?.node ?? '');
    assert.ok(engines, `package.json engines.node (${pkg.engines?.node}) is a >= range`);
    assert.ok(
      major >= Number(engines[1]),
      `${s.image} satisfies engines.node ${pkg.engines?.node}`,
    );
  }
  assert.equal(
    new Set(stages.map((s) => s.image)).size,
    1,
    'build and runtime stages use the same Node release',
  );
});

test('the build stage installs from the lockfile, builds and prunes dev dependencies', () => {
  const build = stages.find((s) => s.name !== undefined && s !== runtime);
  assert.ok(build, 'a named build stage');
  const runs = build.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
  const all = runs.join(' && ');
  assert.match(all, /\bnpm ci\b/, 'npm ci (from package-lock.json)');
  assert.doesNotMatch(
    all,
    /\bnpm (install|i)\b/,
    'npm install would not honour the lockfile exactly',
  );
  assert.match(all, /\bnpm run build\b/);
  assert.ok(pkg.scripts?.build, 'package.json has a build script');
  assert.match(
    all,
    /\bnpm prune --omit=dev\b|\bnpm ci\b[^&]*--omit=dev/,
    'dev dependencies removed',
  );
  const lockCopy = build.instructions.findIndex(
    (i) => i.op === 'COPY' && words(i.args).includes('package-lock.json'),
  );
  const ci = build.instructions.findIndex((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args));
  assert.ok(lockCopy >= 0 && lockCopy < ci, 'package-lock.json is copied before npm ci');
});

test('every COPY source exists and passes .dockerignore, or comes from its build stage', () => {
  const ignored = dockerignore(readFileSync(join(repoRoot, '.dockerignore'), 'utf8'));
  const provided = new Map<string, string[]>();
  for (const s of stages) {
    let workdir = '/';
    const here: string[] = [];
    const abs = (p: string): string => posix.resolve(workdir, p);
    for (const ins of s.instructions) {
      if (ins.op === 'WORKDIR') {
        workdir = abs(ins.args);
      } else if (ins.op === 'COPY') {
        const w = words(ins.args);
        const from = w.find((x) => x.startsWith('--from='))?.slice('--from='.length);
        const paths = w.filter((x) => !x.startsWith('--'));
        const dest = paths.pop();
        assert.ok(
          dest !== undefined && paths.length > 0,
          `Dockerfile:${ins.line}: COPY needs a source and a destination`,
        );
        for (const src of paths) {
          if (from === undefined) {
            const local = join(repoRoot, src);
            assert.ok(
              existsSync(local),
              `Dockerfile:${ins.line}: COPY ${src}: no such file in the repository`,
            );
            assert.ok(
              !ignored(src.replace(/^\.\//, '')),
              `Dockerfile:${ins.line}: COPY ${src} is excluded by .dockerignore`,
            );
            if (statSync(local).isDirectory()) {
              for (const f of walk(local)) {
                const rel = relative(repoRoot, f);
                assert.ok(!ignored(rel), `.dockerignore excludes ${rel}, which COPY ${src} needs`);
              }
            }
          } else {
            const fromStage = provided.get(from);
            assert.ok(
              fromStage,
              `Dockerfile:${ins.line}: COPY --from=${from}: no earlier stage of that name`,
            );
            const p = posix.normalize(src);
            assert.ok(
              fromStage.some((q) => p === q || p.startsWith(`${q}/`)),
              `Dockerfile:${ins.line}: ${src} is not produced in stage ${from} (it has ${fromStage.join(', ')})`,
            );
          }
          here.push(dest.endsWith('/') ? abs(posix.join(dest, posix.basename(src))) : abs(dest));
        }
      } else if (ins.op === 'RUN') {
        if (/\bnpm ci\b/.test(ins.args)) here.push(abs('node_modules'));
        if (/\bnpm run build\b/.test(ins.args))
          here.push(abs(tsconfigBuild.compilerOptions?.outDir ?? 'dist'));
      }
    }
    if (s.name !== undefined) provided.set(s.name, here);
    provided.set(String(stages.indexOf(s)), here);
  }
  // The context stays small and secret-free: nothing local reaches the build.
  for (const p of ['node_modules', 'dist', '.build', '.cache', '.git', 'test', 'deploy', '.env']) {
    assert.ok(ignored(p), `.dockerignore excludes ${p}`);
  }
});

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

test('the ENTRYPOINT runs the file `npm run build` produces, the promgate bin', () => {
  assert.ok(runtime);
  const entry = runtime.instructions.filter((i) => i.op === 'ENTRYPOINT');
  assert.equal(entry.length, 1, 'one ENTRYPOINT in the runtime stage');
  const argv = words(entry[0]?.args ?? '');
  assert.ok(entry[0]?.args.startsWith('['), 'exec form, so that node is PID 1 and gets SIGTERM');
  assert.equal(argv[0], 'node');
  const script = argv[1] ?? '';
  const workdirs = runtime.instructions.filter((i) => i.op === 'WORKDIR').map((i) => i.args);
  const appDir = workdirs[workdirs.length - 1] ?? '/';
  const inApp = posix.relative(appDir, script);
  assert.equal(inApp, pkg.bin?.promgate, `ENTRYPOINT ${script} is package.json's promgate bin`);
  // dist/main.js comes from src/main.ts through tsconfig.build.json (rootDir → outDir).
  const { rootDir = 'src', outDir = 'dist' } = tsconfigBuild.compilerOptions ?? {};
  assert.ok(inApp.startsWith(`${outDir}/`), `${inApp} lies in the build's outDir ${outDir}`);
  const source = join(rootDir, posix.relative(outDir, inApp)).replace(/\.js$/, '.ts');
  assert.ok(
    existsSync(join(repoRoot, source)),
    `${source} exists, so npm run build emits ${inApp}`,
  );
  // ESM: dist/*.js are modules only because package.json says "type": "module".
  if (pkg.type === 'module') {
    const copies = runtime.instructions.filter((i) => i.op === 'COPY').map((i) => words(i.args));
    assert.ok(
      copies.some((w) => w.some((x) => x.endsWith('package.json'))),
      'the runtime stage has package.json ("type": "module")',
    );
  }
  // Everything under src/ that tsc does not emit would be missing from the image.
  const extra = walk(join(repoRoot, rootDir)).filter((f) => !/\.(ts|json)$/.test(f));
  assert.deepEqual(
    extra.map((f) => relative(repoRoot, f)),
    [],
    'non-TypeScript files under src/ are not in dist/',
  );
});

test('the runtime stage downloads nothing and runs as a numeric non-root user', () => {
  assert.ok(runtime);
  for (const ins of runtime.instructions.filter((i) => i.op === 'RUN')) {
    for (const cmd of commandsOf(ins.args)) {
      assert.ok(
        ['rm', 'ln', 'mkdir', 'chmod', 'chown', 'true'].includes(cmd),
        `Dockerfile:${ins.line}: the runtime stage runs ${cmd}`,
      );
    }
  }
  assert.ok(!runtime.instructions.some((i) => i.op === 'ADD'), 'no ADD (it can fetch URLs)');
  const users = runtime.instructions.filter((i) => i.op === 'USER');
  const user = users[users.length - 1]?.args ?? '';
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  assert.ok(m, `USER ${user}: numeric, so that Kubernetes' runAsNonRoot can verify it`);
  assert.notEqual(Number(m[1]), 0, 'USER is not root');
  const last = runtime.instructions.findLastIndex((i) => i.op === 'USER');
  assert.ok(
    runtime.instructions.slice(last).every((i) => i.op !== 'RUN'),
    'nothing runs as root after USER',
  );
  const env = runtime.instructions.filter((i) => i.op === 'ENV').map((i) => i.args);
  assert.ok(
    env.some((e) => /NODE_ENV=production/.test(e)),
    'NODE_ENV=production',
  );
  assert.ok(
    !runtime.instructions.some((i) => i.op === 'VOLUME'),
    'no VOLUME: the root filesystem may be read-only',
  );
});

test('EXPOSE the tenant and metrics ports', () => {
  const exposed = (runtime?.instructions ?? [])
    .filter((i) => i.op === 'EXPOSE')
    .flatMap((i) => words(i.args))
    .map((p) => p.replace(/\/tcp$/, ''));
  assert.deepEqual(exposed.sort(), ['8080', '8081']);
});

test('the runtime code imports only production dependencies (the image prunes dev ones)', () => {
  const deps = new Set(Object.keys(pkgDeps.dependencies ?? {}));
  const rootDir = tsconfigBuild.compilerOptions?.rootDir ?? 'src';
  const offenders: string[] = [];
  for (const file of walk(join(repoRoot, rootDir)).filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.d.ts'),
  )) {
    // Import/export statements start a line; `import type` is erased; dynamic imports too.
    const text = readFileSync(file, 'utf8');
    const specifiers = [
      ...text.matchAll(
        /^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm,
      ),
      ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
    ].map((m) => m[1] ?? '');
    for (const s of specifiers) {
      if (s.startsWith('.') || s.startsWith('node:') || builtinModules.includes(s)) continue;
      const name = s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : (s.split('/')[0] ?? s);
      if (!deps.has(name)) offenders.push(`${relative(repoRoot, file)} imports ${s}`);
    }
  }
  assert.deepEqual(offenders, [], 'move these packages to "dependencies" in package.json');
});
