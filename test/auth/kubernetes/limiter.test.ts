/** The concurrency limiter for Kubernetes API calls. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Limiter, LimiterFullError } from '../../../src/auth/kubernetes/limiter.js';

describe('Limiter', () => {
  test('never runs more than max at once, and runs everything', async () => {
    const limiter = new Limiter(3, 100);
    let running = 0;
    let peak = 0;
    const task = async (): Promise<number> => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setImmediate(r));
      running--;
      return 1;
    };
    const results = await Promise.all(Array.from({ length: 50 }, () => limiter.run(task)));
    assert.equal(results.length, 50);
    assert.equal(peak, 3);
    assert.equal(limiter.running, 0);
  });

  test('a full queue refuses at once', async () => {
    const limiter = new Limiter(1, 2);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = limiter.run(() => gate);
    const queued = [limiter.run(async () => 1), limiter.run(async () => 2)];
    await assert.rejects(
      limiter.run(async () => 3),
      LimiterFullError,
    );
    release();
    await first;
    assert.deepEqual(await Promise.all(queued), [1, 2]);
  });

  test('an aborted waiter leaves the queue; a failing task frees its slot', async () => {
    const limiter = new Limiter(1, 10);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = limiter.run(() => gate);
    const controller = new AbortController();
    const waiting = limiter.run(async () => 'never', controller.signal);
    assert.equal(limiter.waiting, 1);
    controller.abort(new Error('caller gone'));
    await assert.rejects(waiting, /caller gone/);
    assert.equal(limiter.waiting, 0);
    release();
    await first;
    await assert.rejects(
      limiter.run(async () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.equal(await limiter.run(async () => 'ok'), 'ok');
    assert.equal(limiter.running, 0);
  });
});
