import t from 'tap';
import * as jose from 'jose';
import { generate } from 'otplib';
import { createLogger } from '../src/ops/logger.js';
import { subjectFor } from '../src/provider/accounts.js';
import { startBroker } from '../src/server.js';
import { Browser, findForm, type Page } from './helpers/browser.js';
import { login, startStack, TestPortal } from './helpers/stack.js';

// OTP step-up with a controlled clock and the dev outbox, over real HTTP and a real Redis.
const clock = { instant: Date.parse('2026-03-02T08:00:00+07:00'), now() { return this.instant; } };
const stack = await startStack({ clock });
t.teardown(() => stack.close());
const portal = new TestPortal(stack);
const jwks = jose.createRemoteJWKSet(new URL(`${stack.issuer}/jwks`));
const ACR2 = { acr_values: 'urn:igate:acr:2' };
const AN = '079088001234';
const anSub = subjectFor({ accountType: 'citizen', nationalId: AN }, stack.cfg.keys.subjectKey);
const epoch = () => Math.floor(clock.instant / 1000);
const totpAt = (secret: string, offsetSteps = 0) => generate({ secret, epoch: epoch() + offsetSteps * 30 });

async function claims(page: Page, req: { verifier: string; state: string; nonce: string }, p = portal) {
  const tokens = await p.exchange(page.url, req);
  return (await jose.jwtVerify(tokens.id_token!, jwks, { issuer: stack.issuer, audience: p.portal.clientId })).payload;
}

async function submitCode(browser: Browser, page: Page, code: string, method?: string) {
  const form = findForm(page.body, '/otp"');
  return browser.submit(page, { code, ...(method ? { method } : {}) }, { action: form.action, stopAt: portal.isCallback });
}

/** Up to the OTP page of a login that asks for acr 2. */
async function toOtp(username = AN, params: Record<string, string> = ACR2, browser = new Browser()) {
  const { page, req } = await login(portal, { idp: 'vneid', username, params, browser });
  return { page, req, browser };
}

let secret = '';

t.test('acr 2 through SMS: code from the phone, ID token with acr 2 and amr sms + mfa', async (t) => {
  const { page, req, browser } = await toOtp();
  t.match(page.url, /\/otp$/, 'after the upstream: the OTP step');
  t.match(page.body, 'Gửi mã OTP tới số 09******89', 'SMS offered to the masked number');
  t.match(page.body, 'Chọn phương thức xác thực khác');
  const sent = await browser.submit(page, {}, { selector: '/otp/send' });
  t.match(sent.body, 'Mã OTP đã được gửi tới số điện thoại 09******89');
  t.match(sent.body, /autocomplete="one-time-code"/);
  t.match(sent.body, /inputmode="numeric"/);
  t.match(sent.body, /<label for="code">Mã OTP<\/label>/);
  const code = stack.outbox.lastCode('0901234289')!;
  t.match(code, /^\d{6}$/);
  const done = await submitCode(browser, sent, code, 'sms');
  const c = await claims(done, req);
  t.equal(c.acr, 'urn:igate:acr:2');
  t.same([...(c.amr as string[])].sort(), ['mfa', 'pwd', 'sms'].sort());
  t.notOk(stack.rawLogs.some((l) => l.includes(code) && !l.includes('devOutbox')), 'the code is in no log line but the dev outbox');
});

t.test('TOTP enrolment during a login: QR and secret, confirmed by a first code, stored encrypted', async (t) => {
  const { page, req, browser } = await toOtp();
  const totpPage = await browser.go(`${page.url}?method=totp`);
  t.match(totpPage.body, '<svg', 'a QR code');
  t.match(totpPage.body, 'Bạn chưa đăng ký ứng dụng xác thực');
  secret = /<code class="secret">([A-Z2-7]+)<\/code>/.exec(totpPage.body)![1]!;
  t.ok(secret.length >= 16);
  t.same(await stack.redis.client.keys(`${stack.redis.keyPrefix}totp:*`), [], 'nothing stored before the first code');
  const done = await submitCode(browser, totpPage, await totpAt(secret), 'totp');
  const c = await claims(done, req);
  t.equal(c.acr, 'urn:igate:acr:2');
  t.ok((c.amr as string[]).includes('otp') && (c.amr as string[]).includes('mfa'));
  const stored = await stack.redis.client.get(`totp:{${anSub}}`);
  t.ok(stored, 'the enrolment is stored');
  t.notOk(stored!.includes(secret), 'not in clear');
  t.match(stored, /^k1\./, 'with the id of the key that sealed it');
});

