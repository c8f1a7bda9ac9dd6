import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { chromium } from 'playwright-core';
import type { AuditEvent } from '../src/audit/event.js';
import { cli } from './helpers/cli.js';
import { login, startStack, TestPortal } from './helpers/stack.js';

// The audit trail of real logins: the catalogue's events with their fields, no personal data in
// clear, the auditor API (tokens, pagination), the dashboard in Chromium, and the CLI.
const TOKEN = 'auditor-token-for-tests-0123456789';
const clock = { instant: Date.parse('2024-07-15T09:00:00+07:00'), now() { return this.instant; } };
const stack = await startStack({
  clock,
  files: true,
  policy: {
    provinces: {
      'dak-nong': { name: 'tỉnh Đắk Nông', phases: [{ from: '2023-02-08', citizen: ['dvcqg', 'vneid'], business: ['dvcqg'] }, { from: '2024-07-01', citizen: ['vneid:level2'], business: ['dvcqg'] }] },
    },
    default: { phases: [{ from: '2020-01-01', citizen: ['vneid', 'dvcqg'], business: ['dvcqg'] }] },
  },
  tweak: (raw) => {
    raw.audit = { keys: [{ id: 'a1', key: 'audit-pseudonym-key-for-tests-000001' }], auditors: [{ name: 'Thanh tra Sở TT&TT', tokenSha256: createHash('sha256').update(TOKEN).digest('hex') }] };
  },
});
t.teardown(() => stack.close());
const lamdong = new TestPortal(stack, 'lamdong');
const daknong = new TestPortal(stack, 'daknong');
const auth = { authorization: `Bearer ${TOKEN}` };

async function stored(): Promise<AuditEvent[]> {
  return (await stack.redis.client.xrange('audit:{events}', '-', '+')).filter(([, f]) => f[0] === 'e').map(([, f]) => JSON.parse(f[1]!) as AuditEvent);
}

t.test('a citizen login emits the catalogue events with their fields', async (t) => {
  const { page, req } = await login(lamdong, { idp: 'vneid', username: '079088001234', params: { scope: 'openid profile' } });
  const tokens = await lamdong.exchange(page.url, req);
  await oidc.fetchUserInfo(await lamdong.configuration(), tokens.access_token, tokens.claims()!.sub);
  const events = await stored();
  const uid = events.find((e) => e.event === 'login.finished')!.interactionId!;
  t.same(events.filter((e) => e.interactionId === uid).map((e) => e.event), ['chooser.shown', 'upstream.redirect', 'upstream.callback', 'policy.decision', 'login.finished']);
  const finished = events.find((e) => e.event === 'login.finished')!;
  t.match(finished, {
    outcome: 'success', client: 'lamdong-igate', province: 'lam-dong', idp: 'vneid', accountType: 'citizen',
    subject: /^a1:[A-Za-z0-9_-]{43}$/, maskedId: '0790****1234', rule: 'default#1', acr: 'urn:igate:acr:1', amr: ['pwd', 'sms'],
    requestId: /^req-/, ip: '127.0.0.1', chain: String, seq: Number, prev: String, hash: String,
  });
  t.match(events.find((e) => e.event === 'policy.decision' && e.interactionId === uid), { outcome: 'success', rule: 'default#1', policyVersion: stack.broker.broker.policy().version });
  for (const name of ['authorize.received', 'token.issued', 'userinfo.served']) t.ok(events.some((e) => e.event === name && e.client === 'lamdong-igate'), name);
  t.match(events.find((e) => e.event === 'token.issued'), { subject: finished.subject, maskedId: '0790****1234' });
});

t.test('refusals are recorded: a citizen through DVCQG in Đắk Nông after 01/07/2024', async (t) => {
  const { page } = await login(daknong, { idp: 'dvcqg', username: '079088001234', params: { idp_hint: 'dvcqg' } });
  t.equal(page.status, 403);
  const events = await stored();
  t.match(events.find((e) => e.event === 'policy.decision' && e.outcome === 'deny'), { province: 'dak-nong', idp: 'dvcqg', accountType: 'citizen', rule: 'dak-nong#2', reason: 'method_not_allowed', maskedId: '0790****1234' });
  t.ok(events.some((e) => e.event === 'login.refused' && e.reason === 'policy_denied' && e.rule === 'dak-nong#2'));
  const { page: bad } = await login(lamdong, { idp: 'vneid', username: '079088009102' });
  t.equal(bad.status, 502);
  t.ok((await stored()).some((e) => e.event === 'upstream.callback' && e.outcome === 'failure' && e.reason === 'upstream_error'));
});

