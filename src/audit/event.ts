import { createHash, createHmac } from 'node:crypto';
import { z } from 'zod';
import { maskId } from '../ops/mask.js';
import { pivotOf } from '../upstream/identity.js';
import { AUDIT_EVENTS, type AuditEventName, type Outcome } from './catalogue.js';

/** One audit event: what happened, to whom (pseudonymised), under which rule, and its place in a hash chain. */

export const auditEvent = z.object({
  event: z.string(),
  v: z.number(),
  time: z.string(),
  outcome: z.enum(['success', 'failure', 'deny', 'would_deny', 'info']),
  reason: z.string().optional(),
  client: z.string().optional(),
  province: z.string().optional(),
  idp: z.string().optional(),
  accountType: z.string().optional(),
  /** `keyId:HMAC-SHA-256(key, pid:<national id> | mst:<tax code>)`: searchable, never reversible. */
  subject: z.string().optional(),
  maskedId: z.string().optional(),
  rule: z.string().optional(),
  policyVersion: z.string().optional(),
  acr: z.string().optional(),
  amr: z.array(z.string()).optional(),
  ip: z.string().optional(),
  userAgent: z.string().optional(),
  requestId: z.string().optional(),
  interactionId: z.string().optional(),
  detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  chain: z.string(),
  seq: z.number().int().positive(),
  prev: z.string(),
  hash: z.string(),
});
export type AuditEvent = z.infer<typeof auditEvent>;

/** What a caller gives: the chain fields and the time are the log's. */
export type AuditInput = Omit<AuditEvent, 'event' | 'v' | 'time' | 'chain' | 'seq' | 'prev' | 'hash' | 'outcome'> & {
  event: AuditEventName;
  outcome: Outcome;
  /** Personal identifiers to pseudonymise (never stored in clear). */
  person?: { nationalId?: string | undefined; taxCode?: string | undefined; accountType?: string | undefined } | undefined;
};

/** Canonical JSON: sorted keys, no spaces — the bytes the hash is computed over. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function eventHash(e: Omit<AuditEvent, 'hash'>): string {
  return createHash('sha256').update(`${e.prev}\n${canonical(e)}`).digest('base64url');
}

export function genesis(chain: string): string {
  return `genesis:${chain}`;
}

/** Strings from requests and upstreams: no control characters, bounded length (AL-06). */
export function clean(value: string | undefined, max = 200): string | undefined {
  if (value === undefined) return undefined;
  // eslint-disable-next-line no-control-regex
  const s = value.replace(/[\u0000-\u001f\u007f-\u009f\u001b]/g, ' ');
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

export interface PseudonymKey {
  id: string;
  key: Buffer;
}

export function pseudonym(key: PseudonymKey, person: { nationalId?: string | undefined; taxCode?: string | undefined; accountType?: string | undefined }): string | undefined {
  const pivot = pivotOf(person);
  return pivot ? `${key.id}:${createHmac('sha256', key.key).update(pivot).digest('base64url')}` : undefined;
}

/** Every pseudonym an identifier may have been stored under (one per configured key). */
export function pseudonymsOf(keys: PseudonymKey[], identifier: string): string[] {
  // A 12-digit number is a personal identification number; anything else is searched as a tax code.
  const pivot = pivotOf(/^\d{12}$/.test(identifier) ? { accountType: 'citizen', nationalId: identifier } : { accountType: 'business', taxCode: identifier })!;
  return keys.map((k) => `${k.id}:${createHmac('sha256', k.key).update(pivot).digest('base64url')}`);
}

export function maskedOf(person: AuditInput['person']): string | undefined {
  return maskId(person?.accountType && person.accountType !== 'citizen' ? (person.taxCode ?? person.nationalId) : (person?.nationalId ?? person?.taxCode));
}

/** IPv4 /24 or IPv6 /48 when truncation is configured (personal data minimisation). */
export function truncateIp(ip: string | undefined, mode: 'none' | 'network'): string | undefined {
  if (!ip || mode === 'none') return ip;
  if (ip.includes('.')) return ip.replace(/\.\d+$/, '.0');
  return `${ip.split(':').slice(0, 3).join(':')}::`;
}

export function versionOf(name: AuditEventName): number {
  return AUDIT_EVENTS[name].v;
}
