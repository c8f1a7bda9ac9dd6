import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { Browser } from './helpers/browser.js';
import { login, PASSWORD, OTP, startStack, TestPortal, upstreamLogin } from './helpers/stack.js';

// The shipped policy enforced over real HTTP, with the broker's clock set to chosen instants.
const shipped = parse(readFileSync('config/policy.vn.yaml', 'utf8')) as Record<string, unknown>;
const clock = { instant: Date.parse('2024-07-15T09:00:00+07:00'), now() { return this.instant; } };
const stack = await startStack({ policy: shipped, clock, files: true });
t.teardown(() => stack.close());
const daknong = new TestPortal(stack, 'daknong');
const lamdong = new TestPortal(stack, 'lamdong');

t.test('Đắk Nông after 01/07/2024: the chooser offers citizens VNeID only and says which rule, since when', async (t) => {
  clock.instant = Date.parse('2024-07-15T09:00:00+07:00');
  const page = await new Browser().go((await daknong.authorize()).url);
  t.match(page.body, 'value="citizen:vneid"');
  t.notMatch(page.body, 'value="citizen:dvcqg"', 'no DVCQG button for citizens');
  t.match(page.body, 'value="business:dvcqg"', 'businesses keep DVCQG');
  t.notMatch(page.body, 'value="business:vneid"');
  t.match(page.body, 'Quy định của tỉnh Đắk Nông, áp dụng từ ngày 01/07/2024.');
});

t.test('before the switch, inside the notice period: DVCQG is still offered, with a banner', async (t) => {
  clock.instant = Date.parse('2024-06-20T09:00:00+07:00');
  const page = await new Browser().go((await daknong.authorize()).url);
  t.match(page.body, 'value="citizen:dvcqg"');
  t.match(page.body, 'Từ ngày 01/07/2024, công dân sẽ chỉ đăng nhập được bằng tài khoản định danh điện tử VNeID mức độ 2');
  clock.instant = Date.parse('2024-05-01T09:00:00+07:00');
  const early = await new Browser().go((await daknong.authorize()).url);
  t.notMatch(early.body, 'sẽ chỉ đăng nhập được', 'outside the notice period: no banner');
});

t.test('a citizen arriving through DVCQG after the switch is refused after the callback, then gives up: access_denied', async (t) => {
  clock.instant = Date.parse('2024-07-15T09:00:00+07:00');
  const browser = new Browser();
  const req = await daknong.authorize({ idp_hint: 'dvcqg' }); // allowed: businesses use DVCQG
  const upstream = await browser.go(req.url, daknong.isCallback);
  t.ok(upstream.url.startsWith(stack.dvcqg.url), 'idp_hint went straight to DVCQG');
  const refusal = await upstreamLogin(browser, upstream, { username: '079088001234' }, daknong.isCallback);
  t.equal(refusal.status, 403);
  t.match(refusal.body, 'Không thể đăng nhập bằng cách này');
  t.match(refusal.body, 'Từ ngày 01/07/2024, công dân chỉ đăng nhập Hệ thống thông tin giải quyết thủ tục hành chính tỉnh Đắk Nông bằng tài khoản VNeID mức độ 2');
  t.match(refusal.body, 'Quy định của tỉnh Đắk Nông, áp dụng từ ngày 01/07/2024.');
  t.match(refusal.body, '<code>dak-nong#2</code>');
  t.match(refusal.body, 'Đăng nhập bằng cách khác', 'a button to log in the right way');
  t.ok(stack.logs.some((l) => l.msg === 'policy decision: deny' && l.rule === 'dak-nong#2' && l.policyVersion === stack.broker.broker.policy().version), 'the decision is logged with rule and version');

  const back = await browser.submit(refusal, {}, { selector: '/abort', stopAt: daknong.isCallback });
  const u = new URL(back.url);
  t.equal(u.searchParams.get('error'), 'access_denied');
  t.match(u.searchParams.get('error_description'), /^Since 01\/07\/2024, citizens log in .* only with a level 2 VNeID account.*\(rule dak-nong#2\)$/);
  t.match(u.searchParams.get('error_description'), /^[\x20-\x7e]+$/, 'printable ASCII, as RFC 6749 requires');
});

t.test('the refusal offers the right way: VNeID level 2 then works', async (t) => {
  clock.instant = Date.parse('2024-07-15T09:00:00+07:00');
  const browser = new Browser();
  const req = await daknong.authorize({ idp_hint: 'dvcqg' });
  const refusal = await upstreamLogin(browser, await browser.go(req.url), { username: '079088001234' }, daknong.isCallback);
  const retry = /href="(\/interaction\/[^"]+)"/.exec(refusal.body)![1]!;
  const chooser = await browser.go(new URL(retry, stack.issuer).href);
  const vneid = await browser.submit(chooser, { choice: 'citizen:vneid' });
  const done = await upstreamLogin(browser, vneid, { username: '079088001234' }, daknong.isCallback);
  t.ok(daknong.isCallback(done.url) && new URL(done.url).searchParams.get('code'), 'logged in the right way');
});

