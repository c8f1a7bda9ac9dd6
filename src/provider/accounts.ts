import { createHmac } from 'node:crypto';
import type { Account, AccountClaims, KoaContextWithOIDC } from 'oidc-provider';
import type { AccountType } from '../config/schema.js';
import type { Store } from '../store/store.js';
import { pivotOf, type Identity } from '../upstream/identity.js';

/**
 * A completed broker login: who (the Identity), how (upstream, acr, amr), when, for which
 * province. Stored for the session's lifetime under `login:{sub}:<authTime>`, so that the ID
 * token, userinfo and the SSO reuse check all read the login that actually happened.
 */
export interface LoginRecord {
  sub: string;
  identity: Identity;
  chosenAccountType?: AccountType | undefined;
  acr: string;
  amr: string[];
  /** Seconds since the epoch: the session's auth_time. */
  authTime: number;
  province: string;
  clientId: string;
  policyRule: string;
  /** Upstream ID token, kept only for upstream logout (id_token_hint). */
  upstreamIdToken?: string | undefined;
  /** The business certificate verified in this login (acr 3). */
  signature?: { serial: string; issuer: string; device: 'usb' | 'sim' } | undefined;
}

export const ACR = {
  upstream: 'urn:igate:acr:1',
  otp: 'urn:igate:acr:2',
  signature: 'urn:igate:acr:3',
} as const;
export const ACR_VALUES = Object.values(ACR);

export function acrLevel(acr: string | undefined): number {
  const i = ACR_VALUES.indexOf(acr as (typeof ACR_VALUES)[number]);
  return i === -1 ? 0 : i + 1;
}

/**
 * `sub` from the pivot identity, not from the upstream: a person keeps one `sub` whether they
 * come through DVCQG or VNeID, and across restarts (the key is configuration, never random).
 */
export function subjectFor(identity: Pick<Identity, 'accountType' | 'nationalId' | 'taxCode'>, subjectKey: string): string {
  return createHmac('sha256', subjectKey).update(pivotOf(identity) ?? '').digest('base64url');
}

export function pairwiseSubject(subjectKey: string, sector: string, sub: string): string {
  return createHmac('sha256', subjectKey).update(`pairwise:${sector}:${sub}`).digest('base64url');
}

const loginKey = (sub: string, authTime: number) => `login:{${sub}}:${authTime}`;
const MAX_SAME_SECOND = 10;

export class LoginRecords {
  constructor(private readonly store: Store, private readonly ttlSeconds: number) {}

  /**
   * Save under a unique auth_time: a token carries its auth_time, so that is how findAccount
   * finds the login it came from. Two logins of one person in the same second (two devices)
   * take the next free second; in the unlikely case ten are taken, the latest login wins.
   */
  async save(record: LoginRecord): Promise<LoginRecord> {
    for (let i = 0; i < MAX_SAME_SECOND; i++) {
      const candidate = { ...record, authTime: record.authTime + i };
      if (await this.store.setIfAbsent(loginKey(candidate.sub, candidate.authTime), JSON.stringify(candidate), this.ttlSeconds)) return candidate;
    }
    await this.store.set(loginKey(record.sub, record.authTime), JSON.stringify(record), this.ttlSeconds);
    return record;
  }

  async find(sub: string, authTime: number | undefined): Promise<LoginRecord | undefined> {
    if (authTime === undefined) return undefined;
    const raw = await this.store.get(loginKey(sub, authTime));
    return raw ? (JSON.parse(raw) as LoginRecord) : undefined;
  }

  async remove(sub: string, authTime: number): Promise<void> {
    await this.store.del([loginKey(sub, authTime)]);
  }
}

/** The claims a portal may receive (DESIGN.md claims table); the provider filters them by scope. */
export function claimsOf(record: LoginRecord): AccountClaims {
  const id = record.identity;
  return {
    sub: record.sub,
    account_type: id.accountType,
    idp: id.kind,
    ...(id.identityLevel ? { identity_level: id.identityLevel } : {}),
    ...(id.nationalId ? { national_id: id.nationalId } : {}),
    ...(id.taxCode ? { tax_code: id.taxCode } : {}),
    ...(id.organizationName ? { organization_name: id.organizationName } : {}),
    ...(id.name ? { name: id.name } : {}),
    ...(id.birthdate ? { birthdate: id.birthdate } : {}),
    ...(id.gender ? { gender: id.gender } : {}),
    ...(id.phone ? { phone_number: id.phone } : {}),
    ...(id.email ? { email: id.email } : {}),
    ...(id.address ? { address: { formatted: id.address } } : {}),
    ...(record.signature ? { signature: { serial: record.signature.serial, issuer: record.signature.issuer, device: record.signature.device } } : {}),
  };
}

/** Which login a token or session stands for: its auth_time. */
export function authTimeOf(ctx: KoaContextWithOIDC, token: unknown): number | undefined {
  const t = token as { authTime?: number; extra?: { auth_time?: number } } | undefined;
  return t?.authTime ?? t?.extra?.auth_time ?? ctx.oidc?.session?.authTime();
}

export function findAccountFn(records: LoginRecords) {
  return async (ctx: KoaContextWithOIDC, sub: string, token?: unknown): Promise<Account | undefined> => {
    const record = await records.find(sub, authTimeOf(ctx, token));
    if (!record) return undefined;
    return { accountId: sub, claims: () => claimsOf(record), record } as Account;
  };
}

/**
 * The lowest acr a portal asks for: with acr_values (it accepts any of those listed) or with the
 * claims parameter (`"acr": { "essential": true, "values": [...] }`). 0 when it asks for none.
 */
export function requestedAcrLevel(params: { acr_values?: unknown; claims?: unknown }): number {
  const wanted: number[] = [];
  if (typeof params.acr_values === 'string' && params.acr_values.trim()) {
    const levels = params.acr_values.split(' ').map(acrLevel).filter((l) => l > 0);
    if (levels.length) wanted.push(Math.min(...levels));
  }
  if (typeof params.claims === 'string') {
    try {
      const acr = (JSON.parse(params.claims) as { id_token?: { acr?: { essential?: boolean; value?: string; values?: string[] } } }).id_token?.acr;
      const values = acr?.essential ? (acr.values ?? (acr.value ? [acr.value] : [])) : [];
      const levels = values.map(acrLevel).filter((l) => l > 0);
      if (levels.length) wanted.push(Math.min(...levels));
    } catch {
      // a malformed claims parameter is refused by the provider itself
    }
  }
  return wanted.length ? Math.max(...wanted) : 0;
}
