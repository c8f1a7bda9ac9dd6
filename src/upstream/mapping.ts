import { z } from 'zod';
import type { AccountType, IdpKind } from '../config/schema.js';
import { BrokerError } from '../errors/catalogue.js';
import type { Identity } from './identity.js';

/**
 * Claim mapping of DVCQG and VNeID into `Identity` (UPSTREAMS.md). Only the claims listed
 * here are read; everything else an upstream sends (MaBHXH, HoChieu, DanToc, …) is dropped.
 */

const text = z.union([z.string(), z.number()]).transform((v) => String(v).trim()).optional();

// Addresses come as a string or as an object of parts; keep one readable line.
const address = z.union([
  z.string(),
  z.record(z.string(), z.unknown()).transform((o) => Object.values(o).filter((v) => typeof v === 'string' && v.trim()).join(', ')),
]).optional();

const upstreamClaims = z.object({
  sub: z.string().min(1),
  TechID: text,
  LoaiTaiKhoan: text,
  SoDinhDanh: text,
  SoCMND: text,
  preferred_username: text,
  MaSoThue: text,
  MaSoDoanhNghiep: text,
  HoVaTen: text,
  name: text,
  TenDoanhNghiep: text,
  NgayThangNamSinh: text,
  birthdate: text,
  GioiTinh: text,
  SoDienThoai: text,
  phone_number: text,
  ThuDienTu: text,
  email: text,
  DiaChi: address,
  NoiOHienNay: address,
  ThuongTru: address,
  IAL: z.union([z.number(), z.string()]).optional(),
  loginIdp: text,
  amr: z.array(z.string()).optional(),
});

export type UpstreamClaims = z.infer<typeof upstreamClaims>;

const ACCOUNT_TYPE_CODES: Record<string, AccountType> = { 1: 'citizen', 2: 'business', 3: 'organization' };

export function normalizeTaxCode(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const v = raw.replace(/\s/g, '');
  let m = /^(\d{10})(?:-(\d{3}))?$/.exec(v);
  if (m) return m[2] ? `${m[1]}-${m[2]}` : m[1];
  m = /^(\d{10})(\d{3})$/.exec(v);
  if (m) return `${m[1]}-${m[2]}`;
  return undefined;
}

function isoDate(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(raw) ?? /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw);
  if (m) return `${m[1]}-${m[2]}-${m[3]}`;
  const vn = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(raw);
  return vn ? `${vn[3]}-${vn[2]}-${vn[1]}` : undefined;
}

function gender(raw: string | undefined): Identity['gender'] {
  // DVCQG's integer codes are not published (UPSTREAMS.md): only unambiguous words are mapped.
  const v = raw?.toLowerCase();
  if (v === 'male' || v === 'nam') return 'male';
  if (v === 'female' || v === 'nữ' || v === 'nu') return 'female';
  return undefined;
}

function personalId(c: UpstreamClaims): { nationalId?: string; legacyId?: string } {
  for (const v of [c.SoDinhDanh, c.SoCMND, c.preferred_username]) {
    if (v && /^\d{12}$/.test(v)) return { nationalId: v };
  }
  const legacy = c.SoCMND && /^\d{9}$/.test(c.SoCMND) ? c.SoCMND : undefined;
  return legacy ? { legacyId: legacy } : {};
}

/**
 * Map merged upstream claims to an Identity, or throw `identity_incomplete` / `account_not_allowed`.
 * `source` names the upstream for messages and for `Identity.idp`.
 */
export function toIdentity(source: { name: string; kind: IdpKind; issuer: string }, raw: unknown): Identity {
  const parsed = upstreamClaims.safeParse(raw);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ');
    throw new BrokerError('identity_incomplete', `${source.name}: malformed claims at ${where}`);
  }
  const c = parsed.data;
  const code = c.LoaiTaiKhoan ?? (source.kind === 'vneid' ? '1' : undefined);
  if (code === undefined) throw new BrokerError('identity_incomplete', `${source.name}: LoaiTaiKhoan missing`);
  const accountType = ACCOUNT_TYPE_CODES[code];
  // Any other LoaiTaiKhoan is an administrator / civil-servant account: never accepted (seed 000).
  if (accountType === undefined) {
    throw new BrokerError('account_not_allowed', `${source.name}: LoaiTaiKhoan=${code} is not a citizen/business/organisation account`);
  }

  const ids = personalId(c);
  const taxCode = normalizeTaxCode(c.MaSoThue) ?? normalizeTaxCode(c.MaSoDoanhNghiep);
  const level = c.IAL === undefined ? undefined : Number(c.IAL);

  const identity: Identity = {
    idp: source.name,
    kind: source.kind,
    issuer: source.issuer,
    upstreamSubject: c.sub,
    accountType,
    ...ids,
    ...(taxCode ? { taxCode } : {}),
    ...optional('organizationName', c.TenDoanhNghiep),
    ...optional('name', c.HoVaTen ?? c.name),
    ...optional('birthdate', isoDate(c.NgayThangNamSinh ?? c.birthdate)),
    ...optional('gender', gender(c.GioiTinh)),
    ...optional('phone', c.SoDienThoai ?? c.phone_number),
    ...optional('email', c.ThuDienTu ?? c.email),
    ...optional('address', c.DiaChi ?? c.NoiOHienNay ?? c.ThuongTru),
    ...(level === 1 || level === 2 ? { identityLevel: level } : {}),
    amr: c.amr?.length ? c.amr : ['pwd'],
    viaVneid: c.loginIdp === 'BCA',
  };

  if (identity.accountType === 'citizen' && !identity.nationalId) {
    throw new BrokerError('identity_incomplete', `${source.name}: citizen account without a 12-digit SoDinhDanh`);
  }
  if (identity.accountType !== 'citizen' && !identity.taxCode) {
    throw new BrokerError('identity_incomplete', `${source.name}: ${identity.accountType} account without a valid MaSoThue`);
  }
  return identity;
}

function optional<K extends string, V>(key: K, value: V | undefined | ''): { [P in K]?: V } {
  return (value === undefined || value === '' ? {} : { [key]: value }) as { [P in K]?: V };
}
