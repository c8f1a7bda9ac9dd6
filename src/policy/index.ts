/**
 * The account-type policy: dated phases per province (seeds 000 and 003, Decree 69/2024),
 * compiled once, evaluated as pure functions of (policy, province, subject, instant).
 */
export { compilePolicy, parseMethod, policyVersion, DEFAULT_PROVINCE, type Method, type Phase, type Policy, type ProvincePolicy } from './model.js';
export {
  evaluate, evaluateChoice, evaluateIdentity, nextPhase, phaseAt, provincePolicy,
  type Choice, type Decision, type Denial, type DenyReason, type IdentitySubject, type RuleRef, type Step, type Subject,
} from './evaluate.js';
export { closingNotices, denialMessage, describeMethod, howTo, phaseSummary, ruleLine, typeLabel, type Notice } from './explain.js';
export { localDate, startOfLocalDay, vnDate } from './time.js';