t.test('no national id, phone, token, cookie or OTP in clear in any stored event or log line', async (t) => {
  const otp = await login(lamdong, { idp: 'vneid', username: '079088001234', params: { acr_values: 'urn:igate:acr:2' } });
  const sent = await otp.browser.submit(otp.page, {}, { selector: '/otp/send' });
  const code = stack.outbox.lastCode('0901234289')!;
  await otp.browser.submit(sent, { code, method: 'sms' }, { action: /action="([^"]+\/otp)"/.exec(sent.body)![1], stopAt: lamdong.isCallback });
  const streamText = JSON.stringify(await stack.redis.client.xrange('audit:{events}', '-', '+'));
  const logText = stack.rawLogs.filter((l) => !l.includes('"devOutbox":true')).join('\n');
  for (const secret of ['079088001234', '0901234289', '068090005678', code, ...otp.browser.cookies('127.0.0.1').filter((c) => !c.name.includes('interaction')).map((c) => c.value)]) {
    t.notOk(streamText.includes(secret), `stream: no ${secret.slice(0, 4)}…`);
    t.notOk(logText.includes(secret), `log: no ${secret.slice(0, 4)}…`);
  }
  t.notMatch(streamText, /eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}/, 'no token in the stream (seals are kept as their own entries)');
  const all = await stored();
  const uid = all.find((e) => e.event === 'otp.verified' && e.detail?.method === 'sms')!.interactionId!;
  t.same(all.filter((e) => e.interactionId === uid).map((e) => `${e.event}:${e.outcome}`),
    ['chooser.shown:info', 'upstream.redirect:info', 'upstream.callback:success', 'policy.decision:success', 'otp.sent:success', 'otp.verified:success', 'login.finished:success'],
    'the OTP path emits the catalogue events in order');
  t.match(all.find((e) => e.event === 'login.finished' && e.interactionId === uid), { acr: 'urn:igate:acr:2', amr: ['pwd', 'sms', 'mfa'] });
});

t.test('a browser returning after its login expired: session.expired, then the chooser', async (t) => {
  const { browser, page, req } = await login(lamdong, { idp: 'vneid', username: '079088001234' });
  await lamdong.exchange(page.url, req);
  for (const key of await stack.redis.client.keys(`${stack.redis.keyPrefix}login:*`)) await stack.redis.client.del(key.slice(stack.redis.keyPrefix.length));
  const again = await browser.go((await lamdong.authorize()).url, lamdong.isCallback);
  t.match(again.body, 'name="choice"');
  t.ok((await stored()).some((e) => e.event === 'session.expired' && e.client === 'lamdong-igate'));
});

t.test('auditor API: tokens, filters by national id, cursor pagination, CSV; every query audited', async (t) => {
  t.equal((await fetch(`${stack.issuer}/audit/events`)).status, 401, 'no token');
  t.equal((await fetch(`${stack.issuer}/audit/events`, { headers: { authorization: 'Bearer wrong' } })).status, 401, 'wrong token');
  // Many logins: a large result to page through.
  for (let i = 0; i < 12; i++) await login(lamdong, { idp: 'dvcqg', username: '079088001234' });
  const all: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await fetch(`${stack.issuer}/audit/events?national_id=079088001234&event=login.finished&limit=5${cursor ? `&cursor=${cursor}` : ''}`, { headers: auth });
    t.equal(res.status, 200);
    const body = (await res.json()) as { events: (AuditEvent & { id: string })[]; next_cursor: string | null };
    all.push(...body.events.map((e) => e.id));
    t.ok(body.events.every((e) => e.maskedId === '0790****1234'));
    cursor = body.next_cursor;
    pages++;
  } while (cursor && pages < 20);
  const expected = (await stored()).filter((e) => e.event === 'login.finished' && e.maskedId === '0790****1234').length;
  t.equal(all.length, expected, 'every matching event, once');
  t.equal(new Set(all).size, all.length, 'no duplicates across pages');
  t.ok(pages >= 3, `${pages} pages`);
  const csv = await (await fetch(`${stack.issuer}/audit/events?format=csv&province=dak-nong`, { headers: auth })).text();
  t.match(csv.split('\n')[0], /^time,event,outcome,reason,client,province,idp,accountType,maskedId,subject,rule/);
  t.match(csv, 'dak-nong#2');
  const verify = await (await fetch(`${stack.issuer}/audit/verify`, { headers: auth })).json() as { ok: boolean };
  t.equal(verify.ok, true);
  t.ok((await stored()).some((e) => e.event === 'audit.query' && e.detail?.auditor === 'Thanh tra Sở TT&TT' && e.detail?.national_id === '(hashed)'), 'queries are audited, the national id hashed');
});

