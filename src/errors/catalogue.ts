/**
 * The broker's error catalogue: one entry per thing that can go wrong for a person or a portal.
 * Each has a stable code (quoted to support, used in logs and audit), the OAuth error a portal
 * receives when the broker can send one, the HTTP status of the page, the message in Vietnamese
 * and English (what happened and what to do next), and a line for operators.
 * README's error table is generated from this list (`npm run docs:errors`).
 */
export interface ErrorEntry {
  status: number;
  /** OAuth 2.0 error sent to the portal's redirect_uri when the person gives up, if any. */
  oauth?: 'access_denied' | 'login_required' | 'server_error' | 'temporarily_unavailable' | 'invalid_request';
  title: { vi: string; en: string };
  message: { vi: string; en: string };
  operator: string;
}

export const ERRORS = {
  interaction_expired: {
    status: 400,
    title: { vi: 'Phiên đăng nhập đã hết hạn', en: 'Your login session has expired' },
    message: {
      vi: 'Phiên đăng nhập đã hết hạn hoặc trình duyệt đã xoá cookie. Vui lòng quay lại Cổng dịch vụ công của tỉnh và bấm "Đăng nhập" lại.',
      en: 'The login took too long or the browser dropped its cookies. Go back to the provincial public-service portal and click "Log in" again.',
    },
    operator: 'No interaction for this uid, or the interaction cookie is missing (expired after session.interactionTtlSeconds, cookies blocked, or the URL was opened in another browser).',
  },
  csrf_invalid: {
    status: 403,
    title: { vi: 'Yêu cầu không hợp lệ', en: 'Invalid request' },
    message: {
      vi: 'Biểu mẫu đã hết hạn hoặc không được gửi từ trang đăng nhập này. Vui lòng tải lại trang và chọn lại.',
      en: 'The form expired or was not sent from this login page. Reload the page and choose again.',
    },
    operator: 'CSRF token missing or not bound to this browser and interaction.',
  },
  invalid_choice: {
    status: 400,
    title: { vi: 'Lựa chọn không hợp lệ', en: 'Invalid choice' },
    message: {
      vi: 'Loại tài khoản hoặc phương thức đăng nhập đã chọn không có trong danh sách. Vui lòng chọn lại trên trang đăng nhập.',
      en: 'The account type or login method chosen is not offered. Choose again on the login page.',
    },
    operator: 'The chooser form posted an unknown account type or upstream, or one the policy does not offer.',
  },
  upstream_state_missing: {
    status: 400,
    title: { vi: 'Phản hồi đăng nhập không hợp lệ', en: 'Invalid login response' },
    message: {
      vi: 'Phản hồi từ hệ thống xác thực thiếu thông tin cần thiết. Vui lòng bắt đầu lại từ Cổng dịch vụ công của tỉnh.',
      en: 'The response from the identity provider lacks required information. Start again from the provincial portal.',
    },
    operator: 'Upstream callback without state (AT-04). No token request was made.',
  },
  upstream_state_invalid: {
    status: 403,
    title: { vi: 'Phiên xác thực không hợp lệ hoặc đã được sử dụng', en: 'Unknown or already used login response' },
    message: {
      vi: 'Đường dẫn đăng nhập này đã được sử dụng hoặc đã hết hạn. Vui lòng bắt đầu lại từ Cổng dịch vụ công của tỉnh.',
      en: 'This login link was already used or has expired. Start again from the provincial portal.',
    },
    operator: 'Unknown, expired or replayed upstream state (AT-04, AT-05). The transaction is single use with a 10-minute TTL.',
  },
  upstream_browser_mismatch: {
    status: 403,
    title: { vi: 'Phiên xác thực không thuộc trình duyệt này', en: 'This login was started in another browser' },
    message: {
      vi: 'Yêu cầu đăng nhập này không được bắt đầu từ trình duyệt của bạn. Để bảo vệ tài khoản, hệ thống đã dừng lại. Vui lòng đăng nhập lại từ Cổng dịch vụ công của tỉnh.',
      en: 'This login was not started from your browser, so it was stopped to protect your account. Log in again from the provincial portal.',
    },
    operator: 'The upstream transaction is not bound to this browser (transaction cookie missing or different): possible login CSRF (AT-06).',
  },
  upstream_mixup: {
    status: 403,
    title: { vi: 'Phản hồi đến từ hệ thống xác thực khác', en: 'Response from an unexpected identity provider' },
    message: {
      vi: 'Phản hồi đăng nhập không đến từ hệ thống xác thực bạn đã chọn. Vui lòng đăng nhập lại.',
      en: 'The login response did not come from the identity provider you chose. Please log in again.',
    },
    operator: 'Mix-up: the callback path or the iss parameter does not match the upstream of the transaction (AT-01, AT-02). No token request was made.',
  },
  upstream_denied: {
    status: 400,
    oauth: 'access_denied',
    title: { vi: 'Bạn đã huỷ đăng nhập', en: 'Login cancelled' },
    message: {
      vi: 'Hệ thống xác thực cho biết bạn đã huỷ hoặc từ chối đăng nhập. Bạn có thể thử lại hoặc chọn cách đăng nhập khác.',
      en: 'The identity provider reports that the login was cancelled or refused. Try again or choose another way to log in.',
    },
    operator: 'Upstream returned error=access_denied.',
  },
  upstream_error: {
    status: 502,
    oauth: 'temporarily_unavailable',
    title: { vi: 'Hệ thống xác thực báo lỗi', en: 'The identity provider reported an error' },
    message: {
      vi: 'Hệ thống xác thực quốc gia đang gặp sự cố. Vui lòng thử lại sau ít phút hoặc chọn cách đăng nhập khác.',
      en: 'The national identity provider reported a problem. Try again in a few minutes or choose another way to log in.',
    },
    operator: 'Upstream returned an OAuth error other than access_denied (server_error, temporarily_unavailable, …) or an HTTP error at the token endpoint.',
  },
  upstream_unavailable: {
    status: 503,
    oauth: 'temporarily_unavailable',
    title: { vi: 'Không kết nối được hệ thống xác thực', en: 'The identity provider cannot be reached' },
    message: {
      vi: 'Hệ thống xác thực quốc gia hiện không phản hồi. Vui lòng thử lại sau ít phút hoặc chọn cách đăng nhập khác.',
      en: 'The national identity provider does not answer at the moment. Try again in a few minutes or choose another way to log in.',
    },
    operator: 'Upstream unreachable or slower than its timeoutMs (discovery, token, userinfo or JWKS).',
  },
  upstream_invalid_response: {
    status: 502,
    oauth: 'server_error',
    title: { vi: 'Phản hồi đăng nhập không hợp lệ', en: 'Invalid response from the identity provider' },
    message: {
      vi: 'Thông tin đăng nhập nhận được không vượt qua kiểm tra an toàn nên không được chấp nhận. Vui lòng đăng nhập lại; nếu lỗi lặp lại, hãy liên hệ tổng đài hỗ trợ.',
      en: 'The login data received failed a security check and was not accepted. Log in again; if it happens again, contact support.',
    },
    operator: 'Token response or ID token rejected (signature, iss, aud, exp, nonce, PKCE, userinfo sub mismatch).',
  },
  identity_incomplete: {
    status: 502,
    oauth: 'server_error',
    title: { vi: 'Tài khoản thiếu thông tin định danh', en: 'Your account lacks identification data' },
    message: {
      vi: 'Tài khoản của bạn chưa có đủ thông tin định danh (số định danh cá nhân/số CCCD hoặc mã số thuế). Vui lòng cập nhật thông tin tài khoản tại hệ thống đã cấp tài khoản (Cổng Dịch vụ công quốc gia hoặc ứng dụng VNeID) rồi đăng nhập lại.',
      en: 'Your account lacks the identification data needed (personal identification number or tax code). Update the account where it was issued (National Public Service Portal or the VNeID app) and log in again.',
    },
    operator: 'Upstream claims did not map to an Identity: a required claim is missing or malformed.',
  },
  account_not_allowed: {
    status: 403,
    oauth: 'access_denied',
    title: { vi: 'Tài khoản không được phép đăng nhập', en: 'This account may not log in here' },
    message: {
      vi: 'Tài khoản quản trị/cán bộ của Cổng Dịch vụ công quốc gia không dùng để nộp hồ sơ. Vui lòng đăng nhập bằng tài khoản công dân hoặc tài khoản tổ chức, doanh nghiệp của bạn.',
      en: 'Administrator or civil-servant accounts of the National Public Service Portal cannot be used to file applications. Log in with your own citizen or business account.',
    },
    operator: 'The upstream account is an administrator/civil-servant account (never accepted, seed 000).',
  },
  account_type_mismatch: {
    status: 403,
    oauth: 'access_denied',
    title: { vi: 'Loại tài khoản không khớp', en: 'Account type does not match' },
    message: {
      vi: 'Loại tài khoản bạn đã chọn không khớp với tài khoản đã đăng nhập. Vui lòng chọn đúng loại tài khoản: "Công dân" cho cá nhân, "Tổ chức, doanh nghiệp" cho doanh nghiệp.',
      en: 'The account type you chose does not match the account you logged in with. Choose "Citizen" for a person, "Organisation, business" for a business.',
    },
    operator: 'The account type chosen on the chooser differs from the upstream LoaiTaiKhoan.',
  },
  policy_denied: {
    status: 403,
    oauth: 'access_denied',
    title: { vi: 'Không thể đăng nhập bằng cách này', en: 'You cannot log in this way' },
    message: {
      vi: 'Theo quy định của tỉnh, loại tài khoản hoặc cách đăng nhập này hiện không được chấp nhận. Vui lòng đăng nhập bằng cách được hướng dẫn trên trang.',
      en: 'Under the province\'s rules this account or way of logging in is not accepted now. Please log in the way the page explains.',
    },
    operator: 'The account-type policy refused the login (rule id and policy version in the log line); the page shows the rule\'s own message.',
  },
  step_unavailable: {
    status: 503,
    oauth: 'temporarily_unavailable',
    title: { vi: 'Bước xác thực bổ sung chưa sẵn sàng', en: 'Additional verification is not available' },
    message: {
      vi: 'Quy định của tỉnh yêu cầu một bước xác thực bổ sung (chữ ký số hoặc mã OTP) mà hệ thống chưa thực hiện được. Vui lòng thử lại sau hoặc liên hệ tổng đài hỗ trợ.',
      en: 'The province\'s rule requires an additional verification (digital signature or one-time code) that the service cannot perform yet. Please try again later or contact support.',
    },
    operator: 'The policy method requires a step (signature, otp) that this broker build does not provide; the login fails closed.',
  },
  otp_locked: {
    status: 429,
    oauth: 'access_denied',
    title: { vi: 'Tạm khoá xác thực OTP', en: 'One-time codes temporarily locked' },
    message: {
      vi: 'Bạn đã nhập sai mã OTP quá số lần cho phép nên việc xác thực bằng mã OTP tạm thời bị khoá. Vui lòng thử lại sau khi hết thời gian khoá.',
      en: 'Too many wrong one-time codes: one-time codes are temporarily locked for your account. Please try again when the lock ends.',
    },
    operator: 'stepup.maxFailures wrong codes within the window: the person is locked out of OTP for stepup.lockoutSeconds (all instances).',
  },
  store_unavailable: {
    status: 503,
    oauth: 'temporarily_unavailable',
    title: { vi: 'Hệ thống tạm thời gián đoạn', en: 'Service temporarily unavailable' },
    message: {
      vi: 'Hệ thống đăng nhập đang tạm thời gián đoạn. Vui lòng thử lại sau ít phút.',
      en: 'The login service is temporarily unavailable. Try again in a few minutes.',
    },
    operator: 'Redis unreachable or too slow (commandTimeoutMs). Logins fail closed; no fallback to memory.',
  },
  portal_request_invalid: {
    status: 400,
    title: { vi: 'Yêu cầu đăng nhập không hợp lệ', en: 'Invalid login request' },
    message: {
      vi: 'Cổng dịch vụ công đã gửi một yêu cầu đăng nhập không hợp lệ nên hệ thống không thể tiếp tục. Vui lòng quay lại trang của Cổng và thử lại; nếu lỗi lặp lại, hãy báo cho đơn vị quản lý Cổng.',
      en: 'The portal sent an invalid login request, so the login cannot continue. Go back to the portal and try again; if it happens again, tell the portal\'s operator.',
    },
    operator: 'oidc-provider refused the authorization request (unknown client, unregistered redirect_uri, missing PKCE, …); see the OAuth error on the page. No redirect is made to an unverified redirect_uri.',
  },
  not_found: {
    status: 404,
    title: { vi: 'Không tìm thấy trang', en: 'Page not found' },
    message: {
      vi: 'Trang bạn tìm không tồn tại. Vui lòng bắt đầu từ Cổng dịch vụ công của tỉnh.',
      en: 'This page does not exist. Start from the provincial public-service portal.',
    },
    operator: 'No route matches this path (a mistyped or outdated link).',
  },
  internal: {
    status: 500,
    oauth: 'server_error',
    title: { vi: 'Đã xảy ra lỗi', en: 'Something went wrong' },
    message: {
      vi: 'Hệ thống gặp lỗi không mong muốn. Vui lòng thử lại; nếu lỗi lặp lại, hãy liên hệ tổng đài hỗ trợ và cung cấp mã yêu cầu bên dưới.',
      en: 'An unexpected error occurred. Try again; if it happens again, contact support and quote the request id below.',
    },
    operator: 'Unexpected exception; see the log line with this request id.',
  },
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof ERRORS;

/** An error a person can understand. `detail` is for the log only, never the page. */
export class BrokerError extends Error {
  readonly entry: ErrorEntry;
  constructor(readonly code: ErrorCode, readonly detail?: string, options?: { cause?: unknown }) {
    super(`${code}${detail ? `: ${detail}` : ''}`, options);
    this.name = 'BrokerError';
    this.entry = ERRORS[code];
  }
}

/** Markdown table for README, generated from the catalogue. */
export function errorTableMarkdown(): string {
  const rows = Object.entries(ERRORS as Record<string, ErrorEntry>).map(([code, e]) =>
    `| \`${code}\` | ${e.status} | ${e.oauth ?? '—'} | ${e.title.vi} | ${e.operator.replaceAll('|', '\\|')} |`);
  return ['| code | HTTP | OAuth error to the portal | page title (vi) | for operators |', '|---|---|---|---|---|', ...rows].join('\n');
}
