import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AccountType, ClientConfig } from '../config/schema.js';
import { BrokerError, ERRORS } from '../errors/catalogue.js';
import type { Logger } from '../ops/logger.js';
import { maskId } from '../ops/mask.js';
import { evaluateChoice, evaluateIdentity, ruleLine, type Decision } from '../policy/index.js';
import { ACR, requestedAcrLevel } from '../provider/accounts.js';
import { completeTransaction, startTransaction, TransactionError } from '../upstream/index.js';
import type { UpstreamClient } from '../upstream/client.js';
import { chooserView } from './chooser.js';
import {
  denialKey, IN_PROGRESS_TTL, LoginContext, loginInProgress, pendingKey, PolicyDenied, uidParam,
  type Details, type InteractionDeps, type LoginInProgress,
} from './context.js';
import { OtpLocked, otpRoutes, startSessionStepUp } from './otp-routes.js';
import { signatureRoutes } from './signature-routes.js';
import { renderChooser, renderErrorPage, renderLoggedOut, renderRefusal, type ChoiceGroup } from './pages.js';
import { pickLocale, type Locale } from './view.js';

export type { InteractionDeps } from './context.js';

const chooseBody = z.object({ fresh: z.literal('1').optional(), choice: z.string().regex(/^(citizen|business):[a-z][a-z0-9_-]*$/) });
const abortBody = z.object({ csrf: z.string(), code: z.string().optional() });

