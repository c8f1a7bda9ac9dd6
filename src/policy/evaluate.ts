import type { AccountType } from '../config/schema.js';
import type { Identity } from '../upstream/identity.js';
import { denialMessage } from './explain.js';
import { DEFAULT_PROVINCE, type Localized, type Method, type Phase, type Policy, type ProvincePolicy } from './model.js';

/**
 * evaluate(policy, province, subject, instant) → allow | deny(rule, reason, message) | require(steps).
 * Pure: the instant is an argument, nothing is read from the clock, the network or the disk.
 */

export type Step = 'signature' | 'otp';
export type DenyReason = 'no_rule' | 'method_not_allowed' | 'account_type_mismatch' | 'level_too_low';

export interface RuleRef {
  /** `dak-nong#2`, or `<province>#none` when no phase is in force. */
  id: string;
  province: string;
  provinceName: string;
  from?: string | undefined;
  until?: string | undefined;
  reportOnly: boolean;
  version: string;
}

export interface Denial {
  reason: DenyReason;
  message: Required<Localized>;
  /** What this account type may use instead, under the rule in force. */
  allowed: Method[];
}

export type Decision =
  | { outcome: 'allow'; rule: RuleRef; method: Method; wouldDeny?: Denial | undefined }
  | { outcome: 'require'; rule: RuleRef; method: Method; steps: Step[] }
  | ({ outcome: 'deny'; rule: RuleRef } & Denial);

/** Before the upstream: the account type chosen ("business" = the "Tổ chức, doanh nghiệp" button) and the upstream. */
export interface Choice {
  accountType?: AccountType | undefined;
  idp: string;
}

/** After the upstream: who actually came back, and what the login already proved. */
export interface IdentitySubject {
  identity: Identity;
  chosen?: AccountType | undefined;
  satisfied?: Step[] | undefined;
}

export type Subject = ({ kind: 'choice' } & Choice) | ({ kind: 'identity' } & IdentitySubject);

export function provincePolicy(policy: Policy, province: string): ProvincePolicy | undefined {
  return policy.provinces.get(province) ?? policy.default;
}

export function phaseAt(pp: ProvincePolicy | undefined, instant: number): Phase | undefined {
  return pp?.phases.find((p) => p.startsAt <= instant && (p.endsAt === undefined || instant < p.endsAt));
}

export function nextPhase(pp: ProvincePolicy | undefined, instant: number): Phase | undefined {
  return pp?.phases.find((p) => p.startsAt > instant);
}

function ruleRef(policy: Policy, pp: ProvincePolicy | undefined, province: string, phase: Phase | undefined): RuleRef {
  return {
    id: phase?.id ?? `${pp?.id ?? province}#none`,
    province: pp?.id ?? province,
    provinceName: pp && pp.id !== DEFAULT_PROVINCE ? pp.name : province,
    from: phase?.from,
    until: phase?.until,
    reportOnly: pp?.reportOnly ?? false,
    version: policy.version,
  };
}

/** The methods of an account type; the chooser's "business" group covers organisations too. */
function methodsFor(phase: Phase, accountType: AccountType | undefined, group: boolean): Method[] {
  if (accountType === undefined) return [...phase.methods.citizen, ...phase.methods.business, ...phase.methods.organization];
  if (group && accountType === 'business') return [...phase.methods.business, ...phase.methods.organization];
  return phase.methods[accountType];
}

/** Report-only provinces log what they would refuse and let the login through. */
function enforce(rule: RuleRef, denial: Denial, fallback: Method | undefined): Decision {
  if (rule.reportOnly) {
    return { outcome: 'allow', rule, method: fallback ?? { raw: 'report-only', idp: '', minLevel: 0, signature: false, otp: false }, wouldDeny: denial };
  }
  return { outcome: 'deny', rule, ...denial };
}

export function evaluateChoice(policy: Policy, province: string, choice: Choice, instant: number): Decision {
  const pp = provincePolicy(policy, province);
  const phase = phaseAt(pp, instant);
  const rule = ruleRef(policy, pp, province, phase);
  const fallback = { raw: choice.idp, idp: choice.idp, minLevel: 0, signature: false, otp: false };
  if (!phase) return enforce(rule, { reason: 'no_rule', message: denialMessage({ reason: 'no_rule', rule }), allowed: [] }, fallback);
  const allowed = methodsFor(phase, choice.accountType, true);
  const method = allowed.find((m) => m.idp === choice.idp);
  if (method) return { outcome: 'allow', rule, method };
  const type = choice.accountType ?? 'citizen';
  return enforce(rule, { reason: 'method_not_allowed', message: denialMessage({ reason: 'method_not_allowed', rule, phase, accountType: type, allowed }), allowed }, fallback);
}

function sameFamily(chosen: AccountType, actual: AccountType): boolean {
  return chosen === actual || (chosen !== 'citizen' && actual !== 'citizen');
}

export function evaluateIdentity(policy: Policy, province: string, subject: IdentitySubject, instant: number): Decision {
  const { identity } = subject;
  const pp = provincePolicy(policy, province);
  const phase = phaseAt(pp, instant);
  const rule = ruleRef(policy, pp, province, phase);
  const fallback = { raw: identity.idp, idp: identity.idp, minLevel: 0, signature: false, otp: false };
  // Whatever the dates: the account type chosen must be the one the upstream reports.
  if (subject.chosen && !sameFamily(subject.chosen, identity.accountType)) {
    return { outcome: 'deny', rule, reason: 'account_type_mismatch', message: denialMessage({ reason: 'account_type_mismatch', rule, accountType: identity.accountType, chosen: subject.chosen }), allowed: [] };
  }
  if (!phase) return enforce(rule, { reason: 'no_rule', message: denialMessage({ reason: 'no_rule', rule }), allowed: [] }, fallback);
  const allowed = methodsFor(phase, identity.accountType, false);
  const viaUpstream = allowed.filter((m) => m.idp === identity.idp);
  if (viaUpstream.length === 0) {
    return enforce(rule, { reason: 'method_not_allowed', message: denialMessage({ reason: 'method_not_allowed', rule, phase, accountType: identity.accountType, allowed }), allowed }, fallback);
  }
  const level = identity.identityLevel ?? 0;
  const levelOk = viaUpstream.filter((m) => level >= m.minLevel);
  if (levelOk.length === 0) {
    const needed = Math.min(...viaUpstream.map((m) => m.minLevel));
    return enforce(rule, { reason: 'level_too_low', message: denialMessage({ reason: 'level_too_low', rule, phase, accountType: identity.accountType, allowed, level, needed }), allowed }, fallback);
  }
  // The least demanding method this login can still complete.
  const satisfied = new Set(subject.satisfied ?? []);
  const missing = (m: Method): Step[] => [...(m.signature && !satisfied.has('signature') ? ['signature' as const] : []), ...(m.otp && !satisfied.has('otp') ? ['otp' as const] : [])];
  const best = levelOk.reduce((a, b) => (missing(b).length < missing(a).length ? b : a));
  const steps = missing(best);
  return steps.length ? { outcome: 'require', rule, method: best, steps } : { outcome: 'allow', rule, method: best };
}

export function evaluate(policy: Policy, province: string, subject: Subject, instant: number): Decision {
  return subject.kind === 'choice' ? evaluateChoice(policy, province, subject, instant) : evaluateIdentity(policy, province, subject, instant);
}
