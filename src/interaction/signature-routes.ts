import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { BrokerError, type ErrorCode } from '../errors/catalogue.js';
import { ACR } from '../provider/accounts.js';
import { SignatureError, type Proof, type Signatures } from '../signature/index.js';
import { uidParam, type LoginContext, type LoginInProgress } from './context.js';
import { html, layout, type Locale } from './view.js';

/**
 * The business signature step: the page hands this login's challenge to the signer the business
 * has (VNPT-CA / BkavCA plugin: CMS; VGCA Sign Service: JWS with x5c) and posts the result back.
 * Protocol (README "Signing protocol"): POST /interaction/<uid>/signature, form fields
 * csrf, format=cms|jws, device=usb|sim, signature=<base64 CMS or compact JWS>.
 */

const body = z.object({ format: z.enum(['cms', 'jws']), device: z.enum(['usb', 'sim']).default('usb'), signature: z.string().min(16).max(200_000) });

/** A signed development signer for the dev stack's "sign" button: never configured in production. */
export type DevSign = (challenge: string, taxCode: string) => Promise<string | undefined>;

const T = {
  title: { vi: 'Ký số xác nhận doanh nghiệp', en: 'Sign to confirm the business' },
  intro: {
    vi: 'Tổ chức, doanh nghiệp đăng nhập bằng tài khoản Cổng Dịch vụ công quốc gia cần ký số để xác nhận. Cắm USB ký số (hoặc dùng SIM ký số) của doanh nghiệp và ký nội dung dưới đây bằng công cụ ký số (VNPT-CA Plugin, BkavCA, VGCA Sign Service, …).',
    en: 'Organisations and businesses logging in with a National Public Service Portal account confirm with a digital signature. Plug in the business USB token (or use its SIM signature) and sign the content below with your signing tool (VNPT-CA Plugin, BkavCA, VGCA Sign Service, …).',
  },
  business: { vi: 'Doanh nghiệp', en: 'Business' },
  mst: { vi: 'Mã số thuế (MST)', en: 'Tax code (MST)' },
  content: { vi: 'Nội dung cần ký (hiệu lực 5 phút, dùng một lần)', en: 'Content to sign (valid 5 minutes, once)' },
  format: { vi: 'Định dạng chữ ký', en: 'Signature format' },
  device: { vi: 'Thiết bị ký', en: 'Signing device' },
  usb: { vi: 'USB ký số', en: 'USB token' },
  sim: { vi: 'SIM ký số', en: 'SIM signature' },
  signature: { vi: 'Chữ ký (do công cụ ký số trả về)', en: 'Signature (returned by the signing tool)' },
  submit: { vi: 'XÁC NHẬN CHỮ KÝ SỐ', en: 'CONFIRM SIGNATURE' },
  dev: { vi: 'Ký thử bằng chứng thư số thử nghiệm (chỉ môi trường phát triển)', en: 'Sign with the test certificate (development only)' },
} as const;

