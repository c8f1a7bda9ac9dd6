import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors, type default as Provider, type InteractionResults } from 'oidc-provider';
import { z } from 'zod';
import type { AccountType, BrokerConfig, ClientConfig } from '../config/schema.js';
import { BrokerError } from '../errors/catalogue.js';
import type { Clock } from '../ops/clock.js';
import type { Logger } from '../ops/logger.js';
import type { Decision, Policy } from '../policy/index.js';
import { subjectFor, type LoginRecords } from '../provider/accounts.js';
import type { UpstreamLogout } from '../provider/logout.js';
import type { AuditLog } from '../audit/index.js';
import type { AuditInput } from '../audit/event.js';
import type { Signatures } from '../signature/index.js';
import type { StepUp } from '../stepup/index.js';
import type { Store } from '../store/store.js';
import type { Identity } from '../upstream/identity.js';
import type { Upstreams } from '../upstream/index.js';
import type { BrowserBinding } from './browser.js';
import { pickLocale, type Locale } from './view.js';

/** What every route of a login needs, and the steps they share (details, finishing a login). */
export interface InteractionDeps {
  cfg: BrokerConfig;
  provider: Provider;
  store: Store;
  upstreams: Upstreams;
  logins: LoginRecords;
  browser: BrowserBinding;
  clock: Clock;
  policy: () => Policy;
  log: Logger;
  logout: UpstreamLogout;
  stepup?: StepUp | undefined;
  signatures?: Signatures | undefined;
  audit: AuditLog;
  /** Development only: signs a challenge with the dev CA's certificate for a tax code. */
  devSign?: ((challenge: string, taxCode: string) => Promise<string | undefined>) | undefined;
}

export type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

export const uidParam = z.object({ uid: z.string().regex(/^[A-Za-z0-9_-]{10,64}$/) });

/** A login between the upstream and its finish, kept in the store under the interaction's tag. */
export const loginInProgress = z.object({
  identity: z.custom<Identity>((v) => typeof v === 'object' && v !== null),
  accountType: z.enum(['citizen', 'business', 'organization']).optional(),
  idToken: z.string().optional(),
  ruleId: z.string().optional(),
  /** Steps still to do before the login may finish. */
  steps: z.array(z.enum(['otp', 'signature'])).default([]),
  /** Steps done in this login, with the amr they add. */
  done: z.array(z.string()).default([]),
  /** The verified business certificate, for the `signature` claim. */
  signature: z.object({ serial: z.string(), issuer: z.string(), device: z.enum(['usb', 'sim']) }).optional(),
});
export type LoginInProgress = z.infer<typeof loginInProgress>;

export const IN_PROGRESS_TTL = 600;
export const pendingKey = (uid: string) => `pending:{${uid}}`;
export const stepKey = (uid: string) => `step:{${uid}}`;
export const denialKey = (uid: string) => `denial:{${uid}}`;

export class LoginContext {
  readonly clients: ReadonlyMap<string, ClientConfig>;

  constructor(readonly deps: InteractionDeps) {
    this.clients = new Map(deps.cfg.clients.map((c) => [c.clientId, c]));
  }

  async details(req: FastifyRequest, reply: FastifyReply, uid: string): Promise<Details> {
    try {
      const d = await this.deps.provider.interactionDetails(req.raw, reply.raw);
      if (d.uid !== uid) throw new BrokerError('interaction_expired', 'interaction cookie belongs to another interaction');
      return d;
    } catch (err) {
      if (err instanceof errors.SessionNotFound) throw new BrokerError('interaction_expired', err.error_description ?? err.message);
      throw err;
    }
  }

  clientOf(d: Details): ClientConfig {
    const c = this.clients.get(String(d.params.client_id));
    if (!c) throw new BrokerError('interaction_expired', `client ${String(d.params.client_id)} no longer configured`);
    return c;
  }

