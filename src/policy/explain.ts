import type { AccountType } from '../config/schema.js';
import type { RuleRef } from './evaluate.js';
import type { Method, Phase } from './model.js';
import { vnDate } from './time.js';

/**
 * The words of the policy: what a person reads on the chooser and on a refusal, what an
 * operator reads from `policy explain`. Vietnamese first, English second. Pure.
 */

type L = { vi: string; en: string };

const TYPE: Record<AccountType, L> = {
  citizen: { vi: 'công dân', en: 'citizens' },
  business: { vi: 'doanh nghiệp', en: 'businesses' },
  organization: { vi: 'tổ chức', en: 'organisations' },
};

const IDP: Record<string, L> = {
  vneid: { vi: 'tài khoản định danh điện tử VNeID', en: 'a VNeID electronic identification account' },
  dvcqg: { vi: 'tài khoản Cổng Dịch vụ công quốc gia', en: 'a National Public Service Portal (DVCQG) account' },
};

const HOW_TO: Record<string, L> = {
  vneid: {
    vi: 'Cách có tài khoản VNeID: cài ứng dụng VNeID và đăng ký tài khoản định danh điện tử; tài khoản mức độ 2 được cấp tại cơ quan Công an khi làm thủ tục cấp thẻ Căn cước (hướng dẫn tại https://vneid.gov.vn).',
    en: 'To get a VNeID account: install the VNeID app and register; level 2 accounts are issued by the police when your citizen identity card is issued (see https://vneid.gov.vn).',
  },
  dvcqg: {
    vi: 'Cách có tài khoản Cổng Dịch vụ công quốc gia: đăng ký tại https://dichvucong.gov.vn.',
    en: 'To get a National Public Service Portal account: register at https://dichvucong.gov.vn.',
  },
  signature: {
    vi: 'Chữ ký số (USB ký số, SIM ký số) do các tổ chức cung cấp dịch vụ chứng thực chữ ký số công cộng cấp cho doanh nghiệp.',
    en: 'Digital signatures (USB token, SIM signature) are issued to businesses by licensed certification service providers.',
  },
};

export function typeLabel(t: AccountType, locale: 'vi' | 'en'): string {
  return TYPE[t][locale];
}

export function describeMethod(m: Method, locale: 'vi' | 'en'): string {
  let s = IDP[m.idp]?.[locale] ?? (locale === 'vi' ? `tài khoản ${m.idp}` : `a ${m.idp} account`);
  if (m.minLevel) s += locale === 'vi' ? ` mức độ ${m.minLevel}` : ` of level ${m.minLevel}`;
  if (m.signature) s += locale === 'vi' ? ' kèm chữ ký số' : ' with a digital signature';
  if (m.otp) s += locale === 'vi' ? ' kèm mã OTP' : ' with a one-time code';
  return s;
}

function list(methods: Method[], locale: 'vi' | 'en'): string {
  const words = [...new Set(methods.map((m) => describeMethod(m, locale)))];
  return words.join(locale === 'vi' ? ' hoặc ' : ' or ');
}

/** How to get what the methods need: one sentence per upstream (and the signature). */
export function howTo(methods: Method[], locale: 'vi' | 'en'): string {
  const keys = new Set<string>();
  for (const m of methods) {
    if (HOW_TO[m.idp]) keys.add(m.idp);
    if (m.signature) keys.add('signature');
  }
  return [...keys].map((k) => HOW_TO[k]![locale]).join(' ');
}

/** "Quy định của tỉnh Đắk Nông, áp dụng từ ngày 01/07/2024" — which rule decided. */
export function ruleLine(rule: RuleRef, locale: 'vi' | 'en'): string {
  if (!rule.from) return locale === 'vi' ? `Chưa có quy định đăng nhập đang áp dụng cho ${rule.provinceName}.` : `No login rule is in force for ${rule.provinceName}.`;
  const whose = rule.province === 'default'
    ? (locale === 'vi' ? 'Quy định chung' : 'The national default rule')
    : (locale === 'vi' ? `Quy định của ${rule.provinceName}` : `The rule of ${rule.provinceName}`);
  const until = rule.until ? (locale === 'vi' ? ` đến hết ngày ${vnDate(rule.until)}` : ` until ${rule.until}`) : '';
  return locale === 'vi' ? `${whose}, áp dụng từ ngày ${vnDate(rule.from)}${until}.` : `${whose}, in force since ${rule.from}${until}.`;
}

/** One line per account type group of a phase, for the chooser and the timeline. */
export function phaseSummary(phase: Phase, locale: 'vi' | 'en'): string {
  const parts: string[] = [];
  const groups: [AccountType, Method[]][] = [['citizen', phase.methods.citizen], ['business', phase.methods.business]];
  if (!phase.organizationFromBusiness) groups.push(['organization', phase.methods.organization]);
  for (const [t, methods] of groups) {
    const who = t === 'business' && phase.organizationFromBusiness ? (locale === 'vi' ? 'tổ chức, doanh nghiệp' : 'organisations and businesses') : TYPE[t][locale];
    parts.push(methods.length ? `${who}: ${list(methods, locale)}` : `${who}: ${locale === 'vi' ? 'không được đăng nhập' : 'may not log in'}`);
  }
  return parts.join('; ');
}

