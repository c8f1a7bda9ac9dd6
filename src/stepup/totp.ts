import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';
import type { Clock } from '../ops/clock.js';
import type { Store } from '../store/store.js';
import type { SecretBox } from './secret-box.js';

/**
 * TOTP (authenticator app): enrolment during a login, confirmed by a first valid code before it
 * is stored; seeds encrypted at rest; 30-second steps, one step of tolerance in the past only;
 * each accepted step recorded atomically so a code works once across all broker instances.
 */

export type TotpResult = 'ok' | 'invalid' | 'replayed';

const ENROLMENT_TTL = 400 * 86_400; // refreshed on every use: an unused enrolment fades after ~13 months
const PENDING_TTL = 600;
const seedKey = (person: string) => `totp:{${person}}`;
const pendingKey = (uid: string) => `totp-pending:{${uid}}`;
const stepKey = (person: string) => `totp-step:{${person}}`;

export interface Enrolment {
  secret: string;
  uri: string;
  /** The otpauth URI as an inline SVG QR code. */
  qrSvg: string;
}

export class Totp {
  constructor(private readonly store: Store, private readonly box: SecretBox, private readonly clock: Clock, private readonly issuer: string) {}

  async enrolled(person: string): Promise<boolean> {
    return (await this.store.get(seedKey(person))) !== null;
  }

  /** A new secret for this login, kept (encrypted) until the person confirms it with a code. */
  async startEnrolment(uid: string, person: string, label: string): Promise<Enrolment> {
    const existing = await this.store.get(pendingKey(uid));
    const secret = (existing && this.box.open(existing, `${uid}.${person}`)) || generateSecret();
    if (!existing) await this.store.set(pendingKey(uid), this.box.seal(secret, `${uid}.${person}`), PENDING_TTL);
    const uri = generateURI({ issuer: this.issuer, label, secret });
    const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return { secret, uri, qrSvg };
  }

  /** The first code proves the app has the secret; only then is the enrolment stored. */
  async confirmEnrolment(uid: string, person: string, code: string): Promise<TotpResult> {
    const sealed = await this.store.get(pendingKey(uid));
    const secret = sealed ? this.box.open(sealed, `${uid}.${person}`) : undefined;
    if (!secret) return 'invalid';
    const result = await this.check(person, secret, code);
    if (result === 'ok') {
      await Promise.all([this.store.set(seedKey(person), this.box.seal(secret, person), ENROLMENT_TTL), this.store.del([pendingKey(uid)])]);
    }
    return result;
  }

  async verify(person: string, code: string): Promise<TotpResult> {
    const sealed = await this.store.get(seedKey(person));
    const secret = sealed ? this.box.open(sealed, person) : undefined;
    if (!secret) return 'invalid';
    const result = await this.check(person, secret, code);
    if (result === 'ok') await this.store.set(seedKey(person), sealed!, ENROLMENT_TTL);
    return result;
  }

  async reset(person: string): Promise<boolean> {
    const had = await this.enrolled(person);
    await this.store.del([seedKey(person), stepKey(person)]);
    return had;
  }

  private async check(person: string, secret: string, code: string): Promise<TotpResult> {
    if (!/^\d{6}$/.test(code)) return 'invalid';
    const epoch = Math.floor(this.clock.now() / 1000);
    // [30, 0]: the current step and the one before it, never a future one (DESIGN.md).
    const r = await verify({ secret, token: code, epoch, epochTolerance: [30, 0] });
    if (!r.valid) return 'invalid';
    // A step is accepted once: SET-if-greater makes two instances racing on one code agree.
    const step = 'timeStep' in r && typeof r.timeStep === 'number' ? r.timeStep : Math.floor(epoch / 30) + r.delta;
    return (await this.store.setIfGreater(stepKey(person), step, 120)) ? 'ok' : 'replayed';
  }
}
