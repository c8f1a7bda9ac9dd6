import t from 'tap';
import { Writable } from 'node:stream';
import { createLogger, redactUrl } from '../src/ops/logger.js';
import { maskId, maskPhone, scrubDigits } from '../src/ops/mask.js';
import { login, startStack, TestPortal } from './helpers/stack.js';

t.test('masks', async (t) => {
  t.equal(maskId('079088001234'), '0790****1234');
  t.equal(maskId('0313994173'), '0313****4173');
  t.equal(maskPhone('0901234289'), '090****289');
  t.equal(scrubDigits('CCCD 079088001234 phone 0901234289 year 2024'), 'CCCD 079****234 phone 090****289 year 2024');
  t.equal(redactUrl('/upstream/vneid/callback?code=abc&state=def&iss=x'), '/upstream/vneid/callback?code=[redacted]&state=[redacted]&iss=x');
});

t.test('the logger redacts secrets and masks identifiers whatever the call site passes', async (t) => {
  const lines: string[] = [];
  const log = createLogger({ destination: new Writable({ write(c, _e, done) { lines.push(String(c)); done(); } }) });
  log.info({ client_secret: 'topsecret', nested: { password: 'pw', national_id: '079088001234' }, note: 'citizen 079088001234 called from 0901234289' }, 'user 079088001234 logged in');
  const out = lines.join('');
  for (const secret of ['topsecret', '"pw"', '079088001234', '0901234289']) t.notMatch(out, secret, `no ${secret}`);
  t.match(out, '[redacted]');
});

t.test('no clear national identifier, phone, token, code or cookie in any log line of real logins', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const portal = new TestPortal(stack);
  const secrets = new Set<string>(['079088001234', '0901234289', '068090005678', '0912345688', 'Matkhau@123']);
  for (const o of [{ idp: 'vneid' as const, username: '079088001234' }, { idp: 'dvcqg' as const, username: '0313994173', accountType: 'business' as const }, { idp: 'dvcqg' as const, username: '079088009003' }]) {
    const { page, req, browser } = await login(portal, o);
    if (portal.isCallback(page.url)) {
      const u = new URL(page.url);
      secrets.add(u.searchParams.get('code')!);
      const tokens = await portal.exchange(page.url, req);
      secrets.add(tokens.access_token);
      secrets.add(tokens.id_token!.split('.')[1]!);
    }
    // The igate_interaction cookie holds the interaction uid, which is public (it is in every
    // /interaction/<uid> URL) and logged for correlation; its signature and every other cookie are secret.
    for (const c of browser.cookies(new URL(stack.issuer).hostname)) if (c.name !== 'igate_interaction' && c.name !== 'igate_interaction_resume') secrets.add(c.value);
  }
  t.ok(stack.rawLogs.length > 10, `${stack.rawLogs.length} log lines written`);
  const all = stack.rawLogs.join('\n');
  for (const s of secrets) t.notOk(all.includes(s), `not in the logs: ${s.slice(0, 6)}…`, { line: stack.rawLogs.find((l) => l.includes(s))?.slice(0, 400) });
  t.notMatch(all, /eyJ[A-Za-z0-9_-]{10,}/, 'no JWT');
  t.ok(stack.logs.some((l) => l.msg === 'upstream callback ok' && l.nationalId === '0790****1234'), 'identifiers appear masked');
});
