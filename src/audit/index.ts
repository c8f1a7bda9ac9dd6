import { createHmac } from 'node:crypto';
import * as jose from 'jose';
import type { BrokerConfig } from '../config/schema.js';
import type { Clock } from '../ops/clock.js';
import type { Logger } from '../ops/logger.js';
import type { SigningKey } from '../provider/keys.js';
import type { Store } from '../store/store.js';
import type { PseudonymKey } from './event.js';
import { AuditLog } from './log.js';

export { AUDIT_EVENTS, type AuditEventName } from './catalogue.js';
export { AuditLog, AUDIT_STREAM } from './log.js';
export type { AuditEvent, AuditInput } from './event.js';

export interface Audit {
  log: AuditLog;
  keys: PseudonymKey[];
  /** Public JWKs that verify seals (all signing keys: old seals verify after a rotation). */
  publicKeys: jose.JWK[];
}

/** Pseudonym keys from config, or (development) derived from the subject key. */
export function auditKeys(cfg: BrokerConfig): PseudonymKey[] {
  if (cfg.audit) return cfg.audit.keys.map((k) => ({ id: k.id, key: Buffer.from(k.key) }));
  return [{ id: 'sub', key: createHmac('sha256', cfg.keys.subjectKey).update('igate audit pseudonyms').digest() }];
}

export function publicJwks(keys: SigningKey[]): jose.JWK[] {
  return keys.map(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub }) => pub as jose.JWK);
}

export async function createAudit(cfg: BrokerConfig, deps: { store: Store; clock: Clock; log: Logger; signingKeys: SigningKey[] }): Promise<Audit> {
  const signer = deps.signingKeys[0]!;
  const alg = typeof signer.alg === 'string' ? signer.alg : 'RS256';
  const key = await jose.importJWK(signer as jose.JWK, alg);
  const log = new AuditLog(deps.store, {
    keys: auditKeys(cfg),
    ipTruncation: cfg.audit?.ipTruncation ?? 'none',
    sealEvery: cfg.audit?.sealEvery ?? 100,
    sealIntervalMs: (cfg.audit?.sealIntervalSeconds ?? 60) * 1000,
  }, async (payload) => new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg, kid: signer.kid, typ: 'igate-audit-seal' }).sign(key), deps.log, deps.clock);
  return { log, keys: auditKeys(cfg), publicKeys: publicJwks(deps.signingKeys) };
}