export interface DenialInput {
  reason: 'no_rule' | 'method_not_allowed' | 'account_type_mismatch' | 'level_too_low';
  rule: RuleRef;
  phase?: Phase | undefined;
  accountType?: AccountType | undefined;
  chosen?: AccountType | undefined;
  allowed?: Method[] | undefined;
  level?: number | undefined;
  needed?: number | undefined;
}

/** What the person reads when a way in is refused: what, since when, what to do instead. */
export function denialMessage(d: DenialInput): { vi: string; en: string } {
  const out = { vi: '', en: '' };
  for (const l of ['vi', 'en'] as const) {
    const type = d.accountType ? TYPE[d.accountType][l] : '';
    const since = d.phase ? (l === 'vi' ? `Từ ngày ${vnDate(d.phase.from)}` : `Since ${d.phase.from}`) : '';
    const allowed = d.allowed ?? [];
    let text: string;
    switch (d.reason) {
      case 'no_rule':
        text = l === 'vi'
          ? 'Cổng dịch vụ công này hiện chưa có quy định về loại tài khoản được phép đăng nhập. Vui lòng liên hệ đơn vị quản lý Cổng.'
          : 'This portal has no rule in force about which accounts may log in. Please contact the portal\'s operator.';
        break;
      case 'account_type_mismatch':
        text = l === 'vi'
          ? `Bạn đã chọn "${d.chosen === 'citizen' ? 'Công dân' : 'Tổ chức, doanh nghiệp'}" nhưng tài khoản vừa đăng nhập là tài khoản ${type}. Vui lòng chọn đúng loại tài khoản và đăng nhập lại.`
          : `You chose "${d.chosen === 'citizen' ? 'Citizen' : 'Organisation, business'}" but the account you logged in with belongs to ${type}. Choose the right account type and log in again.`;
        break;
      case 'level_too_low':
        text = l === 'vi'
          ? `${since}, ${type} cần tài khoản VNeID mức độ ${d.needed} để đăng nhập.`
          : `${since}, ${type} need a level ${d.needed} VNeID account to log in.`;
        break;
      case 'method_not_allowed':
        text = allowed.length
          ? (l === 'vi' ? `${since}, ${type} chỉ đăng nhập bằng ${list(allowed, l)}.` : `${since}, ${type} log in only with ${list(allowed, l)}.`)
          : (l === 'vi' ? `${since}, ${type} không được đăng nhập vào Cổng này.` : `${since}, ${type} may not log in to this portal.`);
        break;
    }
    // A phase's own message replaces the generated rule sentence (its English falls back to the generated one).
    const override = (d.reason === 'method_not_allowed' || d.reason === 'level_too_low') && d.phase?.message ? (l === 'vi' ? d.phase.message.vi : d.phase.message.en) : undefined;
    const lead = d.reason === 'level_too_low' ? (l === 'vi' ? `Tài khoản VNeID của bạn đang ở mức độ ${d.level || 1}.` : `Your VNeID account is level ${d.level || 1}.`) : '';
    const help = d.reason === 'method_not_allowed' || d.reason === 'level_too_low' ? howTo(allowed, l) : '';
    out[l] = [lead, override ?? text, help].filter(Boolean).join(' ');
  }
  return out;
}

export interface Notice {
  accountType: AccountType;
  from: string;
  closes: Method[];
  message: { vi: string; en: string };
}

/**
 * Advance notice: during the notice period before the next phase, every way in that the next
 * phase closes gets a banner saying from when and what to use instead.
 */
export function closingNotices(current: Phase | undefined, next: Phase | undefined, instant: number, noticeDays: number): Notice[] {
  if (!current || !next || next.startsAt - instant > noticeDays * 86_400_000) return [];
  const notices: Notice[] = [];
  for (const t of ['citizen', 'business', 'organization'] as AccountType[]) {
    if (t === 'organization' && next.organizationFromBusiness && current.organizationFromBusiness) continue;
    const stillOpen = (m: Method) => next.methods[t].some((n) => n.idp === m.idp && n.minLevel <= m.minLevel && (!n.signature || m.signature) && (!n.otp || m.otp));
    const closes = current.methods[t].filter((m) => !stillOpen(m));
    if (closes.length === 0) continue;
    const message = { vi: '', en: '' };
    for (const l of ['vi', 'en'] as const) {
      const lead = next.methods[t].length
        ? (l === 'vi' ? `Từ ngày ${vnDate(next.from)}, ${TYPE[t].vi} sẽ chỉ đăng nhập được bằng ${list(next.methods[t], l)}.` : `From ${next.from}, ${TYPE[t].en} will only be able to log in with ${list(next.methods[t], l)}.`)
        : (l === 'vi' ? `Từ ngày ${vnDate(next.from)}, ${TYPE[t].vi} sẽ không đăng nhập được vào Cổng này.` : `From ${next.from}, ${TYPE[t].en} will no longer be able to log in to this portal.`);
      message[l] = [lead, howTo(next.methods[t], l)].filter(Boolean).join(' ');
    }
    notices.push({ accountType: t, from: next.from, closes, message });
  }
  return notices;
}
