/** The shared keep-alive agent keeps the TLS material of the per-request agent it replaces. */
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { describe, test } from 'node:test';
import { KeepAliveAgents } from '../../../src/auth/kubernetes/keepalive.js';

describe('KeepAliveAgents', () => {
  test('same TLS material → the same keep-alive agent, carrying that material', () => {
    const agents = new KeepAliveAgents(8);
    const a = agents.reuse(new https.Agent({ ca: 'CA-1', rejectUnauthorized: true }));
    const b = agents.reuse(new https.Agent({ ca: 'CA-1', rejectUnauthorized: true }));
    assert.equal(a, b);
    assert.ok(a instanceof https.Agent);
    const options = (a as unknown as { options: Record<string, unknown> }).options;
    assert.equal(options.ca, 'CA-1');
    assert.equal(options.rejectUnauthorized, true);
    assert.equal(options.keepAlive, true);
    agents.close();
  });

  test('rotated material (CA, client cert, verification) → a new agent', () => {
    const agents = new KeepAliveAgents(8);
    const base = agents.reuse(new https.Agent({ ca: 'CA-1', cert: 'C1', key: 'K1' }));
    for (const opts of [
      { ca: 'CA-2', cert: 'C1', key: 'K1' },
      { ca: 'CA-1', cert: 'C2', key: 'K1' },
      { ca: 'CA-1', cert: 'C1', key: 'K1', rejectUnauthorized: false },
    ]) {
      assert.notEqual(agents.reuse(new https.Agent(opts)), base, JSON.stringify(opts));
    }
    agents.close();
  });

  test('plain http stays http; unknown (proxy) agents are left alone', () => {
    const agents = new KeepAliveAgents(8);
    const h = agents.reuse(new http.Agent());
    assert.ok(!(h instanceof https.Agent));
    class ProxyAgent extends https.Agent {}
    const proxy = new ProxyAgent();
    assert.equal(agents.reuse(proxy), proxy);
    assert.equal(agents.reuse(undefined), undefined);
    agents.close();
  });
});
