import type { IdpKind } from '../config/schema.js';
import { ERRORS, type ErrorCode, type ErrorEntry } from '../errors/catalogue.js';
import { html, layout, type Locale } from './view.js';

/** The pages of a login: the chooser and the one error page. */

export const IDP_LABELS: Record<IdpKind, { vi: string; en: string }> = {
  vneid: { vi: 'Tài khoản định danh điện tử (VNeID) do Bộ Công an cấp', en: 'VNeID electronic identification account (Ministry of Public Security)' },
  dvcqg: { vi: 'Tài khoản Cổng Dịch vụ công quốc gia', en: 'National Public Service Portal (DVCQG) account' },
};

export const CHOICE_GROUPS = {
  citizen: { vi: 'Công dân (cá nhân)', en: 'Citizen (individual)' },
  business: { vi: 'Tổ chức, doanh nghiệp', en: 'Organisation, business' },
} as const;
export type ChoiceGroup = keyof typeof CHOICE_GROUPS;

const C = {
  title: { vi: 'Đăng nhập', en: 'Log in' },
  intro: {
    vi: 'Bạn đang đăng nhập để sử dụng dịch vụ công trực tuyến của {portal}. Chọn loại tài khoản và cách đăng nhập:',
    en: 'You are logging in to use the online public services of {portal}. Choose your account type and how to log in:',
  },
  unavailable: { vi: '(tạm thời không kết nối được, vui lòng thử lại sau)', en: '(temporarily unreachable, try again later)' },
  none: { vi: 'Hiện không có cách đăng nhập nào dành cho loại tài khoản này.', en: 'No way to log in is currently offered for this account type.' },
  back: { vi: 'Quay lại Cổng dịch vụ công', en: 'Back to the public-service portal' },
  retry: { vi: 'Thử lại', en: 'Try again' },
  code: { vi: 'Mã lỗi', en: 'Error code' },
  request: { vi: 'Mã yêu cầu', en: 'Request id' },
  oauth: { vi: 'Chi tiết kỹ thuật', en: 'Technical detail' },
} as const;

export interface ChooserOption {
  group: ChoiceGroup;
  idp: string;
  kind: IdpKind;
  available: boolean;
}

export interface ChooserModel {
  locale: Locale;
  uid: string;
  csrf: string;
  portal: string;
  support: string;
  options: ChooserOption[];
  notices: string[];
  /** Which rule is in force since when, in one line. */
  rule: string;
  /** Ask the upstream for a fresh login (after a refusal: another account may be needed). */
  fresh?: boolean;
}

export function renderChooser(m: ChooserModel): string {
  const l = m.locale;
  const groups = (Object.keys(CHOICE_GROUPS) as ChoiceGroup[]).map((group) => {
    const options = m.options.filter((o) => o.group === group);
    return html`<section class="card" aria-labelledby="g-${group}">
<h2 id="g-${group}">${CHOICE_GROUPS[group][l]}</h2>
${options.length === 0 ? html`<p class="hint">${C.none[l]}</p>` : options.map((o) => html`<button type="submit" name="choice" value="${group}:${o.idp}"${o.available ? '' : html` disabled`}>${IDP_LABELS[o.kind][l]}${o.available ? '' : html` <span class="hint">${C.unavailable[l]}</span>`}</button>`)}
</section>`;
  });
  return layout({
    locale: l,
    title: C.title[l],
    support: m.support,
    switchLocaleHref: `/interaction/${encodeURIComponent(m.uid)}?lang=${l === 'vi' ? 'en' : 'vi'}`,
    body: html`${m.notices.map((n) => html`<div class="card notice" role="status"><p>${n}</p></div>`)}
<p>${C.intro[l].replace('{portal}', m.portal)}</p>
${m.rule ? html`<p class="hint">${m.rule}</p>` : ''}
<form method="post" action="/interaction/${encodeURIComponent(m.uid)}/choose">
<input type="hidden" name="csrf" value="${m.csrf}">
${m.fresh ? html`<input type="hidden" name="fresh" value="1">` : ''}
${groups}
</form>`,
  });
}

