import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { SignatureConfig } from '../config/schema.js';
import type { Clock } from '../ops/clock.js';
import type { Logger } from '../ops/logger.js';
import type { Store } from '../store/store.js';
import { TrustStore } from './trust.js';
import { SignatureError, verifyProof, type Proof, type Verified } from './verify.js';

export { SignatureError, type CertificateInfo, type Proof, type SignatureFailure, type Verified } from './verify.js';
export { TrustStore } from './trust.js';

/**
 * The business signature step: a challenge bound to this login (issuer, interaction, MST, time,
 * random), single use, 5 minutes, kept server-side; then the full verification of the proof.
 */

const PURPOSE = 'igate-sso-broker login';
const challengeRecord = z.object({ content: z.string(), expiresAt: z.number() });
const challengeKey = (uid: string) => `sigch:{${uid}}`;
const challengeShape = z.object({ purpose: z.literal(PURPOSE), iss: z.string(), interaction: z.string(), mst: z.string() });

export class Signatures {
  private constructor(
    readonly trust: TrustStore,
    private readonly cfg: SignatureConfig,
    private readonly deps: { store: Store; clock: Clock; issuer: string },
  ) {}

  static async create(cfg: SignatureConfig, deps: { store: Store; clock: Clock; issuer: string; log: Logger; production: boolean }): Promise<Signatures> {
    const trust = await TrustStore.load({ trustedRoots: cfg.trustedRoots, crls: cfg.crls, crlRefreshSeconds: cfg.crlRefreshSeconds, crlTimeoutMs: cfg.crlTimeoutMs }, deps.log);
    if (deps.production && trust.roots.some((r) => r.subject.includes('TEST Root CA (development only)'))) {
      throw new Error('signature.trustedRoots: the development test CA is refused in production');
    }
    return new Signatures(trust, cfg, deps);
  }

  get upstreamSignatureSufficient(): boolean {
    return this.cfg.upstreamSignatureSufficient;
  }

  /** This login's challenge: the current one while valid, else a new one. */
  async challenge(uid: string, taxCode: string): Promise<{ content: string; expiresAt: number }> {
    const now = this.deps.clock.now();
    const raw = await this.deps.store.get(challengeKey(uid));
    const existing = raw ? challengeRecord.parse(JSON.parse(raw)) : undefined;
    if (existing && existing.expiresAt > now) return existing;
    const content = JSON.stringify({
      purpose: PURPOSE, iss: this.deps.issuer, interaction: uid, mst: taxCode, iat: new Date(now).toISOString(), nonce: randomBytes(18).toString('base64url'),
    });
    const record = { content, expiresAt: now + this.cfg.challengeTtlSeconds * 1000 };
    // Kept a little past its expiry so that a late signature is told "expired", not "unknown".
    await this.deps.store.set(challengeKey(uid), JSON.stringify(record), this.cfg.challengeTtlSeconds + 600);
    return record;
  }

  /** Verify a proof against this login's challenge, which is used up whatever the outcome. */
  async verify(uid: string, taxCode: string, proof: Proof): Promise<Verified> {
    const raw = await this.deps.store.take(challengeKey(uid));
    const now = this.deps.clock.now();
    const record = raw ? challengeRecord.parse(JSON.parse(raw)) : undefined;
    if (!record || record.expiresAt <= now) throw new SignatureError('signature_challenge_expired');
    return verifyProof(proof, {
      expected: record.content, taxCode, trust: this.trust, now, revocationFailOpen: this.cfg.revocationFailOpen, ocspTimeoutMs: this.cfg.crlTimeoutMs,
      isOtherChallenge: (content) => {
        try {
          const c = challengeShape.parse(JSON.parse(content));
          return c.iss === this.deps.issuer && c.interaction !== uid;
        } catch {
          return false;
        }
      },
    });
  }
}
