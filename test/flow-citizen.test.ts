import t from 'tap';
import * as jose from 'jose';
import * as oidc from 'openid-client';
import { Browser, findForm } from './helpers/browser.js';
import { login, startStack, TestPortal, upstreamLogin } from './helpers/stack.js';

// Complete logins driven as a browser would, against the simulated DVCQG and VNeID and a real Redis.
const stack = await startStack();
t.teardown(() => stack.close());
const portal = new TestPortal(stack);
const jwks = jose.createRemoteJWKSet(new URL(`${stack.issuer}/jwks`));

async function verify(idToken: string | undefined, audience = 'lamdong-igate') {
  const { payload, protectedHeader } = await jose.jwtVerify(idToken!, jwks, { issuer: stack.issuer, audience });
  return { payload, protectedHeader };
}

let vneidSub = '';

t.test('citizen through VNeID: chooser, password + OTP, verified ID token with every claim', async (t) => {
  const { page, req, browser } = await login(portal, { idp: 'vneid', username: '079088001234', params: { scope: 'openid profile phone' } });
  t.ok(portal.isCallback(page.url), 'back at the portal with a code');
  t.ok(browser.history.some((u) => u.includes('/interaction/') && !u.includes('/finish')), 'the chooser was shown');
  const tokens = await portal.exchange(page.url, req);
  const { payload, protectedHeader } = await verify(tokens.id_token);
  t.equal(protectedHeader.alg, 'RS256');
  t.ok(protectedHeader.kid, 'signed with a key that has a kid');
  t.match(payload, {
    account_type: 'citizen', national_id: '079088001234', idp: 'vneid', identity_level: 2,
    name: 'Nguyễn Văn An', birthdate: '1988-02-19', phone_number: '0901234289',
    acr: 'urn:igate:acr:1', amr: ['pwd', 'sms'], nonce: req.nonce,
  });
  t.type(payload.auth_time, 'number');
  t.notOk(payload.tax_code, 'no tax code for a citizen');
  t.notOk(payload.preferred_username ?? payload.IAL ?? payload.TechID, 'no upstream claim names leak to the portal');
  t.match(payload.sub, /^[A-Za-z0-9_-]{43}$/, 'sub is a keyed pseudonym, not the national id');
  vneidSub = String(payload.sub);

  const info = await oidc.fetchUserInfo(await portal.configuration(), tokens.access_token, String(payload.sub));
  t.match(info, { sub: payload.sub, national_id: '079088001234', idp: 'vneid', name: 'Nguyễn Văn An' }, 'userinfo serves the same login');
});

t.test('the same citizen through DVCQG gets the same sub; claims come from userinfo', async (t) => {
  const { page, req } = await login(portal, { idp: 'dvcqg', username: '079088001234', params: { scope: 'openid profile email address' } });
  const tokens = await portal.exchange(page.url, req);
  const { payload } = await verify(tokens.id_token);
  t.equal(payload.sub, vneidSub, 'sub derives from the national identifier, not from the upstream');
  t.match(payload, {
    account_type: 'citizen', national_id: '079088001234', idp: 'dvcqg', name: 'Nguyễn Văn An',
    email: 'an.nguyen@example.vn', address: { formatted: '12 Trần Phú, Phường 3, TP. Đà Lạt, Lâm Đồng' },
  });
  t.notOk(payload.identity_level, 'DVCQG gives no identity level');
  t.notOk(payload.phone_number, 'phone only with the phone scope');
});

t.test('business through DVCQG: tax code, organisation name, representative', async (t) => {
  const { page, req } = await login(portal, { idp: 'dvcqg', accountType: 'business', username: '0313994173' });
  const tokens = await portal.exchange(page.url, req);
  const { payload } = await verify(tokens.id_token);
  t.match(payload, {
    account_type: 'business', tax_code: '0313994173', organization_name: 'Công ty TNHH Cà phê Đà Lạt Xanh',
    national_id: '068090005678', idp: 'dvcqg',
  });
  t.notOk(payload.name, 'profile claims need the profile scope');
});

t.test('organisation through DVCQG: LoaiTaiKhoan 3 as an int, branch tax code normalised', async (t) => {
  const { page, req } = await login(portal, { idp: 'dvcqg', accountType: 'business', username: '0101234567-001' });
  const { payload } = await verify((await portal.exchange(page.url, req)).id_token);
  t.match(payload, { account_type: 'organization', tax_code: '0101234567-001', organization_name: 'Chi nhánh Hợp tác xã Nông nghiệp Lạc Dương' });
});

t.test('idp_hint skips the chooser', async (t) => {
  const browser = new Browser();
  const req = await portal.authorize({ idp_hint: 'vneid' });
  const first = await browser.go(req.url, portal.isCallback);
  t.ok(first.url.startsWith(stack.vneid.url), `went straight to VNeID: ${first.url}`);
  t.notOk(browser.history.some((u) => u.includes('/choose')), 'no chooser form');
  const done = await upstreamLogin(browser, first, { username: '079088001234' }, portal.isCallback);
  const { payload } = await verify((await portal.exchange(done.url, req)).id_token);
  t.equal(payload.idp, 'vneid');
});

t.test('an unknown idp_hint shows the chooser with an explanation', async (t) => {
  const browser = new Browser();
  const req = await portal.authorize({ idp_hint: 'google' });
  const page = await browser.go(req.url, portal.isCallback);
  t.equal(page.status, 200);
  t.match(page.body, 'name="choice"');
  t.match(page.body, 'Cách đăng nhập mà Cổng dịch vụ công đề nghị hiện không được áp dụng');
});

