import type { AccountType, PolicyConfig } from '../config/schema.js';
import type { Identity } from '../upstream/identity.js';

/**
 * The account-type policy seam. Pure functions: (policy, subject, province, instant) → decision.
 * The dated rules per province are the next stage of the product (issue 3); for now every
 * configured upstream is allowed for every account type, and only the facts that hold
 * whatever the dates are enforced (the account type chosen must be the one the upstream reports).
 */

export interface Choice {
  /** Absent when the portal's idp_hint skipped the chooser. */
  accountType?: AccountType | undefined;
  idp: string;
}

export type Decision =
  | { outcome: 'allow'; rule: string }
  | { outcome: 'deny'; rule: string; reason: 'account_type_mismatch' | 'method_not_allowed' };

/** Before the upstream: may this person try this way in? */
export function evaluateChoice(_policy: PolicyConfig, _province: string, _choice: Choice, _instant: number): Decision {
  return { outcome: 'allow', rule: 'foundation:any-upstream' };
}

/** After the upstream: the real identity is checked again against what was chosen. */
export function evaluateIdentity(policy: PolicyConfig, province: string, choice: Choice, identity: Identity, instant: number): Decision {
  if (choice.accountType && !sameFamily(choice.accountType, identity.accountType)) {
    return { outcome: 'deny', rule: 'chosen-account-type', reason: 'account_type_mismatch' };
  }
  return evaluateChoice(policy, province, { idp: identity.idp, accountType: identity.accountType }, instant);
}

/** "Tổ chức, doanh nghiệp" is one choice on the page: business and organisation go together. */
function sameFamily(chosen: AccountType, actual: AccountType): boolean {
  return chosen === actual || (chosen !== 'citizen' && actual !== 'citizen');
}
