import t from 'tap';
import type { ConfigError} from '../src/config/load.js';
import { loadPolicyFile, parseConfig } from '../src/config/load.js';
import type { AccountType } from '../src/config/schema.js';
import {
  closingNotices, compilePolicy, evaluate, evaluateChoice, evaluateIdentity, nextPhase, phaseAt, provincePolicy, startOfLocalDay,
} from '../src/policy/index.js';
import type { Identity } from '../src/upstream/identity.js';

// The shipped rules (config/policy.vn.yaml), evaluated as pure functions at chosen instants.
const shipped = await loadPolicyFile('config/policy.vn.yaml', { production: false, vars: {} });
const policy = compilePolicy(shipped);
const at = (iso: string) => Date.parse(iso);

function person(accountType: AccountType, idp: string, level?: 1 | 2): Identity {
  return {
    idp, kind: idp === 'dvcqg' ? 'dvcqg' : 'vneid', issuer: `https://${idp}`, upstreamSubject: 's', accountType, amr: ['pwd'], viaVneid: false,
    ...(level ? { identityLevel: level } : {}),
    ...(accountType === 'citizen' ? { nationalId: '079088001234' } : { taxCode: '0313994173' }),
  };
}

t.test('local dates start at local midnight in Asia/Ho_Chi_Minh', async (t) => {
  t.equal(new Date(startOfLocalDay('2024-07-01', 'Asia/Ho_Chi_Minh')).toISOString(), '2024-06-30T17:00:00.000Z');
  t.equal(new Date(startOfLocalDay('2023-02-08', 'Asia/Ho_Chi_Minh')).toISOString(), '2023-02-07T17:00:00.000Z');
  t.equal(new Date(startOfLocalDay('2024-03-31', 'Europe/Paris')).toISOString(), '2024-03-30T23:00:00.000Z', 'a DST day starts at the right offset');
  t.equal(new Date(startOfLocalDay('2024-04-01', 'Europe/Paris')).toISOString(), '2024-03-31T22:00:00.000Z');
});

// [province, account type, upstream, level, instant, expected outcome, expected rule]
const table: [string, AccountType, string, 1 | 2 | undefined, string, 'allow' | 'deny' | 'require', string][] = [
  // Đắk Nông: the switch of 01/07/2024 at the exact local midnight (seed 003).
  ['dak-nong', 'citizen', 'dvcqg', undefined, '2024-06-30T23:59:59+07:00', 'allow', 'dak-nong#1'],
  ['dak-nong', 'citizen', 'dvcqg', undefined, '2024-07-01T00:00:00+07:00', 'deny', 'dak-nong#2'],
  ['dak-nong', 'citizen', 'vneid', 2, '2024-06-30T23:59:59+07:00', 'allow', 'dak-nong#1'],
  ['dak-nong', 'citizen', 'vneid', 2, '2024-07-01T00:00:00+07:00', 'allow', 'dak-nong#2'],
  ['dak-nong', 'citizen', 'vneid', 1, '2024-07-01T00:00:00+07:00', 'deny', 'dak-nong#2'],
  ['dak-nong', 'citizen', 'vneid', 1, '2024-06-30T23:59:59+07:00', 'allow', 'dak-nong#1'],
  ['dak-nong', 'business', 'dvcqg', undefined, '2024-06-30T23:59:59+07:00', 'require', 'dak-nong#1'],
  ['dak-nong', 'business', 'dvcqg', undefined, '2024-07-01T00:00:00+07:00', 'allow', 'dak-nong#2'],
  ['dak-nong', 'business', 'vneid', 2, '2024-07-15T10:00:00+07:00', 'deny', 'dak-nong#2'],
  ['dak-nong', 'organization', 'dvcqg', undefined, '2024-07-15T10:00:00+07:00', 'allow', 'dak-nong#2'],
  ['dak-nong', 'organization', 'dvcqg', undefined, '2025-07-01T00:00:00+07:00', 'deny', 'dak-nong#3'],
  ['dak-nong', 'organization', 'vneid', 2, '2025-07-01T00:00:00+07:00', 'allow', 'dak-nong#3'],
  // Lâm Đồng from 08/02/2023 (seed 000): citizens DVCQG or VNeID, businesses with a signature.
  ['lam-dong', 'citizen', 'dvcqg', undefined, '2023-02-07T23:59:59+07:00', 'deny', 'lam-dong#none'],
  ['lam-dong', 'citizen', 'dvcqg', undefined, '2023-02-08T00:00:00+07:00', 'allow', 'lam-dong#1'],
  ['lam-dong', 'citizen', 'vneid', 1, '2023-06-01T09:00:00+07:00', 'allow', 'lam-dong#1'],
  ['lam-dong', 'business', 'dvcqg', undefined, '2023-06-01T09:00:00+07:00', 'require', 'lam-dong#1'],
  ['lam-dong', 'business', 'vneid', 2, '2023-06-01T09:00:00+07:00', 'deny', 'lam-dong#1'],
  ['lam-dong', 'citizen', 'dvcqg', undefined, '2024-07-01T00:00:00+07:00', 'deny', 'lam-dong#2'],
  // A province without rules of its own follows the national default (Decree 69/2024).
  ['ha-noi', 'citizen', 'dvcqg', undefined, '2024-06-30T23:59:59+07:00', 'allow', 'default#1'],
  ['ha-noi', 'citizen', 'dvcqg', undefined, '2024-07-01T00:00:00+07:00', 'deny', 'default#2'],
  ['ha-noi', 'citizen', 'vneid', 2, '2026-11-22T12:00:00+07:00', 'allow', 'default#3'],
  ['ha-noi', 'organization', 'vneid', 2, '2026-11-22T12:00:00+07:00', 'allow', 'default#3'],
  ['ha-noi', 'organization', 'dvcqg', undefined, '2026-11-22T12:00:00+07:00', 'deny', 'default#3'],
];

