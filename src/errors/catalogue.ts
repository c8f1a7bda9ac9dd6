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
  signature_malformed: {
    status: 400,
    oauth: 'access_denied',
    title: { vi: 'Không đọc được chữ ký số', en: 'The signature could not be read' },
    message: {
      vi: 'Dữ liệu chữ ký gửi lên không đúng định dạng (CMS/PKCS#7 base64 hoặc JWS). Vui lòng ký lại bằng công cụ ký số của doanh nghiệp (VNPT-CA Plugin, BkavCA, VGCA Sign Service, …).',
      en: 'The signature sent is not CMS/PKCS#7 (base64) or JWS. Sign again with your signing tool (VNPT-CA Plugin, BkavCA, VGCA Sign Service, …).',
    },
    operator: 'The posted signature did not parse as CMS SignedData or a compact JWS with x5c.',
  },
  signature_invalid: {
    status: 400,
    oauth: 'access_denied',
    title: { vi: 'Chữ ký số không hợp lệ', en: 'The signature is not valid' },
    message: {
      vi: 'Chữ ký không khớp với nội dung cần ký của lần đăng nhập này. Vui lòng tải lại trang và ký đúng nội dung đang hiển thị.',
      en: 'The signature does not match the challenge of this login. Reload the page and sign the content it shows.',
    },
    operator: 'The signature does not verify over the challenge (signed other content, or altered).',
  },
  signature_challenge_mismatch: {
    status: 400,
    oauth: 'access_denied',
    title: { vi: 'Chữ ký dành cho lần đăng nhập khác', en: 'The signature belongs to another login' },
    message: {
      vi: 'Nội dung đã ký thuộc về một lần đăng nhập khác. Vui lòng ký nội dung đang hiển thị trên trang này.',
      en: 'The signed content belongs to another login. Sign the content shown on this page.',
    },
    operator: 'The signed content is a valid challenge of another interaction (replay across logins).',
  },
  signature_challenge_expired: {
    status: 400,
    oauth: 'access_denied',
    title: { vi: 'Yêu cầu ký đã hết hạn', en: 'The signing request has expired' },
    message: {
      vi: 'Nội dung cần ký chỉ có hiệu lực 5 phút và đã hết hạn hoặc đã được dùng. Vui lòng tải lại trang để nhận nội dung mới và ký lại.',
      en: 'The content to sign is valid for 5 minutes and has expired or was already used. Reload the page to get a new one and sign again.',
    },
    operator: 'Challenge missing, expired (signature.challengeTtlSeconds) or already used (single use).',
  },
  signature_untrusted: {
    status: 403,
    oauth: 'access_denied',
    title: { vi: 'Chứng thư số không được tin cậy', en: 'The certificate is not trusted' },
    message: {
      vi: 'Chứng thư số không do tổ chức cung cấp dịch vụ chứng thực chữ ký số được cấp phép phát hành, hoặc công cụ ký không gửi kèm chứng thư trung gian. Vui lòng dùng chứng thư số của nhà cung cấp được cấp phép (VNPT-CA, Viettel-CA, FPT-CA, BKAV-CA, …) và cập nhật công cụ ký.',
      en: 'The certificate was not issued by a licensed certification service provider, or the signing tool did not include the intermediate certificate. Use a certificate from a licensed provider and update the signing tool.',
    },
    operator: 'No chain to a root in signature.trustedRoots (untrusted root or missing intermediate).',
  },
  signature_expired: {
    status: 403,
    oauth: 'access_denied',
    title: { vi: 'Chứng thư số đã hết hạn', en: 'The certificate has expired' },
    message: {
      vi: 'Chứng thư số của doanh nghiệp đã hết hạn sử dụng. Vui lòng gia hạn chứng thư số với nhà cung cấp dịch vụ chứng thực rồi đăng nhập lại.',
      en: 'The business certificate has expired. Renew it with your certification service provider and log in again.',
    },
    operator: 'A certificate of the chain is past notAfter at the signing time or now.',
  },
  signature_not_yet_valid: {
    status: 403,
    oauth: 'access_denied',
    title: { vi: 'Chứng thư số chưa có hiệu lực', en: 'The certificate is not valid yet' },
    message: {
      vi: 'Chứng thư số chưa đến thời điểm có hiệu lực. Vui lòng kiểm tra ngày giờ trên máy tính hoặc liên hệ nhà cung cấp dịch vụ chứng thực.',
      en: 'The certificate is not valid yet. Check the date and time of your computer or contact your certification service provider.',
    },
    operator: 'A certificate of the chain is before notBefore at the signing time or now.',
  },
  signature_revoked: {
    status: 403,
    oauth: 'access_denied',
    title: { vi: 'Chứng thư số đã bị thu hồi', en: 'The certificate has been revoked' },
    message: {
      vi: 'Chứng thư số này đã bị nhà cung cấp dịch vụ chứng thực thu hồi nên không dùng để đăng nhập được. Vui lòng liên hệ nhà cung cấp để được cấp chứng thư số mới.',
      en: 'This certificate has been revoked by its certification service provider. Contact the provider for a new certificate.',
    },
    operator: 'The certificate serial is listed in the CRL of its issuer.',
  },
  signature_revocation_unavailable: {
    status: 503,
    oauth: 'temporarily_unavailable',
    title: { vi: 'Chưa kiểm tra được tình trạng chứng thư số', en: 'The certificate status cannot be checked' },
    message: {
      vi: 'Hệ thống chưa kiểm tra được chứng thư số có bị thu hồi hay không. Vui lòng thử lại sau ít phút.',
      en: 'The service could not check whether the certificate was revoked. Please try again in a few minutes.',
    },
    operator: 'No current CRL for the issuer (signature.crls unreachable or stale) and revocationFailOpen is false.',
  },
  signature_key_usage: {
    status: 403,
    oauth: 'access_denied',
    title: { vi: 'Chứng thư số không dùng để ký', en: 'The certificate cannot be used to sign' },
    message: {
      vi: 'Chứng thư số này không được phép dùng để ký số. Vui lòng dùng chứng thư số ký của doanh nghiệp (USB ký số hoặc SIM ký số).',
      en: 'This certificate is not allowed to sign. Use the signing certificate of the business (USB token or SIM signature).',
    },
    operator: 'keyUsage has neither digitalSignature nor nonRepudiation.',
  },
  signature_mst_mismatch: {
    status: 403,
    oauth: 'access_denied',
    title: { vi: 'Mã số thuế không khớp', en: 'The tax code does not match' },
    message: {
      vi: 'Mã số thuế trong chứng thư số không trùng với mã số thuế của tài khoản doanh nghiệp vừa đăng nhập. Vui lòng ký bằng chứng thư số cấp cho chính doanh nghiệp này.',
      en: 'The tax code in the certificate differs from the tax code of the business account that logged in. Sign with the certificate issued to this business.',
    },
    operator: 'The certificate UID MST does not equal the tax_code from the upstream (branch suffix compared exactly).',
  },
  too_many_requests: {
    status: 429,
    oauth: 'temporarily_unavailable',
    title: { vi: 'Quá nhiều yêu cầu đăng nhập', en: 'Too many login attempts' },
    message: {
      vi: 'Có quá nhiều yêu cầu đăng nhập từ địa chỉ mạng của bạn trong thời gian ngắn. Vui lòng chờ một phút rồi thử lại.',
      en: 'Too many logins were started from your network address in a short time. Please wait a minute and try again.',
    },
    operator: 'More than limits.loginsPerIpPerMinute upstream logins started from one IP in a minute (shared by all instances).',
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
