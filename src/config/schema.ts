import { z } from 'zod';

/**
 * The one schema of the broker's YAML configuration (DESIGN.md, "Configuration").
 * `configSchema({ production })` is stricter in production: https everywhere, real secrets.
 */

export interface SchemaOptions {
  production: boolean;
}

const IDP_KINDS = ['vneid', 'dvcqg'] as const;
export type IdpKind = (typeof IDP_KINDS)[number];

export const ACCOUNT_TYPES = ['citizen', 'business', 'organization'] as const;
export type AccountType = (typeof ACCOUNT_TYPES)[number];

// Secrets that ship in config/dev.yaml or look like placeholders: refused in production.
const PLACEHOLDER = /^(dev-|test-|change-?me|changeme|secret$|password$|example)/i;

const isLoopback = (u: URL) => ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);

function url(opts: SchemaOptions, what: 'redirect' | 'endpoint') {
  return z.string().superRefine((value, ctx) => {
    let u: URL;
    try {
      u = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute URL' });
      return;
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') {
      ctx.addIssue({ code: 'custom', message: 'must be an http(s) URL' });
    } else if (u.protocol === 'http:' && (opts.production || !isLoopback(u))) {
      ctx.addIssue({
        code: 'custom',
        message: opts.production
          ? 'must be an absolute https URL in production'
          : 'must be an absolute https URL outside dev (http is allowed for localhost only)',
      });
    }
    if (what === 'redirect') {
      if (u.hash || value.includes('#')) ctx.addIssue({ code: 'custom', message: 'must not contain a fragment (#)' });
      if (value.includes('*')) ctx.addIssue({ code: 'custom', message: 'wildcards are not allowed: register every URI exactly' });
      if (u.username || u.password) ctx.addIssue({ code: 'custom', message: 'must not contain credentials' });
    }
  });
}

function secret(opts: SchemaOptions) {
  return z.string().min(1, 'must not be empty').superRefine((value, ctx) => {
    if (!opts.production) return;
    if (value.length < 32) ctx.addIssue({ code: 'custom', message: 'must be at least 32 characters in production' });
    if (PLACEHOLDER.test(value)) ctx.addIssue({ code: 'custom', message: 'is a development/default value, refused in production' });
  });
}

const localDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD').refine(
  (d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d),
  'is not a valid calendar date',
);

const localized = z.object({ vi: z.string().min(1), en: z.string().min(1).optional() }).strict();

/** A policy method: idp[:levelN][+signature][+otp], e.g. `vneid:level2`, `dvcqg+signature`. */
export const METHOD_PATTERN = /^([a-z][a-z0-9_-]*)(?::level([12]))?((?:\+(?:signature|otp))*)$/;

const phaseSchema = z.object({
  from: localDate,
  until: localDate.optional(),
  citizen: z.array(z.string()).optional(),
  business: z.array(z.string()).optional(),
  organization: z.array(z.string()).optional(),
  message: localized.optional(),
  source: z.string().optional(),
}).strict();

const provincePolicySchema = z.object({
  /** Shown to people: "tỉnh Đắk Nông". */
  name: z.string().min(1).optional(),
  phases: z.array(phaseSchema).min(1, 'needs at least one phase'),
  reportOnly: z.boolean().default(false),
}).strict();

