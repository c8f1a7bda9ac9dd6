import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generate } from 'otplib';
import { HttpSmsSender, SmsOtp } from '../src/stepup/index.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { Browser, findForm } from './helpers/browser.js';
import { cli } from './helpers/cli.js';
import { login, startStack, TestPortal } from './helpers/stack.js';

// The SMS gateway sender, a policy that demands OTP, the operator reset, and Redis failing at the OTP step.

t.test('the HTTP gateway sender retries a failure with the same idempotency key: one code, one SMS', async (t) => {
  const received: { key: string | undefined; body: string }[] = [];
  let fail = 1;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += String(c)));
    req.on('end', () => {
      received.push({ key: req.headers['idempotency-key'] as string | undefined, body });
      if (fail-- > 0) return void res.writeHead(503).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"queued"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sms`;
  const sender = new HttpSmsSender({ url, headers: { authorization: 'Bearer gw-token' }, template: 'x', timeoutMs: 2000, retries: 2 });
  const store = new MemoryStore();
  t.teardown(() => store.close());
  const settings = { enabled: true, sender: 'http' as const, ttlSeconds: 300, resendCooldownSeconds: 60, maxPerPerson: 3, maxPerIp: 30, windowSeconds: 900 };
  const sms = new SmsOtp(store, sender, { now: () => Date.now() }, settings, Buffer.alloc(32, 1), 'Ma xac thuc: {code}. Hieu luc {minutes} phut.');
  const r = await sms.send('uid-1', 'person-1', '0901234289', '203.0.113.9');
  t.equal(r.status, 'sent');
  t.equal(received.length, 2, 'one failure, one retry');
  t.equal(received[0]!.key, received[1]!.key, 'the retry carries the same idempotency key');
  t.equal(received[0]!.body, received[1]!.body, 'and the same message');
  const body = JSON.parse(received[1]!.body) as { to: string; text: string };
  t.equal(body.to, '0901234289');
  t.match(body.text, /^Ma xac thuc: \d{6}\. Hieu luc 5 phut\.$/);

  fail = 10;
  const down = await sms.send('uid-2', 'person-1', '0901234289', '203.0.113.9');
  t.equal(down.status, 'failed', 'a gateway outage is reported, not counted as sent (FT-18)');
});

t.test('a province rule with +otp asks for the step without any acr request', async (t) => {
  const stack = await startStack({ policy: { default: { phases: [{ from: '2020-01-01', citizen: ['vneid+otp'], business: ['dvcqg'] }] } } });
  t.teardown(() => stack.close());
  const portal = new TestPortal(stack);
  const { page, browser, req } = await login(portal, { idp: 'vneid', username: '079088001234' });
  t.match(page.url, /\/otp$/);
  const sent = await browser.submit(page, {}, { selector: '/otp/send' });
  const done = await browser.submit(sent, { code: stack.outbox.lastCode('0901234289')!, method: 'sms' }, { action: findForm(sent.body, '/otp"').action, stopAt: portal.isCallback });
  const tokens = await portal.exchange(done.url, req);
  t.equal(tokens.claims()!.acr, 'urn:igate:acr:2');
  t.ok(stack.logs.some((l) => l.msg === 'policy decision: require' && (l.steps as string[]).includes('otp')));
});

t.test('operator reset of a TOTP enrolment (igate-broker otp reset), then Redis down at the OTP step fails closed', async (t) => {
  const stack = await startStack({ files: true });
  t.teardown(() => stack.close());
  const portal = new TestPortal(stack);
  const enrol = await login(portal, { idp: 'vneid', username: '079088001234', params: { acr_values: 'urn:igate:acr:2' } });
  const totpPage = await enrol.browser.go(`${enrol.page.url}?method=totp`);
  const secret = /<code class="secret">([A-Z2-7]+)<\/code>/.exec(totpPage.body)![1]!;
  await enrol.browser.submit(totpPage, { code: await generate({ secret }), method: 'totp' }, { action: findForm(totpPage.body, '/otp"').action, stopAt: portal.isCallback });
  t.equal((await stack.redis.client.keys(`${stack.redis.keyPrefix}totp:*`)).length, 1, 'enrolled');

  const { stdout } = await cli(['otp', 'reset', '--national-id', '079088001234', '--config', stack.configFile!, '--operator', 'tester'], { REDIS_URL: '' });
  t.match(stdout, '0790****1234: TOTP enrolment removed; OTP lockout cleared.');
  t.equal((await stack.redis.client.keys(`${stack.redis.keyPrefix}totp:*`)).length, 0, 'the enrolment is gone');
  const again = await login(portal, { idp: 'vneid', username: '079088001234', params: { acr_values: 'urn:igate:acr:2' } });
  t.match((await again.browser.go(`${again.page.url}?method=totp`)).body, 'Bạn chưa đăng ký ứng dụng xác thực', 'the next step-up enrols anew');

  const browser = new Browser();
  const atOtp = await login(portal, { idp: 'vneid', username: '079088001234', params: { acr_values: 'urn:igate:acr:2' }, browser });
  stack.redis.kill!();
  await new Promise((r) => setTimeout(r, 200));
  const form = findForm(atOtp.page.body, '/otp/send');
  const denied = await browser.request(new URL(form.action!, atOtp.page.url).href, { form: form.fields });
  t.equal(denied.status, 503, 'no OTP without the store: replay and lockout checks are never skipped (FT-02)');
  t.match(denied.body, 'Hệ thống tạm thời gián đoạn');
});

t.test('the same TOTP code sent at once to two instances: exactly one accepts it (OTP-03)', async (t) => {
  const { startRedis } = await import('./helpers/redis.js');
  const { RedisStore } = await import('../src/store/redis-store.js');
  const { SecretBox, Totp } = await import('../src/stepup/index.js');
  const redis = await startRedis();
  const cfg = { url: redis.url, keyPrefix: redis.keyPrefix, commandTimeoutMs: 1000, connectTimeoutMs: 2000, sentinelName: 'mymaster' };
  const [a, b] = await Promise.all([RedisStore.connect(cfg), RedisStore.connect(cfg)]);
  t.teardown(async () => {
    await Promise.all([a.close(), b.close()]);
    await redis.stop();
  });
  const box = new SecretBox([{ id: 'k', key: Buffer.alloc(32, 3).toString('base64') }]);
  const clock = { now: () => Date.now() };
  const one = new Totp(a, box, clock, 'igate');
  const two = new Totp(b, box, clock, 'igate');
  const enrol = await one.startEnrolment('uid-x', 'person-x', 'label');
  t.equal(await one.confirmEnrolment('uid-x', 'person-x', await generate({ secret: enrol.secret, epoch: Math.floor(Date.now() / 1000) - 30 })), 'ok');
  const code = await generate({ secret: enrol.secret });
  const results = await Promise.all([one.verify('person-x', code), two.verify('person-x', code), one.verify('person-x', code), two.verify('person-x', code)]);
  t.equal(results.filter((r) => r === 'ok').length, 1, `exactly one accepted: ${results.join(', ')}`);
  t.equal(results.filter((r) => r === 'replayed').length, 3);
});
