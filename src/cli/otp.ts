import type { RuntimeEnv } from '../config/env.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../ops/logger.js';
import { maskId } from '../ops/mask.js';
import { subjectFor } from '../provider/accounts.js';
import { Attempts, SecretBox, Totp } from '../stepup/index.js';
import { systemClock } from '../ops/clock.js';
import { openStore } from '../store/index.js';
import { normalizeTaxCode } from '../upstream/mapping.js';
import { createAudit } from '../audit/index.js';
import { loadSigningKeys } from '../provider/keys.js';
import { parseArgs, UsageError } from './policy.js';

/**
 * `igate-broker otp reset --national-id N | --tax-code MST [--config FILE] [--operator NAME]`:
 * removes a person's TOTP enrolment and OTP lockout (lost phone), so the next step-up enrols anew.
 * The identifier is hashed as in `sub`; it is never stored or logged in clear.
 */
export async function otpReset(argv: string[], env: RuntimeEnv): Promise<string> {
  const args = parseArgs(argv);
  const file = (args.get('config') as string | undefined) ?? env.configFile;
  if (!file || file === (true as unknown)) throw new UsageError('give --config FILE (or BROKER_CONFIG)');
  const nationalId = args.get('national-id');
  const taxCode = args.get('tax-code');
  let pivot: { accountType: 'citizen' | 'business'; nationalId?: string; taxCode?: string };
  if (typeof nationalId === 'string' && /^\d{12}$/.test(nationalId)) pivot = { accountType: 'citizen', nationalId };
  else if (typeof taxCode === 'string' && normalizeTaxCode(taxCode)) pivot = { accountType: 'business', taxCode: normalizeTaxCode(taxCode)! };
  else throw new UsageError('give --national-id (12 digits) or --tax-code (10 digits, or 10-3 for a branch)');

  const cfg = await loadConfig(file, { production: env.production, vars: env.vars });
  if (!cfg.stepup) throw new UsageError(`${file} has no stepup section`);
  const log = createLogger({ level: env.logLevel });
  const store = await openStore(cfg, { production: env.production, redisUrl: env.redisUrl, log });
  try {
    const person = subjectFor(pivot, cfg.keys.subjectKey);
    const totp = new Totp(store, new SecretBox(cfg.stepup.encryptionKeys), systemClock, cfg.stepup.totp.issuer);
    const had = await totp.reset(person);
    await new Attempts(store, systemClock, cfg.stepup.maxFailures, cfg.stepup.lockoutSeconds).reset(person);
    const who = maskId(pivot.nationalId ?? pivot.taxCode);
    const operator = typeof args.get('operator') === 'string' ? String(args.get('operator')) : (env.vars.USER ?? 'unknown');
    log.info({ event: 'otp.reset', subject: maskId(person), identifier: who, operator, hadEnrolment: had }, 'operator reset an OTP enrolment');
    const keys = await loadSigningKeys(cfg.keys.signingJwks, { production: env.production, generateIfMissing: false });
    const audit = await createAudit(cfg, { store, clock: systemClock, log, signingKeys: keys });
    await audit.log.append({ event: 'otp.reset', outcome: 'success', person: pivot, detail: { operator, hadEnrolment: had } });
    await audit.log.close();
    return `${who}: ${had ? 'TOTP enrolment removed' : 'no TOTP enrolment was stored'}; OTP lockout cleared. The next step-up enrols a new authenticator.\n`;
  } finally {
    await store.close();
  }
}
