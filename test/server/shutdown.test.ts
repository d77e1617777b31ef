/**
 * Graceful shutdown: readiness goes false, in-flight requests complete, the process exits
 * within --shutdown-timeout (in-process and as the real `promgate` command on SIGTERM).
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startFakeUpstream, startHarness, tempDir, TOKENS, TOKENS_YAML } from './fake-upstream.js';

const OK = '{"status":"success","data":{"resultType":"vector","result":[]}}';

describe('graceful shutdown', () => {
  it('in-process: readiness off, in-flight requests finish, then everything closes', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const h = await startHarness([], {
      handler: (req, res) => {
        const answer = (): void => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(OK);
        };
        if (req.url?.startsWith('/api/v1/query')) void gate.then(answer);
        else answer();
      },
    });
    try {
      const inflight = h.request('/api/v1/query?query=up');
      for (
        let i = 0;
        i < 200 && !h.upstream.requests.some((r) => r.path === '/api/v1/query');
        i++
      ) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const closing = h.promgate.close();
      assert.equal(h.promgate.ready(), false);
      const readyz = await fetch(`${h.promgate.metricsUrl}/readyz`);
      assert.equal(readyz.status, 503);
      assert.match(await readyz.text(), /shutting down/);
      await assert.rejects(
        fetch(`${h.promgate.url}/api/v1/query?query=up`, {
          headers: { authorization: `Bearer ${TOKENS.teamA}`, connection: 'close' },
        }),
      );
      release();
      const res = await inflight;
      assert.equal(res.status, 200);
      assert.equal(await res.text(), OK);
      await closing;
    } finally {
      release();
      await h.upstream.close();
    }
  });

  for (const slow of [false, true]) {
    it(`the promgate command on SIGTERM ${slow ? 'cuts a request longer than --shutdown-timeout' : 'lets an in-flight request finish'} and exits 0`, async () => {
      const upstream = await startFakeUpstream((req, res) => {
        const delay = req.url?.startsWith('/api/v1/query') ? (slow ? 60_000 : 500) : 0;
        const timer = setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(OK);
        }, delay);
        res.on('close', () => clearTimeout(timer));
      });
      const dir = tempDir();
      writeFileSync(join(dir, 'tokens.yaml'), TOKENS_YAML);
      const main = fileURLToPath(new URL('../../src/main.js', import.meta.url));
      const child = spawn(
        process.execPath,
        [
          main,
          '--upstream',
          upstream.url,
          '--tokens-file',
          join(dir, 'tokens.yaml'),
          '--listen',
          '127.0.0.1:0',
          '--metrics-listen',
          '127.0.0.1:0',
          '--shutdown-timeout',
          slow ? '500ms' : '20s',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '' } },
      );
      const exited = new Promise<number | null>((resolve) =>
        child.on('exit', (code) => resolve(code)),
      );
      try {
        const url = await new Promise<string>((resolve, reject) => {
          const lines = createInterface({ input: child.stdout });
          lines.on('line', (line) => {
            const entry = JSON.parse(line) as { msg?: string; listen?: string };
            if (entry.msg === 'promgate started' && entry.listen) resolve(entry.listen);
          });
          child.on('exit', () => reject(new Error('promgate exited before starting')));
        });
        const inflight = fetch(`${url}/api/v1/query?query=up`, {
          headers: { authorization: `Bearer ${TOKENS.teamA}` },
        }).then(
          async (r) => [r.status, await r.text()] as const,
          () => 'cut' as const,
        );
        for (
          let i = 0;
          i < 200 && !upstream.requests.some((r) => r.path === '/api/v1/query');
          i++
        ) {
          await new Promise((r) => setTimeout(r, 10));
        }
        child.kill('SIGTERM');
        const result = await inflight;
        if (slow) assert.equal(result, 'cut');
        else assert.deepEqual(result, [200, OK]);
        assert.equal(await exited, 0);
      } finally {
        child.kill('SIGKILL');
        await upstream.close();
      }
    });
  }
});