export interface ErrorPageModel {
  code: ErrorCode;
  locale: Locale;
  requestId: string;
  support: string;
  /** Offer "try again": back to the chooser of a live interaction. */
  retryHref?: string | undefined;
  /** Offer "back to the portal": ends the login with the OAuth error of the entry. */
  abort?: { action: string; csrf: string } | undefined;
  /** One more line specific to this occurrence (e.g. when a lock ends). */
  note?: string | undefined;
  /** Shown for refused portal requests, so the portal's developers see what was wrong. */
  oauth?: { error: string; description?: string | undefined } | undefined;
}

export function renderErrorPage(m: ErrorPageModel): string {
  const e: ErrorEntry = ERRORS[m.code];
  const l = m.locale;
  return layout({
    locale: l,
    title: e.title[l],
    support: m.support,
    body: html`<div class="card error" role="alert"><p>${e.message[l]}</p>${m.note ? html`<p><strong>${m.note}</strong></p>` : ''}
${m.retryHref ? html`<a class="button" href="${m.retryHref}">${C.retry[l]}</a>` : ''}
${m.abort && e.oauth ? html`<form method="post" action="${m.abort.action}"><input type="hidden" name="csrf" value="${m.abort.csrf}"><input type="hidden" name="code" value="${m.code}"><button type="submit" class="secondary">${C.back[l]}</button></form>` : ''}
</div>
<p class="meta">${C.code[l]}: <code>${m.code}</code> · ${C.request[l]}: <code>${m.requestId}</code>${m.oauth ? html` · ${C.oauth[l]}: <code>${m.oauth.error}${m.oauth.description ? ` (${m.oauth.description})` : ''}</code>` : ''}</p>`,
  });
}

const LOGGED_OUT = {
  title: { vi: 'Bạn đã đăng xuất', en: 'You are logged out' },
  text: {
    vi: 'Bạn đã đăng xuất khỏi hệ thống xác thực tập trung. Để dùng tài khoản khác, hãy quay lại Cổng dịch vụ công và bấm "Đăng nhập".',
    en: 'You are logged out of the central login service. To use another account, go back to the portal and click "Log in".',
  },
} as const;

export function renderLoggedOut(locale: Locale, support: string): string {
  return layout({ locale, title: LOGGED_OUT.title[locale], support, body: html`<div class="card"><p>${LOGGED_OUT.text[locale]}</p></div>` });
}

const R = {
  other: { vi: 'Đăng nhập bằng cách khác', en: 'Log in another way' },
} as const;

export interface RefusalModel {
  locale: Locale;
  requestId: string;
  support: string;
  /** The decision's own message: what was refused, since when, what to do instead. */
  message: string;
  /** Which rule decided, since when. */
  rule: string;
  retryHref: string;
  abort?: { action: string; csrf: string } | undefined;
  ruleId: string;
  code: 'policy_denied' | 'account_type_mismatch';
}

/** The policy refusal: the rule's explanation, a way to log in correctly, and the way back to the portal. */
export function renderRefusal(m: RefusalModel): string {
  const l = m.locale;
  const e = ERRORS[m.code];
  return layout({
    locale: l,
    title: e.title[l],
    support: m.support,
    body: html`<div class="card error" role="alert"><p>${m.message}</p><p class="hint">${m.rule}</p>
<a class="button" href="${m.retryHref}">${R.other[l]}</a>
${m.abort ? html`<form method="post" action="${m.abort.action}"><input type="hidden" name="csrf" value="${m.abort.csrf}"><input type="hidden" name="code" value="${m.code}"><button type="submit" class="secondary">${C.back[l]}</button></form>` : ''}
</div>
<p class="meta">${C.code[l]}: <code>${m.code}</code> · ${l === 'vi' ? 'Quy định' : 'Rule'}: <code>${m.ruleId}</code> · ${C.request[l]}: <code>${m.requestId}</code></p>`,
  });
}
