import type { AccountType, IdpKind } from '../config/schema.js';

/**
 * The one type at the upstream boundary. Everything outside src/upstream/ reads this,
 * never an upstream's claim names (DESIGN.md, "Rules of the house").
 */
export interface Identity {
  /** Configured upstream name (`vneid`, `dvcqg`). */
  idp: string;
  kind: IdpKind;
  /** The upstream's issuer and subject: the upstream's own key for this account. */
  issuer: string;
  upstreamSubject: string;
  accountType: AccountType;
  /** 12-digit personal identification number (CCCD). For a business, its representative when known. */
  nationalId?: string;
  /** Legacy 9-digit CMND, when that is all the upstream gives. */
  legacyId?: string;
  /** MST, branch form `0101234567-001` kept. */
  taxCode?: string;
  organizationName?: string;
  name?: string;
  /** ISO date YYYY-MM-DD. */
  birthdate?: string;
  gender?: 'male' | 'female';
  phone?: string;
  email?: string;
  address?: string;
  /** VNeID identity level (IAL), when known. */
  identityLevel?: 1 | 2;
  /** RFC 8176 methods the upstream used, as far as it tells. */
  amr: string[];
  /** DVCQG login that went through VNeID (loginIdp BCA). */
  viaVneid: boolean;
}

/**
 * The pivot of a person or business: what `sub` and the audit pseudonym are keyed on —
 * `pid:<national id>` for a citizen, `mst:<tax code>` for a business or organisation.
 */
export function pivotOf(who: { accountType?: string | undefined; nationalId?: string | undefined; taxCode?: string | undefined }): string | undefined {
  if (who.accountType && who.accountType !== 'citizen' && who.taxCode) return `mst:${who.taxCode}`;
  if (who.nationalId) return `pid:${who.nationalId}`;
  return who.taxCode ? `mst:${who.taxCode}` : undefined;
}
