import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors, type default as Provider, type InteractionResults } from 'oidc-provider';
import { z } from 'zod';
import type { AccountType, BrokerConfig, ClientConfig } from '../config/schema.js';
import { BrokerError, ERRORS } from '../errors/catalogue.js';
import type { Clock } from '../ops/clock.js';
import type { Logger } from '../ops/logger.js';
import { maskId } from '../ops/mask.js';
import { evaluateChoice, evaluateIdentity, ruleLine, type Decision, type Policy } from '../policy/index.js';
import { ACR, subjectFor, type LoginRecords } from '../provider/accounts.js';
import type { UpstreamLogout } from '../provider/logout.js';
import type { Store } from '../store/store.js';
import type { Identity } from '../upstream/identity.js';
import { completeTransaction, startTransaction, TransactionError, type Upstreams } from '../upstream/index.js';
import type { UpstreamClient } from '../upstream/client.js';
import type { BrowserBinding } from './browser.js';
import { chooserView } from './chooser.js';
import { renderChooser, renderErrorPage, renderLoggedOut, renderRefusal, type ChoiceGroup } from './pages.js';
import { pickLocale, type Locale } from './view.js';

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
}

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

// What the upstream callback hands to the finish step, under the interaction's hash tag.
const PENDING_TTL_SECONDS = 300;
const pendingKey = (uid: string) => `pending:{${uid}}`;
const denialKey = (uid: string) => `denial:{${uid}}`;
const pendingRecord = z.object({
  identity: z.custom<Identity>((v) => typeof v === 'object' && v !== null),
  accountType: z.enum(['citizen', 'business', 'organization']).optional(),
  idToken: z.string().optional(),
});

const uidParam = z.object({ uid: z.string().regex(/^[A-Za-z0-9_-]{10,64}$/) });
const chooseBody = z.object({ fresh: z.literal('1').optional(), choice: z.string().regex(/^(citizen|business):[a-z][a-z0-9_-]*$/) });
const abortBody = z.object({ csrf: z.string(), code: z.string().optional() });

