/**
 * Test support: a fake upstream (a real node:http server on 127.0.0.1) that records every
 * request it receives — method, path, query pairs, form body pairs, headers — and answers
 * with a configurable handler (default: a Prometheus-style success JSON). Also a helper
 * that starts promgate in-process against it with a static tokens file.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildConfig } from '../../src/config/index.js';
import { startPromgate, type Promgate } from '../../src/server.js';

export interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly path: string;
  readonly query: [string, string][];
  readonly form: [string, string][];
  readonly body: Buffer;
  readonly headers: Record<string, string | string[] | undefined>;
}

export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

export interface FakeUpstream {
  readonly url: string;
  readonly requests: Recorded[];
  handler: UpstreamHandler;
  /** Sockets closed by the client (promgate) while a response was in progress. */
  readonly aborted: string[];
  close(): Promise<void>;
}

export const okJson: UpstreamHandler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }));
};

function pairs(text: string): [string, string][] {
  return [...new URLSearchParams(text)];
}

export async function startFakeUpstream(handler: UpstreamHandler = okJson): Promise<FakeUpstream> {
  const requests: Recorded[] = [];
  const aborted: string[] = [];
  const state = { handler };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = req.url ?? '';
      const q = url.indexOf('?');
      const form = (req.headers['content-type'] ?? '').startsWith(
        'application/x-www-form-urlencoded',
      )
        ? pairs(body.toString('utf8'))
        : [];
      requests.push({
        method: req.method ?? '',
        url,
        path: q < 0 ? url : url.slice(0, q),
        query: q < 0 ? [] : pairs(url.slice(q + 1)),
        form,
        body,
        headers: { ...req.headers },
      });
      res.on('close', () => {
        if (!res.writableFinished) aborted.push(url);
      });
      state.handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    aborted,
    get handler() {
      return state.handler;
    },
    set handler(h: UpstreamHandler) {
      state.handler = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const TOKENS = {
  teamA: 'token-team-a-0123456789',
  teamB: 'token-team-b-0123456789',
  ops: 'token-ops-0123456789',
} as const;

export const TOKENS_YAML = `tokens:
  - name: team-a
    token: "${TOKENS.teamA}"
    namespaces: [ns-a, ns-a2]
  - name: team-b
    token: "${TOKENS.teamB}"
    namespaces: [ns-b]
  - name: ops
    token: "${TOKENS.ops}"
    clusterWide: true
`;

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'promgate-test-'));
}

export interface Harness {
  readonly promgate: Promgate;
  readonly upstream: FakeUpstream;
  readonly logs: Record<string, unknown>[];
  readonly tokensFile: string;
  /** fetch against promgate with a token (Bearer) unless headers say otherwise. */
  request(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
  close(): Promise<void>;
}

/** Starts a fake upstream and promgate (static tokens) in-process; logs are captured. */
export async function startHarness(
  extraArgs: string[] = [],
  options: { handler?: UpstreamHandler; upstreamPath?: string; tokensYaml?: string } = {},
): Promise<Harness> {
  const upstream = await startFakeUpstream(options.handler);
  const dir = tempDir();
  const tokensFile = join(dir, 'tokens.yaml');
  writeFileSync(tokensFile, options.tokensYaml ?? TOKENS_YAML);
  const config = buildConfig(
    [
      '--upstream',
      upstream.url + (options.upstreamPath ?? ''),
      '--tokens-file',
      tokensFile,
      '--listen',
      '127.0.0.1:0',
      '--metrics-listen',
      '127.0.0.1:0',
      ...extraArgs,
    ],
    {},
  );
  const logs: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  const promgate = await startPromgate(config, { logStream: stream });
  return {
    promgate,
    upstream,
    logs,
    tokensFile,
    request(path, init = {}) {
      const { token = TOKENS.teamA, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (token !== null && !headers.has('authorization'))
        headers.set('authorization', `Bearer ${token}`);
      return fetch(promgate.url + path, { ...rest, headers });
    },
    async close() {
      await promgate.close();
      await upstream.close();
    },
  };
}