t.test('SSO: a second portal reuses the session silently; prompt=login goes back to the upstream', async (t) => {
  const first = await login(portal, { idp: 'vneid', username: '079088001234' });
  const { browser } = first;
  const sub1 = (await verify((await portal.exchange(first.page.url, first.req)).id_token)).payload.sub;

  const other = new TestPortal(stack, 'daknong');
  const req2 = await other.authorize();
  const before = browser.history.length;
  const page2 = await browser.go(req2.url, other.isCallback);
  t.ok(other.isCallback(page2.url), 'silent SSO: straight back with a code');
  t.notOk(browser.history.slice(before).some((u) => u.includes('/interaction/')), 'no chooser, no upstream');
  const { payload } = await verify((await other.exchange(page2.url, req2)).id_token, 'daknong-igate');
  t.equal(payload.sub, sub1, 'same person, same sub');

  const req3 = await portal.authorize({ prompt: 'login' });
  const mark = browser.history.length;
  const chooser = await browser.go(req3.url, portal.isCallback);
  t.match(chooser.body, 'name="choice"', 'prompt=login: the chooser again');
  const upstream = await browser.submit(chooser, { choice: 'citizen:vneid' }, { stopAt: portal.isCallback });
  t.match(upstream.body, 'name="password"', 'the upstream asks for the password again despite its own session');
  t.ok(browser.history.slice(mark).some((u) => u.includes('prompt=login')), 'prompt=login was passed to the upstream');
  const done = await upstreamLogin(browser, upstream, { username: '079088001234' }, portal.isCallback);
  const p3 = (await verify((await portal.exchange(done.url, req3)).id_token)).payload;
  t.ok(Number(p3.auth_time) >= Number(payload.auth_time), 'a newer auth_time');
});

t.test('prompt=none: login_required without a session, silent success with one', async (t) => {
  const browser = new Browser();
  const req = await portal.authorize({ prompt: 'none' });
  const page = await browser.go(req.url, portal.isCallback);
  t.match(new URL(page.url).searchParams.get('error'), 'login_required');

  const first = await login(portal, { idp: 'dvcqg', username: '079088001234', browser });
  await portal.exchange(first.page.url, first.req);
  const again = await portal.authorize({ prompt: 'none' });
  const silent = await browser.go(again.url, portal.isCallback);
  t.ok(new URL(silent.url).searchParams.get('code'), 'a code without any page');
});

t.test('logout ends the broker session, the upstream session and the portals\' sessions (SE-09, SE-10)', async (t) => {
  const first = await login(portal, { idp: 'vneid', username: '079088001234' });
  const { browser } = first;
  const tokens = await portal.exchange(first.page.url, first.req);
  // The same browser also logged in to a second portal (silent SSO).
  const other = new TestPortal(stack, 'daknong');
  const req2 = await other.authorize();
  await other.exchange((await browser.go(req2.url, other.isCallback)).url, req2);
  const received = stack.backchannel.length;

  const config = await portal.configuration();
  const endUrl = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: portal.portal.postLogout, state: 'bye' });
  const confirm = await browser.go(endUrl.href);
  t.equal(confirm.status, 200, 'a confirmation page, no silent logout');
  t.match(confirm.body, 'Bạn có muốn đăng xuất');
  const form = findForm(confirm.body);
  t.ok(form.fields.upstream_logout, 'the form carries the upstream logout plan');
  const atUpstream = await browser.follow(await browser.request(new URL(form.action!, confirm.url).href, { form: { ...form.fields, logout: 'yes' } }));
  t.ok(atUpstream.url.startsWith(stack.vneid.url), `the upstream session is ended too: ${atUpstream.url}`);
  t.match(atUpstream.body, 'Bạn có muốn đăng xuất khỏi VNeID');
  const out = await browser.submit(atUpstream, { logout: 'yes' }, { stopAt: (u) => u.startsWith(portal.portal.postLogout) });
  t.equal(out.url, `${portal.portal.postLogout}?state=bye`, 'back at the portal with its state');

  const notified = stack.backchannel.slice(received).map((b) => b.clientId).sort();
  t.same(notified, ['daknong-igate', 'lamdong-igate'], 'both portals got a back-channel logout token');
  const logoutToken = JSON.parse(Buffer.from(stack.backchannel.at(-1)!.logoutToken.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  t.match(logoutToken, { iss: stack.issuer, sid: String, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } });

  const req = await portal.authorize({ prompt: 'none' });
  const none = await browser.go(req.url, portal.isCallback);
  t.equal(new URL(none.url).searchParams.get('error'), 'login_required', 'the broker session is gone');

  const next = await portal.authorize({ idp_hint: 'vneid' });
  const again = await browser.go(next.url, portal.isCallback);
  t.match(again.body, 'name="password"', 'the next login asks the upstream for a password again: another account can be used');

  const userinfo = await fetch(`${stack.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  t.equal(userinfo.status, 401, 'tokens of the ended session no longer work');
});

t.test('logout without id_token_hint still asks for confirmation; a bad post_logout_redirect_uri is refused (AT-13, AT-21)', async (t) => {
  const { browser } = await login(portal, { idp: 'dvcqg', username: '079088001234' });
  const page = await browser.go(`${stack.issuer}/session/end`);
  t.equal(page.status, 200);
  t.match(page.body, 'Bạn có muốn đăng xuất');
  const bad = await browser.request(`${stack.issuer}/session/end?client_id=lamdong-igate&post_logout_redirect_uri=${encodeURIComponent('https://evil.tld/')}`);
  t.equal(bad.status, 400);
  t.equal(bad.headers.get('location'), null);
});

t.test('English via ui_locales', async (t) => {
  const browser = new Browser();
  const req = await portal.authorize({ ui_locales: 'en' });
  const page = await browser.go(req.url);
  t.match(page.body, '<html lang="en">');
  t.match(page.body, 'Citizen (individual)');
  t.match(page.body, 'Organisation, business');
});