export async function interactionRoutes(app: FastifyInstance, deps: InteractionDeps): Promise<void> {
  const { cfg, provider, store, upstreams, browser, clock, log } = deps;
  const clients = new Map(cfg.clients.map((c) => [c.clientId, c]));

  async function details(req: FastifyRequest, reply: FastifyReply, uid: string): Promise<Details> {
    try {
      const d = await provider.interactionDetails(req.raw, reply.raw);
      if (d.uid !== uid) throw new BrokerError('interaction_expired', 'interaction cookie belongs to another interaction');
      return d;
    } catch (err) {
      if (err instanceof errors.SessionNotFound) throw new BrokerError('interaction_expired', err.error_description ?? err.message);
      throw err;
    }
  }

  function clientOf(d: Details): ClientConfig {
    const c = clients.get(String(d.params.client_id));
    if (!c) throw new BrokerError('interaction_expired', `client ${String(d.params.client_id)} no longer configured`);
    return c;
  }

  function localeOf(req: FastifyRequest, d?: Details): Locale {
    const lang = (req.query as { lang?: unknown } | undefined)?.lang;
    if (lang === 'en' || lang === 'vi') return lang;
    return pickLocale(d?.params.ui_locales);
  }

  async function toUpstream(req: FastifyRequest, reply: FastifyReply, d: Details, up: UpstreamClient, accountType: AccountType | undefined, locale: Locale, fresh = false) {
    const forceLogin = fresh || d.prompt.reasons.includes('login_prompt') || d.prompt.reasons.includes('max_age');
    const url = await startTransaction(store, up, {
      uid: d.uid, accountType, browserId: browser.ensure(req, reply), forceLogin, locale, now: clock.now(),
    });
    log.info({ uid: d.uid, client: d.params.client_id, idp: up.name, accountType, forceLogin }, 'upstream redirect');
    return reply.redirect(url.href, 303);
  }

  // The chooser: account type × upstream, as the policy allows today. idp_hint skips it.
  app.get('/interaction/:uid', async (req, reply) => {
    const { uid } = uidParam.parse(req.params);
    const d = await details(req, reply, uid);
    const client = clientOf(d);
    const locale = localeOf(req, d);
    const notices: string[] = [];
    const now = clock.now();
    // ?choose=1: the person asked for the chooser ("log in another way"): the hint is not followed
    // again, and the upstream is asked for a fresh login so that another account can be used.
    const choose = (req.query as { choose?: unknown }).choose === '1';
    const hint = typeof d.params.idp_hint === 'string' && !choose ? d.params.idp_hint : undefined;
    if (hint) {
      // idp_hint skips the chooser only for an upstream the policy allows (AT-24).
      const up = upstreams.get(hint);
      const decision = up ? evaluateChoice(deps.policy(), client.province, { idp: hint }, now) : undefined;
      if (up && decision?.outcome === 'allow') return toUpstream(req, reply, d, up, undefined, locale);
      log.warn({ uid, client: client.clientId, idpHint: hint.slice(0, 32), rule: decision?.rule.id }, 'idp_hint not allowed: showing the chooser');
      notices.push(locale === 'vi'
        ? 'Cách đăng nhập mà Cổng dịch vụ công đề nghị hiện không được áp dụng. Vui lòng chọn một cách đăng nhập dưới đây.'
        : 'The way to log in suggested by the portal is not offered. Choose one of the ways below.');
      if (decision?.outcome === 'deny') notices.push(decision.message[locale]);
    }
    const view = chooserView(deps.policy(), client.province, upstreams, now, locale);
    const token = browser.csrfToken(browser.ensure(req, reply), uid);
    log.info({ uid, client: client.clientId, policyVersion: deps.policy().version }, 'chooser shown');
    return reply.type('text/html').send(renderChooser({
      locale, uid, csrf: token, portal: client.name ?? client.clientId, support: cfg.ui.supportContact,
      options: view.options, notices: [...notices, ...view.notices], rule: view.rule, fresh: choose,
    }));
  });

  app.post('/interaction/:uid/choose', async (req, reply) => {
    const { uid } = uidParam.parse(req.params);
    if (!browser.checkCsrf(req, uid, (req.body as { csrf?: unknown } | undefined)?.csrf)) throw new BrokerError('csrf_invalid');
    const body = chooseBody.safeParse(req.body);
    if (!body.success) throw new BrokerError('invalid_choice', 'malformed chooser form');
    const d = await details(req, reply, uid);
    const client = clientOf(d);
    const [group, idp] = body.data.choice.split(':') as [ChoiceGroup, string];
    const up = upstreams.get(idp);
    if (!up || evaluateChoice(deps.policy(), client.province, { accountType: group, idp }, clock.now()).outcome !== 'allow') {
      throw new BrokerError('invalid_choice', `choice ${body.data.choice} not offered to ${client.clientId}`);
    }
    return toUpstream(req, reply, d, up, group, localeOf(req, d), (req.body as { fresh?: unknown }).fresh === '1');
  });

  // The upstream returns here. The interaction cookie is path-scoped to /interaction/<uid>,
  // so the result is parked in the store and the browser continues at /finish (STACK.md §14).
  app.get('/upstream/:idp/callback', async (req, reply) => {
    const up = upstreams.get((req.params as { idp: string }).idp);
    if (!up) throw new BrokerError('not_found');
    const search = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    const result = await completeTransaction(store, up, new URL(up.redirectUri + search), browser.read(req));
    const { tx, identity, idToken } = result;
    await store.set(pendingKey(tx.uid), JSON.stringify({ identity, accountType: tx.accountType, idToken }), PENDING_TTL_SECONDS);
    log.info({ uid: tx.uid, idp: up.name, accountType: identity.accountType, nationalId: maskId(identity.nationalId), taxCode: maskId(identity.taxCode) }, 'upstream callback ok');
    return reply.redirect(`/interaction/${encodeURIComponent(tx.uid)}/finish`, 303);
  });

  app.get('/interaction/:uid/finish', async (req, reply) => {
    const { uid } = uidParam.parse(req.params);
    const d = await details(req, reply, uid);
    const client = clientOf(d);
    const raw = await store.take(pendingKey(uid));
    if (!raw) throw new BrokerError('interaction_expired', 'no upstream result for this interaction (replayed or expired finish)');
    const pending = pendingRecord.parse(JSON.parse(raw));
    const { identity } = pending;
    const now = clock.now();
    const decision = evaluateIdentity(deps.policy(), client.province, { identity, chosen: pending.accountType }, now);
    logDecision(log, uid, client, identity.idp, identity.accountType, decision);
    if (decision.outcome === 'deny') {
      await store.set(denialKey(uid), toAscii(`${decision.message.en} (rule ${decision.rule.id})`), PENDING_TTL_SECONDS);
      throw new PolicyDenied(decision, uid, localeOf(req, d));
    }
    if (decision.outcome === 'require') throw new BrokerError('step_unavailable', `rule ${decision.rule.id} requires ${decision.steps.join('+')}`);
    const record = await deps.logins.save({
      sub: subjectFor(identity, cfg.keys.subjectKey),
      identity,
      chosenAccountType: pending.accountType,
      acr: ACR.upstream,
      amr: identity.amr,
      authTime: Math.floor(now / 1000),
      province: client.province,
      clientId: client.clientId,
      policyRule: decision.rule.id,
      upstreamIdToken: pending.idToken,
    });
    const result: InteractionResults = {
      login: { accountId: record.sub, ts: record.authTime, acr: record.acr, amr: record.amr, remember: true },
    };
    const to = await provider.interactionResult(req.raw, reply.raw, result, { mergeWithLastSubmission: false });
    log.info({ uid, client: client.clientId, idp: identity.idp, accountType: identity.accountType, acr: record.acr }, 'login finished');
    return reply.redirect(to, 303);
  });

  // The upstream's logout sends the browser back here; the logout ends where it was going.
  app.get(deps.logout.returnPath, async (req, reply) => {
    const to = await deps.logout.destination((req.query as { state?: unknown }).state);
    if (to) return reply.redirect(to, 303);
    return reply.type('text/html').send(renderLoggedOut(localeOf(req), cfg.ui.supportContact));
  });

  // "Back to the portal": the login ends with an OAuth error at the portal's redirect_uri.
  app.post('/interaction/:uid/abort', async (req, reply) => {
    const { uid } = uidParam.parse(req.params);
    const body = abortBody.safeParse(req.body);
    if (!body.success || !browser.checkCsrf(req, uid, body.data.csrf)) throw new BrokerError('csrf_invalid');
    await details(req, reply, uid);
    const code = body.data.code && body.data.code in ERRORS ? (body.data.code as keyof typeof ERRORS) : 'upstream_denied';
    const entry = ERRORS[code];
    const policyDescription = code === 'policy_denied' || code === 'account_type_mismatch' ? await store.take(denialKey(uid)) : null;
    const to = await provider.interactionResult(req.raw, reply.raw, {
      error: 'oauth' in entry ? entry.oauth : 'access_denied',
      error_description: policyDescription ?? entry.title.en,
    }, { mergeWithLastSubmission: false });
    log.info({ uid, code }, 'login abandoned: back to the portal');
    return reply.redirect(to, 303);
  });

  /** Error pages of this stage offer a retry and a way back to the portal when the interaction lives. */
  app.setErrorHandler(async (err: unknown, req, reply) => {
    if (err instanceof PolicyDenied) {
      const browserValue = browser.read(req);
      const locale = pickLocale((req.query as { lang?: unknown } | undefined)?.lang ?? err.locale);
      return reply.code(403).type('text/html').send(renderRefusal({
        locale, requestId: req.id, support: cfg.ui.supportContact,
        code: err.code === 'account_type_mismatch' ? 'account_type_mismatch' : 'policy_denied',
        message: err.decision.message[locale], rule: ruleLine(err.decision.rule, locale), ruleId: err.decision.rule.id,
        retryHref: `/interaction/${encodeURIComponent(err.uid)}?choose=1`,
        abort: browserValue ? { action: `/interaction/${encodeURIComponent(err.uid)}/abort`, csrf: browser.csrfToken(browserValue, err.uid) } : undefined,
      }));
    }
    const broker = toBrokerError(err);
    const uid = err instanceof TransactionError ? err.tx.uid : (req.params as { uid?: string } | undefined)?.uid;
    const requestId = req.id;
    const entry = broker.entry;
    const logLine = { requestId, code: broker.code, detail: broker.detail, uid, err: broker.code === 'internal' ? err : undefined };
    if (entry.status >= 500) log.error(logLine, 'login step failed');
    else log.warn(logLine, 'login step refused');
    const browserValue = browser.read(req);
    const liveUid = uid && /^[A-Za-z0-9_-]{10,64}$/.test(uid) && broker.code !== 'interaction_expired' ? uid : undefined;
    return reply.code(entry.status).type('text/html').header('cache-control', 'no-store').send(renderErrorPage({
      code: broker.code,
      locale: pickLocale((req.query as { lang?: unknown } | undefined)?.lang),
      requestId,
      support: cfg.ui.supportContact,
      retryHref: liveUid && retryable(broker.code) ? `/interaction/${encodeURIComponent(liveUid)}` : undefined,
      abort: liveUid && browserValue ? { action: `/interaction/${encodeURIComponent(liveUid)}/abort`, csrf: browser.csrfToken(browserValue, liveUid) } : undefined,
    }));
  });
}

