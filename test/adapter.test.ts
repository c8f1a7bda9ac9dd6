import t from 'tap';
import { errors } from 'oidc-provider';
import { storeAdapter } from '../src/provider/adapter.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { RedisStore } from '../src/store/redis-store.js';
import type { Store } from '../src/store/store.js';
import { startRedis } from './helpers/redis.js';

// The oidc-provider adapter against both stores: real Redis and the embedded one.
const redis = await startRedis();
const redisStore = await RedisStore.connect({ url: redis.url, keyPrefix: redis.keyPrefix, commandTimeoutMs: 1000, connectTimeoutMs: 2000, sentinelName: 'mymaster' });
let now = Date.UTC(2026, 0, 1);
const memoryStore = new MemoryStore({ now: () => now });
t.teardown(async () => {
  await redisStore.close();
  await memoryStore.close();
  await redis.stop();
});

for (const [name, store] of [['redis', redisStore], ['memory', memoryStore]] as [string, Store][]) {
  t.test(`${name} store`, async (t) => {
    const Adapter = storeAdapter(store, () => now);
    const codes = new Adapter('AuthorizationCode');
    const tokens = new Adapter('AccessToken');
    const sessions = new Adapter('Session');

    t.test('upsert and find keep the payload', async (t) => {
      await codes.upsert('c1', { grantId: 'g1', accountId: 'a', kind: 'AuthorizationCode' }, 60);
      t.match(await codes.find('c1'), { grantId: 'g1', accountId: 'a' });
      t.equal(await codes.find('missing'), undefined);
      t.ok((await store.ttl('oidc:AuthorizationCode:{c1}')) > 0, 'stored with the model TTL');
      t.ok((await store.ttl('oidc:grant:{g1}')) > 0, 'the grant index has a TTL too');
    });

    t.test('consume marks the code once; a second consume revokes the grant', async (t) => {
      await codes.upsert('c2', { grantId: 'g2', kind: 'AuthorizationCode' }, 60);
      await tokens.upsert('t2', { grantId: 'g2', kind: 'AccessToken' }, 600);
      await codes.consume('c2');
      t.type((await codes.find('c2'))?.consumed, 'number', 'consumed is visible to the provider');
      await t.rejects(codes.consume('c2'), errors.InvalidGrant, 'a racing second consume loses');
      t.equal(await tokens.find('t2'), undefined, 'the grant was revoked');
      t.equal(await codes.find('c2'), undefined);
    });

    t.test('concurrent consumes: exactly one succeeds', async (t) => {
      await codes.upsert('c3', { grantId: 'g3', kind: 'AuthorizationCode' }, 60);
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => codes.consume('c3')));
      t.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    });

    t.test('revokeByGrantId removes every token of the grant and nothing else', async (t) => {
      await tokens.upsert('t4a', { grantId: 'g4', kind: 'AccessToken' }, 600);
      await tokens.upsert('t4b', { grantId: 'g4', kind: 'AccessToken' }, 600);
      await tokens.upsert('t5', { grantId: 'g5', kind: 'AccessToken' }, 600);
      await tokens.revokeByGrantId('g4');
      t.equal(await tokens.find('t4a'), undefined);
      t.equal(await tokens.find('t4b'), undefined);
      t.ok(await tokens.find('t5'), 'another grant is untouched');
    });

    t.test('sessions are found by uid; destroy removes them', async (t) => {
      await sessions.upsert('s1', { uid: 'u1', accountId: 'a', kind: 'Session' } as never, 3600);
      t.match(await sessions.findByUid('u1'), { accountId: 'a' });
      await sessions.destroy('s1');
      t.equal(await sessions.findByUid('u1'), undefined);
    });

    t.test('consuming an expired or missing code is refused', async (t) => {
      await t.rejects(codes.consume('never-stored'), errors.InvalidGrant);
    });
  });
}

t.test('memory store entries expire with the clock', async (t) => {
  const store = new MemoryStore({ now: () => now });
  t.teardown(() => store.close());
  await store.set('k', 'v', 10);
  now += 9_000;
  t.equal(await store.get('k'), 'v');
  now += 1_001;
  t.equal(await store.get('k'), null);
  t.equal(await store.increment('n', 5), 1);
  t.equal(await store.increment('n', 5), 2);
  t.equal(await store.take('missing'), null);
});

t.test('Redis keys carry hash tags so multi-key operations stay in one Cluster slot', async (t) => {
  const keys = await redis.client.keys(`${redis.keyPrefix}*`);
  t.ok(keys.length > 0);
  for (const k of keys) t.match(k, /\{[^}]+\}/, k);
  const code = keys.find((k) => k.endsWith('AuthorizationCode:{c1}'));
  t.ok(code, 'the code key is named after its id');
});

t.test('readiness reports the Redis eviction policy', async (t) => {
  const health = await redisStore.health();
  t.equal(health.ok, true);
  t.equal(health.evictionPolicy, 'noeviction');
});
