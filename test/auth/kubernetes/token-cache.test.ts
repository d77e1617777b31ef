/**
 * The token cache alone, with a fake clock and a fake review: TTLs, the `exp` cap, negative
 * entries, no caching of errors, coalescing, the size bound, stale-if-error.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Identity } from '../../../src/auth/types.js';
import {
  TokenCache,
  unverifiedExpiryMs,
  type ReviewOutcome,
  type TokenCacheEvent,
  type TokenCacheOptions,
} from '../../../src/auth/kubernetes/token-cache.js';

const alice: Identity = { name: 'alice', kind: 'user', groups: [] };
const ok: ReviewOutcome = { kind: 'authenticated', identity: alice };
const invalid: ReviewOutcome = { kind: 'invalid' };

/** An unsigned JWT-shaped token with the given `exp` (seconds); the cache only decodes it. */
function jwtWithExp(expSeconds: number, salt = ''): string {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'RS256' })}.${b64({ exp: expSeconds, jti: salt })}.c2ln`;
}

function setup(overrides: Partial<TokenCacheOptions> = {}) {
  let now = 1_000_000;
  const events: TokenCacheEvent[] = [];
  const cache = new TokenCache({
    maxEntries: 100,
    positiveTtlMs: 60_000,
    negativeTtlMs: 5_000,
    staleIfErrorMs: 30_000,
    audiences: ['promgate'],
    now: () => now,
    onEvent: (e) => events.push(e),
    ...overrides,
  });
  let reviews = 0;
  const review = (outcome: ReviewOutcome | Error) => async (): Promise<ReviewOutcome> => {
    reviews++;
    if (outcome instanceof Error) throw outcome;
    return outcome;
  };
  return {
    cache,
    events,
    review,
    reviews: () => reviews,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

describe('TokenCache', () => {
  test('keys are keyed hashes: not the token, different per process key and per audience', () => {
    const a = new TokenCache({
      maxEntries: 1,
      positiveTtlMs: 1,
      negativeTtlMs: 1,
      staleIfErrorMs: 0,
      audiences: [],
    });
    const b = new TokenCache({
      maxEntries: 1,
      positiveTtlMs: 1,
      negativeTtlMs: 1,
      staleIfErrorMs: 0,
      audiences: [],
    });
    const token = 'secret-token-value';
    assert.ok(!a.keyOf(token).includes(token));
    assert.equal(a.keyOf(token), a.keyOf(token));
    assert.notEqual(a.keyOf(token), b.keyOf(token), 'random per-process key');
    const withAud = new TokenCache({
      maxEntries: 1,
      positiveTtlMs: 1,
      negativeTtlMs: 1,
      staleIfErrorMs: 0,
      audiences: ['x'],
    });
    assert.notEqual(withAud.keyOf(token), a.keyOf(token));
  });

  test('a hit costs no review; the positive TTL expires', async () => {
    const t = setup();
    assert.equal(await t.cache.get('tok', t.review(ok)), alice);
    assert.equal(await t.cache.get('tok', t.review(ok)), alice);
    assert.equal(t.reviews(), 1);
    t.advance(59_000);
    await t.cache.get('tok', t.review(ok));
    assert.equal(t.reviews(), 1);
    t.advance(2_000);
    await t.cache.get('tok', t.review(ok));
    assert.equal(t.reviews(), 2);
    assert.deepEqual(t.events, ['miss', 'hit', 'hit', 'miss']);
  });

  test("the positive TTL is capped by the token's exp", async () => {
    const t = setup();
    const token = jwtWithExp(Math.floor(t.now() / 1000) + 10);
    await t.cache.get(token, t.review(ok));
    t.advance(9_000);
    await t.cache.get(token, t.review(ok));
    assert.equal(t.reviews(), 1);
    t.advance(2_000); // past exp, well within the 60 s TTL
    await t.cache.get(token, t.review(ok));
    assert.equal(t.reviews(), 2);
  });

  test('an already-expired token is answered but not cached', async () => {
    const t = setup();
    const token = jwtWithExp(Math.floor(t.now() / 1000) - 5);
    await t.cache.get(token, t.review(ok));
    await t.cache.get(token, t.review(ok));
    assert.equal(t.reviews(), 2);
  });

  test('unverifiedExpiryMs reads exp without trusting the token; non-JWTs have none', () => {
    assert.equal(unverifiedExpiryMs(jwtWithExp(1234)), 1_234_000);
    assert.equal(unverifiedExpiryMs('opaque-token'), undefined);
    assert.equal(unverifiedExpiryMs('a.b.c'), undefined);
  });

  test('negative answers are cached for the short negative TTL', async () => {
    const t = setup();
    assert.equal(await t.cache.get('bad', t.review(invalid)), null);
    t.advance(4_000);
    assert.equal(await t.cache.get('bad', t.review(invalid)), null);
    assert.equal(t.reviews(), 1);
    t.advance(2_000);
    assert.equal(await t.cache.get('bad', t.review(invalid)), null);
    assert.equal(t.reviews(), 2);
  });

  test('cacheable:false verdicts are not stored', async () => {
    const t = setup();
    await t.cache.get('junk', t.review({ kind: 'invalid', cacheable: false }));
    await t.cache.get('junk', t.review({ kind: 'invalid', cacheable: false }));
    assert.equal(t.reviews(), 2);
    assert.equal(t.cache.size, 0);
  });

  test('errors are never cached', async () => {
    const t = setup();
    await assert.rejects(t.cache.get('tok', t.review(new Error('503'))), /503/);
    assert.equal(await t.cache.get('tok', t.review(ok)), alice);
    assert.equal(t.reviews(), 2);
  });

  test('concurrent misses for one token share one review', async () => {
    const t = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let reviews = 0;
    const slow = async (): Promise<ReviewOutcome> => {
      reviews++;
      await gate;
      return ok;
    };
    const all = Promise.all(Array.from({ length: 100 }, () => t.cache.get('tok', slow)));
    release();
    const results = await all;
    assert.equal(reviews, 1);
    assert.ok(results.every((r) => r === alice));
    assert.equal(t.events.filter((e) => e === 'coalesced').length, 99);
  });

  test('concurrent misses share a failure too, and the next call retries', async () => {
    const t = setup();
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => t.cache.get('tok', t.review(new Error('down')))),
    );
    assert.ok(results.every((r) => r.status === 'rejected'));
    assert.equal(t.reviews(), 1);
    await t.cache.get('tok', t.review(ok));
    assert.equal(t.reviews(), 2);
  });

  test('size bound: LRU eviction, reported; negatives cannot evict positives', async () => {
    const t = setup({ maxEntries: 8 });
    for (let i = 0; i < 20; i++) await t.cache.get(`good-${i}`, t.review(ok));
    assert.equal(t.events.filter((e) => e === 'eviction').length, 12);
    // The 8 most recent are still cached.
    const before = t.reviews();
    for (let i = 12; i < 20; i++) await t.cache.get(`good-${i}`, t.review(ok));
    assert.equal(t.reviews(), before);
    // A flood of junk fills only the (smaller) negative LRU.
    for (let i = 0; i < 1000; i++) await t.cache.get(`junk-${i}`, t.review(invalid));
    assert.ok(t.cache.size <= 8 + 2);
    for (let i = 12; i < 20; i++) await t.cache.get(`good-${i}`, t.review(ok));
    assert.equal(t.reviews(), before + 1000, 'good entries survived the junk flood');
  });

  test('stale-if-error: a known caller keeps working within the window, then 503', async () => {
    const t = setup({ errorRetryMs: 1_000 });
    await t.cache.get('known', t.review(ok));
    t.advance(61_000); // expired
    const down = t.review(new Error('api down'));
    assert.equal(await t.cache.get('known', down), alice);
    assert.ok(t.events.includes('stale'));
    // Within errorRetryMs: served stale without even trying.
    const before = t.reviews();
    assert.equal(await t.cache.get('known', down), alice);
    assert.equal(t.reviews(), before);
    // New tokens get the error.
    await assert.rejects(t.cache.get('new', down), /api down/);
    // Past the window (expiry + 30 s): the error.
    t.advance(30_000);
    await assert.rejects(t.cache.get('known', down), /api down/);
    // Recovery refreshes the entry.
    assert.equal(await t.cache.get('known', t.review(ok)), alice);
  });

  test("stale-if-error never outlives the token's exp", async () => {
    const t = setup();
    const token = jwtWithExp(Math.floor(t.now() / 1000) + 70);
    await t.cache.get(token, t.review(ok));
    t.advance(61_000);
    assert.equal(await t.cache.get(token, t.review(new Error('down'))), alice);
    t.advance(10_000); // past exp, inside the 30 s window
    await assert.rejects(t.cache.get(token, t.review(new Error('down'))), /down/);
  });

  test('a negative entry is not served stale on errors', async () => {
    const t = setup();
    await t.cache.get('bad', t.review(invalid));
    t.advance(6_000);
    await assert.rejects(t.cache.get('bad', t.review(new Error('down'))), /down/);
  });
});
