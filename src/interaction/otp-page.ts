import { html, layout, raw, type Locale } from './view.js';

/** The OTP step page: TOTP (with enrolment) or SMS, accessible, in Vietnamese and English. */

export type OtpMethod = 'totp' | 'sms';

export interface OtpPageModel {
  locale: Locale;
  uid: string;
  csrf: string;
  support: string;
  method: OtpMethod;
  /** Methods this person can use here (SMS needs a phone number from the upstream). */
  methods: OtpMethod[];
  /** TOTP not enrolled yet: the QR code and the secret to add to an app. */
  enrolment?: { qrSvg: string; secret: string } | undefined;
  /** SMS: masked number, and whether a code was sent and when a resend is possible. */
  sms?: { phone: string; sent: boolean; resendInSeconds: number; expiresAt?: number | undefined } | undefined;
  error?: string | undefined;
  info?: string | undefined;
}

const T = {
  title: { vi: 'Xác thực bổ sung', en: 'Additional verification' },
  why: {
    vi: 'Thủ tục bạn thực hiện cần thêm một bước xác thực. Nhập mã xác thực (mã OTP) gồm 6 chữ số.',
    en: 'The service you are using needs one more verification. Enter the 6-digit one-time code.',
  },
  totpTab: { vi: 'Ứng dụng xác thực', en: 'Authenticator app' },
  smsTab: { vi: 'Tin nhắn SMS', en: 'Text message (SMS)' },
  totpHelp: { vi: 'Mở ứng dụng xác thực (Google Authenticator, Microsoft Authenticator, …) và nhập mã đang hiển thị cho "igate-sso-broker".', en: 'Open your authenticator app (Google Authenticator, Microsoft Authenticator, …) and enter the code shown for "igate-sso-broker".' },
  enrol: {
    vi: 'Bạn chưa đăng ký ứng dụng xác thực. Quét mã QR dưới đây bằng ứng dụng xác thực trên điện thoại (hoặc nhập khoá bí mật), rồi nhập mã 6 chữ số mà ứng dụng hiển thị để xác nhận.',
    en: 'You have no authenticator app registered yet. Scan the QR code below with an authenticator app on your phone (or type the secret key), then enter the 6-digit code it shows to confirm.',
  },
  secret: { vi: 'Khoá bí mật', en: 'Secret key' },
  smsSend: { vi: 'Gửi mã OTP tới số {phone}', en: 'Send a code to {phone}' },
  smsSent: { vi: 'Mã OTP đã được gửi tới số điện thoại {phone}. Mã có hiệu lực trong 5 phút.', en: 'A code was sent to {phone}. It is valid for 5 minutes.' },
  resend: { vi: 'Gửi lại OTP', en: 'Resend the code' },
  resendWait: { vi: 'Gửi lại OTP (sau {s} giây)', en: 'Resend the code (in {s} s)' },
  label: { vi: 'Mã OTP', en: 'One-time code' },
  confirm: { vi: 'XÁC NHẬN', en: 'CONFIRM' },
  other: { vi: 'Chọn phương thức xác thực khác', en: 'Choose another verification method' },
  noPhone: { vi: 'Tài khoản của bạn chưa có số điện thoại nên không nhận được mã qua SMS.', en: 'Your account has no phone number, so codes cannot be sent by SMS.' },
} as const;

export function renderOtpPage(m: OtpPageModel): string {
  const l = m.locale;
  const base = `/interaction/${encodeURIComponent(m.uid)}/otp`;
  const other = m.methods.find((x) => x !== m.method);
  const codeForm = html`<form method="post" action="${base}">
<input type="hidden" name="csrf" value="${m.csrf}"><input type="hidden" name="method" value="${m.method}">
<label for="code">${T.label[l]}</label>
<input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required autofocus aria-describedby="otp-help${m.error ? ' otp-error' : ''}">
<button type="submit">${T.confirm[l]}</button>
</form>`;
  let body;
  if (m.method === 'totp') {
    body = m.enrolment
      ? html`<p id="otp-help">${T.enrol[l]}</p><div class="qr" role="img" aria-label="QR">${raw(m.enrolment.qrSvg)}</div>
<p>${T.secret[l]}: <code class="secret">${m.enrolment.secret}</code></p>${codeForm}`
      : html`<p id="otp-help">${T.totpHelp[l]}</p>${codeForm}`;
  } else if (m.sms) {
    const phone = m.sms.phone;
    const resend = html`<form method="post" action="${base}/send"><input type="hidden" name="csrf" value="${m.csrf}">
<button type="submit" class="secondary"${m.sms.resendInSeconds > 0 ? ' disabled' : ''}>${m.sms.resendInSeconds > 0 ? T.resendWait[l].replace('{s}', String(m.sms.resendInSeconds)) : T.resend[l]}</button></form>`;
    body = m.sms.sent
      ? html`<p id="otp-help">${T.smsSent[l].replace('{phone}', phone)}</p>${codeForm}${resend}`
      : html`<form method="post" action="${base}/send"><input type="hidden" name="csrf" value="${m.csrf}"><p id="otp-help">${T.why[l]}</p><button type="submit">${T.smsSend[l].replace('{phone}', phone)}</button></form>`;
  } else {
    body = html`<p id="otp-help">${T.noPhone[l]}</p>`;
  }
  return layout({
    locale: l,
    title: T.title[l],
    support: m.support,
    body: html`<p>${T.why[l]}</p>
<nav class="tabs" aria-label="${T.other[l]}">${m.methods.map((x) => html`<a href="${base}?method=${x}"${x === m.method ? html` aria-current="page" class="on"` : ''}>${x === 'totp' ? T.totpTab[l] : T.smsTab[l]}</a> `)}</nav>
${m.error ? html`<div class="card error" role="alert" id="otp-error"><p>${m.error}</p></div>` : ''}
${m.info ? html`<div class="card notice" role="status"><p>${m.info}</p></div>` : ''}
<div class="card">${body}</div>
${other ? html`<p><a href="${base}?method=${other}">${T.other[l]}</a></p>` : ''}`,
  });
}

/** `0901234288` → `09******88`, as the national portals show it. */
export function maskPhoneShort(phone: string): string {
  const d = phone.replace(/\D/g, '');
  return d.length < 6 ? '******' : `${d.slice(0, 2)}${'*'.repeat(d.length - 4)}${d.slice(-2)}`;
}
