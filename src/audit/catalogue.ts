/**
 * The audit event catalogue: every event a login, a portal or an operator can cause, with a
 * stable name and version. Appends with a name not listed here are refused at compile time.
 */
export const AUDIT_EVENTS = {
  'authorize.received': { v: 1, what: 'a portal sent an authorization request' },
  'chooser.shown': { v: 1, what: 'the chooser was shown (allowed ways in)' },
  'upstream.redirect': { v: 1, what: 'the person was sent to DVCQG or VNeID' },
  'upstream.callback': { v: 1, what: 'the upstream answered (ok, or an error / mix-up / replay with its reason)' },
  'policy.decision': { v: 1, what: 'the account-type policy decided (allow, require, deny, would_deny) under a rule and version' },
  'otp.sent': { v: 1, what: 'an SMS code was sent (or the send was refused/failed)' },
  'otp.verified': { v: 1, what: 'a one-time code was accepted' },
  'otp.failed': { v: 1, what: 'a one-time code was refused (never the code itself)' },
  'otp.locked': { v: 1, what: 'too many wrong codes: the person is locked out of OTP' },
  'signature.verified': { v: 1, what: 'a business signature was verified (certificate serial and issuer)' },
  'signature.refused': { v: 1, what: 'a business signature was refused, with the reason' },
  'login.finished': { v: 1, what: 'the login finished: the portal gets its code' },
  'login.refused': { v: 1, what: 'a login step ended on an error page (error code)' },
  'login.abandoned': { v: 1, what: 'the person went back to the portal (OAuth error sent)' },
  'token.issued': { v: 1, what: 'a portal redeemed a code for tokens' },
  'userinfo.served': { v: 1, what: 'a portal read userinfo' },
  'session.expired': { v: 1, what: 'a browser came back with a broker session whose login has expired' },
  'logout.portal': { v: 1, what: 'a portal-initiated logout ended the broker session' },
  'logout.upstream': { v: 1, what: 'the upstream session was ended too' },
  'logout.backchannel': { v: 1, what: 'a back-channel logout token was sent to a portal (or failed)' },
  'config.reloaded': { v: 1, what: 'the policy was reloaded (new version) or a reload was rejected' },
  'otp.reset': { v: 1, what: 'an operator reset a person\'s TOTP enrolment' },
  'audit.query': { v: 1, what: 'an auditor queried the audit trail (who, which filters)' },
} as const;

export type AuditEventName = keyof typeof AUDIT_EVENTS;

export type Outcome = 'success' | 'failure' | 'deny' | 'would_deny' | 'info';
