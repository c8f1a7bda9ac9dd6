import { systemClock, type Clock } from '../ops/clock.js';
import type { Store, StoreHealth, StreamEntry } from './store.js';

interface Entry {
  value: string | Set<string>;
  expiresAt: number;
}

/**
 * The embedded in-process store for `npm start` without Redis. Development only:
 * production refuses it (state would not be shared between instances nor survive a restart).
 */
export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  private readonly data = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly clock: Clock = systemClock) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  private live(key: string): Entry | undefined {
    const e = this.data.get(key);
    if (e && e.expiresAt <= this.clock.now()) {
      this.data.delete(key);
      return undefined;
    }
    return e;
  }

  private sweep() {
    const now = this.clock.now();
    for (const [k, e] of this.data) if (e.expiresAt <= now) this.data.delete(k);
  }

  private string(key: string): string | null {
    const e = this.live(key);
    return e && typeof e.value === 'string' ? e.value : null;
  }

  private expiry(ttlSeconds: number) {
    return this.clock.now() + Math.max(1, Math.ceil(ttlSeconds)) * 1000;
  }

  async get(key: string) {
    return this.string(key);
  }

  async mget(keys: string[]) {
    return keys.map((k) => this.string(k));
  }

  async set(key: string, value: string, ttlSeconds: number) {
    this.data.set(key, { value, expiresAt: this.expiry(ttlSeconds) });
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number) {
    if (this.live(key)) return false;
    this.data.set(key, { value, expiresAt: this.expiry(ttlSeconds) });
    return true;
  }

  async take(key: string) {
    const v = this.string(key);
    this.data.delete(key);
    return v;
  }

  async del(keys: string[]) {
    for (const k of keys) this.data.delete(k);
  }

  async increment(key: string, ttlSeconds: number) {
    const e = this.live(key);
    const n = (e && typeof e.value === 'string' ? Number(e.value) : 0) + 1;
    this.data.set(key, { value: String(n), expiresAt: e?.expiresAt ?? this.expiry(ttlSeconds) });
    return n;
  }

  async addToSet(key: string, member: string, ttlSeconds: number) {
    const e = this.live(key);
    const set = e && e.value instanceof Set ? e.value : new Set<string>();
    set.add(member);
    this.data.set(key, { value: set, expiresAt: Math.max(e?.expiresAt ?? 0, this.expiry(ttlSeconds)) });
  }

  async members(key: string) {
    const e = this.live(key);
    return e && e.value instanceof Set ? [...e.value] : [];
  }

  async setIfGreater(key: string, value: number, ttlSeconds: number) {
    const current = this.string(key);
    if (current !== null && Number(current) >= value) return false;
    this.data.set(key, { value: String(value), expiresAt: this.expiry(ttlSeconds) });
    return true;
  }

  private readonly streams = new Map<string, StreamEntry[]>();
  private lastStreamId = '0-0';

  async streamAdd(key: string, fields: Record<string, string>) {
    const ms = this.clock.now();
    const [lastMs, lastSeq] = this.lastStreamId.split('-').map(Number) as [number, number];
    const id = ms > lastMs ? `${ms}-0` : `${lastMs}-${lastSeq + 1}`;
    this.lastStreamId = id;
    const list = this.streams.get(key) ?? [];
    list.push([id, { ...fields }]);
    this.streams.set(key, list);
    return id;
  }

  async streamRange(key: string, start: string, end: string, count: number): Promise<StreamEntry[]> {
    const list = this.streams.get(key) ?? [];
    return list.filter(([id]) => (start === '-' || compareIds(id, start) >= 0) && (end === '+' || compareIds(id, end) <= 0)).slice(0, count);
  }

  async streamTrim(key: string, minId: string) {
    const list = this.streams.get(key) ?? [];
    const kept = list.filter(([id]) => compareIds(id, minId) >= 0);
    this.streams.set(key, kept);
    return list.length - kept.length;
  }

  async ttl(key: string) {
    const e = this.live(key);
    return e ? Math.ceil((e.expiresAt - this.clock.now()) / 1000) : -2;
  }

  async health(): Promise<StoreHealth> {
    return { ok: true, detail: 'embedded in-process store (development only)' };
  }

  async close() {
    clearInterval(this.sweeper);
    this.data.clear();
  }
}

/** Compare stream ids `ms-seq` (or a bare `ms`). */
export function compareIds(a: string, b: string): number {
  const [am, as = '0'] = a.split('-');
  const [bm, bs = '0'] = b.split('-');
  return Number(am) - Number(bm) || Number(as) - Number(bs);
}