export async function interactionRoutes(app: FastifyInstance, deps: InteractionDeps): Promise<void> {
  const { cfg, provider, store, upstreams, browser, clock, log } = deps;
  const login = new LoginContext(deps);
  const details = (req: FastifyRequest, reply: FastifyReply, uid: string) => login.details(req, reply, uid);
  const clientOf = (d: Details) => login.clientOf(d);
  const localeOf = (req: FastifyRequest, d?: Details) => login.localeOf(req, d);

  async function toUpstream(req: FastifyRequest, reply: FastifyReply, d: Details, up: UpstreamClient, accountType: AccountType | undefined, locale: Locale, fresh = false) {
    // Upstream logins per IP per minute, counted in the store for all instances.
    const started = await store.increment(`rl-login:{${req.ip}}:${Math.floor(clock.now() / 60_000)}`, 120);
    if (started > cfg.limits.loginsPerIpPerMinute) {
      reply.header('retry-after', '60');
      throw new BrokerError('too_many_requests', `${started} upstream logins from ${req.ip} this minute`);
    }
    const forceLogin = fresh || d.prompt.reasons.includes('login_prompt') || d.prompt.reasons.includes('max_age');
    const url = await startTransaction(store, up, {
      uid: d.uid, accountType, browserId: browser.ensure(req, reply), forceLogin, locale, now: clock.now(),
    });
    log.info({ uid: d.uid, client: d.params.client_id, idp: up.name, accountType, forceLogin }, 'upstream redirect');
    const client = clientOf(d);
    await login.audit(req, { event: 'upstream.redirect', outcome: 'info', client: client.clientId, province: client.province, idp: up.name, accountType, interactionId: d.uid, detail: { forceLogin } });
    return reply.redirect(url.href, 303);
  }

  // The chooser: account type × upstream, as the policy allows today. idp_hint skips it.
  app.get('/interaction/:uid', async (req, reply) => {
    const { uid } = uidParam.parse(req.params);
    const d = await details(req, reply, uid);
    const client = clientOf(d);
    const locale = localeOf(req, d);
    // An SSO session that only lacks a step-up (acr asked by the portal): OTP, not the upstream again.
    if (deps.stepup && onlyStepUpMissing(d)) {
      const started = await startSessionStepUp(login, d);
      if (started) return reply.redirect(`/interaction/${encodeURIComponent(uid)}/otp`, 303);
    }
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
    await login.audit(req, { event: 'chooser.shown', outcome: 'info', client: client.clientId, province: client.province, interactionId: uid, policyVersion: deps.policy().version, detail: { options: view.options.map((o) => `${o.group}:${o.idp}`).join(' ') } });
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
    const pending: LoginInProgress = { identity, accountType: tx.accountType, idToken, steps: [], done: [] };
    await Promise.all([
      store.set(pendingKey(tx.uid), JSON.stringify(pending), IN_PROGRESS_TTL),
      login.audit(req, { event: 'upstream.callback', outcome: 'success', idp: up.name, interactionId: tx.uid, person: { nationalId: identity.nationalId, taxCode: identity.taxCode, accountType: identity.accountType }, amr: identity.amr }),
    ]);
    log.info({ uid: tx.uid, idp: up.name, accountType: identity.accountType, nationalId: maskId(identity.nationalId), taxCode: maskId(identity.taxCode) }, 'upstream callback ok');
    return reply.redirect(`/interaction/${encodeURIComponent(tx.uid)}/finish`, 303);
  });

  app.get('/interaction/:uid/finish', async (req, reply) => {
    const { uid } = uidParam.parse(req.params);
    const d = await details(req, reply, uid);
    const client = clientOf(d);
    const raw = await store.take(pendingKey(uid));
    if (!raw) throw new BrokerError('interaction_expired', 'no upstream result for this interaction (replayed or expired finish)');
    const pending = loginInProgress.parse(JSON.parse(raw));
    const { identity } = pending;
    const decision = evaluateIdentity(deps.policy(), client.province, { identity, chosen: pending.accountType }, clock.now());
    logDecision(log, uid, client, identity.idp, identity.accountType, decision);
    await login.audit(req, {
      event: 'policy.decision', outcome: decision.outcome === 'deny' ? 'deny' : decision.outcome === 'allow' && decision.wouldDeny ? 'would_deny' : decision.outcome === 'require' ? 'info' : 'success',
      reason: decision.outcome === 'deny' ? decision.reason : decision.outcome === 'allow' ? decision.wouldDeny?.reason : `require ${decision.steps.join('+')}`,
      ...login.who(pending, d), rule: decision.rule.id, policyVersion: decision.rule.version,
    });
    if (decision.outcome === 'deny') {
      await store.set(denialKey(uid), toAscii(`${decision.message.en} (rule ${decision.rule.id})`), IN_PROGRESS_TTL);
      throw new PolicyDenied(decision, uid, localeOf(req, d));
    }
    // Steps before the finish: what the rule's method needs, and what the portal's acr asks for.
    const wanted = requestedAcrLevel(d.params);
    const steps = new Set(decision.outcome === 'require' ? decision.steps : []);
    // acr 2: a one-time code; acr 3: a verified digital signature (a stronger proof than the code).
    if (wanted === 2) steps.add('otp');
    if (wanted >= 3) steps.add('signature');
    const done = [...identity.amr];
    // The operator may accept DVCQG's own USB/SIM signature login as the signature (off by default).
    if (steps.has('signature') && deps.signatures?.upstreamSignatureSufficient && identity.amr.some((m) => m === 'hwk' || m === 'sc')) steps.delete('signature');
    const login_: LoginInProgress = { ...pending, ruleId: decision.rule.id, steps: [...steps], done };
    if (steps.size === 0) {
      const signedUpstream = wanted >= 3 || (decision.outcome === 'require' && decision.steps.includes('signature'));
      return login.finish(req, reply, d, login_, signedUpstream ? ACR.signature : ACR.upstream, done);
    }
    if (steps.has('otp') && !deps.stepup) throw new BrokerError('step_unavailable', 'OTP step-up is not configured (stepup section)');
    if (steps.has('signature') && !deps.signatures) throw new BrokerError('step_unavailable', 'signature verification is not configured (signature section)');
    await login.saveStep(uid, login_);
    return reply.redirect(`/interaction/${encodeURIComponent(uid)}/${steps.has('otp') ? 'otp' : 'signature'}`, 303);
  });

  if (deps.stepup) await otpRoutes(app, login, deps.stepup);
  if (deps.signatures) await signatureRoutes(app, login, deps.signatures, deps.devSign);

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
    const d = await details(req, reply, uid);
    const code = body.data.code && body.data.code in ERRORS ? (body.data.code as keyof typeof ERRORS) : 'upstream_denied';
    const entry = ERRORS[code];
    const policyDescription = code === 'policy_denied' || code === 'account_type_mismatch' ? await store.take(denialKey(uid)) : null;
    const to = await provider.interactionResult(req.raw, reply.raw, {
      error: 'oauth' in entry ? entry.oauth : 'access_denied',
      error_description: policyDescription ?? entry.title.en,
    }, { mergeWithLastSubmission: false });
    log.info({ uid, code }, 'login abandoned: back to the portal');
    await login.audit(req, { event: 'login.abandoned', outcome: 'failure', reason: code, interactionId: uid, client: clientOf(d).clientId, province: clientOf(d).province });
    return reply.redirect(to, 303);
  });

  /** Error pages of this stage offer a retry and a way back to the portal when the interaction lives. */
  app.setErrorHandler(async (err: unknown, req, reply) => {
    if (err instanceof PolicyDenied) {
      await login.audit(req, { event: 'login.refused', outcome: 'deny', reason: err.code, interactionId: err.uid, rule: err.decision.rule.id, policyVersion: err.decision.rule.version })
        .catch((e: unknown) => log.error({ err: { message: (e as Error).message } }, 'audit of a refusal failed'));
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
    // No refusal goes unrecorded; an audit failure here is logged (the page is shown anyway).
    const event = req.url.startsWith('/upstream/') ? 'upstream.callback' : err instanceof OtpLocked ? 'otp.locked' : 'login.refused';
    await login.audit(req, { event, outcome: 'failure', reason: broker.code, interactionId: uid && /^[A-Za-z0-9_-]{10,64}$/.test(uid) ? uid : undefined, idp: err instanceof TransactionError ? err.tx.idp : undefined })
      .catch((e: unknown) => log.error({ err: { message: (e as Error).message } }, 'audit of a refusal failed'));
    const browserValue = browser.read(req);
    const liveUid = uid && /^[A-Za-z0-9_-]{10,64}$/.test(uid) && broker.code !== 'interaction_expired' ? uid : undefined;
    // The page speaks the login's language: ?lang, else the transaction's, else the portal's ui_locales.
    const lang = (req.query as { lang?: unknown } | undefined)?.lang ?? (err instanceof TransactionError ? err.tx.locale : undefined)
      ?? (liveUid && req.url.startsWith('/interaction/') ? (await login.details(req, reply, liveUid).catch(() => undefined))?.params.ui_locales : undefined);
    const note = err instanceof OtpLocked ? lockNote(err.until, cfg.policy.timezone, pickLocale(lang)) : undefined;
    return reply.code(entry.status).type('text/html').header('cache-control', 'no-store').send(renderErrorPage({
      code: broker.code,
      locale: pickLocale(lang),
      requestId,
      support: cfg.ui.supportContact,
      note,
      retryHref: liveUid && retryable(broker.code) ? `/interaction/${encodeURIComponent(liveUid)}${broker.code.startsWith('signature_') ? '/signature' : ''}` : undefined,
      abort: liveUid && browserValue ? { action: `/interaction/${encodeURIComponent(liveUid)}/abort`, csrf: browser.csrfToken(browserValue, liveUid) } : undefined,
    }));
  });
}

