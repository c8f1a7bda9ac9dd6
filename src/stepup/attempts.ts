import type { Clock } from '../ops/clock.js';
import type { Store } from '../store/store.js';

/**
 * Wrong-code limits per person, shared by every broker instance through the store:
 * `maxFailures` wrong codes (TOTP or SMS, any login) lock the person out of OTP for
 * `lockoutSeconds`. A new login or a resend does not reset the count; a right code does.
 */
export interface AttemptResult {
  remaining: number;
  lockedUntil?: number | undefined;
}

const failKey = (person: string) => `otp-fail:{${person}}`;
const lockKey = (person: string) => `otp-lock:{${person}}`;

export class Attempts {
  constructor(private readonly store: Store, private readonly clock: Clock, private readonly maxFailures: number, private readonly lockoutSeconds: number) {}

  /** When the lock ends (ms), or undefined when the person may try. */
  async lockedUntil(person: string): Promise<number | undefined> {
    const until = await this.store.get(lockKey(person));
    return until && Number(until) > this.clock.now() ? Number(until) : undefined;
  }

  async fail(person: string): Promise<AttemptResult> {
    const n = await this.store.increment(failKey(person), this.lockoutSeconds);
    if (n < this.maxFailures) return { remaining: this.maxFailures - n };
    const until = this.clock.now() + this.lockoutSeconds * 1000;
    await Promise.all([this.store.set(lockKey(person), String(until), this.lockoutSeconds), this.store.del([failKey(person)])]);
    return { remaining: 0, lockedUntil: until };
  }

  async succeed(person: string): Promise<void> {
    await this.store.del([failKey(person)]);
  }

  async reset(person: string): Promise<void> {
    await this.store.del([failKey(person), lockKey(person)]);
  }
}
