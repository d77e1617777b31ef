/* global process, console, URL */
/**
 * Regenerates docs/configuration.md from the options table (src/config/options.ts).
 * Usage: npm run build && node scripts/gen-config-docs.mjs   (or --check to only compare)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderConfigDocs } from '../dist/config/docs.js';

const target = new URL('../docs/configuration.md', import.meta.url);
const text = renderConfigDocs();
if (process.argv.includes('--check')) {
  if (readFileSync(target, 'utf8') !== text) {
    console.error('docs/configuration.md is out of date: run node scripts/gen-config-docs.mjs');
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
  console.log(`wrote ${target.pathname}`);
}