t.test('provinces × account types × upstreams × instants (after the upstream)', async (t) => {
  for (const [province, type, idp, level, iso, outcome, rule] of table) {
    const d = evaluateIdentity(policy, province, { identity: person(type, idp, level) }, at(iso));
    t.equal(d.outcome, outcome, `${province} ${type} via ${idp}${level ? ` L${level}` : ''} at ${iso}: ${outcome}`);
    t.equal(d.rule.id, rule, `  decided by ${rule}`);
    t.equal(d.rule.version, policy.version, '  with the policy version');
  }
});

t.test('a signature requirement is a step, satisfied steps are not asked again', async (t) => {
  const d = evaluateIdentity(policy, 'lam-dong', { identity: person('business', 'dvcqg') }, at('2024-01-01T00:00:00Z'));
  t.match(d, { outcome: 'require', steps: ['signature'], method: { raw: 'dvcqg+signature' } });
  t.match(evaluateIdentity(policy, 'lam-dong', { identity: person('business', 'dvcqg'), satisfied: ['signature'] }, at('2024-01-01T00:00:00Z')), { outcome: 'allow' });
});

t.test('the chooser (before the upstream): groups and idp_hint', async (t) => {
  const july = at('2024-07-15T09:00:00+07:00');
  t.equal(evaluateChoice(policy, 'dak-nong', { accountType: 'citizen', idp: 'vneid' }, july).outcome, 'allow');
  t.equal(evaluateChoice(policy, 'dak-nong', { accountType: 'citizen', idp: 'dvcqg' }, july).outcome, 'deny');
  t.equal(evaluateChoice(policy, 'dak-nong', { accountType: 'business', idp: 'dvcqg' }, july).outcome, 'allow');
  t.equal(evaluateChoice(policy, 'dak-nong', { idp: 'dvcqg' }, july).outcome, 'allow', 'idp_hint: allowed for some account type');
  t.equal(evaluateChoice(policy, 'dak-nong', { idp: 'zalo' }, july).outcome, 'deny');
  t.equal(evaluate(policy, 'dak-nong', { kind: 'choice', accountType: 'business', idp: 'vneid' }, at('2025-08-01T00:00:00Z')).outcome, 'allow', 'the business group covers organisations');
});

t.test('refusal messages say what, since when, and what to do instead', async (t) => {
  const d = evaluateIdentity(policy, 'dak-nong', { identity: person('citizen', 'dvcqg') }, at('2024-07-15T09:00:00+07:00'));
  if (d.outcome !== 'deny') throw new Error('expected deny');
  t.equal(d.reason, 'method_not_allowed');
  t.match(d.message.vi, 'Từ ngày 01/07/2024, công dân chỉ đăng nhập');
  t.match(d.message.vi, 'VNeID mức độ 2');
  t.match(d.message.vi, 'https://vneid.gov.vn', 'how to get one');
  t.match(d.message.en, 'level 2 VNeID');
  t.same(d.allowed.map((m) => m.raw), ['vneid:level2']);

  const l1 = evaluateIdentity(policy, 'lam-dong', { identity: person('citizen', 'vneid', 1) }, at('2024-08-01T00:00:00Z'));
  t.match(l1, { outcome: 'deny', reason: 'level_too_low' });
  if (l1.outcome === 'deny') t.match(l1.message.vi, /^Tài khoản VNeID của bạn đang ở mức độ 1\. Từ ngày 01\/07\/2024, công dân cần tài khoản VNeID mức độ 2/);

  const generated = evaluateIdentity(policy, 'ha-noi', { identity: person('citizen', 'dvcqg') }, at('2024-08-01T00:00:00Z'));
  if (generated.outcome === 'deny') t.equal(generated.message.vi.split('.')[0], 'Từ ngày 01/07/2024, công dân chỉ đăng nhập bằng tài khoản định danh điện tử VNeID mức độ 2');

  const mismatch = evaluateIdentity(policy, 'dak-nong', { identity: person('citizen', 'dvcqg'), chosen: 'business' }, at('2024-08-01T00:00:00Z'));
  t.match(mismatch, { outcome: 'deny', reason: 'account_type_mismatch' });
});