const policySchema = z.object({
  timezone: z.string().default('Asia/Ho_Chi_Minh').refine((tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'is not a known IANA time zone'),
  noticeDays: z.number().int().min(0).max(365).default(30),
  default: provincePolicySchema.optional(),
  provinces: z.record(z.string().regex(/^[a-z0-9-]+$/, 'province ids are lower-case slugs like lam-dong'), provincePolicySchema).default({}),
}).strict();

function upstreamSchema(opts: SchemaOptions) {
  const endpoint = url(opts, 'endpoint');
  return z.object({
    kind: z.enum(IDP_KINDS).optional(),
    label: localized.optional(),
    issuer: endpoint,
    endpoints: z.object({
      authorization: endpoint.optional(),
      token: endpoint.optional(),
      userinfo: endpoint.optional(),
      jwks: endpoint.optional(),
      endSession: endpoint.optional(),
    }).strict().optional(),
    expectedIssuer: z.string().min(1).optional(),
    clientId: z.string().min(1),
    clientSecret: secret(opts),
    tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
    scope: z.string().default('openid').refine((s) => s.split(' ').includes('openid'), 'must include openid'),
    authorizationParams: z.record(z.string(), z.string()).default({}),
    claimsFrom: z.enum(['id_token', 'userinfo', 'both']).default('both'),
    timeoutMs: z.number().int().min(100).max(60_000).default(5000),
    clockToleranceSeconds: z.number().int().min(0).max(300).default(15),
  }).strict();
}

function clientSchema(opts: SchemaOptions) {
  return z.object({
    clientId: z.string().min(1).regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, dot, dash, underscore'),
    clientSecret: secret(opts),
    name: z.string().optional(),
    province: z.string().regex(/^[a-z0-9-]+$/, 'province ids are lower-case slugs like lam-dong'),
    redirectUris: z.array(url(opts, 'redirect')).min(1, 'register at least one redirect URI'),
    postLogoutRedirectUris: z.array(url(opts, 'redirect')).default([]),
    backchannelLogoutUri: url(opts, 'endpoint').optional(),
    tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
    subjectType: z.enum(['public', 'pairwise']).default('public'),
    formPost: z.boolean().default(false),
    refreshTokens: z.boolean().default(false),
  }).strict();
}

function stepupSchema(opts: SchemaOptions) {
  const base64Key = z.string().refine((k) => Buffer.from(k, 'base64').length === 32, 'must be 32 random bytes, base64 (openssl rand -base64 32)');
  return z.object({
    /** AES-256-GCM keys for TOTP secrets at rest; the first encrypts, all decrypt (rotation). */
    encryptionKeys: z.array(z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/), key: base64Key }).strict()).min(1),
    maxFailures: z.number().int().min(1).max(20).default(5),
    lockoutSeconds: z.number().int().min(60).max(86_400).default(900),
    totp: z.object({
      enabled: z.boolean().default(true),
      issuer: z.string().default('igate-sso-broker'),
    }).strict().default({ enabled: true, issuer: 'igate-sso-broker' }),
    sms: z.object({
      enabled: z.boolean().default(true),
      sender: z.enum(['dev', 'http']).default('dev'),
      http: z.object({
        url: url(opts, 'endpoint'),
        headers: z.record(z.string(), z.string()).default({}),
        /** Message text; {code} and {minutes} are replaced. ASCII keeps it one SMS part. */
        template: z.string().default('Ma xac thuc dang nhap dich vu cong: {code}. Hieu luc {minutes} phut. Khong chia se ma nay.'),
        timeoutMs: z.number().int().min(100).max(30_000).default(5000),
        retries: z.number().int().min(0).max(5).default(2),
      }).strict().optional(),
      ttlSeconds: z.number().int().min(60).max(600).default(300),
      resendCooldownSeconds: z.number().int().min(0).max(600).default(60),
      maxPerPerson: z.number().int().min(1).max(50).default(3),
      maxPerIp: z.number().int().min(1).max(10_000).default(30),
      windowSeconds: z.number().int().min(60).max(86_400).default(900),
    }).strict().default({ enabled: true, sender: 'dev', ttlSeconds: 300, resendCooldownSeconds: 60, maxPerPerson: 3, maxPerIp: 30, windowSeconds: 900 }),
  }).strict().superRefine((s, ctx) => {
    if (s.sms.enabled && s.sms.sender === 'http' && !s.sms.http) ctx.addIssue({ code: 'custom', path: ['sms', 'http'], message: 'sender http needs sms.http (url, headers, template)' });
    s.encryptionKeys.forEach((k, i) => {
      if (opts.production && PLACEHOLDER.test(Buffer.from(k.key, 'base64').toString('latin1'))) {
        ctx.addIssue({ code: 'custom', path: ['encryptionKeys', i, 'key'], message: 'is a development/default value, refused in production' });
      }
    });
    if (opts.production && s.sms.enabled && s.sms.sender === 'dev') ctx.addIssue({ code: 'custom', path: ['sms', 'sender'], message: 'the dev outbox sends no SMS: refused in production (use http)' });
  });
}

