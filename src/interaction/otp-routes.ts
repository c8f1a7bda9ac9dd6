import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { BrokerError } from '../errors/catalogue.js';
import { maskId } from '../ops/mask.js';
import { ACR, requestedAcrLevel } from '../provider/accounts.js';
import type { StepUp } from '../stepup/index.js';
import { stepKey, uidParam, type Details, type LoginContext, type LoginInProgress } from './context.js';
import { maskPhoneShort, renderOtpPage, type OtpMethod } from './otp-page.js';
import type { Locale } from './view.js';

/**
 * The OTP step of a login: between the upstream callback and the finish, or alone when an SSO
 * session must step up for a portal's acr. TOTP (with enrolment) or SMS; wrong codes counted
 * per person across instances; every attempt logged without the code.
 */

/** The person is locked out of OTP until `until` (ms). */
export class OtpLocked extends BrokerError {
  constructor(readonly until: number, readonly uid: string) {
    super('otp_locked', `locked until ${new Date(until).toISOString()}`);
  }
}

const otpBody = z.object({ method: z.enum(['totp', 'sms']), code: z.string().trim().max(12) });
const NOTICES = {
  sent: { vi: 'Đã gửi mã OTP.', en: 'The code was sent.' },
  cooldown: { vi: 'Vui lòng chờ trước khi gửi lại OTP.', en: 'Please wait before asking for another code.' },
  limited: { vi: 'Bạn đã yêu cầu gửi mã quá nhiều lần. Vui lòng thử lại sau 15 phút hoặc chọn phương thức xác thực khác.', en: 'Too many codes were requested. Try again in 15 minutes or choose another verification method.' },
  failed: { vi: 'Không gửi được tin nhắn lúc này. Vui lòng thử lại sau ít phút hoặc chọn phương thức xác thực khác (ứng dụng xác thực).', en: 'The text message could not be sent now. Try again in a few minutes or use another verification method (authenticator app).' },
} as const;

/** An SSO session that lacks only the OTP step: start it from the session's own login record. */
export async function startSessionStepUp(login: LoginContext, d: Details): Promise<boolean> {
  const uid = d.session?.uid;
  if (!uid || requestedAcrLevel(d.params) >= 3) return false;
  const session = await login.deps.provider.Session.findByUid(uid);
  const record = session?.accountId ? await login.deps.logins.find(session.accountId, session.loginTs) : undefined;
  if (!record) return false;
  await login.saveStep(d.uid, {
    identity: record.identity, accountType: record.chosenAccountType, idToken: record.upstreamIdToken, ruleId: record.policyRule,
    steps: ['otp'], done: record.amr,
  });
  login.deps.log.info({ uid: d.uid }, 'step-up of an existing session');
  return true;
}