t.test('advance notice: inside the notice period a closing way gets a banner, outside none', async (t) => {
  const pp = provincePolicy(policy, 'dak-nong');
  const inside = at('2024-06-15T09:00:00+07:00');
  const notices = closingNotices(phaseAt(pp, inside), nextPhase(pp, inside), inside, policy.noticeDays);
  const citizen = notices.find((n) => n.accountType === 'citizen');
  t.ok(citizen, 'citizens are warned');
  t.match(citizen!.message.vi, 'Từ ngày 01/07/2024, công dân sẽ chỉ đăng nhập được bằng tài khoản định danh điện tử VNeID mức độ 2');
  t.same(citizen!.closes.map((m) => m.raw), ['dvcqg', 'vneid'], 'DVCQG closes, and plain VNeID (level 1) closes too');
  t.notOk(notices.some((n) => n.accountType === 'business'), 'dvcqg+signature → dvcqg opens no closing for businesses');
  const outside = at('2024-05-20T09:00:00+07:00');
  t.same(closingNotices(phaseAt(pp, outside), nextPhase(pp, outside), outside, policy.noticeDays), [], '42 days ahead: no banner yet');
  const lastDay = at('2024-06-30T23:59:59+07:00');
  t.ok(closingNotices(phaseAt(pp, lastDay), nextPhase(pp, lastDay), lastDay, policy.noticeDays).length > 0, 'the last second still shows it');
});

t.test('report-only provinces log "would deny" and let the login through', async (t) => {
  const p = compilePolicy({ ...shipped, provinces: { ...shipped.provinces, 'dak-nong': { ...shipped.provinces['dak-nong']!, reportOnly: true } } });
  const d = evaluateIdentity(p, 'dak-nong', { identity: person('citizen', 'dvcqg') }, at('2024-08-01T00:00:00Z'));
  t.match(d, { outcome: 'allow', rule: { reportOnly: true }, wouldDeny: { reason: 'method_not_allowed' } });
  t.not(p.version, policy.version, 'a different policy has a different version');
});

t.test('until closes a phase at the end of its local day; after it no rule is in force', async (t) => {
  const p = compilePolicy({ timezone: 'Asia/Ho_Chi_Minh', noticeDays: 30, provinces: { x: { reportOnly: false, phases: [{ from: '2024-01-01', until: '2024-01-31', citizen: ['vneid'] }] } } });
  t.equal(evaluateIdentity(p, 'x', { identity: person('citizen', 'vneid', 2) }, at('2024-01-31T23:59:59+07:00')).outcome, 'allow');
  t.match(evaluateIdentity(p, 'x', { identity: person('citizen', 'vneid', 2) }, at('2024-02-01T00:00:00+07:00')), { outcome: 'deny', reason: 'no_rule', rule: { id: 'x#none' } });
  t.match(evaluateIdentity(p, 'nowhere', { identity: person('citizen', 'vneid', 2) }, at('2024-02-01T00:00:00+07:00')), { outcome: 'deny', reason: 'no_rule' }, 'no province rules and no default: fail closed');
});

t.test('validation: overlapping, unordered, unknown upstream or condition, with paths', async (t) => {
  const base = (policyYaml: string) => `
issuer: http://localhost:3000
keys: { signingJwks: x.json, cookieKeys: [a], subjectKey: b }
upstreams: { vneid: { issuer: http://localhost:3102, clientId: c, clientSecret: s } }
clients: [{ clientId: p, clientSecret: s, province: x, redirectUris: [http://localhost/cb] }]
policy:
${policyYaml}`;
  const issues = (yaml: string) => {
    try {
      parseConfig(base(yaml), 'x.yaml', { production: false, vars: {} });
      return [];
    } catch (err) {
      return (err as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
    }
  };
  t.match(issues('  provinces: { x: { phases: [{ from: 2024-07-01, citizen: [vneid] }, { from: 2024-01-01, citizen: [vneid] }] } }'), ['policy.provinces.x.phases[1].from: phases must be in date order without overlap']);
  t.match(issues('  provinces: { x: { phases: [{ from: 2024-01-01, until: 2024-08-01, citizen: [vneid] }, { from: 2024-07-01, citizen: [vneid] }] } }'), ['policy.provinces.x.phases[0].until: overlaps the next phase (from 2024-07-01)']);
  t.match(issues('  provinces: { x: { phases: [{ from: 2024-01-01, citizen: [dvcqg] }] } }'), ['policy.provinces.x.phases[0].citizen[0]: unknown upstream "dvcqg"']);
  t.match(issues('  provinces: { x: { phases: [{ from: 2024-01-01, citizen: ["vneid+face"] }] } }'), [/policy.provinces.x.phases\[0\].citizen\[0\]: method must look like/]);
  t.match(issues('  provinces: { x: { phases: [{ from: 2024-02-30, citizen: [vneid] }] } }'), ['policy.provinces.x.phases[0].from: is not a valid calendar date']);
  t.match(issues('  timezone: Mars/Olympus\n  provinces: {}'), ['policy.timezone: is not a known IANA time zone']);
  t.same(issues('  provinces: { x: { phases: [{ from: 2024-01-01, citizen: ["vneid:level2+otp"] }] } }'), []);
});
