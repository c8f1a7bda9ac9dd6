import { createHmac } from 'node:crypto';
import type { StepupConfig } from '../config/schema.js';
import type { Clock } from '../ops/clock.js';
import type { Logger } from '../ops/logger.js';
import { maskPhone } from '../ops/mask.js';
import type { Store } from '../store/store.js';
import { Attempts } from './attempts.js';
import { SecretBox } from './secret-box.js';
import { DevOutbox, HttpSmsSender, SmsOtp, type SmsSender } from './sms.js';
import { Totp } from './totp.js';

export { Attempts } from './attempts.js';
export { SecretBox } from './secret-box.js';
export { DevOutbox, HttpSmsSender, SmsOtp, type SmsSender, type SendResult } from './sms.js';
export { Totp, type TotpResult } from './totp.js';

/** OTP step-up: TOTP and SMS with shared attempt limits. Built once per broker. */
export interface StepUp {
  totp?: Totp | undefined;
  sms?: SmsOtp | undefined;
  attempts: Attempts;
  sender?: SmsSender | undefined;
}

export function createStepUp(cfg: StepupConfig, deps: { store: Store; clock: Clock; log: Logger; sender?: SmsSender | undefined }): StepUp {
  const box = new SecretBox(cfg.encryptionKeys);
  const hashKey = createHmac('sha256', Buffer.from(cfg.encryptionKeys[0]!.key, 'base64')).update('igate sms code hash').digest();
  const attempts = new Attempts(deps.store, deps.clock, cfg.maxFailures, cfg.lockoutSeconds);
  let sender = deps.sender;
  if (!sender && cfg.sms.enabled) {
    sender = cfg.sms.sender === 'http' && cfg.sms.http
      ? new HttpSmsSender(cfg.sms.http, (attempt, reason) => deps.log.warn({ attempt, reason }, 'SMS gateway attempt failed'))
      // The dev outbox writes the message to the log, as a test phone would show it (development only).
      : new DevOutbox((m) => deps.log.info({ devOutbox: true, to: maskPhone(m.to), text: m.text }, 'SMS (dev outbox)'));
  }
  const template = cfg.sms.http?.template ?? 'Ma xac thuc dang nhap dich vu cong: {code}. Hieu luc {minutes} phut. Khong chia se ma nay.';
  return {
    attempts,
    sender,
    totp: cfg.totp.enabled ? new Totp(deps.store, box, deps.clock, cfg.totp.issuer) : undefined,
    sms: cfg.sms.enabled && sender ? new SmsOtp(deps.store, sender, deps.clock, cfg.sms, hashKey, template) : undefined,
  };
}