function signatureSchema(opts: SchemaOptions) {
  return z.object({
    /** PEM files of the roots a business certificate must chain to (Vietnam National Root CA, Government root). */
    trustedRoots: z.array(z.string().min(1)).min(1, 'give at least one trusted root (PEM file)'),
    /** CRL files (PEM or DER) or URLs, one per issuing CA. */
    crls: z.array(z.string().min(1)).default([]),
    crlRefreshSeconds: z.number().int().min(60).max(86_400).default(3600),
    crlTimeoutMs: z.number().int().min(100).max(30_000).default(5000),
    /** When no current CRL is known for an issuer: refuse (false, default) or accept and log. */
    revocationFailOpen: z.boolean().default(false),
    /** Accept DVCQG's own "USB ký số"/"SIM ký số" login (amr hwk/sc) as the signature step. */
    upstreamSignatureSufficient: z.boolean().default(false),
    challengeTtlSeconds: z.number().int().min(60).max(900).default(300),
    /** Development: a dev CA directory (igate-broker dev ca) whose certificates the page can sign with. */
    devSigner: z.string().optional(),
  }).strict().superRefine((s, ctx) => {
    if (opts.production && s.devSigner) ctx.addIssue({ code: 'custom', path: ['devSigner'], message: 'the development signer is refused in production' });
  });
}

function auditSchema(opts: SchemaOptions) {
  return z.object({
    /** HMAC keys for pseudonyms of national ids and tax codes: the first hashes, all are searched. */
    keys: z.array(z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,16}$/), key: secret(opts) }).strict()).min(1),
    /** network: keep IPv4 /24 and IPv6 /48 only. */
    ipTruncation: z.enum(['none', 'network']).default('none'),
    sealEvery: z.number().int().min(1).max(100_000).default(100),
    sealIntervalSeconds: z.number().int().min(1).max(3600).default(60),
    retentionDays: z.number().int().min(1).max(3650).default(180),
    archiveDir: z.string().default('./audit-archive'),
    /** Auditors of the HTTP API and dashboard: a name and the SHA-256 (hex) of their bearer token. */
    auditors: z.array(z.object({ name: z.string().min(1), tokenSha256: z.string().regex(/^[0-9a-f]{64}$/, 'the SHA-256 of the token, hex (echo -n TOKEN | sha256sum)') }).strict()).default([]),
  }).strict();
}

const hostPort = z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }).strict();

export const redisSchema = z.object({
  url: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  sentinels: z.array(hostPort).min(1).optional(),
  sentinelName: z.string().default('mymaster'),
  cluster: z.array(hostPort).min(1).optional(),
  password: z.string().optional(),
  keyPrefix: z.string().default('igate:'),
  commandTimeoutMs: z.number().int().min(50).max(30_000).default(1000),
  connectTimeoutMs: z.number().int().min(100).max(60_000).default(3000),
}).strict().refine(
  (r) => [r.url, r.sentinels, r.cluster].filter(Boolean).length === 1,
  'give exactly one of url, sentinels or cluster',
);

export function configSchema(opts: SchemaOptions) {
  return z.object({
    issuer: url(opts, 'endpoint').refine((s) => !s.endsWith('/'), 'must not end with /'),
    listen: z.object({
      host: z.string().default('0.0.0.0'),
      port: z.number().int().min(0).max(65535).default(3000),
    }).strict().default({ host: '0.0.0.0', port: 3000 }),
    proxy: z.boolean().default(false),
    redis: redisSchema.optional(),
    keys: z.object({
      signingJwks: z.string().min(1),
      /** dev only: create the JWKS file when missing (refused in production). */
      generateIfMissing: z.boolean().default(false),
      cookieKeys: z.array(secret(opts)).min(1, 'give at least one cookie key'),
      /** HMAC key that derives `sub` from the national identifier. Never change it: every sub would change. */
      subjectKey: secret(opts),
    }).strict(),
    session: z.object({
      ttlSeconds: z.number().int().min(60).max(7 * 86400).default(8 * 3600),
      interactionTtlSeconds: z.number().int().min(60).max(3600).default(600),
    }).strict().default({ ttlSeconds: 8 * 3600, interactionTtlSeconds: 600 }),
    /** Upstream logins started per client IP per minute (generous: many citizens share a carrier-grade NAT). */
    limits: z.object({
      loginsPerIpPerMinute: z.number().int().min(1).max(100_000).default(120),
    }).strict().default({ loginsPerIpPerMinute: 120 }),
    ui: z.object({
      supportContact: z.string().default('1900 1096'),
    }).strict().default({ supportContact: '1900 1096' }),
    stepup: stepupSchema(opts).optional(),
    signature: signatureSchema(opts).optional(),
    audit: auditSchema(opts).optional(),
    upstreams: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/), upstreamSchema(opts)),
    clients: z.array(clientSchema(opts)).min(1, 'register at least one portal'),
    policy: policySchema.default({ timezone: 'Asia/Ho_Chi_Minh', noticeDays: 30, provinces: {} }),
    /** The file the policy was read from (absolute after loading), watched for hot reload. */
    policyFile: z.string().optional(),
  }).strict().superRefine((cfg, ctx) => {
    if (opts.production && cfg.keys.generateIfMissing) {
      ctx.addIssue({ code: 'custom', path: ['keys', 'generateIfMissing'], message: 'generated keys are refused in production: provide a JWKS file' });
    }
    if (Object.keys(cfg.upstreams).length === 0) {
      ctx.addIssue({ code: 'custom', path: ['upstreams'], message: 'configure at least one upstream (vneid, dvcqg)' });
    }
    for (const [name, up] of Object.entries(cfg.upstreams)) {
      const kind = up.kind ?? name;
      if (!(IDP_KINDS as readonly string[]).includes(kind)) {
        ctx.addIssue({ code: 'custom', path: ['upstreams', name, 'kind'], message: `unknown upstream kind; set kind to one of ${IDP_KINDS.join(', ')}` });
      }
    }
    const seen = new Map<string, number>();
    cfg.clients.forEach((c, i) => {
      if (seen.has(c.clientId)) {
        ctx.addIssue({ code: 'custom', path: ['clients', i, 'clientId'], message: `duplicate clientId (also clients[${seen.get(c.clientId)}])` });
      }
      seen.set(c.clientId, i);
    });
    checkPolicy(cfg.policy, new Set(Object.keys(cfg.upstreams)), ctx);
  });
}

