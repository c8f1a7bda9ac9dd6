import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';
import { scrubDigits } from './mask.js';

export type Logger = PinoLogger;

/** Paths whose values never reach a log line. */
const SECRET_KEYS = [
  'password', 'client_secret', 'clientSecret', 'code_verifier', 'otp', 'access_token', 'refresh_token', 'id_token',
  'id_token_hint', 'token', 'cookie', 'authorization', 'national_id', 'phone', 'phone_number', 'SoDinhDanh', 'SoDienThoai',
];
export const REDACT_PATHS = [
  'req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]',
  ...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`), ...SECRET_KEYS.map((k) => `*.*.${k}`),
];

// Query parameters that carry credentials or one-time values: shown as [redacted] in logged URLs.
const SECRET_PARAMS = new Set(['code', 'state', 'nonce', 'id_token_hint', 'login_hint', 'code_verifier', 'code_challenge', 'client_secret', 'access_token', 'token', 'logout_hint', 'session_state']);

export function redactUrl(raw: string): string {
  const q = raw.indexOf('?');
  if (q === -1) return raw;
  const params = new URLSearchParams(raw.slice(q + 1));
  for (const key of [...params.keys()]) if (SECRET_PARAMS.has(key)) params.set(key, '[redacted]');
  return `${raw.slice(0, q)}?${params.toString().replaceAll('%5Bredacted%5D', '[redacted]')}`;
}

// Audit events and seals are pseudonymised when built and must stay byte-identical to the
// stored copy (their hashes and signatures are the proof): the digit filter leaves them alone.
const VERBATIM = new Set(['audit', 'auditSeal']);

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubDigits(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = depth === 0 && VERBATIM.has(k) ? v : scrub(v, depth + 1);
  return out;
}

export function createLogger(opts: { level?: string; destination?: DestinationStream; name?: string } = {}): Logger {
  return pino({
    name: opts.name ?? 'igate-broker',
    level: opts.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: {
      // Masks digit runs (identifiers, phones) in every logged value, whatever the call site forgot.
      log: (obj) => scrub(obj) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        const a = args as unknown[];
        if (typeof a[a.length - 1] === 'string') a[a.length - 1] = scrubDigits(a[a.length - 1] as string);
        return method.apply(this, args);
      },
    },
    serializers: {
      req: (req: { id?: string; method?: string; url?: string; ip?: string }) => ({ id: req.id, method: req.method, url: redactUrl(req.url ?? ''), ip: req.ip }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      err: pino.stdSerializers.err,
    },
  }, opts.destination);
}