function lockNote(until: number, timeZone: string, l: Locale): string {
  const at = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', day: '2-digit', month: '2-digit', year: 'numeric', hourCycle: 'h23' }).formatToParts(new Date(until));
  const p = (t: string) => at.find((x) => x.type === t)?.value ?? '';
  const when = `${p('hour')}:${p('minute')} ${l === 'vi' ? 'ngày' : 'on'} ${p('day')}/${p('month')}/${p('year')}`;
  return l === 'vi' ? `Bạn có thể thử lại sau ${when}.` : `You can try again after ${when}.`;
}

/** The login prompt's only reasons are ours for a missing step-up (and the provider's acr checks). */
function onlyStepUpMissing(d: Details): boolean {
  const reasons = d.prompt.reasons;
  return d.session?.accountId !== undefined && reasons.includes('broker_stepup_required')
    && reasons.every((r) => ['broker_stepup_required', 'essential_acr', 'essential_acrs'].includes(r));
}

function retryable(code: string): boolean {
  return code.startsWith('signature_') || ['too_many_requests', 'upstream_denied', 'upstream_error', 'upstream_unavailable', 'upstream_invalid_response', 'upstream_mixup', 'account_type_mismatch', 'invalid_choice', 'csrf_invalid', 'identity_incomplete', 'account_not_allowed', 'store_unavailable'].includes(code);
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
