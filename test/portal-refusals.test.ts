import t from 'tap';
import * as oidc from 'openid-client';
import { Browser } from './helpers/browser.js';
import { login, PORTALS, startStack, TestPortal } from './helpers/stack.js';

// What the broker refuses on its portal side (OpenID provider): PKCE, redirect URIs, codes.
const stack = await startStack();
t.teardown(() => stack.close());
const portal = new TestPortal(stack);
const { clientId, clientSecret, redirectUri } = PORTALS.lamdong;

async function tokenRequest(form: Record<string, string>, auth = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`) {
  const res = await fetch(`${stack.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function authorizeUrl(params: Record<string, string>) {
  const u = new URL(`${stack.issuer}/auth`);
  for (const [k, v] of Object.entries({ client_id: clientId, response_type: 'code', scope: 'openid', redirect_uri: redirectUri, state: 'st', ...params })) {
    if (v !== '') u.searchParams.set(k, v);
  }
  return u.href;
}

t.test('discovery advertises only what the broker does (PC-24, PC-09, PC-14)', async (t) => {
  const meta = (await (await fetch(`${stack.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  t.same(meta.code_challenge_methods_supported, ['S256']);
  t.same(meta.response_types_supported, ['code']);
  t.notOk((meta.grant_types_supported as string[]).includes('password'));
  t.notOk((meta.id_token_signing_alg_values_supported as string[]).includes('none'));
  t.same(meta.acr_values_supported, ['urn:igate:acr:1', 'urn:igate:acr:2', 'urn:igate:acr:3']);
  t.equal(meta.authorization_response_iss_parameter_supported, true);
  t.equal(meta.backchannel_logout_supported, true);
  t.ok(meta.end_session_endpoint && meta.introspection_endpoint && meta.revocation_endpoint && meta.userinfo_endpoint);
  for (const c of ['account_type', 'national_id', 'tax_code', 'organization_name', 'idp', 'identity_level', 'acr', 'amr']) {
    t.ok((meta.claims_supported as string[]).includes(c), `claims_supported has ${c}`);
  }
});

t.test('PKCE is required for every portal, S256 only (PC-15, PC-17)', async (t) => {
  const browser = new Browser();
  const missing = await browser.request(authorizeUrl({}));
  const to = new URL(missing.headers.get('location') ?? '', stack.issuer);
  t.equal(to.origin + to.pathname, redirectUri, 'the error goes back to the registered redirect_uri');
  t.equal(to.searchParams.get('error'), 'invalid_request');
  t.match(to.searchParams.get('error_description'), /PKCE/);

  const plain = await browser.request(authorizeUrl({ code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }));
  t.equal(new URL(plain.headers.get('location') ?? '', stack.issuer).searchParams.get('error'), 'invalid_request', 'plain is refused');
});

t.test('a wrong code_verifier gets invalid_grant and burns the code (PC-15c)', async (t) => {
  const { page, req } = await login(portal, { idp: 'vneid', username: '079088001234' });
  const code = new URL(page.url).searchParams.get('code')!;
  const wrong = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: oidc.randomPKCECodeVerifier() });
  t.equal(wrong.status, 400);
  t.equal(wrong.body.error, 'invalid_grant');
  const right = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: req.verifier });
  t.equal(right.body.error, 'invalid_grant', 'the right verifier no longer works: no online guessing');
});

t.test('PKCE downgrade: no challenge at authorize, a verifier at the token endpoint (PC-16)', async (t) => {
  const browser = new Browser();
  const page = await browser.request(authorizeUrl({}));
  t.notOk(new URL(page.headers.get('location') ?? '', stack.issuer).searchParams.get('code'), 'no code is ever issued without a challenge');
});

t.test('a reused code fails and revokes the tokens of its first redemption (PC-04)', async (t) => {
  const { page, req } = await login(portal, { idp: 'dvcqg', username: '079088001234' });
  const code = new URL(page.url).searchParams.get('code')!;
  const first = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: req.verifier });
  t.equal(first.status, 200);
  const me = () => fetch(`${stack.issuer}/me`, { headers: { authorization: `Bearer ${String(first.body.access_token)}` } });
  t.equal((await me()).status, 200, 'the access token works');
  const second = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: req.verifier });
  t.equal(second.body.error, 'invalid_grant');
  t.equal((await me()).status, 401, 'the first access token is revoked');
});

t.test('concurrent redemptions of one code: exactly one wins (atomic consume)', async (t) => {
  const { page, req } = await login(portal, { idp: 'vneid', username: '079088001234' });
  const code = new URL(page.url).searchParams.get('code')!;
  const results = await Promise.all(Array.from({ length: 5 }, () => tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: req.verifier })));
  t.equal(results.filter((r) => r.status === 200).length, 1, 'one token response');
  t.equal(results.filter((r) => r.body.error === 'invalid_grant').length, 4);
});

t.test('redirect_uri must match exactly: an error page, never a redirect (PC-05, AT-12, AT-14)', async (t) => {
  const variants = [
    'https://dichvucong.lamdong.gov.vn/oidc/callback/', 'https://dichvucong.lamdong.gov.vn/oidc/callback?x=1',
    'https://dichvucong.lamdong.gov.vn/oidc/callback/../x', 'https://dichvucong.lamdong.gov.vn.evil.tld/oidc/callback',
    'https://dichvucong.lamdong.gov.vn@evil.tld/oidc/callback', 'HTTPS://DICHVUCONG.LAMDONG.GOV.VN/oidc/callback',
    'http://dichvucong.lamdong.gov.vn/oidc/callback', 'https://evil.tld/cb',
  ];
  for (const redirect of variants) {
    const page = await new Browser().request(authorizeUrl({ redirect_uri: redirect, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }));
    t.equal(page.status, 400, redirect);
    t.equal(page.headers.get('location'), null, `no redirect to ${redirect}`);
    t.match(page.body, 'Yêu cầu đăng nhập không hợp lệ');
    t.match(page.body, 'redirect_uri');
    t.notMatch(page.body, 'Quay lại Cổng dịch vụ công', 'no "back to service" link on an unverified portal');
  }
  const unknown = await new Browser().request(authorizeUrl({ client_id: 'evil-portal', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }));
  t.equal(unknown.status, 400);
  t.equal(unknown.headers.get('location'), null, 'unknown client: no redirect');
  t.match(unknown.body, /Mã yêu cầu: <code>req-[0-9a-f]+<\/code>/, 'a request id to quote to support');
});

t.test('only the code flow (PC-18)', async (t) => {
  for (const rt of ['token', 'id_token', 'code id_token', 'id_token token']) {
    const page = await new Browser().request(authorizeUrl({ response_type: rt, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', nonce: 'n' }));
    const location = page.headers.get('location') ?? '';
    t.notMatch(location, /access_token=|id_token=/, `${rt}: no token in the response`);
    t.match(location + page.body, /unsupported_response_type|unauthorized_client|invalid_request/, `${rt}: refused`);
  }
  const password = await tokenRequest({ grant_type: 'password', username: 'a', password: 'b' });
  t.equal(password.body.error, 'unsupported_grant_type');
});

t.test('portal client authentication (PC-22)', async (t) => {
  const wrong = await tokenRequest({ grant_type: 'authorization_code', code: 'x', redirect_uri: redirectUri, code_verifier: 'y'.repeat(43) }, `Basic ${Buffer.from(`${clientId}:wrong`).toString('base64')}`);
  t.equal(wrong.status, 401);
  t.equal(wrong.body.error, 'invalid_client');
  const none = await tokenRequest({ grant_type: 'authorization_code', code: 'x', redirect_uri: redirectUri, client_id: clientId }, '');
  t.equal(none.status, 401);
  t.equal(none.body.error, 'invalid_client');
});

t.test("another portal cannot redeem a portal's code (AT-23)", async (t) => {
  const { page, req } = await login(portal, { idp: 'vneid', username: '079088001234' });
  const code = new URL(page.url).searchParams.get('code')!;
  const other = PORTALS.daknong;
  const res = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: req.verifier }, `Basic ${Buffer.from(`${other.clientId}:${other.clientSecret}`).toString('base64')}`);
  t.equal(res.body.error, 'invalid_grant');
});

t.test('pages are not framable and leak no referrer (AT-17, AT-19)', async (t) => {
  const chooser = await new Browser().go((await portal.authorize()).url);
  t.match(chooser.headers.get('content-security-policy'), "frame-ancestors 'none'");
  t.equal(chooser.headers.get('x-frame-options'), 'DENY');
  t.equal(chooser.headers.get('referrer-policy'), 'no-referrer');
  t.equal(chooser.headers.get('cache-control'), 'no-store');
  const error = await new Browser().request(authorizeUrl({ client_id: 'nobody' }));
  t.match(error.headers.get('content-security-policy'), "frame-ancestors 'none'");
  const cors = await fetch(authorizeUrl({}), { headers: { origin: 'https://evil.tld' }, redirect: 'manual' });
  t.equal(cors.headers.get('access-control-allow-origin'), null, 'no CORS on /auth (AT-20)');
});

t.test('response_mode other than query is refused for a portal registered for query (AT-16)', async (t) => {
  for (const mode of ['fragment', 'form_post', 'query.jwt', 'web_message']) {
    const page = await new Browser().request(authorizeUrl({ response_mode: mode, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }));
    const location = page.headers.get('location') ?? '';
    t.notMatch(location, /[?&#]code=/, `${mode}: no code`);
    t.ok(page.status >= 400 || /error=/.test(location), `${mode}: refused`);
  }
});

t.test('introspection and revocation for the portal that holds the token', async (t) => {
  const { page, req } = await login(portal, { idp: 'vneid', username: '079088001234' });
  const tokens = await portal.exchange(page.url, req);
  const auth = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
  const introspect = async () => (await (await fetch(`${stack.issuer}/token/introspection`, {
    method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: tokens.access_token }),
  })).json()) as Record<string, unknown>;
  t.match(await introspect(), { active: true, client_id: clientId });
  const revoked = await fetch(`${stack.issuer}/token/revocation`, {
    method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: tokens.access_token }),
  });
  t.equal(revoked.status, 200);
  t.match(await introspect(), { active: false });
});
