/**
 * TLS: the tenant listener serves the configured certificate and reloads it when the files
 * change; an https upstream is verified (against --upstream-ca-file), never trusted blindly.
 * Certificates are made with the openssl command (Debian: apt-get install openssl).
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { describe, it } from 'node:test';
import { Agent, fetch as undiciFetch } from 'undici';
import { buildConfig } from '../../src/config/index.js';
import { startPromgate } from '../../src/server.js';
import { startHarness, tempDir, TOKENS, TOKENS_YAML } from './fake-upstream.js';

function selfSigned(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        `/CN=${name}`,
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'pipe' },
    );
  } catch (e) {
    assert.fail(
      `cannot run openssl to make a test certificate (install it: apt-get install openssl): ${(e as Error).message}`,
    );
  }
  return { cert, key };
}

function servedName(url: string, ca: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: u.hostname, port: Number(u.port), ca, servername: undefined },
      () => {
        const cn = socket.getPeerCertificate().subject.CN;
        socket.end();
        resolve(String(cn));
      },
    );
    socket.on('error', reject);
  });
}

describe('TLS', () => {
  it('serves the tenant listener over TLS and reloads a changed certificate', async () => {
    const dir = tempDir();
    const first = selfSigned(dir, 'first');
    const second = selfSigned(dir, 'second');
    const cert = join(dir, 'tls.crt');
    const key = join(dir, 'tls.key');
    writeFileSync(cert, readFileSync(first.cert));
    writeFileSync(key, readFileSync(first.key));
    const h = await startHarness([
      '--tls-cert-file',
      cert,
      '--tls-key-file',
      key,
      '--file-poll-interval',
      '100ms',
    ]);
    try {
      assert.match(h.promgate.url, /^https:/);
      const ca = readFileSync(first.cert, 'utf8');
      const res = await undiciFetch(`${h.promgate.url}/api/v1/query?query=up`, {
        headers: { authorization: `Bearer ${TOKENS.teamA}` },
        dispatcher: new Agent({ connect: { ca } }),
      });
      assert.equal(res.status, 200);
      assert.equal(await servedName(h.promgate.url, ca), 'first');

      writeFileSync(`${key}.new`, readFileSync(second.key));
      writeFileSync(`${cert}.new`, readFileSync(second.cert));
      renameSync(`${key}.new`, key);
      renameSync(`${cert}.new`, cert);
      const ca2 = readFileSync(second.cert, 'utf8');
      let name = '';
      for (let i = 0; i < 100 && name !== 'second'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        name = await servedName(h.promgate.url, ca2).catch(() => '');
      }
      assert.equal(name, 'second');
    } finally {
      await h.close();
    }
  });

  it('verifies an https upstream: refused without its CA, accepted with --upstream-ca-file', async () => {
    const dir = tempDir();
    const { cert, key } = selfSigned(dir, 'upstream');
    const server = createServer(
      { cert: readFileSync(cert), key: readFileSync(key) },
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":"success","data":{"resultType":"vector","result":[]}}');
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const upstream = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    writeFileSync(join(dir, 'tokens.yaml'), TOKENS_YAML);
    const base = [
      '--upstream',
      upstream,
      '--tokens-file',
      join(dir, 'tokens.yaml'),
      '--listen',
      '127.0.0.1:0',
      '--metrics-listen',
      '127.0.0.1:0',
      '--log-level',
      'silent',
    ];
    try {
      for (const [extra, status] of [
        [[], 502],
        [['--upstream-ca-file', cert], 200],
      ] as const) {
        const promgate = await startPromgate(buildConfig([...base, ...extra], {}));
        try {
          const res = await fetch(`${promgate.url}/api/v1/query?query=up`, {
            headers: { authorization: `Bearer ${TOKENS.teamA}` },
          });
          assert.equal(res.status, status);
        } finally {
          await promgate.close();
        }
      }
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