export async function otpRoutes(app: FastifyInstance, login: LoginContext, stepup: StepUp): Promise<void> {
  const { browser, log, clock, cfg } = login.deps;

  function methodsFor(l: LoginInProgress): OtpMethod[] {
    return [...(stepup.totp ? ['totp' as const] : []), ...(stepup.sms && l.identity.phone ? ['sms' as const] : [])];
  }

  async function load(req: FastifyRequest, reply: FastifyReply) {
    const { uid } = uidParam.parse(req.params);
    const d = await login.details(req, reply, uid);
    const l = await login.loadStep(uid);
    if (!l.steps.includes('otp')) throw new BrokerError('interaction_expired', 'no OTP step pending for this login');
    const person = login.subOf(l.identity);
    const until = await stepup.attempts.lockedUntil(person);
    if (until) throw new OtpLocked(until, uid);
    const methods = methodsFor(l);
    if (methods.length === 0) throw new BrokerError('step_unavailable', 'no OTP method for this person (TOTP disabled and no phone number)');
    return { uid, d, l, person, methods, locale: login.localeOf(req, d) };
  }

  async function page(req: FastifyRequest, reply: FastifyReply, s: Awaited<ReturnType<typeof load>>, want: unknown, status = 200, error?: string, info?: string) {
    const enrolled = stepup.totp ? await stepup.totp.enrolled(s.person) : false;
    const method: OtpMethod = want === 'sms' || want === 'totp' ? (s.methods.includes(want) ? want : s.methods[0]!)
      : enrolled || !s.methods.includes('sms') ? s.methods[0]! : 'sms';
    const label = maskId(s.l.identity.nationalId ?? s.l.identity.taxCode) ?? 'igate';
    const enrolment = method === 'totp' && !enrolled ? await stepup.totp!.startEnrolment(s.uid, s.person, label) : undefined;
    const pending = method === 'sms' ? await stepup.sms!.pending(s.uid) : undefined;
    const now = clock.now();
    return reply.code(status).type('text/html').send(renderOtpPage({
      locale: s.locale, uid: s.uid, csrf: browser.csrfToken(browser.ensure(req, reply), s.uid), support: cfg.ui.supportContact,
      method, methods: s.methods, error, info,
      enrolment: enrolment ? { qrSvg: enrolment.qrSvg, secret: enrolment.secret } : undefined,
      sms: method === 'sms' ? {
        phone: maskPhoneShort(s.l.identity.phone!), sent: Boolean(pending && pending.expiresAt > now),
        resendInSeconds: pending ? Math.max(0, Math.ceil((pending.sentAt + cfg.stepup!.sms.resendCooldownSeconds * 1000 - now) / 1000)) : 0,
      } : undefined,
    }));
  }

  function checkCsrf(req: FastifyRequest) {
    const { uid } = uidParam.parse(req.params);
    if (!browser.checkCsrf(req, uid, (req.body as { csrf?: unknown } | undefined)?.csrf)) throw new BrokerError('csrf_invalid');
  }

  app.get('/interaction/:uid/otp', async (req, reply) => {
    const s = await load(req, reply);
    const q = req.query as { method?: unknown; n?: unknown };
    const notice = typeof q.n === 'string' && q.n in NOTICES ? NOTICES[q.n as keyof typeof NOTICES][s.locale] : undefined;
    const failed = q.n === 'failed' || q.n === 'limited';
    return page(req, reply, s, q.method, 200, failed ? notice : undefined, failed ? undefined : notice);
  });

  app.post('/interaction/:uid/otp/send', async (req, reply) => {
    checkCsrf(req);
    const s = await load(req, reply);
    if (!s.methods.includes('sms')) throw new BrokerError('invalid_choice', 'SMS not available for this login');
    const r = await stepup.sms!.send(s.uid, s.person, s.l.identity.phone!, req.ip);
    const level = r.status === 'sent' ? 'info' : 'warn';
    log[level]({ uid: s.uid, method: 'sms', status: r.status, sender: stepup.sender?.kind }, 'OTP send');
    await login.audit(req, { event: 'otp.sent', outcome: r.status === 'sent' ? 'success' : 'failure', reason: r.status, ...login.who(s.l, s.d), detail: { method: 'sms' } });
    return reply.redirect(`/interaction/${encodeURIComponent(s.uid)}/otp?method=sms&n=${r.status}`, 303);
  });

  app.post('/interaction/:uid/otp', async (req, reply) => {
    checkCsrf(req);
    const s = await load(req, reply);
    const body = otpBody.safeParse(req.body);
    if (!body.success || !s.methods.includes(body.data.method)) throw new BrokerError('invalid_choice', 'malformed OTP form');
    const { method, code } = body.data;
    let result: 'ok' | 'invalid' | 'replayed' | 'expired';
    if (method === 'totp') {
      result = (await stepup.totp!.enrolled(s.person)) ? await stepup.totp!.verify(s.person, code) : await stepup.totp!.confirmEnrolment(s.uid, s.person, code);
    } else {
      result = await stepup.sms!.verify(s.uid, code);
    }
    if (result === 'ok') {
      await stepup.attempts.succeed(s.person);
      log.info({ uid: s.uid, method }, 'OTP verified');
      await login.audit(req, { event: 'otp.verified', outcome: 'success', ...login.who(s.l, s.d), detail: { method } });
      const next: LoginInProgress = { ...s.l, steps: s.l.steps.filter((x) => x !== 'otp'), done: [...s.l.done, method === 'totp' ? 'otp' : 'sms', 'mfa'] };
      if (next.steps.includes('signature')) {
        await login.saveStep(s.uid, next);
        return reply.redirect(`/interaction/${encodeURIComponent(s.uid)}/signature`, 303);
      }
      return login.finish(req, reply, s.d, next, ACR.otp, next.done);
    }
    const attempt = await stepup.attempts.fail(s.person);
    log.warn({ uid: s.uid, method, result, remaining: attempt.remaining, locked: Boolean(attempt.lockedUntil) }, 'OTP failed');
    await login.audit(req, { event: 'otp.failed', outcome: 'failure', reason: result, ...login.who(s.l, s.d), detail: { method, remaining: attempt.remaining } });
    if (attempt.lockedUntil) {
      await login.deps.store.del([stepKey(s.uid)]); // this login is refused
      throw new OtpLocked(attempt.lockedUntil, s.uid);
    }
    return page(req, reply, s, method, 400, failMessage(result, attempt.remaining, s.locale));
  });
}

function failMessage(result: 'invalid' | 'replayed' | 'expired', remaining: number, l: Locale): string {
  const left = l === 'vi' ? ` Bạn còn ${remaining} lần thử.` : ` ${remaining} attempt${remaining === 1 ? '' : 's'} left.`;
  switch (result) {
    case 'replayed': return (l === 'vi' ? 'Mã này đã được sử dụng. Vui lòng chờ ứng dụng hiển thị mã mới rồi nhập lại.' : 'This code was already used. Wait for the app to show a new code and enter it.') + left;
    case 'expired': return (l === 'vi' ? 'Mã OTP đã hết hạn hoặc chưa được gửi. Bấm "Gửi lại OTP" để nhận mã mới.' : 'The code has expired or was not sent. Click "Resend the code" to get a new one.') + left;
    default: return (l === 'vi' ? 'Mã OTP không đúng.' : 'The code is not correct.') + left;
  }
}
