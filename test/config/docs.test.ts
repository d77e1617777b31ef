import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { renderConfigDocs } from '../../src/config/docs.js';
import { OPTION_LIST } from '../../src/config/index.js';

it('docs/configuration.md is generated from the options table (run: npm run build && node scripts/gen-config-docs.mjs)', () => {
  const committed = readFileSync(
    new URL('../../../docs/configuration.md', import.meta.url),
    'utf8',
  );
  const rendered = renderConfigDocs();
  for (const o of OPTION_LIST) {
    assert.ok(rendered.includes(`### \`${o.flag}\``), `${o.flag} missing from the rendered docs`);
    assert.ok(rendered.includes(o.env));
  }
  assert.equal(committed, rendered, 'docs/configuration.md differs from the options table');
});
