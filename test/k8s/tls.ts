/**
 * A throw-away TLS identity for the Kubernetes stand-in: one self-signed certificate (CA:TRUE,
 * SAN IP:127.0.0.1) made once per process with the `openssl` CLI, used both as the server's
 * certificate and as the kubeconfig's `certificate-authority-data`. So promgate talks HTTPS to
 * the stand-in with real certificate verification, as it does to a real API server.
 *
 * @example
 *   const { certPem, keyPem } = testTlsIdentity();
 *   https.createServer({ cert: certPem, key: keyPem }, handler);
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TlsIdentity {
  readonly certPem: string;
  readonly keyPem: string;
}

let cached: TlsIdentity | undefined;

/** The process-wide test certificate; generated on first use (~50 ms). */
export function testTlsIdentity(): TlsIdentity {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'promgate-standin-tls-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          key,
          '-out',
          cert,
          '-days',
          '2',
          '-subj',
          '/CN=promgate-test-kube-apiserver',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 },
      );
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new Error(
        `the Kubernetes stand-in needs the openssl CLI to make its test certificate ` +
          `(install it with: apt-get install openssl): ${detail}`,
      );
    }
    cached = { certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