t.test('a TOTP code works once: the same code in a new login is refused (OTP-02)', async (t) => {
  clock.instant += 60_000;
  const code = await totpAt(secret);
  const first = await toOtp();
  t.match(first.page.body, 'Mở ứng dụng xác thực', 'enrolled: TOTP is the default method');
  const ok = await submitCode(first.browser, first.page, code, 'totp');
  t.ok(portal.isCallback(ok.url));
  const second = await toOtp();
  const again = await submitCode(second.browser, second.page, code, 'totp');
  t.equal(again.status, 400);
  t.match(again.body, 'Mã này đã được sử dụng');
  t.match(again.body, 'Bạn còn 4 lần thử');
});

t.test('window: the current step and one step back are accepted, nothing else (OTP-04)', async (t) => {
  clock.instant += 10 * 60_000;
  const { browser, page } = await toOtp();
  let current = page;
  for (const offset of [2, 1, -2]) {
    current = await submitCode(browser, current, await totpAt(secret, offset), 'totp');
    t.equal(current.status, 400, `step ${offset > 0 ? '+' : ''}${offset} refused`);
  }
  const back = await submitCode(browser, current, await totpAt(secret, -1), 'totp');
  t.ok(portal.isCallback(back.url), 'step -1 accepted');
  const next = await toOtp();
  const now = await submitCode(next.browser, next.page, await totpAt(secret, 0), 'totp');
  t.ok(portal.isCallback(now.url), 'step 0 accepted');
});

t.test('wrong then right; five wrong codes lock OTP for 15 minutes, shared by two instances (OTP-08)', async (t) => {
  clock.instant += 10 * 60_000;
  const wrongThenRight = await toOtp();
  const wrong = await submitCode(wrongThenRight.browser, wrongThenRight.page, '000000', 'totp');
  t.match(wrong.body, 'Mã OTP không đúng. Bạn còn 4 lần thử.');
  const right = await submitCode(wrongThenRight.browser, wrong, await totpAt(secret), 'totp');
  t.ok(portal.isCallback(right.url), 'a right code after a wrong one');

  // A second broker instance on the same Redis, behind the same issuer.
  const second = await startBroker(stack.cfg, { production: false, log: createLogger({ level: 'silent' }), port: 0, clock });
  t.teardown(() => second.close());
  const secondUrl = second.url;
  const { browser, page } = await toOtp();
  let current = page;
  for (let i = 0; i < 3; i++) current = await submitCode(browser, current, '111111', 'totp');
  t.match(current.body, 'Bạn còn 2 lần thử');
  const action = new URL(findForm(current.body, '/otp"').action!, secondUrl).href;
  const csrf = findForm(current.body, '/otp"').fields;
  const fourth = await browser.request(action, { form: { ...csrf, method: 'totp', code: '222222' } });
  t.match(fourth.body, 'Bạn còn 1 lần thử', 'the other instance counts on');
  const fifth = await browser.request(action, { form: { ...csrf, method: 'totp', code: '333333' } });
  t.equal(fifth.status, 429);
  t.match(fifth.body, 'Tạm khoá xác thực OTP');
  t.match(fifth.body, /Bạn có thể thử lại sau \d{2}:\d{2} ngày 02\/03\/2026/);

  const locked = await toOtp();
  t.equal(locked.page.status, 429, 'a new login is locked out too');
  clock.instant += 15 * 60_000 + 1000;
  const after = await toOtp();
  t.equal(after.page.status, 200, 'after 15 minutes OTP works again');
  const ok = await submitCode(after.browser, after.page, await totpAt(secret), 'totp');
  t.ok(portal.isCallback(ok.url));
});

