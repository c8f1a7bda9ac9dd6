import { redisSchema, type BrokerConfig, type RedisConfig } from '../config/schema.js';
import type { Logger } from '../ops/logger.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';
import type { Store } from './store.js';

export type { Store } from './store.js';
export { StoreUnavailableError } from './store.js';

/**
 * REDIS_URL wins over the config file; with neither, development gets the embedded
 * in-process store (with a warning) and production refuses to start.
 */
export async function openStore(cfg: BrokerConfig, opts: { production: boolean; redisUrl?: string | undefined; log: Logger }): Promise<Store> {
  let redis: RedisConfig | undefined = cfg.redis;
  if (opts.redisUrl) {
    // REDIS_URL replaces the address only; the other settings (and their defaults) are the schema's.
    redis = redisSchema.parse({ ...cfg.redis, url: opts.redisUrl, sentinels: undefined, cluster: undefined });
  }
  if (!redis) {
    if (opts.production) throw new Error('NODE_ENV=production needs Redis: set redis in the config or REDIS_URL (the embedded store is for development only)');
    opts.log.warn('no Redis configured (REDIS_URL or redis in the config): using the embedded in-process store — development only, state is lost on restart');
    return new MemoryStore();
  }
  const log = opts.log;
  let last = 0;
  return RedisStore.connect(redis, (err) => {
    // Reconnect errors repeat every retry; one line every 10 s is enough.
    const now = Date.now();
    if (now - last > 10_000) {
      last = now;
      log.error({ err: { message: err.message } }, 'redis connection error');
    }
  });
}
