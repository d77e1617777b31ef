/**
 * Renders `docs/configuration.md` from the options table, so the reference cannot drift from
 * the code: `npm run build && node scripts/gen-config-docs.mjs` rewrites it, and a test
 * fails when the committed file differs from {@link renderConfigDocs}'s output.
 */
import { OPTION_LIST, SECTIONS } from './options.js';

export function renderConfigDocs(): string {
  const out: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/options.ts by scripts/gen-config-docs.mjs; do not edit. -->',
    '',
    'Every option can be given three ways; the first one found wins:',
    '',
    '1. a command-line flag: `--upstream-timeout 30s` or `--upstream-timeout=30s`',
    '   (booleans: `--jwks`, `--jwks=false`, `--no-jwks`);',
    '2. an environment variable: `PROMGATE_UPSTREAM_TIMEOUT=30s`;',
    '3. a key of the YAML file named by `--config`: `upstream-timeout: 30s`',
    '   (`upstreamTimeout: 30s` is accepted too).',
    '',
    'Repeatable options take several flags, a comma-separated environment variable or a YAML',
    'list; the source with the highest precedence replaces the others entirely.',
    '',
    'Durations are Prometheus durations (`500ms`, `30s`, `1h30m`) or plain seconds; sizes are',
    'bytes or take a unit (`512KiB`, `4MiB`, `1GB`). An invalid value, an unknown flag or',
    'YAML key, or a missing required option stops promgate at start-up (exit code 2) with the',
    'key, the value and the reason.',
  ];
  for (const section of SECTIONS) {
    out.push('', `## ${section}`);
    for (const o of OPTION_LIST.filter((x) => x.section === section)) {
      const type = o.isBoolean ? 'boolean' : `\`${o.type.hint}\``;
      const def = o.default === undefined ? 'none' : `\`${o.default}\``;
      out.push('', `### \`${o.flag}\``, '', o.description, '');
      out.push(`- Value: ${type}${o.repeatable ? ', repeatable' : ''}; default: ${def}`);
      out.push(`- Environment variable: \`${o.env}\``);
      out.push(o.noYaml ? '- YAML key: not settable in the file' : `- YAML key: \`${o.name}\``);
    }
  }
  out.push(
    '',
    '## Tokens file (`--auth static`)',
    '',
    '```yaml',
    'tokens:',
    '  - name: team-a # shown in logs and metrics, never the token',
    "    token: 's3cr3t-a' # or sha256: the hex SHA-256 digest of the token",
    '    namespaces: [ns-1, ns-2]',
    '  - name: ops',
    "    sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'",
    '    clusterWide: true # scope: every namespace, queries not rewritten',
    '```',
    '',
    'Each entry needs a unique `name`, exactly one of `token` and `sha256`, and either a',
    'non-empty `namespaces` list or `clusterWide: true`. Tokens must be unique. promgate keeps',
    'only SHA-256 digests in memory and compares them in constant time. The file is reloaded',
    'when it changes; a version that does not validate is refused (logged, counted in',
    '`promgate_tokens_file_reloads_total{result="error"}`) and the previous one stays active.',
    '',
    'Callers send `Authorization: Bearer <token>`, or HTTP Basic auth with the token as the',
    'password (any user name).',
    '',
  );
  return out.join('\n');
}