  localeOf(req: FastifyRequest, d?: Details): Locale {
    const lang = (req.query as { lang?: unknown } | undefined)?.lang;
    if (lang === 'en' || lang === 'vi') return lang;
    return pickLocale(d?.params.ui_locales);
  }

  /** Append an audit event for this request (IP, user agent, request id filled in). */
  audit(req: FastifyRequest, input: Omit<AuditInput, 'ip' | 'userAgent' | 'requestId'>): Promise<void> {
    return this.deps.audit.append({ ...input, ip: req.ip, userAgent: req.headers['user-agent'], requestId: req.id });
  }

  /** The audit fields of a login in progress: who (pseudonymised) and how. */
  who(l: LoginInProgress, d: Details): Pick<AuditInput, 'client' | 'province' | 'idp' | 'person' | 'interactionId'> {
    const client = this.clientOf(d);
    return {
      client: client.clientId, province: client.province, idp: l.identity.idp, interactionId: d.uid,
      person: { nationalId: l.identity.nationalId, taxCode: l.identity.taxCode, accountType: l.identity.accountType },
    };
  }

  subOf(identity: Identity): string {
    return subjectFor(identity, this.deps.cfg.keys.subjectKey);
  }

  async loadStep(uid: string): Promise<LoginInProgress> {
    const raw = await this.deps.store.get(stepKey(uid));
    if (!raw) throw new BrokerError('interaction_expired', 'no login in progress for this interaction');
    return loginInProgress.parse(JSON.parse(raw));
  }

  async saveStep(uid: string, login: LoginInProgress): Promise<void> {
    await this.deps.store.set(stepKey(uid), JSON.stringify(login), IN_PROGRESS_TTL);
  }

  /**
   * The login is complete: record it and hand it to the provider. `acr`/`amr` are what this login
   * proved; `ts` becomes the session's auth_time (a step-up is an authentication too).
   */
  async finish(req: FastifyRequest, reply: FastifyReply, d: Details, login: LoginInProgress, acr: string, amr: string[]) {
    const client = this.clientOf(d);
    const [record] = await Promise.all([this.deps.logins.save({
      sub: this.subOf(login.identity),
      identity: login.identity,
      chosenAccountType: login.accountType as AccountType | undefined,
      acr,
      amr: [...new Set(amr)],
      // auth_time is compared with max_age by oidc-provider on the system clock: it must use the same.
      authTime: Math.floor(Date.now() / 1000),
      province: client.province,
      clientId: client.clientId,
      policyRule: login.ruleId ?? '',
      upstreamIdToken: login.idToken,
      ...(login.signature ? { signature: login.signature } : {}),
    }),
    // No login without its audit record: written with the login record, in the same round trip.
    this.audit(req, { event: 'login.finished', outcome: 'success', ...this.who(login, d), acr, amr: [...new Set(amr)], rule: login.ruleId }),
    this.deps.store.del([stepKey(d.uid)])]);
    const result: InteractionResults = {
      login: { accountId: record.sub, ts: record.authTime, acr: record.acr, amr: record.amr, remember: true },
    };
    const to = await this.deps.provider.interactionResult(req.raw, reply.raw, result, { mergeWithLastSubmission: false });
    this.deps.log.info({ uid: d.uid, client: client.clientId, idp: login.identity.idp, accountType: login.identity.accountType, acr: record.acr, amr: record.amr }, 'login finished');
    return reply.redirect(to, 303);
  }
}

/** A policy refusal: rendered with the rule's own explanation, not a catalogue message. */
export class PolicyDenied extends BrokerError {
  constructor(readonly decision: Extract<Decision, { outcome: 'deny' }>, readonly uid: string, readonly locale?: string) {
    super(decision.reason === 'account_type_mismatch' ? 'account_type_mismatch' : 'policy_denied', `${decision.reason} under ${decision.rule.id} (policy ${decision.rule.version})`);
  }
}
