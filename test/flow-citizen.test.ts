import t from 'tap';
import * as jose from 'jose';
import { startStack, TestPortal, login } from './helpers/stack.js';

const stack = await startStack();
t.teardown(() => stack.close());
const portal = new TestPortal(stack);

t.test('citizen logs in through VNeID and the portal receives a verified ID token', async (t) => {
  const { page, req } = await login(portal, { idp: 'vneid', username: '079088001234', params: { scope: 'openid profile phone' } });
  t.ok(portal.isCallback(page.url), `ended at the portal: ${page.url}`);
  const tokens = await portal.exchange(page.url, req);
  const jwks = jose.createRemoteJWKSet(new URL(`${stack.issuer}/jwks`));
  const { payload } = await jose.jwtVerify(tokens.id_token!, jwks, { issuer: stack.issuer, audience: 'lamdong-igate' });
  t.match(payload, {
    account_type: 'citizen', national_id: '079088001234', idp: 'vneid', identity_level: 2,
    name: 'Nguyễn Văn An', birthdate: '1988-02-19', phone_number: '0901234289', acr: 'urn:igate:acr:1', amr: ['pwd', 'sms'],
  });
  t.notOk(payload.tax_code, 'no tax code for a citizen');
});
