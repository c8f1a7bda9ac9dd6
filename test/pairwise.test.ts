import t from 'tap';
import * as jose from 'jose';
import { login, startStack, TestPortal } from './helpers/stack.js';

// A portal registered with subjectType: pairwise gets its own sub for the same person.
const stack = await startStack({
  tweak: (raw) => {
    const clients = raw.clients as Record<string, unknown>[];
    clients[1] = { ...clients[1], subjectType: 'pairwise' };
  },
});
t.teardown(() => stack.close());

t.test('pairwise sub differs per portal, is stable per portal, and public sub is unchanged', async (t) => {
  const jwks = jose.createRemoteJWKSet(new URL(`${stack.issuer}/jwks`));
  const subOf = async (name: 'lamdong' | 'daknong') => {
    const portal = new TestPortal(stack, name);
    const { page, req } = await login(portal, { idp: 'vneid', username: '079088001234' });
    const tokens = await portal.exchange(page.url, req);
    return (await jose.jwtVerify(tokens.id_token!, jwks, { issuer: stack.issuer, audience: portal.portal.clientId })).payload.sub;
  };
  const publicSub = await subOf('lamdong');
  const pairwise1 = await subOf('daknong');
  const pairwise2 = await subOf('daknong');
  t.not(pairwise1, publicSub, 'the pairwise portal sees another sub');
  t.equal(pairwise1, pairwise2, 'and the same one every time');
  t.equal(await subOf('lamdong'), publicSub);
});
