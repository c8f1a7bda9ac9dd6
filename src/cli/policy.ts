import { existsSync } from 'node:fs';
import type { RuntimeEnv } from '../config/env.js';
import { loadConfig, loadPolicyFile } from '../config/load.js';
import { ACCOUNT_TYPES, type AccountType, type PolicyConfig } from '../config/schema.js';
import {
  compilePolicy, evaluateIdentity, nextPhase, phaseAt, provincePolicy, ruleLine, startOfLocalDay, vnDate,
  type Decision, type Method, type Phase, type Policy, type Step,
} from '../policy/index.js';
import type { Identity } from '../upstream/identity.js';

/** `igate-broker policy explain|timeline`: what the policy decides, for operators and scripts. */

export class UsageError extends Error {}

type Args = Map<string, string | true>;

export function parseArgs(argv: string[]): Args {
  const args: Args = new Map();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument ${a}`);
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      args.set(a.slice(2), next);
      i++;
    } else {
      args.set(a.slice(2), true);
    }
  }
  return args;
}

function str(args: Args, key: string): string | undefined {
  const v = args.get(key);
  if (v === true) throw new UsageError(`--${key} needs a value`);
  return v;
}

async function loadPolicy(args: Args, env: RuntimeEnv): Promise<PolicyConfig> {
  const opts = { production: env.production, vars: env.vars };
  const policyFile = str(args, 'policy');
  if (policyFile) return loadPolicyFile(policyFile, opts);
  const config = str(args, 'config') ?? env.configFile;
  if (config) return (await loadConfig(config, opts)).policy;
  if (existsSync('config/policy.vn.yaml')) return loadPolicyFile('config/policy.vn.yaml', opts);
  throw new UsageError('give --config FILE (or BROKER_CONFIG) or --policy FILE');
}

/** `--at 2024-07-01` is local midnight in the policy's zone; a full ISO date-time is that instant. */
export function parseInstant(value: string | undefined, timezone: string, now: number): number {
  if (value === undefined) return now;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return startOfLocalDay(value, timezone);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new UsageError(`--at: not an ISO date or date-time: ${value}`);
  return t;
}

function localTime(instant: number, timezone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(new Date(instant)).replace(',', '');
}

export async function policyExplain(argv: string[], env: RuntimeEnv, now: number): Promise<string> {
  const args = parseArgs(argv);
  const cfg = await loadPolicy(args, env);
  const policy = compilePolicy(cfg);
  const province = str(args, 'province');
  if (!province) throw new UsageError('--province is required (e.g. dak-nong)');
  const accountType = str(args, 'account-type') as AccountType | undefined;
  if (!accountType || !(ACCOUNT_TYPES as readonly string[]).includes(accountType)) throw new UsageError(`--account-type must be one of ${ACCOUNT_TYPES.join(', ')}`);
  const idp = str(args, 'idp');
  if (!idp) throw new UsageError('--idp is required (vneid or dvcqg)');
  const levelArg = str(args, 'level');
  const level = levelArg === undefined ? undefined : Number(levelArg);
  if (level !== undefined && level !== 1 && level !== 2) throw new UsageError('--level must be 1 or 2');
  const instant = parseInstant(str(args, 'at'), policy.timezone, now);
  const satisfied: Step[] = [...(args.has('signature') ? ['signature' as const] : []), ...(args.has('otp') ? ['otp' as const] : [])];

  // Without --level the identity level is taken as sufficient (a note says so); with it, it is checked.
  const decision: Decision = evaluateIdentity(policy, province, { identity: subjectIdentity(accountType, idp, level ?? 9), satisfied }, instant);
  const phase = phaseAt(provincePolicy(policy, province), instant);

  if (args.has('json')) {
    return `${JSON.stringify({
      province, at: new Date(instant).toISOString(), accountType, idp, level: level ?? null, satisfied,
      outcome: decision.outcome,
      ...(decision.outcome === 'deny' ? { reason: decision.reason, allowed: decision.allowed.map((m) => m.raw), message: decision.message } : {}),
      ...(decision.outcome === 'allow' && decision.wouldDeny ? { reportOnly: true, wouldDeny: { reason: decision.wouldDeny.reason, message: decision.wouldDeny.message } } : {}),
      ...(decision.outcome !== 'deny' ? { method: decision.method.raw } : {}),
      ...(decision.outcome === 'require' ? { steps: decision.steps } : {}),
      rule: { id: decision.rule.id, from: decision.rule.from ?? null, until: decision.rule.until ?? null, source: phase?.source ?? null, reportOnly: decision.rule.reportOnly },
      policyVersion: policy.version,
    }, null, 2)}\n`;
  }

  const lines: [string, string][] = [
    ['Province', `${province}${decision.rule.province === 'default' ? ' (no rules of its own: the default rules apply)' : ` (${decision.rule.provinceName})`}`],
    ['At', `${localTime(instant, policy.timezone)} ${policy.timezone} = ${new Date(instant).toISOString()}`],
    ['Subject', `${accountType} via ${idp}${level ? `, identity level ${level}` : ''}${satisfied.length ? `, with ${satisfied.join(' + ')}` : ''}`],
    ['Decision', describeDecision(decision)],
    ['Rule', decision.rule.from ? `${decision.rule.id}, from ${vnDate(decision.rule.from)}${decision.rule.until ? ` until ${vnDate(decision.rule.until)}` : ''}${phase?.source ? ` — ${phase.source}` : ''}` : `${decision.rule.id} (no phase in force)`],
    ['In force', ruleLine(decision.rule, 'vi')],
  ];
  if (phase) lines.push(['Allowed', allowedLine(phase)]);
  const message = decision.outcome === 'deny' ? decision.message : decision.outcome === 'allow' ? decision.wouldDeny?.message : undefined;
  if (message) lines.push(['Page (vi)', message.vi], ['Page (en)', message.en]);
  if (level === undefined && decision.outcome !== 'deny' && decision.method.minLevel) {
    lines.push(['Note', `level not given, assumed sufficient: the upstream must report identity level ${decision.method.minLevel} or more (add --level to check)`]);
  }
  lines.push(['Policy', `version ${policy.version}`]);
  return `${lines.map(([k, v]) => `${`${k}:`.padEnd(11)} ${v}`).join('\n')}\n`;
}

function subjectIdentity(accountType: AccountType, idp: string, level: number): Identity {
  return {
    idp, kind: idp === 'dvcqg' ? 'dvcqg' : 'vneid', issuer: idp, upstreamSubject: 'explain', accountType, identityLevel: level as 1 | 2, // 9: any level
    amr: ['pwd'], viaVneid: false, ...(accountType === 'citizen' ? { nationalId: '000000000000' } : { taxCode: '0000000000' }),
  };
}

function describeDecision(d: Decision): string {
  switch (d.outcome) {
    case 'deny': return `DENY (${d.reason})${d.rule.reportOnly ? '' : ''}`;
    case 'require': return `REQUIRE ${d.steps.join(' + ')} (method ${d.method.raw})`;
    case 'allow': return d.wouldDeny ? `ALLOW — report-only province: WOULD DENY (${d.wouldDeny.reason})` : `ALLOW (method ${d.method.raw})`;
  }
}

function methods(ms: Method[]): string {
  return ms.length ? ms.map((m) => m.raw).join(', ') : '—';
}

function allowedLine(p: Phase): string {
  return `citizen: ${methods(p.methods.citizen)} · business: ${methods(p.methods.business)} · organization: ${p.organizationFromBusiness ? '(as business)' : methods(p.methods.organization)}`;
}

type Status = 'past' | 'in force' | 'upcoming' | 'upcoming (notice shown)';

function statusOf(policy: Policy, p: Phase, instant: number): Status {
  if (p.startsAt > instant) return p.startsAt - instant <= policy.noticeDays * 86_400_000 ? 'upcoming (notice shown)' : 'upcoming';
  if (p.endsAt !== undefined && p.endsAt <= instant) return 'past';
  return 'in force';
}

export async function policyTimeline(argv: string[], env: RuntimeEnv, now: number): Promise<string> {
  const args = parseArgs(argv);
  const policy = compilePolicy(await loadPolicy(args, env));
  const only = str(args, 'province');
  const instant = parseInstant(str(args, 'at'), policy.timezone, now);
  const sets = [...(policy.default ? [policy.default] : []), ...policy.provinces.values()].filter((pp) => !only || pp.id === only);
  if (only && sets.length === 0) {
    const fallback = provincePolicy(policy, only);
    if (!fallback) throw new UsageError(`no rules for province ${only} and no default`);
    sets.push(fallback);
  }
  const rows = sets.flatMap((pp) => pp.phases.map((p) => ({
    province: pp.id, phase: p.id, from: p.from, until: p.until ?? null,
    citizen: methods(p.methods.citizen), business: methods(p.methods.business),
    organization: p.organizationFromBusiness ? '(as business)' : methods(p.methods.organization),
    status: statusOf(policy, p, instant), reportOnly: pp.reportOnly, source: p.source ?? null,
  })));
  if (args.has('json')) return `${JSON.stringify({ at: new Date(instant).toISOString(), policyVersion: policy.version, timezone: policy.timezone, noticeDays: policy.noticeDays, phases: rows }, null, 2)}\n`;

  const header = ['province', 'phase', 'from', 'until', 'citizen', 'business', 'organization', 'status'];
  const table = rows.map((r) => [r.province + (r.reportOnly ? ' (report-only)' : ''), r.phase, vnDate(r.from), r.until ? vnDate(r.until) : '', r.citizen, r.business, r.organization, r.status === 'in force' ? '◀ in force' : r.status]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const fmt = (row: string[]) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const upcoming = sets.map((pp) => nextPhase(pp, instant)).filter((p): p is Phase => Boolean(p));
  return [
    `Policy ${policy.version} · ${policy.timezone} · at ${localTime(instant, policy.timezone)} · notice ${policy.noticeDays} days`,
    fmt(header),
    fmt(widths.map((w) => '-'.repeat(w))),
    ...table.map(fmt),
    ...(upcoming.length ? ['', ...upcoming.map((p) => `Upcoming: ${p.id} from ${vnDate(p.from)} (${Math.ceil((p.startsAt - instant) / 86_400_000)} days)`)] : []),
  ].join('\n') + '\n';
}
