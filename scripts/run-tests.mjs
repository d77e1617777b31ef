#!/usr/bin/env node
// Runs every compiled `*.test.js` under .build/test (or under the given test/ sub-folders) with
// node's test runner. Node 20 would otherwise treat every .js file below a `test/` folder as a
// test file, support modules included.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import process from 'node:process';

const roots = process.argv.slice(2).map((r) => join('.build', r));
if (roots.length === 0) roots.push(join('.build', 'test'));

function collect(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const files = roots.flatMap((r) => collect(r, []));
if (files.length === 0) {
  process.stderr.write(`no test files found under ${roots.join(', ')}: did the build run?\n`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
