/**
 * Connection reuse for Kubernetes API calls. client-node 1.x builds a fresh `https.Agent` (no
 * keep-alive) for every request, so each TokenReview or SubjectAccessReview would pay a TCP and
 * TLS handshake — costly for promgate and for the API server during an rbac fan-out.
 *
 * {@link KeepAliveAgents.reuse} swaps that per-request agent for one shared keep-alive agent with
 * the same TLS material (CA, client certificate and key, verification, SNI). The material is
 * fingerprinted on every request, so rotated client certificates (exec plugins, in-cluster files)
 * get a new agent; proxy agents are left alone.
 *
 * @example
 *   const agents = new KeepAliveAgents(16);
 *   const auth = { getName: () => 'kubeconfig', applySecurityAuthentication: async (ctx) => {
 *     await kc.applySecurityAuthentication(ctx);
 *     ctx.setAgent(agents.reuse(ctx.getAgent()));
 *   } };
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

const TLS_OPTIONS = [
  'ca',
  'cert',
  'key',
  'pfx',
  'passphrase',
  'rejectUnauthorized',
  'servername',
] as const;

/** Idle keep-alive sockets are closed after this, well before API servers drop them. */
const IDLE_TIMEOUT_MS = 30_000;

function fingerprint(kind: string, options: Record<string, unknown>): string {
  const h = createHash('sha256').update(kind);
  for (const k of TLS_OPTIONS) {
    const v = options[k];
    const parts = Array.isArray(v) ? v : [v];
    h.update(`\0${k}=`);
    for (const p of parts) {
      if (Buffer.isBuffer(p)) h.update(p);
      else h.update(String(p));
      h.update('\x01');
    }
  }
  return h.digest('hex');
}

export class KeepAliveAgents {
  private current: { readonly fingerprint: string; readonly agent: http.Agent } | undefined;

  constructor(private readonly maxSockets: number) {}

  /** The shared keep-alive agent equivalent to `agent`, or `agent` itself if it is special. */
  reuse<A extends http.Agent | https.Agent | undefined>(agent: A): http.Agent | A {
    if (!agent) return agent;
    const ctor = agent.constructor;
    if (ctor !== https.Agent && ctor !== http.Agent) return agent;
    const options = ((agent as unknown as { options?: Record<string, unknown> }).options ??
      {}) as Record<string, unknown>;
    const kind = ctor === https.Agent ? 'https' : 'http';
    const fp = fingerprint(kind, options);
    if (this.current?.fingerprint === fp) return this.current.agent;
    const tls: Record<string, unknown> = {};
    for (const k of TLS_OPTIONS) if (options[k] !== undefined) tls[k] = options[k];
    const common = {
      keepAlive: true,
      maxSockets: this.maxSockets,
      maxFreeSockets: this.maxSockets,
      timeout: IDLE_TIMEOUT_MS,
      scheduling: 'lifo' as const,
    };
    // The previous agent is not destroyed: requests may still run on it; its idle sockets time out.
    const fresh =
      kind === 'https' ? new https.Agent({ ...tls, ...common }) : new http.Agent(common);
    this.current = { fingerprint: fp, agent: fresh };
    return fresh;
  }

  /** Closes every socket of the current agent. */
  close(): void {
    this.current?.agent.destroy();
    this.current = undefined;
  }
}
