import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  buildConfig,
  ConfigError,
  helpText,
  OPTION_LIST,
  wantsHelp,
} from '../../src/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'promgate-config-'));
const tokens = join(dir, 'tokens.yaml');
writeFileSync(tokens, 'tokens: []\n');
const BASE = ['--upstream', 'http://prometheus:9090', '--tokens-file', tokens];

function yamlFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function problems(argv: string[], env: Record<string, string> = {}): ConfigError {
  try {
    buildConfig(argv, env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  assert.fail(`expected a ConfigError for ${JSON.stringify(argv)} ${JSON.stringify(env)}`);
}

describe('config: sources and precedence', () => {
  it('has sane defaults', () => {
    const c = buildConfig(BASE, {});
    assert.deepEqual(c.listen, { host: '0.0.0.0', port: 8080 });
    assert.deepEqual(c.metricsListen, { host: '0.0.0.0', port: 8081 });
    assert.equal(c.label, 'namespace');
    assert.equal(c.auth.mode, 'static');
    assert.equal(c.upstream.timeoutMs, 120_000);
    assert.equal(c.promql.strictScope, true);
    assert.equal(c.upstream.url.origin, 'http://prometheus:9090');
    assert.equal(c.upstream.url.pathname, '/');
  });

  it('flags win over environment, environment over the file, the file over defaults', () => {
    const file = yamlFile(
      'prec.yaml',
      'upstream-timeout: 10s\nlabel: from_file\nlog-level: warn\n',
    );
    const env = { PROMGATE_UPSTREAM_TIMEOUT: '20s', PROMGATE_LABEL: 'from_env' };
    const c = buildConfig([...BASE, '--config', file, '--upstream-timeout', '30s'], env);
    assert.equal(c.upstream.timeoutMs, 30_000); // flag
    assert.equal(c.label, 'from_env'); // env over file
    assert.equal(c.log.level, 'warn'); // file over default
    assert.equal(c.server.shutdownTimeoutMs, 30_000); // default
  });

  it('reads everything from the file, with kebab-case or camelCase keys', () => {
    const file = yamlFile(
      'all.yaml',
      `upstream: https://mimir.example/prometheus/\ntokensFile: ${tokens}\nlisten: 127.0.0.1:0\n` +
        `upstream-header:\n  X-Scope-OrgID: tenant-1\nmaxBodyBytes: 1MiB\nstrict-scope: false\n`,
    );
    const c = buildConfig(['--config', file], {});
    assert.equal(c.upstream.url.href, 'https://mimir.example/prometheus');
    assert.equal(c.upstream.url.pathname, '/prometheus');
    assert.deepEqual(c.upstream.headers, [['X-Scope-OrgID', 'tenant-1']]);
    assert.equal(c.limits.maxBodyBytes, 1 << 20);
    assert.equal(c.promql.strictScope, false);
    assert.deepEqual(c.listen, { host: '127.0.0.1', port: 0 });
  });

  it('takes the config file location from the environment', () => {
    const file = yamlFile('envcfg.yaml', 'label: via_env_file\n');
    assert.equal(buildConfig(BASE, { PROMGATE_CONFIG: file }).label, 'via_env_file');
  });

  it('repeatable options: flags repeat, env is comma-separated, the higher source replaces the lower', () => {
    const env = { PROMGATE_UPSTREAM_HEADER: 'X-A=1, X-B=2' };
    assert.deepEqual(buildConfig(BASE, env).upstream.headers, [
      ['X-A', '1'],
      ['X-B', '2'],
    ]);
    const c = buildConfig(
      [...BASE, '--upstream-header', 'X-C=3', '--upstream-header=X-D=4=5'],
      env,
    );
    assert.deepEqual(c.upstream.headers, [
      ['X-C', '3'],
      ['X-D', '4=5'],
    ]);
  });

  it('booleans: bare flag, =value, separate value and --no-', () => {
    assert.equal(buildConfig([...BASE, '--log-queries'], {}).log.queries, true);
    assert.equal(buildConfig([...BASE, '--log-queries', 'true'], {}).log.queries, true);
    assert.equal(buildConfig([...BASE, '--strict-scope=false'], {}).promql.strictScope, false);
    assert.equal(buildConfig([...BASE, '--no-strict-scope'], {}).promql.strictScope, false);
    assert.equal(buildConfig(BASE, { PROMGATE_STRICT_SCOPE: 'false' }).promql.strictScope, false);
  });

  it('parses durations, sizes and listen addresses', () => {
    const c = buildConfig(
      [
        ...BASE,
        '--upstream-timeout',
        '1h30m',
        '--max-body-bytes',
        '512KiB',
        '--listen',
        ':9999',
        '--metrics-listen',
        '[::1]:0',
      ],
      {},
    );
    assert.equal(c.upstream.timeoutMs, 5_400_000);
    assert.equal(c.limits.maxBodyBytes, 512 * 1024);
    assert.deepEqual(c.listen, { host: '0.0.0.0', port: 9999 });
    assert.deepEqual(c.metricsListen, { host: '::1', port: 0 });
    assert.equal(buildConfig([...BASE, '--upstream-timeout', '2.5'], {}).upstream.timeoutMs, 2500);
  });

  it('maps the kubernetes flags onto KubernetesOptions', () => {
    const c = buildConfig(
      [
        '--upstream',
        'http://p:9090',
        '--auth',
        'kubernetes',
        '--tenancy',
        'rbac',
        '--rbac-resource',
        'metrics.k8s.io/pods',
        '--rbac-verb',
        'list',
        '--cluster-wide-group',
        'admins',
        '--cluster-wide-group',
        'sre',
        '--cluster-wide-permission',
        'none',
        '--token-audience',
        'promgate',
        '--jwks',
        '--token-cache-ttl',
        '1m',
        '--kubeconfig',
        tokens,
      ],
      {},
    );
    assert.equal(c.auth.mode, 'kubernetes');
    if (c.auth.mode !== 'kubernetes') return;
    const k = c.auth.kubernetes;
    assert.equal(k.tenancy, 'rbac');
    assert.deepEqual(k.rbacResource, { group: 'metrics.k8s.io', resource: 'pods' });
    assert.equal(k.rbacVerb, 'list');
    assert.deepEqual(k.clusterWideGroups, ['admins', 'sre']);
    assert.equal(k.clusterWidePermission, null);
    assert.deepEqual(k.tokenAudiences, ['promgate']);
    assert.equal(k.jwks, true);
    assert.equal(k.tokenCacheTtlMs, 60_000);
    assert.equal(k.kubeconfig, tokens);
    const d = buildConfig(['--upstream', 'http://p:9090', '--auth', 'kubernetes'], {});
    assert.ok(d.auth.mode === 'kubernetes');
    if (d.auth.mode === 'kubernetes') {
      assert.deepEqual(d.auth.kubernetes.clusterWidePermission, {
        verb: 'get',
        group: '',
        resource: 'namespaces',
      });
      assert.equal(d.auth.kubernetes.tenancy, 'serviceaccount');
      assert.equal(d.auth.kubernetes.kubeconfig, undefined);
    }
  });

  it('builds the PromQL policy limits', () => {
    const c = buildConfig(
      [
        ...BASE,
        '--promql-max-query-bytes',
        '1KiB',
        '--promql-max-depth',
        '10',
        '--promql-max-selectors',
        '5',
        '--promql-max-range',
        '1d',
        '--promql-experimental-functions',
        '--promql-upstream-major',
        '2',
        '--promql-denied-function',
        'time',
      ],
      {},
    );
    assert.deepEqual(c.promql, {
      maxQueryBytes: 1024,
      maxDepth: 10,
      maxSelectors: 5,
      maxRangeMs: 86_400_000,
      experimentalFunctions: true,
      allowInfo: false,
      upstreamMajor: 2,
      deniedFunctions: ['time'],
      strictScope: true,
    });
  });
});

describe('config: every bad value names key, value and why', () => {
  const cases: [string, string[], Record<string, string>, RegExp][] = [
    ['duration', ['--upstream-timeout', '5x'], {}, /--upstream-timeout = "5x": must be a duration/],
    ['listen', ['--listen', 'localhost'], {}, /--listen = "localhost": must be HOST:PORT/],
    ['port range', ['--listen', ':70000'], {}, /--listen = ":70000": .*0 to 65535/],
    ['label name', ['--label', '1abc'], {}, /--label = "1abc": must be a label name/],
    [
      'reserved label',
      [],
      { PROMGATE_LABEL: '__name__' },
      /PROMGATE_LABEL = "__name__": .*reserved/,
    ],
    ['enum', ['--auth', 'ldap'], {}, /--auth = "ldap": must be one of "static", "kubernetes"/],
    ['size', ['--max-body-bytes', '4XB'], {}, /--max-body-bytes = "4XB": must be a size/],
    [
      'url scheme',
      ['--upstream', 'ftp://x'],
      {},
      /--upstream = "ftp:\/\/x": must use http or https/,
    ],
    ['url credentials', ['--upstream', 'http://u:p@x'], {}, /must not contain credentials/],
    [
      'integer',
      ['--max-concurrent-per-identity', '-1'],
      {},
      /--max-concurrent-per-identity = "-1": must be at least 0/,
    ],
    ['boolean', ['--jwks=maybe'], {}, /--jwks = "maybe": must be true or false/],
    [
      'missing file',
      ['--upstream-ca-file', '/nonexistent/ca.pem'],
      {},
      /--upstream-ca-file = "\/nonexistent\/ca.pem": file does not exist/,
    ],
    ['tenancy', ['--tenancy', 'team'], {}, /--tenancy = "team": must be one of/],
    [
      'permission',
      ['--cluster-wide-permission', 'namespaces'],
      {},
      /--cluster-wide-permission = "namespaces": must be VERB:\[GROUP\/\]RESOURCE/,
    ],
    [
      'managed header',
      ['--upstream-header', 'Content-Length=5'],
      {},
      /--upstream-header = "<redacted>": header Content-Length is managed by promgate/,
    ],
    [
      'unknown flag',
      ['--upstream-timout', '5s'],
      {},
      /--upstream-timout: unknown flag; did you mean upstream-timeout\?/,
    ],
    ['missing value', ['--label'], {}, /--label: needs a value/],
    ['positional', ['serve'], {}, /command line = "serve": unexpected argument/],
    ['twice', ['--label', 'a', '--label', 'b'], {}, /--label = "b": given more than once/],
    [
      'cert without key',
      ['--tls-cert-file', tokens],
      {},
      /--tls-cert-file: needs --tls-key-file as well/,
    ],
    [
      'same listeners',
      ['--listen', ':9000', '--metrics-listen', '0.0.0.0:9000'],
      {},
      /--metrics-listen = "0.0.0.0:9000": must differ/,
    ],
  ];
  for (const [name, argv, env, expected] of cases) {
    it(name, () => {
      const base = argv.includes('--upstream') ? ['--tokens-file', tokens] : BASE;
      const e = problems([...base, ...argv], env);
      assert.match(e.message, expected);
    });
  }

  it('reports a missing --upstream and a missing tokens file', () => {
    const e = problems([], {});
    assert.match(e.message, /--upstream: is required/);
    assert.match(e.message, /--tokens-file: is required with --auth static/);
  });

  it('reports every problem at once', () => {
    const e = problems([...BASE, '--label', '1x', '--auth', 'x', '--listen', 'y'], {});
    assert.equal(e.problems.length, 3);
  });

  it('names the file and key for values from the config file', () => {
    const file = yamlFile(
      'bad.yaml',
      'listen: 99999\nupstream-timout: 5s\nconfig: x.yaml\nlabel: [a, b]\n',
    );
    const e = problems([...BASE, '--config', file], {});
    assert.match(
      e.message,
      new RegExp(`${file}: upstream-timout: unknown option; did you mean upstream-timeout\\?`),
    );
    assert.match(e.message, new RegExp(`${file}: config: cannot be set inside the config file`));
    assert.match(e.message, new RegExp(`${file}: label: must be a single value`));
    // Invalid values from the file are reported once the file's structure is fine.
    const e2 = problems([...BASE, '--config', yamlFile('bad2.yaml', 'listen: 99999\n')], {});
    assert.match(
      e2.message,
      new RegExp(`${file.replace('bad.yaml', 'bad2.yaml')}: listen = "99999": must be HOST:PORT`),
    );
  });

  it('never echoes the content of an invalid YAML file (it may hold secrets)', () => {
    const file = yamlFile(
      'syntax.yaml',
      'upstream-header:\n  - "Authorization=Bearer SECRET-VALUE\n  x: [\n',
    );
    const e = problems([...BASE, '--config', file], {});
    assert.match(e.message, /not valid YAML at line \d+, column \d+/);
    assert.doesNotMatch(e.message, /SECRET-VALUE/);
  });

  it('redacts header values', () => {
    const e = problems(
      [
        ...BASE,
        '--upstream-header',
        'Authorization=Bearer SECRET',
        '--upstream-bearer-file',
        tokens,
      ],
      {},
    );
    assert.match(e.message, /conflicts with --upstream-bearer-file/);
    assert.doesNotMatch(e.message, /SECRET/);
  });

  it('warns about unknown PROMGATE_ variables instead of failing', () => {
    const c = buildConfig(BASE, { PROMGATE_LABLE: 'x' });
    assert.match(c.warnings.join('\n'), /PROMGATE_LABLE is not a promgate option/);
  });
});

describe('config: help and the command line', () => {
  it('--help lists every option', () => {
    const text = helpText();
    for (const o of OPTION_LIST) assert.ok(text.includes(o.flag), `${o.flag} missing from --help`);
    assert.equal(wantsHelp(['--upstream', 'x', '--help']), 'help');
    assert.equal(wantsHelp(['--version']), 'version');
  });

  it('every option has a distinct flag and environment variable', () => {
    assert.equal(new Set(OPTION_LIST.map((o) => o.flag)).size, OPTION_LIST.length);
    assert.equal(new Set(OPTION_LIST.map((o) => o.env)).size, OPTION_LIST.length);
    for (const o of OPTION_LIST)
      assert.equal(o.env, `PROMGATE_${o.name.toUpperCase().replaceAll('-', '_')}`);
  });

  it('the promgate command exits 2 with key, value and why on a bad value', () => {
    const main = fileURLToPath(new URL('../../src/main.js', import.meta.url));
    const r = spawnSync(process.execPath, [main, ...BASE, '--upstream-timeout', 'soon'], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '' },
      timeout: 20_000,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--upstream-timeout = "soon": must be a duration/);
    const help = spawnSync(process.execPath, [main, '--help'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--upstream URL/);
  });
});