t.test('SMS: resend cooldown, the previous code dies, expiry after 5 minutes (OTP-05, OTP-06, OTP-10)', async (t) => {
  clock.instant += 30 * 60_000;
  const { browser, page, req } = await toOtp();
  const smsPage = await browser.go(`${page.url}?method=sms`);
  const sent = await browser.submit(smsPage, {}, { selector: '/otp/send' });
  const first = stack.outbox.lastCode('0901234289')!;
  t.match(sent.body, /Gửi lại OTP \(sau 60 giây\)/, 'resend waits 60 s');
  const early = await browser.submit(sent, {}, { selector: '/otp/send' });
  t.match(early.body, 'Vui lòng chờ trước khi gửi lại OTP');
  t.equal(stack.outbox.lastCode('0901234289'), first, 'no SMS during the cooldown');
  clock.instant += 61_000;
  const resent = await browser.submit(await browser.go(`${page.url}?method=sms`), {}, { selector: '/otp/send' });
  const second = stack.outbox.lastCode('0901234289')!;
  t.not(second, first);
  const old = await submitCode(browser, resent, first, 'sms');
  t.equal(old.status, 400, 'the first code died with the resend');
  clock.instant += 5 * 60_000 + 1000;
  const expired = await submitCode(browser, old, second, 'sms');
  t.match(expired.body, 'Mã OTP đã hết hạn');
  const third = await browser.submit(await browser.go(`${page.url}?method=sms`), {}, { selector: '/otp/send' });
  t.match(third.body, 'Gửi mã OTP tới số 09******89', 'three SMS per person per 15 minutes: the fourth is refused');
  t.match(third.body, 'Bạn đã yêu cầu gửi mã quá nhiều lần');
  const totp = await browser.go(`${page.url}?method=totp`);
  const done = await submitCode(browser, totp, await totpAt(secret), 'totp');
  t.equal((await claims(done, req)).acr, 'urn:igate:acr:2', 'switching method finishes the login');
});

t.test('a second login within max_age is not asked again; an acr 1 session steps up without the upstream', async (t) => {
  clock.instant += 60 * 60_000;
  const first = await toOtp();
  const done = await submitCode(first.browser, first.page, await totpAt(secret), 'totp');
  await claims(done, first.req);
  const other = new TestPortal(stack, 'daknong');
  const req2 = await other.authorize({ ...ACR2, max_age: '3600' });
  const silent = await first.browser.go(req2.url, other.isCallback);
  t.ok(other.isCallback(silent.url), 'no OTP again within max_age');
  t.equal((await claims(silent, req2, other)).acr, 'urn:igate:acr:2');

  const plain = await login(portal, { idp: 'vneid', username: AN });
  await claims(plain.page, plain.req);
  const req3 = await portal.authorize(ACR2);
  const mark = plain.browser.history.length;
  const stepUp = await plain.browser.go(req3.url, portal.isCallback);
  t.match(stepUp.url, /\/otp$/, 'straight to the OTP step');
  t.notOk(plain.browser.history.slice(mark).some((u) => u.startsWith(stack.vneid.url)), 'the upstream is not asked again');
  clock.instant += 60_000;
  const raised = await submitCode(plain.browser, stepUp, await totpAt(secret), 'totp');
  t.equal((await claims(raised, req3)).acr, 'urn:igate:acr:2');
});

t.test('the OTP step cannot be skipped (OTP-14)', async (t) => {
  const { page, browser } = await toOtp();
  const uid = /\/interaction\/([^/]+)\/otp$/.exec(page.url)![1]!;
  const finish = await browser.request(`${stack.issuer}/interaction/${uid}/finish`);
  t.equal(finish.status, 400, 'the finish step is single use');
  const resume = await browser.follow(await browser.request(`${stack.issuer}/auth/${uid}`), portal.isCallback);
  t.notOk(new URL(resume.url).searchParams.get('code'), 'resuming the authorization without the step gives no code');
});

t.test('the portal may ask with an essential acr claim; discovery lists the acr values', async (t) => {
  const meta = await (await fetch(`${stack.issuer}/.well-known/openid-configuration`)).json() as { acr_values_supported: string[] };
  t.ok(meta.acr_values_supported.includes('urn:igate:acr:2'));
  const claimsParam = JSON.stringify({ id_token: { acr: { essential: true, values: ['urn:igate:acr:2'] } } });
  const { page } = await toOtp(AN, { claims: claimsParam });
  t.match(page.url, /\/otp$/, 'an essential acr asks for the step too');
});

t.test('errors of the OTP step speak the portal\'s ui_locales', async (t) => {
  const { page, browser } = await toOtp(AN, { ...ACR2, ui_locales: 'en' });
  t.match(page.body, 'Additional verification');
  const bad = await submitCode(browser, page, '999999', 'totp');
  t.match(bad.body, 'The code is not correct.');
  const form = findForm(page.body, '/otp"');
  const forged = await browser.request(new URL(form.action!, page.url).href, { form: { method: 'totp', code: '1', csrf: 'forged' } });
  t.equal(forged.status, 403);
  t.match(forged.body, '<html lang="en">', 'the error page too');
});