t.test('a VNeID level 1 account where level 2 is required', async (t) => {
  clock.instant = Date.parse('2024-07-15T09:00:00+07:00');
  const { page } = await login(daknong, { idp: 'vneid', username: '001099004321' });
  t.equal(page.status, 403);
  t.match(page.body, 'Tài khoản VNeID của bạn đang ở mức độ 1.');
  t.match(page.body, 'mức độ 2 được cấp tại cơ quan Công an');
});

t.test('idp_hint for an upstream the rule closes: the chooser with the explanation', async (t) => {
  clock.instant = Date.parse('2024-07-15T09:00:00+07:00');
  const page = await new Browser().go((await daknong.authorize({ idp_hint: 'zalo' })).url);
  t.match(page.body, 'name="choice"');
  t.match(page.body, 'Cách đăng nhập mà Cổng dịch vụ công đề nghị hiện không được áp dụng');
});

t.test('a business login that needs a signature fails closed until signatures are verified', async (t) => {
  clock.instant = Date.parse('2024-01-15T09:00:00+07:00');
  const { page } = await login(lamdong, { idp: 'dvcqg', accountType: 'business', username: '0313994173' });
  t.equal(page.status, 503);
  t.match(page.body, 'step_unavailable');
  t.notOk(lamdong.isCallback(page.url), 'no code');
});

t.test('an SSO session is not reused where the province rule refuses its way in', async (t) => {
  clock.instant = Date.parse('2024-06-20T09:00:00+07:00');
  const { browser, page, req } = await login(daknong, { idp: 'dvcqg', username: '079088001234' });
  await daknong.exchange(page.url, req);
  clock.instant = Date.parse('2024-07-02T09:00:00+07:00');
  const again = await browser.go((await daknong.authorize()).url, daknong.isCallback);
  t.match(again.body, 'name="choice"', 'after the switch the DVCQG session no longer serves: back to the chooser');
  const silent = await browser.go((await daknong.authorize({ prompt: 'none' })).url, daknong.isCallback);
  t.equal(new URL(silent.url).searchParams.get('error'), 'login_required');
});

t.test('hot reload: a changed date takes effect on the next login, without a restart, without breaking one in flight', async (t) => {
  clock.instant = Date.parse('2024-07-15T09:00:00+07:00');
  const before = stack.broker.broker.policy().version;
  // A login in flight: chooser shown, the person is at VNeID when the file changes.
  const inflight = new Browser();
  const req = await daknong.authorize();
  const atVneid = await inflight.submit(await inflight.go(req.url), { choice: 'citizen:vneid' });

  const edited = parse(readFileSync(stack.policyFile!, 'utf8')) as { provinces: Record<string, { phases: { from: string }[] }> };
  edited.provinces['dak-nong']!.phases[1]!.from = '2024-08-01';
  writeFileSync(stack.policyFile!, stringify(edited));
  await waitFor(() => stack.broker.broker.policy().version !== before);
  t.ok(stack.logs.some((l) => l.msg === 'policy reloaded' && l.previousVersion === before), 'the reload is logged with both versions');
  const ready = (await (await fetch(`${stack.issuer}/readyz`)).json()) as { policy: { version: string } };
  t.equal(ready.policy.version, stack.broker.broker.policy().version, '/readyz shows the new version');

  const page = await new Browser().go((await daknong.authorize()).url);
  t.match(page.body, 'value="citizen:dvcqg"', 'the switch moved to 01/08/2024: DVCQG is offered again');
  t.match(page.body, 'Từ ngày 01/08/2024, công dân sẽ chỉ đăng nhập được', 'and announced');

  const done = await upstreamLogin(inflight, atVneid, { username: '079088001234', password: PASSWORD, otp: OTP }, daknong.isCallback);
  t.ok(new URL(done.url).searchParams.get('code'), 'the login in flight completed');
});

t.test('an invalid reload keeps the policy in force and says why; SIGHUP reloads too', async (t) => {
  const before = stack.broker.broker.policy().version;
  const good = readFileSync(stack.policyFile!, 'utf8');
  writeFileSync(stack.policyFile!, good.replace('vneid:level2', 'vneid:level9'));
  await waitFor(() => stack.logs.some((l) => l.msg === 'config reload rejected: the policy in force is kept'));
  const rejected = stack.logs.find((l) => l.msg === 'config reload rejected: the policy in force is kept')!;
  t.match(JSON.stringify(rejected.issues), 'method must look like', 'the errors are logged with their paths');
  t.equal(stack.broker.broker.policy().version, before, 'the old policy stays');
  const page = await new Browser().go((await daknong.authorize()).url);
  t.match(page.body, 'name="choice"', 'logins go on under the old policy');

  writeFileSync(stack.policyFile!, good.replace('from: 2024-08-01', 'from: 2024-07-01'), { flag: 'w' });
  process.kill(process.pid, 'SIGHUP');
  await waitFor(() => stack.broker.broker.policy().version !== before);
  t.pass('reloaded');
});

async function waitFor(cond: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for the reload');
    await new Promise((r) => setTimeout(r, 20));
  }
}
