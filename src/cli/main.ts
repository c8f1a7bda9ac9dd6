import { readEnv, type RuntimeEnv } from '../config/env.js';
import { ConfigError, loadConfig } from '../config/load.js';
import { generateKeysFile } from '../provider/keys.js';
import { serve } from '../server.js';
import { auditCommand } from './audit.js';
import { devCommand } from './dev.js';
import { otpReset } from './otp.js';
import { policyExplain, policyTimeline, UsageError } from './policy.js';

const USAGE = `igate-broker — identity federation gateway for provincial public-service portals

Usage:
  igate-broker --config FILE            run the broker (also BROKER_CONFIG=FILE)
  igate-broker check-config FILE        validate a config file; print every error with its path
  igate-broker keys generate FILE       write a new RS256 signing JWKS (mode 0600)
  igate-broker policy explain --province P --at ISO-DATE --account-type citizen|business|organization
                              --idp vneid|dvcqg [--level N] [--signature] [--otp] [--json]
  igate-broker policy timeline [--province P] [--at ISO-DATE] [--json]
      policy commands read --config FILE (or BROKER_CONFIG), or --policy FILE, else config/policy.vn.yaml
  igate-broker otp reset --national-id N | --tax-code MST [--config FILE] [--operator NAME]
                                        remove a person's TOTP enrolment and OTP lockout (lost phone)
  igate-broker audit query|export [--from D] [--to D] [--province P] [--client C] [--idp I] [--account-type T]
                     [--outcome O] [--event E] [--national-id N] [--format table|json|csv] [--limit N] [--cursor C] [--out F]
  igate-broker audit stats [filters] [--json]          counts per day × upstream × account type × outcome, refusals per rule
  igate-broker audit verify [--seals-from LOGFILE] [--archive DIR] [--json]   exit 0 intact, 1 tampered (first bad entry)
  igate-broker audit archive [--dir DIR] [--before D]  export entries older than audit.retentionDays, verify, then trim
      audit commands read --config FILE (or BROKER_CONFIG); --auditor NAME is recorded with every query
  igate-broker dev ca --out DIR          development: a test CA with certificates for the test businesses
  igate-broker dev sign --ca DIR --mst MST --challenge-file FILE [--format cms|jws] [--detached]
                                        development: sign a challenge as a business's signing plugin would

Environment: NODE_ENV=production (strict mode), REDIS_URL, LOG_LEVEL, and the \${VAR}s the config uses.
`;

export interface Output {
  write(text: string): unknown;
}

/** Exit codes: 0 ok, 1 invalid input (config, arguments), 2 usage; -1 while the server runs. */
export async function main(argv: string[], out: Output = process.stdout, err: Output = process.stderr, env: RuntimeEnv = readEnv()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === '--help' || command === '-h' || command === 'help') {
      out.write(USAGE);
      return 0;
    }
    if (command === 'check-config') {
      const file = rest[0] ?? env.configFile;
      if (!file) {
        err.write('check-config needs a FILE\n');
        return 2;
      }
      await loadConfig(file, { production: env.production, vars: env.vars });
      out.write(`${file}: valid${env.production ? ' for production' : ' (development rules; set NODE_ENV=production for the strict check)'}\n`);
      return 0;
    }
    if (command === 'policy' && (rest[0] === 'explain' || rest[0] === 'timeline')) {
      const run = rest[0] === 'explain' ? policyExplain : policyTimeline;
      out.write(await run(rest.slice(1), env, Date.now()));
      return 0;
    }
    if (command === 'audit') {
      const r = await auditCommand(rest, env);
      out.write(r.out);
      return r.code;
    }
    if (command === 'dev') {
      out.write(await devCommand(rest, env));
      return 0;
    }
    if (command === 'otp' && rest[0] === 'reset') {
      out.write(await otpReset(rest.slice(1), env));
      return 0;
    }
    if (command === 'keys' && rest[0] === 'generate' && rest[1]) {
      const [key] = await generateKeysFile(rest[1]);
      out.write(`wrote ${rest[1]} (kid ${key!.kid}); keep it secret and out of version control\n`);
      return 0;
    }
    let file = env.configFile;
    const args = command === 'serve' ? rest : argv;
    const i = args.indexOf('--config');
    if (i !== -1) file = args[i + 1];
    if (!file || (args.length > 0 && i === -1)) {
      err.write(USAGE);
      return 2;
    }
    await serve(file, env);
    return -1; // keeps running
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`igate-broker: ${e.message}\n`);
      return 2;
    }
    if (e instanceof ConfigError) {
      err.write(`${e.message}\n`);
      return 1;
    }
    err.write(`igate-broker: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