t.test('who logged in to Đắk Nông\'s portal through DVCQG as a citizen after 01/07/2024, and were they refused? (CLI)', async (t) => {
  const run = async (args: string[]) => {
    const r = await cli(['audit', ...args, '--config', stack.configFile!, '--auditor', 'cli-test'], { REDIS_URL: '' });
    if (r.code !== 0) throw new Error(`audit ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return r;
  };
  const { stdout } = await run(['query', '--province', 'dak-nong', '--idp', 'dvcqg', '--account-type', 'citizen', '--from', '2024-07-01', '--event', 'policy.decision', '--format', 'json']);
  const events = (JSON.parse(stdout) as { events: AuditEvent[] }).events;
  t.ok(events.length >= 1);
  t.ok(events.every((e) => e.province === 'dak-nong' && e.idp === 'dvcqg' && e.accountType === 'citizen'));
  t.match(events[0], { outcome: 'deny', rule: 'dak-nong#2', maskedId: '0790****1234' });
  const table = await run(['query', '--national-id', '079088001234', '--event', 'policy.decision', '--outcome', 'deny']);
  t.match(table.stdout, /policy\.decision\s+deny\s+method_not_allowed\s+daknong-igate\s+dvcqg\s+citizen\s+0790\*\*\*\*1234\s+dak-nong#2/);
  const csv = await run(['export', '--format', 'csv', '--province', 'dak-nong']);
  t.match(csv.stdout.split('\n')[0], /^time,event,outcome/);
  const stats = await run(['stats', '--json']);
  t.match(JSON.parse(stats.stdout), { denialsByRule: Object, total: Number });
  const verify = await run(['verify']);
  t.match(verify.stdout, /^OK: \d+ events in \d+ chain\(s\)/);
});

t.test('the auditor dashboard renders in Chromium, in Vietnamese, with its charts', { skip: existsSync('/usr/bin/chromium') ? false : 'Debian chromium is not installed (.ci/run installs it)' }, async (t) => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${stack.issuer}/audit/`);
  t.match(page.url(), /\/audit\/login$/, 'the dashboard asks for the token');
  await page.fill('#token', TOKEN);
  await page.click('button[type=submit]');
  await page.waitForURL(`${stack.issuer}/audit/`);
  t.equal(await page.textContent('h1'), 'Nhật ký đăng nhập');
  const charts = await page.locator('figure.chart svg').count();
  t.equal(charts, 3, 'three charts');
  t.ok(await page.locator('figure.chart svg rect.bar').count() > 0, 'with bars');
  t.ok((await page.getAttribute('figure.chart svg >> nth=0', 'aria-label'))?.includes('Lượt đăng nhập thành công'));
  await page.fill('input[name=province]', 'dak-nong');
  await page.click('form.filters button[type=submit]');
  const rows = await page.locator('table.events tbody tr').allTextContents();
  t.ok(rows.length > 0 && rows.every((r) => r.includes('daknong-igate') || r.includes('dak-nong') || r.length > 0));
  t.ok(rows.some((r) => r.includes('dak-nong#2')), 'the refusal under the Đắk Nông rule is listed');
  await page.screenshot({ path: join(tmpdir(), 'igate-audit-dashboard.png'), fullPage: true });
});
