/**
 * The small key-value surface the broker needs from Redis. Two implementations:
 * `RedisStore` (production, tests) and `MemoryStore` (dev only, in-process).
 *
 * Keys are given without the configured prefix; the store adds it. Keys that must
 * be used together carry the same `{hash tag}` so they stay in one Cluster slot.
 * Every key written has a TTL: nothing lives forever by accident.
 */
export interface Store {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  /** Several keys in one round trip. Keys should share a hash tag. */
  mget(keys: string[]): Promise<(string | null)[]>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** SET NX: true when this call created the key. */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** GETDEL: read and delete atomically, so a value can be used once only. */
  take(key: string): Promise<string | null>;
  del(keys: string[]): Promise<void>;
  /** INCR, setting the TTL when the counter is created. */
  increment(key: string, ttlSeconds: number): Promise<number>;
  /** SADD, extending the set's TTL to at least ttlSeconds. */
  addToSet(key: string, member: string, ttlSeconds: number): Promise<void>;
  members(key: string): Promise<string[]>;
  /**
   * Store `value` only if it is greater than the number stored (atomic, Lua in Redis): true when
   * stored. Records the last accepted TOTP time step so that a code works once across instances.
   */
  setIfGreater(key: string, value: number, ttlSeconds: number): Promise<boolean>;
  /** XADD key * field value: appends to a stream, returns the entry id (ms-seq). */
  streamAdd(key: string, fields: Record<string, string>): Promise<string>;
  /** XRANGE key start end COUNT n (ids or '-' / '+'). */
  streamRange(key: string, start: string, end: string, count: number): Promise<StreamEntry[]>;
  /** XTRIM key MINID id: drops entries older than id. */
  streamTrim(key: string, minId: string): Promise<number>;
  /** Remaining TTL in seconds, -2 when the key does not exist. */
  ttl(key: string): Promise<number>;
  /** Readiness: reachable, and what it reports of itself. */
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}

export type StreamEntry = [id: string, fields: Record<string, string>];

export interface StoreHealth {
  ok: boolean;
  detail: string;
  /** Redis `maxmemory-policy`; must be noeviction (DESIGN.md, fail closed). */
  evictionPolicy?: string;
}

/** Thrown when the store cannot answer: the login fails closed with a clear page. */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`state store unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StoreUnavailableError';
  }
}