function retryable(code: string): boolean {
  return ['upstream_denied', 'upstream_error', 'upstream_unavailable', 'upstream_invalid_response', 'upstream_mixup', 'account_type_mismatch', 'invalid_choice', 'csrf_invalid', 'identity_incomplete', 'account_not_allowed', 'store_unavailable'].includes(code);
}

export function toBrokerError(err: unknown): BrokerError {
  if (err instanceof BrokerError) return err;
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e.name === 'StoreUnavailableError') return new BrokerError('store_unavailable', e.message, { cause: err });
  }
  if (err instanceof z.ZodError) return new BrokerError('not_found', 'malformed path parameter');
  if (err && typeof err === 'object' && 'statusCode' in err && (err as { statusCode: number }).statusCode === 404) return new BrokerError('not_found');
  return new BrokerError('internal', err instanceof Error ? err.message : String(err), { cause: err });
}

/** A policy refusal: rendered with the rule's own explanation, not a catalogue message. */
class PolicyDenied extends BrokerError {
  constructor(readonly decision: Extract<Decision, { outcome: 'deny' }>, readonly uid: string, readonly locale?: string) {
    super(decision.reason === 'account_type_mismatch' ? 'account_type_mismatch' : 'policy_denied', `${decision.reason} under ${decision.rule.id} (policy ${decision.rule.version})`);
  }
}

function logDecision(log: Logger, uid: string, client: ClientConfig, idp: string, accountType: AccountType, d: Decision) {
  const line = { uid, client: client.clientId, province: client.province, idp, accountType, rule: d.rule.id, policyVersion: d.rule.version, outcome: d.outcome };
  if (d.outcome === 'deny') log.warn({ ...line, reason: d.reason }, 'policy decision: deny');
  else if (d.outcome === 'allow' && d.wouldDeny) log.warn({ ...line, reason: d.wouldDeny.reason, reportOnly: true }, 'policy decision: would deny (report-only)');
  else log.info({ ...line, method: d.method.raw, ...(d.outcome === 'require' ? { steps: d.steps } : {}) }, `policy decision: ${d.outcome}`);
}

/** RFC 6749 error_description: printable ASCII without " and \\. */
function toAscii(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '').slice(0, 500);
}