type PolicyConfigInput = z.infer<typeof policySchema>;

/**
 * A policy file on its own: the policy section, checked against the upstream names it uses
 * (without a broker config, any vneid/dvcqg-like name is accepted).
 */
export function policyFileSchema(_opts: SchemaOptions, upstreams: string[] = ['vneid', 'dvcqg']) {
  return policySchema.superRefine((policy, ctx) => checkPolicy(policy, new Set(upstreams), ctx));
}

function checkPolicy(policy: PolicyConfigInput, upstreams: Set<string>, ctx: z.RefinementCtx) {
  const sets: [string[], z.infer<typeof provincePolicySchema>][] = Object.entries(policy.provinces)
    .map(([p, v]) => [['policy', 'provinces', p], v]);
  if (policy.default) sets.push([['policy', 'default'], policy.default]);
  for (const [base, pp] of sets) {
    let previousFrom = '';
    pp.phases.forEach((phase, i) => {
      if (phase.from <= previousFrom) {
        ctx.addIssue({ code: 'custom', path: [...base, 'phases', i, 'from'], message: 'phases must be in date order without overlap' });
      }
      if (phase.until !== undefined && phase.until <= phase.from) {
        ctx.addIssue({ code: 'custom', path: [...base, 'phases', i, 'until'], message: 'must be after from' });
      }
      const next = pp.phases[i + 1];
      if (phase.until !== undefined && next && phase.until > next.from) {
        ctx.addIssue({ code: 'custom', path: [...base, 'phases', i, 'until'], message: `overlaps the next phase (from ${next.from})` });
      }
      previousFrom = phase.from;
      for (const type of ACCOUNT_TYPES) {
        (phase[type] ?? []).forEach((method, j) => {
          const m = METHOD_PATTERN.exec(method);
          if (!m) {
            ctx.addIssue({ code: 'custom', path: [...base, 'phases', i, type, j], message: 'method must look like idp[:level2][+signature][+otp], e.g. vneid:level2 or dvcqg+signature' });
          } else if (!upstreams.has(m[1]!)) {
            ctx.addIssue({ code: 'custom', path: [...base, 'phases', i, type, j], message: `unknown upstream "${m[1]}"` });
          }
        });
      }
    });
  }
}

export type BrokerConfig = z.infer<ReturnType<typeof configSchema>>;
export type UpstreamConfig = BrokerConfig['upstreams'][string];
export type ClientConfig = BrokerConfig['clients'][number];
export type RedisConfig = NonNullable<BrokerConfig['redis']>;
export type PolicyConfig = BrokerConfig['policy'];
export type StepupConfig = NonNullable<BrokerConfig['stepup']>;
export type SignatureConfig = NonNullable<BrokerConfig['signature']>;
export type AuditConfig = NonNullable<BrokerConfig['audit']>;
