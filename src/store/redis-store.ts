import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/schema.js';
import { StoreUnavailableError, type Store, type StoreHealth, type StreamEntry } from './store.js';

type Client = Redis | Cluster;
type ScriptClient = { igateSetIfGreater(key: string, value: string, ttl: string): Promise<number> };

// Compare-and-set on a number: one atomic step, whatever instance asks.
const SET_IF_GREATER = `
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
return 0`;

/**
 * Redis behind the Store interface. Fail closed and fast (DESIGN.md): no offline queue,
 * a command timeout, one retry. Auto-pipelining batches the commands a request issues
 * concurrently into one round trip, per node, which also keeps Cluster mode correct.
 */
export class RedisStore implements Store {
  readonly kind = 'redis' as const;

  private constructor(private readonly client: Client) {}

  static async connect(cfg: RedisConfig, onError: (err: Error) => void = () => {}): Promise<RedisStore> {
    const common: RedisOptions = {
      keyPrefix: cfg.keyPrefix,
      password: cfg.password,
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      commandTimeout: cfg.commandTimeoutMs,
      connectTimeout: cfg.connectTimeoutMs,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    };
    let client: Client;
    if (cfg.cluster) {
      client = new Cluster(cfg.cluster, {
        enableOfflineQueue: false,
        enableAutoPipelining: true,
        lazyConnect: true,
        keyPrefix: cfg.keyPrefix,
        redisOptions: { ...common, keyPrefix: undefined },
      });
    } else if (cfg.sentinels) {
      client = new Redis({ ...common, sentinels: cfg.sentinels, name: cfg.sentinelName });
    } else {
      client = new Redis(cfg.url!, common);
    }
    // Without a listener ioredis prints "Unhandled error event" for every failed reconnect.
    client.on('error', onError);
    client.defineCommand('igateSetIfGreater', { numberOfKeys: 1, lua: SET_IF_GREATER });
    try {
      await client.connect();
    } catch (err) {
      client.disconnect();
      throw new StoreUnavailableError(err);
    }
    return new RedisStore(client);
  }

  private async run<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw new StoreUnavailableError(err);
    }
  }

  get(key: string) {
    return this.run(() => this.client.get(key));
  }

  mget(keys: string[]) {
    return this.run(() => this.client.mget(keys));
  }

  async set(key: string, value: string, ttlSeconds: number) {
    await this.run(() => this.client.set(key, value, 'EX', ttl(ttlSeconds)));
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number) {
    return (await this.run(() => this.client.set(key, value, 'EX', ttl(ttlSeconds), 'NX'))) === 'OK';
  }

  take(key: string) {
    return this.run(() => this.client.getdel(key));
  }

  async del(keys: string[]) {
    if (keys.length === 0) return;
    // One DEL per key: keys of different hash tags may live on different Cluster nodes.
    await this.run(() => Promise.all(keys.map((k) => this.client.del(k))));
  }

  async increment(key: string, ttlSeconds: number) {
    const [n] = await this.run(() => Promise.all([this.client.incr(key), this.client.expire(key, ttl(ttlSeconds), 'NX')]));
    return n;
  }

  async addToSet(key: string, member: string, ttlSeconds: number) {
    const t = ttl(ttlSeconds);
    // NX sets a TTL on a new set, GT only ever lengthens it.
    await this.run(() => Promise.all([this.client.sadd(key, member), this.client.expire(key, t, 'NX'), this.client.expire(key, t, 'GT')]));
  }

  members(key: string) {
    return this.run(() => this.client.smembers(key));
  }

  async setIfGreater(key: string, value: number, ttlSeconds: number) {
    const reply = await this.run(() => (this.client as unknown as ScriptClient).igateSetIfGreater(key, String(value), String(ttl(ttlSeconds))));
    return reply === 1;
  }

  streamAdd(key: string, fields: Record<string, string>) {
    return this.run(async () => (await this.client.xadd(key, '*', ...Object.entries(fields).flat())) ?? '');
  }

  async streamRange(key: string, start: string, end: string, count: number): Promise<StreamEntry[]> {
    const rows = await this.run(() => this.client.xrange(key, start, end, 'COUNT', count));
    return rows.map(([id, flat]) => {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
      return [id, fields];
    });
  }

  streamTrim(key: string, minId: string) {
    return this.run(() => this.client.xtrim(key, 'MINID', minId));
  }

  ttl(key: string) {
    return this.run(() => this.client.ttl(key));
  }

  async health(): Promise<StoreHealth> {
    try {
      const node = this.client instanceof Cluster ? this.client.nodes('master')[0] : this.client;
      if (!node) return { ok: false, detail: 'no Redis master known' };
      const reply = (await node.config('GET', 'maxmemory-policy')) as unknown;
      const policy = Array.isArray(reply) ? String(reply[1]) : typeof reply === 'object' && reply ? String(Object.values(reply)[0]) : 'unknown';
      if (policy !== 'noeviction') {
        return { ok: false, detail: `Redis maxmemory-policy is ${policy}; it must be noeviction so that replay markers and counters are never evicted`, evictionPolicy: policy };
      }
      return { ok: true, detail: 'redis ok', evictionPolicy: policy };
    } catch (err) {
      return { ok: false, detail: `redis unreachable: ${(err as Error).message}` };
    }
  }

  async close() {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}

function ttl(seconds: number): number {
  return Math.max(1, Math.ceil(seconds));
}
