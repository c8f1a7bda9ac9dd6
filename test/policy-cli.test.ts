import t from 'tap';
import { cli as runCli } from './helpers/cli.js';

// `igate-broker policy explain|timeline` as an operator runs them, against the shipped rules.
// `igate-broker policy …` in a child process, as an operator runs it.
const cli = (args: string[]) => runCli(args);

t.test('explain: a refusal with its rule, effective date and the message the person sees', async (t) => {
  const r = await cli(['policy', 'explain', '--province', 'dak-nong', '--at', '2024-07-01', '--account-type', 'citizen', '--idp', 'dvcqg']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^Province:\s+dak-nong \(tỉnh Đắk Nông\)$/m);
  t.match(r.stdout, /^At:\s+01\/07\/2024 00:00:00 Asia\/Ho_Chi_Minh = 2024-06-30T17:00:00.000Z$/m);
  t.match(r.stdout, /^Decision:\s+DENY \(method_not_allowed\)$/m);
  t.match(r.stdout, /^Rule:\s+dak-nong#2, from 01\/07\/2024 — Công văn 27\/TB-STTTT ngày 28\/06\/2024$/m);
  t.match(r.stdout, /^Page \(vi\):\s+Từ ngày 01\/07\/2024, công dân chỉ đăng nhập/m);
  t.match(r.stdout, /^Policy:\s+version [0-9a-f]{16}$/m);
});

t.test('explain: one second before the switch, a level, a signature', async (t) => {
  const before = await cli(['policy', 'explain', '--province', 'dak-nong', '--at', '2024-06-30T23:59:59+07:00', '--account-type', 'citizen', '--idp', 'dvcqg']);
  t.match(before.stdout, /^Decision:\s+ALLOW \(method dvcqg\)$/m);
  const level1 = await cli(['policy', 'explain', '--province', 'dak-nong', '--at', '2024-07-01', '--account-type', 'citizen', '--idp', 'vneid', '--level', '1']);
  t.match(level1.stdout, /^Decision:\s+DENY \(level_too_low\)$/m);
  const business = await cli(['policy', 'explain', '--province', 'lam-dong', '--at', '2024-01-01', '--account-type', 'business', '--idp', 'dvcqg']);
  t.match(business.stdout, /^Decision:\s+REQUIRE signature \(method dvcqg\+signature\)$/m);
  const signed = await cli(['policy', 'explain', '--province', 'lam-dong', '--at', '2024-01-01', '--account-type', 'business', '--idp', 'dvcqg', '--level', '2', '--signature']);
  t.match(signed.stdout, /^Decision:\s+ALLOW/m);
});

t.test('explain --json for scripts', async (t) => {
  const r = await cli(['policy', 'explain', '--province', 'ha-noi', '--at', '2024-07-01', '--account-type', 'citizen', '--idp', 'dvcqg', '--json']);
  const j = JSON.parse(r.stdout) as Record<string, unknown>;
  t.match(j, { province: 'ha-noi', at: '2024-06-30T17:00:00.000Z', outcome: 'deny', reason: 'method_not_allowed', allowed: ['vneid:level2'], rule: { id: 'default#2', from: '2024-07-01', source: 'Nghị định 69/2024/NĐ-CP' }, message: { vi: String, en: String } });
});

t.test('timeline: phases per province, the one in force and the upcoming ones marked', async (t) => {
  const r = await cli(['policy', 'timeline', '--province', 'dak-nong', '--at', '2024-06-15']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^province\s+phase\s+from\s+until\s+citizen\s+business\s+organization\s+status$/m);
  t.match(r.stdout, /^dak-nong\s+dak-nong#1\s+20\/10\/2022\s+dvcqg, vneid\s+dvcqg\+signature\s+\(as business\)\s+◀ in force$/m);
  t.match(r.stdout, /^dak-nong\s+dak-nong#2\s+01\/07\/2024\s+vneid:level2\s+dvcqg\s+\(as business\)\s+upcoming \(notice shown\)$/m);
  t.match(r.stdout, /^dak-nong\s+dak-nong#3\s+01\/07\/2025\s+.*upcoming$/m);
  t.match(r.stdout, 'Upcoming: dak-nong#2 from 01/07/2024 (16 days)');
  const json = JSON.parse((await cli(['policy', 'timeline', '--json', '--at', '2026-11-22'])).stdout) as { phases: { phase: string; status: string }[] };
  t.same(json.phases.filter((p) => p.status === 'in force').map((p) => p.phase), ['default#3', 'lam-dong#3', 'dak-nong#3']);
});

t.test('usage errors exit 2 with a message', async (t) => {
  const r = await cli(['policy', 'explain', '--province', 'dak-nong', '--account-type', 'alien', '--idp', 'vneid']);
  t.equal(r.code, 2);
  t.match(r.stderr, '--account-type must be one of citizen, business, organization');
  const bad = await cli(['policy', 'explain', '--province', 'dak-nong', '--at', 'yesterday', '--account-type', 'citizen', '--idp', 'vneid']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, '--at: not an ISO date');
});
