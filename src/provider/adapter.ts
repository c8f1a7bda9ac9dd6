import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Store } from '../store/store.js';

/**
 * node-oidc-provider's storage on our Store (Redis or the embedded store).
 *
 * Keys: `oidc:<Model>:{<id>}` holds the JSON payload with the model's TTL; `…:consumed`
 * beside it (same hash tag) is set once, atomically (SET NX), when a code or token is used;
 * `oidc:grant:{<grantId>}` is the set of keys issued under a grant, for grant-wide revocation;
 * `oidc:sessionUid:{<uid>}` finds a Session by its uid.
 */

// Models whose instances belong to a grant and die with it.
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

export function storeAdapter(store: Store, clock: () => number = Date.now) {
  return class StoreAdapter implements Adapter {
    constructor(private readonly model: string) {}

    private key(id: string) {
      return `oidc:${this.model}:{${id}}`;
    }

    private static grantKey(grantId: string) {
      return `oidc:grant:{${grantId}}`;
    }

    private static uidKey(uid: string) {
      return `oidc:sessionUid:{${uid}}`;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const key = this.key(id);
      const writes: Promise<unknown>[] = [store.set(key, JSON.stringify(payload), expiresIn)];
      if (GRANTABLE.has(this.model) && payload.grantId) {
        writes.push(store.addToSet(StoreAdapter.grantKey(payload.grantId), key, expiresIn));
      }
      if (this.model === 'Session' && payload.uid) {
        writes.push(store.set(StoreAdapter.uidKey(payload.uid), id, expiresIn));
      }
      // Issued together: with auto-pipelining this is one round trip.
      await Promise.all(writes);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      const key = this.key(id);
      const [raw, consumed] = await store.mget([key, `${key}:consumed`]);
      if (!raw) return undefined;
      const payload = JSON.parse(raw) as AdapterPayload;
      return consumed ? { ...payload, consumed: Number(consumed) } : payload;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const id = await store.get(StoreAdapter.uidKey(uid));
      return id ? this.find(id) : undefined;
    }

    async findByUserCode(): Promise<AdapterPayload | undefined> {
      return undefined; // device flow is not enabled
    }

    /**
     * Marks the code/token used. SET NX makes this atomic across broker instances: when two
     * redemptions race, the loser revokes the whole grant and gets invalid_grant (PC-04).
     */
    async consume(id: string): Promise<void> {
      const key = this.key(id);
      const ttl = await store.ttl(key);
      if (ttl <= 0) throw new errors.InvalidGrant('grant source expired');
      const first = await store.setIfAbsent(`${key}:consumed`, String(Math.floor(clock() / 1000)), ttl);
      if (!first) {
        const payload = await this.find(id);
        if (payload?.grantId) await this.revokeByGrantId(payload.grantId);
        throw new errors.InvalidGrant('grant source already consumed');
      }
    }

    // The `:consumed` markers outlive destroy and revocation (until their TTL): deleting one would
    // let a redemption that already read the code consume it a second time.
    async destroy(id: string): Promise<void> {
      await store.del([this.key(id)]);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      const grantKey = StoreAdapter.grantKey(grantId);
      const keys = await store.members(grantKey);
      await store.del([...keys, grantKey]);
    }
  };
}
