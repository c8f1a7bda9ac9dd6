import t from 'tap';
import { Browser } from './helpers/browser.js';
import { freePort } from './helpers/redis.js';
import { login, startStack, TestPortal } from './helpers/stack.js';

// Faults: an upstream down at boot, Redis going away. The broker boots, says what is wrong, fails closed.

t.test('an upstream down at boot: the broker starts, marks it unavailable, the other one works (FT-06)', async (t) => {
  const closed = await freePort();
  const stack = await startStack({
    tweak: (raw) => {
      const ups = raw.upstreams as Record<string, Record<string, unknown>>;
      ups.vneid = { ...ups.vneid, issuer: `http://127.0.0.1:${closed}`, expectedIssuer: `http://127.0.0.1:${closed}` };
    },
  });
  t.teardown(() => stack.close());
  const portal = new TestPortal(stack);
  await new Promise((r) => setTimeout(r, 300)); // the background discovery fails

  const ready = await (await fetch(`${stack.issuer}/readyz`)).json() as { upstreams: Record<string, string> };
  t.same(ready.upstreams, { vneid: 'unavailable', dvcqg: 'ok' }, 'readiness names the unreachable upstream');

  const browser = new Browser();
  const chooser = await browser.go((await portal.authorize()).url);
  t.match(chooser.body, /value="citizen:vneid" disabled/, 'the VNeID button is disabled');
  t.match(chooser.body, 'tạm thời không kết nối được');
  const tried = await browser.submit(chooser, { choice: 'citizen:vneid' });
  t.equal(tried.status, 503, 'choosing it anyway: a clear 503 page');
  t.match(tried.body, 'Không kết nối được hệ thống xác thực');

  const ok = await login(portal, { idp: 'dvcqg', username: '079088001234' });
  t.ok(portal.isCallback(ok.page.url), 'DVCQG logins go on');
});

t.test('Redis down: logins fail fast and closed, readiness says so (FT-01, FT-02)', async (t) => {
  const stack = await startStack();
  t.teardown(() => stack.close());
  const portal = new TestPortal(stack);

  // A login half-way: the person is at the upstream when Redis goes away.
  const browser = new Browser();
  const chooser = await browser.go((await portal.authorize()).url);
  const upstream = await browser.submit(chooser, { choice: 'citizen:dvcqg' });
  const otp = await browser.submit(upstream, { username: '079088001234', password: 'Matkhau@123' });

  stack.redis.kill!();
  await new Promise((r) => setTimeout(r, 200));

  const started = Date.now();
  const back = await browser.submit(otp, { otp: '123456' }, { stopAt: portal.isCallback });
  t.equal(back.status, 503, 'the callback cannot complete without its transaction');
  t.match(back.body, 'Hệ thống tạm thời gián đoạn');
  t.notOk(portal.isCallback(back.url), 'no code');

  const fresh = await new Browser().request((await portal.authorize()).url);
  t.ok(Date.now() - started < 5000, 'answers in seconds, not after a queue drains');
  const location = fresh.headers.get('location') ?? '';
  t.notMatch(location, /[?&]code=/, 'no authorization without the store');
  t.ok(fresh.status >= 400 || /error=/.test(location), `an error, not a login (${fresh.status} ${location.slice(0, 80)})`);

  const ready = await fetch(`${stack.issuer}/readyz`);
  t.equal(ready.status, 503, 'not ready');
  t.match(await ready.json(), { store: { kind: 'redis', ok: false } });
});

t.test('the embedded store runs the whole login (development without Redis)', async (t) => {
  const stack = await startStack({ memory: true });
  t.teardown(() => stack.close());
  const portal = new TestPortal(stack);
  const { page, req } = await login(portal, { idp: 'vneid', username: '079088001234' });
  const tokens = await portal.exchange(page.url, req);
  t.ok(tokens.id_token, 'ID token issued');
  t.ok(stack.logs.some((l) => String(l.msg).includes('embedded in-process store')), 'a warning says it is for development');
  const ready = await (await fetch(`${stack.issuer}/readyz`)).json();
  t.match(ready, { store: { kind: 'memory' } });
});

t.test('upstream logins per IP are limited: 429 with Retry-After, shared through Redis (LD-02)', async (t) => {
  const stack = await startStack({ tweak: (raw) => { raw.limits = { loginsPerIpPerMinute: 3 }; } });
  t.teardown(() => stack.close());
  const portal = new TestPortal(stack);
  const statuses: number[] = [];
  let last;
  for (let i = 0; i < 4; i++) {
    const browser = new Browser();
    last = await browser.request((await portal.authorize({ idp_hint: 'vneid' })).url).then((p) => browser.follow(p, (u) => u.startsWith(stack.vneid.url)));
    statuses.push(last.status);
  }
  t.same(statuses, [0, 0, 0, 429], 'three go to the upstream, the fourth is refused');
  t.equal(last!.headers.get('retry-after'), '60');
  t.match(last!.body, 'Quá nhiều yêu cầu đăng nhập');
});