export async function signatureRoutes(app: FastifyInstance, login: LoginContext, signatures: Signatures, devSign?: DevSign): Promise<void> {
  const { browser, log, cfg } = login.deps;

  async function load(req: FastifyRequest, reply: FastifyReply) {
    const { uid } = uidParam.parse(req.params);
    const d = await login.details(req, reply, uid);
    const l = await login.loadStep(uid);
    if (!l.steps.includes('signature')) throw new BrokerError('interaction_expired', 'no signature step pending for this login');
    const taxCode = l.identity.taxCode;
    if (!taxCode) throw new BrokerError('identity_incomplete', 'a signature step for an account without a tax code');
    return { uid, d, l, taxCode, locale: login.localeOf(req, d) };
  }

  function checkCsrf(req: FastifyRequest, uid: string) {
    if (!browser.checkCsrf(req, uid, (req.body as { csrf?: unknown } | undefined)?.csrf)) throw new BrokerError('csrf_invalid');
  }

  async function complete(req: FastifyRequest, reply: FastifyReply, s: Awaited<ReturnType<typeof load>>, proof: Proof, device: 'usb' | 'sim') {
    let verified;
    try {
      verified = await signatures.verify(s.uid, s.taxCode, proof);
    } catch (err) {
      if (!(err instanceof SignatureError)) throw err;
      log.warn({ uid: s.uid, reason: err.reason, serial: err.certificate?.serial, issuer: err.certificate?.issuer, detail: err.message }, 'signature refused');
      await login.audit(req, { event: 'signature.refused', outcome: 'failure', reason: err.reason, ...login.who(s.l, s.d), detail: { serial: err.certificate?.serial ?? '', issuer: err.certificate?.issuer ?? '', format: proof.format } });
      throw new BrokerError(err.reason as ErrorCode, err.message, { cause: err });
    }
    log.info({ uid: s.uid, serial: verified.certificate.serial, issuer: verified.certificate.issuer, format: proof.format, device }, 'signature verified');
    await login.audit(req, { event: 'signature.verified', outcome: 'success', ...login.who(s.l, s.d), detail: { serial: verified.certificate.serial, issuer: verified.certificate.issuer, format: proof.format, device } });
    const next: LoginInProgress = {
      ...s.l, steps: s.l.steps.filter((x) => x !== 'signature'), done: [...s.l.done, device === 'sim' ? 'sc' : 'hwk'],
      signature: { serial: verified.certificate.serial, issuer: verified.certificate.issuer, device },
    };
    if (next.steps.length) throw new BrokerError('step_unavailable', `steps left after the signature: ${next.steps.join(',')}`);
    return login.finish(req, reply, s.d, next, ACR.signature, next.done);
  }

  app.get('/interaction/:uid/signature', async (req, reply) => {
    const s = await load(req, reply);
    const challenge = await signatures.challenge(s.uid, s.taxCode);
    const csrf = browser.csrfToken(browser.ensure(req, reply), s.uid);
    const canDevSign = devSign ? Boolean(await devSign('probe', s.taxCode)) : false;
    return reply.type('text/html').send(page(s.locale, s.uid, csrf, s.l, s.taxCode, challenge.content, canDevSign, cfg.ui.supportContact));
  });

  app.post('/interaction/:uid/signature', async (req, reply) => {
    const s = await load(req, reply);
    checkCsrf(req, s.uid);
    const b = body.safeParse(req.body);
    if (!b.success) throw new BrokerError('signature_malformed', 'form fields format/signature missing');
    return complete(req, reply, s, { format: b.data.format, signature: b.data.signature }, b.data.device);
  });

  if (devSign) {
    app.post('/interaction/:uid/signature/dev', async (req, reply) => {
      const s = await load(req, reply);
      checkCsrf(req, s.uid);
      const challenge = await signatures.challenge(s.uid, s.taxCode);
      const signature = await devSign(challenge.content, s.taxCode);
      if (!signature) throw new BrokerError('signature_untrusted', `no development certificate for MST ${s.taxCode}`);
      return complete(req, reply, s, { format: 'cms', signature }, 'usb');
    });
  }
}

function page(l: Locale, uid: string, csrf: string, login: LoginInProgress, taxCode: string, challenge: string, canDevSign: boolean, support: string): string {
  const action = `/interaction/${encodeURIComponent(uid)}/signature`;
  return layout({
    locale: l,
    title: T.title[l],
    support,
    body: html`<p>${T.intro[l]}</p>
<div class="card"><p>${T.business[l]}: <strong>${login.identity.organizationName ?? ''}</strong><br>${T.mst[l]}: <strong>${taxCode}</strong></p>
<label for="challenge">${T.content[l]}</label>
<textarea id="challenge" readonly rows="4" data-challenge-base64="${Buffer.from(challenge).toString('base64')}">${challenge}</textarea></div>
<form method="post" action="${action}" class="card">
<input type="hidden" name="csrf" value="${csrf}">
<label for="format">${T.format[l]}</label>
<select id="format" name="format"><option value="cms">CMS / PKCS#7 (VNPT-CA, BkavCA)</option><option value="jws">JWS (VGCA Sign Service)</option></select>
<fieldset><legend>${T.device[l]}</legend>
<label><input type="radio" name="device" value="usb" checked> ${T.usb[l]}</label> <label><input type="radio" name="device" value="sim"> ${T.sim[l]}</label></fieldset>
<label for="signature">${T.signature[l]}</label>
<textarea id="signature" name="signature" rows="6" required spellcheck="false"></textarea>
<button type="submit">${T.submit[l]}</button>
</form>
${canDevSign ? html`<form method="post" action="${action}/dev"><input type="hidden" name="csrf" value="${csrf}"><button type="submit" class="secondary">${T.dev[l]}</button></form>` : ''}`,
  });
}
