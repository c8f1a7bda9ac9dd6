import t from 'tap';
import { Browser, findForm, type Page } from './helpers/browser.js';
import { login, OTP, PASSWORD, startStack, TestPortal } from './helpers/stack.js';

// What the broker refuses on its upstream side (OpenID client of DVCQG and VNeID).
const stack = await startStack();
t.teardown(() => stack.close());
const portal = new TestPortal(stack);
const isCallback = (idp: string) => (u: string) => u.includes(`/upstream/${idp}/callback`);

/** Log in at the upstream but stop before the callback is delivered: returns the callback URL. */
async function callbackUrl(idp: 'vneid' | 'dvcqg', username: string, browser = new Browser(), accountType = 'citizen') {
  const req = await portal.authorize();
  const chooser = await browser.go(req.url);
  const loginPage = await browser.submit(chooser, { choice: `${accountType}:${idp}` });
  const otp = await browser.submit(loginPage, { username, password: PASSWORD });
  const stop = await browser.submit(otp, { otp: OTP }, { stopAt: isCallback(idp) });
  t.match(stop.url, `/upstream/${idp}/callback`);
  return { url: stop.url, browser, req };
}

async function storedKeys(pattern: string) {
  return stack.redis.client.keys(`${stack.redis.keyPrefix}${pattern}`);
}

t.test('the person cancels at the upstream: retry, or back to the portal with access_denied (FT-09)', async (t) => {
  const { page, browser } = await login(portal, { idp: 'vneid', username: '079088009101' });
  t.equal(page.status, 400);
  t.match(page.body, 'Bạn đã huỷ đăng nhập');
  t.match(page.body, 'upstream_denied');
  const retry = /href="(\/interaction\/[^"]+)"/.exec(page.body)?.[1];
  t.ok(retry, 'a retry link');
  const again = await browser.go(new URL(retry!, stack.issuer).href);
  t.match(again.body, 'name="choice"', 'retry shows the chooser of the same login');

  const back = await browser.submit(page, {}, { selector: '/abort', stopAt: portal.isCallback });
  const u = new URL(back.url);
  t.equal(u.origin + u.pathname, portal.portal.redirectUri);
  t.equal(u.searchParams.get('error'), 'access_denied', 'the portal learns the person gave up');
  t.ok(u.searchParams.get('state'), 'with its state');
});

t.test('upstream token endpoint error → upstream_error page, in the language of the login', async (t) => {
  const { page } = await login(portal, { idp: 'vneid', username: '079088009102' });
  t.equal(page.status, 502);
  t.match(page.body, 'Hệ thống xác thực báo lỗi');
  t.match(page.body, /Mã yêu cầu: <code>req-/);
  const en = await login(portal, { idp: 'vneid', username: '079088009102', params: { ui_locales: 'en' } });
  t.match(en.page.body, 'The identity provider reported an error');
});

t.test('upstream slower than its timeout → upstream_unavailable, fast (FT-07)', async (t) => {
  const started = Date.now();
  const { page } = await login(portal, { idp: 'dvcqg', username: '079088009002' });
  const took = Date.now() - started;
  t.equal(page.status, 503);
  t.match(page.body, 'upstream_unavailable');
  t.ok(took < 7500, `answered in ${took} ms, before the upstream's 8 s answer`);
});

t.test('missing national identifier → identity_incomplete with what to do', async (t) => {
  const { page } = await login(portal, { idp: 'dvcqg', username: '079088009003' });
  t.equal(page.status, 502);
  t.match(page.body, 'Tài khoản thiếu thông tin định danh');
  t.match(page.body, 'cập nhật thông tin tài khoản');
});

t.test('a DVCQG administrator account is never accepted', async (t) => {
  const { page } = await login(portal, { idp: 'dvcqg', username: 'canbo.lamdong' });
  t.equal(page.status, 403);
  t.match(page.body, 'account_not_allowed');
});

t.test('a citizen who chose "business" is refused after the upstream', async (t) => {
  const { page } = await login(portal, { idp: 'dvcqg', accountType: 'business', username: '079088001234' });
  t.equal(page.status, 403);
  t.match(page.body, 'Loại tài khoản không khớp');
  t.notOk(portal.isCallback(page.url), 'no code');
});

t.test('the upstream callback is single use (AT-05) and needs its state (AT-04)', async (t) => {
  const { url, browser, req } = await callbackUrl('vneid', '079088001234');
  const done = await browser.follow(await browser.request(url), portal.isCallback);
  t.ok(portal.isCallback(done.url), 'the first delivery logs in');
  await portal.exchange(done.url, req);
  const replay = await browser.request(url);
  t.equal(replay.status, 403);
  t.match(replay.body, 'upstream_state_invalid');

  const u = new URL(url);
  u.searchParams.delete('state');
  const missing = await browser.request(u.href);
  t.equal(missing.status, 400);
  t.match(missing.body, 'upstream_state_missing');

  u.searchParams.set('state', 'forged-state-value');
  const forged = await browser.request(u.href);
  t.equal(forged.status, 403);
});

