import type { AccountType } from '../config/schema.js';
import {
  closingNotices, evaluateChoice, nextPhase, phaseAt, phaseSummary, provincePolicy, ruleLine, type Decision, type Policy,
} from '../policy/index.js';
import type { Upstreams } from '../upstream/index.js';
import { CHOICE_GROUPS, type ChoiceGroup, type ChooserOption } from './pages.js';
import type { Locale } from './view.js';

/**
 * What the chooser offers under the rule in force: the allowed (account type × upstream)
 * buttons, the rule and since when, and banners for ways in that close soon.
 */
export interface ChooserView {
  options: ChooserOption[];
  rule: string;
  notices: string[];
}

export function chooserView(policy: Policy, province: string, upstreams: Upstreams, instant: number, locale: Locale): ChooserView {
  const options: ChooserOption[] = [];
  let decision: Decision | undefined;
  for (const group of Object.keys(CHOICE_GROUPS) as ChoiceGroup[]) {
    for (const up of upstreams.byName.values()) {
      decision = evaluateChoice(policy, province, { accountType: group, idp: up.name }, instant);
      if (decision.outcome === 'allow') options.push({ group, idp: up.name, kind: up.kind, available: up.available });
    }
  }
  const pp = provincePolicy(policy, province);
  const current = phaseAt(pp, instant);
  const rule = decision ? ruleLine(decision.rule, locale) + (current ? ` ${capitalize(phaseSummary(current, locale))}.` : '') : '';
  const notices = closingNotices(current, nextPhase(pp, instant), instant, policy.noticeDays)
    .filter((n) => options.some((o) => groupOf(n.accountType) === o.group))
    .map((n) => n.message[locale]);
  if (options.length === 0 && decision?.outcome === 'deny') notices.push(decision.message[locale]);
  return { options, rule, notices };
}

function groupOf(t: AccountType): ChoiceGroup {
  return t === 'citizen' ? 'citizen' : 'business';
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
