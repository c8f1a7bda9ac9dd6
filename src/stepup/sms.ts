import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { StepupConfig } from '../config/schema.js';
import type { Clock } from '../ops/clock.js';
import type { Store } from '../store/store.js';

/**
 * SMS one-time codes: 6 digits from the CSPRNG, valid 5 minutes, bound to the login
 * (interaction) that asked for them, stored only as a keyed hash, single use. A resend replaces
 * the code; sends are rate limited per person and per IP.
 */

export interface SmsMessage {
  to: string;
  text: string;
  /** Stable per code: a gateway that deduplicates on it never sends one code twice. */
  id: string;
}

/** Where SMS go: the dev outbox, or the operator's HTTP gateway. Tests may use either. */
export interface SmsSender {
  readonly kind: string;
  send(message: SmsMessage): Promise<void>;
}

export type SendResult =
  | { status: 'sent'; expiresAt: number; resendAt: number }
  | { status: 'cooldown'; resendAt: number }
  | { status: 'limited'; retryAt: number }
  | { status: 'failed' };

export type SmsCheck = 'ok' | 'invalid' | 'expired';

type SmsSettings = StepupConfig['sms'];

const state = z.object({ hash: z.string(), sentAt: z.number(), expiresAt: z.number() });
const codeKey = (uid: string) => `sms:{${uid}}`;
const personKey = (person: string) => `sms-count:{${person}}`;
const ipKey = (ip: string) => `sms-ip:{${ip}}`;

export class SmsOtp {
  constructor(
    private readonly store: Store,
    private readonly sender: SmsSender,
    private readonly clock: Clock,
    private readonly cfg: SmsSettings,
    private readonly hashKey: Buffer,
    private readonly template: string,
  ) {}

  private hash(uid: string, code: string): string {
    return createHmac('sha256', this.hashKey).update(`${uid}.${code}`).digest('base64url');
  }

  async send(uid: string, person: string, phone: string, ip: string): Promise<SendResult> {
    const now = this.clock.now();
    const raw = await this.store.get(codeKey(uid));
    const previous = raw ? state.parse(JSON.parse(raw)) : undefined;
    const resendAt = (previous?.sentAt ?? 0) + this.cfg.resendCooldownSeconds * 1000;
    if (previous && resendAt > now) return { status: 'cooldown', resendAt };

    const windowEnd = now + this.cfg.windowSeconds * 1000;
    const [byIp, sentToPerson] = await Promise.all([this.store.increment(ipKey(ip), this.cfg.windowSeconds), this.store.get(personKey(person))]);
    if (byIp > this.cfg.maxPerIp || Number(sentToPerson ?? 0) >= this.cfg.maxPerPerson) return { status: 'limited', retryAt: windowEnd };

    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const minutes = Math.round(this.cfg.ttlSeconds / 60);
    try {
      await this.sender.send({ to: phone, text: this.template.replaceAll('{code}', code).replaceAll('{minutes}', String(minutes)), id: this.hash(uid, code).slice(0, 24) });
    } catch {
      return { status: 'failed' }; // not counted as sent: the person may switch to TOTP or retry
    }
    const expiresAt = now + this.cfg.ttlSeconds * 1000;
    await Promise.all([
      // Replaces the previous code of this login: only the latest one works.
      this.store.set(codeKey(uid), JSON.stringify({ hash: this.hash(uid, code), sentAt: now, expiresAt }), this.cfg.ttlSeconds),
      this.store.increment(personKey(person), this.cfg.windowSeconds),
    ]);
    return { status: 'sent', expiresAt, resendAt: now + this.cfg.resendCooldownSeconds * 1000 };
  }

  /** The state of this login's code: when it was sent, for the page. */
  async pending(uid: string): Promise<{ sentAt: number; expiresAt: number } | undefined> {
    const raw = await this.store.get(codeKey(uid));
    return raw ? state.parse(JSON.parse(raw)) : undefined;
  }

  async verify(uid: string, code: string): Promise<SmsCheck> {
    const raw = await this.store.get(codeKey(uid));
    if (!raw) return 'expired';
    const s = state.parse(JSON.parse(raw));
    if (s.expiresAt <= this.clock.now()) return 'expired';
    const a = Buffer.from(this.hash(uid, code));
    const b = Buffer.from(s.hash);
    if (!/^\d{6}$/.test(code) || a.length !== b.length || !timingSafeEqual(a, b)) return 'invalid';
    // Single use: whoever takes it first wins.
    return (await this.store.take(codeKey(uid))) ? 'ok' : 'expired';
  }
}

/** Development: SMS land in memory (shown on the simulator's outbox page) and in the log. */
export class DevOutbox implements SmsSender {
  readonly kind = 'dev';
  readonly messages: (SmsMessage & { at: number })[] = [];

  constructor(private readonly onMessage: (m: SmsMessage) => void = () => {}) {}

  async send(message: SmsMessage): Promise<void> {
    this.messages.push({ ...message, at: Date.now() });
    if (this.messages.length > 200) this.messages.shift();
    this.onMessage(message);
  }

  /** The last code sent to a number (tests read it as a person reads their phone). */
  lastCode(to: string): string | undefined {
    const m = [...this.messages].reverse().find((x) => x.to === to);
    return m ? /\b(\d{6})\b/.exec(m.text)?.[1] : undefined;
  }
}

export class SmsSendError extends Error {}

/**
 * The operator's SMS gateway: POST JSON { to, text, id } with the configured headers. Retries
 * on network errors, 5xx and 429 with the same Idempotency-Key, so one code is one SMS.
 */
export class HttpSmsSender implements SmsSender {
  readonly kind = 'http';

  constructor(private readonly cfg: NonNullable<SmsSettings['http']>, private readonly onError: (attempt: number, reason: string) => void = () => {}) {}

  async send(message: SmsMessage): Promise<void> {
    let reason = '';
    for (let attempt = 1; attempt <= this.cfg.retries + 1; attempt++) {
      try {
        const res = await fetch(this.cfg.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': message.id, ...this.cfg.headers },
          body: JSON.stringify(message),
          signal: AbortSignal.timeout(this.cfg.timeoutMs),
        });
        if (res.ok) return;
        reason = `HTTP ${res.status}`;
        if (res.status < 500 && res.status !== 429) break; // refused: retrying would not help
      } catch (err) {
        reason = err instanceof Error ? err.name : String(err);
      }
      this.onError(attempt, reason);
      if (attempt <= this.cfg.retries) await new Promise((r) => setTimeout(r, 200 * attempt));
    }
    throw new SmsSendError(`SMS gateway: ${reason}`);
  }
}