t.test('login CSRF: a callback URL opened in another browser does not log that browser in (AT-06)', async (t) => {
  const attacker = await callbackUrl('vneid', '079088001234');
  const victim = new Browser();
  await victim.go((await portal.authorize()).url); // the victim has cookies of their own
  const page = await victim.follow(await victim.request(attacker.url), portal.isCallback);
  t.equal(page.status, 403);
  t.match(page.body, 'upstream_browser_mismatch');
  t.notOk(portal.isCallback(page.url));
});

t.test('mix-up: a VNeID transaction delivered to the DVCQG callback, or a foreign iss (AT-01, AT-02, PC-20)', async (t) => {
  const a = await callbackUrl('vneid', '079088001234');
  const crossed = a.url.replace('/upstream/vneid/callback', '/upstream/dvcqg/callback');
  const page = await a.browser.request(crossed);
  t.equal(page.status, 403);
  t.match(page.body, 'upstream_mixup');

  for (const iss of [stack.dvcqg.issuer, `${stack.vneid.issuer}/`]) {
    const b = await callbackUrl('vneid', '079088001234');
    const u = new URL(b.url);
    u.searchParams.set('iss', iss);
    const res = await b.browser.request(u.href);
    t.equal(res.status, 403, `iss ${iss} refused`);
    t.match(res.body, 'upstream_mixup');
  }
  const c = await callbackUrl('vneid', '079088001234');
  const noIss = new URL(c.url);
  noIss.searchParams.delete('iss');
  t.equal((await c.browser.request(noIss.href)).status, 403, 'iss missing although advertised');
});

t.test('an ID token whose nonce is not the transaction nonce is refused (AT-07)', async (t) => {
  const { url, browser } = await callbackUrl('dvcqg', '079088001234');
  const state = new URL(url).searchParams.get('state')!;
  const key = `utx:{${state}}`;
  const tx = JSON.parse((await stack.redis.client.get(key))!) as Record<string, unknown>;
  await stack.redis.client.set(key, JSON.stringify({ ...tx, nonce: 'another-transaction-nonce' }), 'EX', 60);
  const page = await browser.request(url);
  t.equal(page.status, 502);
  t.match(page.body, 'upstream_invalid_response');
});

t.test('the chooser form needs its CSRF token, bound to the browser', async (t) => {
  const browser = new Browser();
  const chooser = await browser.go((await portal.authorize()).url);
  const form = findForm(chooser.body);
  const noToken = await browser.request(new URL(form.action!, chooser.url).href, { form: { choice: 'citizen:vneid' } });
  t.equal(noToken.status, 403);
  t.match(noToken.body, 'csrf_invalid');
  const other = new Browser();
  await other.go((await portal.authorize()).url);
  const stolen = await other.request(new URL(form.action!, chooser.url).href, { form: { ...form.fields, choice: 'citizen:vneid' } });
  t.equal(stolen.status, 403, "another browser cannot use this browser's token");
  const unknown = await browser.request(new URL(form.action!, chooser.url).href, { form: { ...form.fields, choice: 'citizen:google' } });
  t.equal(unknown.status, 400);
  t.match(unknown.body, 'invalid_choice');
});

t.test('a lost interaction cookie ends on a clear page, not a 500 (SE-12)', async (t) => {
  const browser = new Browser();
  const chooser: Page = await browser.go((await portal.authorize()).url);
  browser.clearCookies(new URL(stack.issuer).hostname);
  const page = await browser.request(chooser.url);
  t.equal(page.status, 400);
  t.match(page.body, 'Phiên đăng nhập đã hết hạn');
});

t.test('nothing is left half-done in Redis after the refusals', async (t) => {
  t.same(await storedKeys('utx:*'), [], 'no upstream transaction left');
  t.same(await storedKeys('pending:*'), [], 'no parked upstream result left');
  // The audit stream is the one key kept without a TTL: it is archived and trimmed by age (audit archive).
  for (const key of (await stack.redis.client.keys(`${stack.redis.keyPrefix}*`)).filter((k) => !k.endsWith('audit:{events}'))) {
    const ttl = await stack.redis.client.ttl(key.slice(stack.redis.keyPrefix.length));
    t.ok(ttl > 0, `${key} has a TTL`);
  }
});
