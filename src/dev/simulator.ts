import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { esc, html, raw, type Raw } from '../interaction/view.js';
import { maskPhone } from '../ops/mask.js';
import { storeAdapter } from '../provider/adapter.js';
import { MemoryStore } from '../store/memory-store.js';
import { simAccounts, type SimAccount } from './accounts.js';

/**
 * Simulated DVCQG and VNeID: real node-oidc-provider instances with login pages that look and
 * behave like the national ones (number + password, then an SMS OTP), the claim shapes of
 * UPSTREAMS.md, and per-account faults. Used by `npm start` and by the tests, never in production.
 */

export type SimKind = 'dvcqg' | 'vneid';

export interface SimClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post';
}

export interface SimulatorOptions {
  kind: SimKind;
  port?: number;
  host?: string;
  /** Where browsers reach it; default http://127.0.0.1:<port>. */
  publicUrl?: string;
  /** The issuer in tokens, when it differs from the public address (VNeID's internal Keycloak address). */
  issuer?: string;
  clients: SimClient[];
  accounts?: SimAccount[];
  /** The broker's dev SMS outbox, shown at /dev/outbox as a test phone would show it. */
  outbox?: { messages: readonly { to: string; text: string; at: number }[] } | undefined;
}

export interface Simulator {
  kind: SimKind;
  /** Where browsers and the broker reach it. */
  url: string;
  /** The `iss` of its tokens. */
  issuer: string;
  /** Explicit endpoints (DVCQG publishes no discovery document). */
  endpoints: { authorization: string; token: string; userinfo: string; jwks: string; endSession: string };
  provider: Provider;
  close(): Promise<void>;
}

const DVCQG_CLAIMS = ['sub', 'amr', 'TechID', 'LoaiTaiKhoan', 'SoDinhDanh', 'SoCMND', 'MaSoThue', 'MaSoDoanhNghiep', 'HoVaTen', 'TenDoanhNghiep',
  'NgayThangNamSinh', 'GioiTinh', 'SoDienThoai', 'SoDienThoaiBan', 'ThuDienTu', 'DiaChi', 'ThuongTru', 'NoiOHienNay', 'QueQuan', 'loAs', 'loginIdp', 'MaBHXH'];
const VNEID_CLAIMS = ['sub', 'TechID', 'LoaiTaiKhoan', 'IAL', 'SoDinhDanh', 'MaSoThue', 'TenDoanhNghiep', 'HoVaTen', 'NgayThangNamSinh', 'SoDienThoai',
  'preferred_username', 'name', 'given_name', 'family_name', 'loAs', 'userProfileUri', 'logoutUri'];

const ROUTES: Record<SimKind, NonNullable<Configuration['routes']>> = {
  // WSO2-style paths of the real DVCQG (UPSTREAMS.md).
  dvcqg: { authorization: '/oauth2/authorize', token: '/oauth2/token', userinfo: '/oauth2/userinfo', jwks: '/oauth2/jwks', end_session: '/oidc/logout', revocation: '/oauth2/revoke', introspection: '/oauth2/introspect' },
  // Keycloak-style paths of VNeID.
  vneid: { authorization: '/auth', token: '/token', userinfo: '/userinfo', jwks: '/certs', end_session: '/logout' },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const kind = opts.kind;
  const accounts = opts.accounts ?? simAccounts()[kind];
  const byUsername = new Map(accounts.map((a) => [a.username, a]));
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = opts.publicUrl ?? `http://127.0.0.1:${port}`;
  const issuer = opts.issuer ?? url;

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: `${kind}-${randomUUID().slice(0, 8)}`, alg: 'RS256', use: 'sig' };

  const claimsFor = (a: SimAccount, route: string | undefined) => {
    const claims: Record<string, unknown> = { ...a.claims, sub: String(a.claims.TechID ?? a.username) };
    const amr = lastAmr.get(String(claims.sub));
    if (amr) claims.amr = amr;
    if (kind === 'vneid') claims.preferred_username ??= a.username;
    if (a.fault?.type === 'missing_claims' && route !== 'authorization') for (const c of a.fault.claims) delete claims[c];
    return claims;
  };

  const store = new MemoryStore();
  const provider = new Provider(issuer, {
    adapter: storeAdapter(store),
    clients: opts.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: c.redirectUris,
      post_logout_redirect_uris: c.postLogoutRedirectUris ?? [],
      token_endpoint_auth_method: c.tokenEndpointAuthMethod ?? 'client_secret_basic',
      response_types: ['code'],
      grant_types: ['authorization_code'],
    })),
    jwks: { keys: [jwk] },
    // Own cookie names: on localhost every port shares cookies, and the broker is oidc-provider too.
    cookies: { keys: [`${kind}-simulator-cookie-key`], names: { session: `_${kind}_session`, interaction: `_${kind}_interaction`, resume: `_${kind}_interaction_resume` } },
    routes: ROUTES[kind],
    claims: { acr: null, amr: null, auth_time: null, sid: null, iss: null, openid: ['acr', 'amr', 'auth_time', ...(kind === 'dvcqg' ? DVCQG_CLAIMS : VNEID_CLAIMS)] },
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      introspection: { enabled: kind === 'dvcqg' },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource(ctx, form) {
          ctx.body = page(kind, 'Đăng xuất', html`<p>Bạn có muốn đăng xuất khỏi ${kind === 'dvcqg' ? 'Cổng Dịch vụ công quốc gia' : 'VNeID'}?</p>${raw(form)}<button type="submit" form="op.logoutForm" name="logout" value="yes">Đăng xuất</button>`);
        },
      },
    },
    interactions: { url: (_ctx, i) => `/interaction/${i.uid}` },
    async findAccount(ctx: KoaContextWithOIDC, sub: string) {
      const a = accounts.find((x) => String(x.claims.TechID ?? x.username) === sub);
      if (!a) return undefined;
      if (ctx.oidc.route === 'token' && a.fault?.type === 'token_error') throw new Error(`simulated token endpoint failure for ${a.username}`);
      if (ctx.oidc.route === 'token' && a.fault?.type === 'token_delay') await sleep(a.fault.delayMs);
      // DVCQG's ID token carries only standard claims; its data is in userinfo (UPSTREAMS.md).
      return { accountId: sub, claims: (use: string) => (kind === 'dvcqg' && use === 'id_token' ? { sub } : claimsFor(a, ctx.oidc.route) as { sub: string }) };
    },
    async loadExistingGrant(ctx) {
      const accountId = ctx.oidc.session?.accountId;
      if (!accountId || !ctx.oidc.client) return undefined;
      const grant = new ctx.oidc.provider.Grant({ accountId, clientId: ctx.oidc.client.clientId });
      grant.addOIDCScope([...(ctx.oidc.requestParamScopes as Set<string>)].join(' '));
      await grant.save();
      return grant;
    },
    pkce: { required: () => true },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 900, Session: 3600, Grant: 3600 },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page(kind, 'Lỗi', html`<p class="err">${out.error}: ${out.error_description ?? ''}</p>`);
    },
  });

  // Per-interaction state of the simulated login: which account passed the password step, on which tab.
  const passwordOk = new Map<string, { account: SimAccount; tab: string }>();
  // How each account last logged in: DVCQG's USB/SIM tabs are signatures (amr hwk / sc).
  const lastAmr = new Map<string, string[]>();

  async function interaction(req: IncomingMessage, res: ServerResponse, path: string) {
    const m = /^\/interaction\/([^/]+)(\/(login|otp))?$/.exec(path);
    if (!m) return send(res, 404, page(kind, 'Không tìm thấy', html`<p>404</p>`));
    const uid = m[1]!;
    const details = await provider.interactionDetails(req, res).catch(() => undefined);
    if (!details || details.uid !== uid) return send(res, 400, page(kind, 'Phiên đã hết hạn', html`<p class="err">Phiên đăng nhập đã hết hạn. Vui lòng quay lại trang dịch vụ và thử lại.</p>`));
    const query = new URL(req.url ?? '/', url).searchParams;
    const tab = query.get('tab') ?? 'cccd';

    if (req.method === 'GET' && !m[2]) return send(res, 200, loginPage(kind, uid, tab, accounts, ''));

    const form = new URLSearchParams(await readBody(req));
    if (m[3] === 'login' && req.method === 'POST') {
      const a = byUsername.get((form.get('username') ?? '').trim());
      if (!a || form.get('password') !== a.password) {
        return send(res, 200, loginPage(kind, uid, tab, accounts, 'Tên đăng nhập hoặc mật khẩu không đúng.'));
      }
      passwordOk.set(uid, { account: a, tab });
      return send(res, 200, otpPage(kind, uid, a, ''));
    }
    if (m[3] === 'otp' && req.method === 'POST') {
      const pending = passwordOk.get(uid);
      if (!pending) return send(res, 200, loginPage(kind, uid, tab, accounts, 'Vui lòng đăng nhập lại.'));
      const a = pending.account;
      if (form.get('otp') !== a.otp) return send(res, 200, otpPage(kind, uid, a, 'Mã OTP không đúng. Vui lòng thử lại.'));
      passwordOk.delete(uid);
      const sub = String(a.claims.TechID ?? a.username);
      if (a.fault?.type === 'access_denied') {
        return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'End-User denied the authorization' }, { mergeWithLastSubmission: false });
      }
      const amr = pending.tab === 'usb' ? ['pwd', 'hwk'] : pending.tab === 'sim' ? ['pwd', 'sc'] : ['pwd', 'sms'];
      lastAmr.set(sub, amr);
      return provider.interactionFinished(req, res, { login: { accountId: sub, acr: '1', amr } }, { mergeWithLastSubmission: false });
    }
    return send(res, 405, page(kind, 'Lỗi', html`<p>405</p>`));
  }

  const callback = provider.callback();
  server.on('request', (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/dev/outbox' && opts.outbox) {
      const rows = [...opts.outbox.messages].reverse().map((m) => html`<tr><td>${new Date(m.at).toLocaleTimeString('vi-VN')}</td><td>${m.to}</td><td>${m.text}</td></tr>`);
      return send(res, 200, page(kind, 'Hộp thư SMS thử nghiệm', html`<p>Tin nhắn mà hệ thống xác thực tập trung đã gửi (môi trường thử nghiệm). Tải lại trang để xem tin mới.</p>
<table><tr><th>Giờ</th><th>Số điện thoại</th><th>Nội dung</th></tr>${rows}</table>`));
    }
    if (path.startsWith('/interaction/')) {
      interaction(req, res, path).catch((err: unknown) => send(res, 500, page(kind, 'Lỗi', html`<p class="err">${String(err)}</p>`)));
      return;
    }
    // DVCQG publishes no discovery document: integrators are given endpoint URLs.
    if (kind === 'dvcqg' && path.startsWith('/.well-known/')) return send(res, 404, 'not found');
    void callback(req, res);
  });

  const r = ROUTES[kind];
  return {
    kind,
    url,
    issuer,
    endpoints: { authorization: url + r.authorization, token: url + r.token, userinfo: url + r.userinfo, jwks: url + r.jwks, endSession: url + r.end_session },
    provider,
    close: () => new Promise((resolve) => {
      void store.close();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function send(res: ServerResponse, status: number, body: string) {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > 16_384) break;
  }
  return body;
}

const BRAND: Record<SimKind, { name: string; color: string }> = {
  dvcqg: { name: 'CỔNG DỊCH VỤ CÔNG QUỐC GIA — Hệ thống xác thực (mô phỏng)', color: '#0b4ea2' },
  vneid: { name: 'VNeID — Hệ thống định danh và xác thực điện tử, Bộ Công an (mô phỏng)', color: '#c8102e' },
};

function page(kind: SimKind, title: string, body: Raw): string {
  const b = BRAND[kind];
  return `<!doctype html><html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>
body{margin:0;font:16px/1.5 system-ui,Arial,sans-serif;background:#eef2f7;color:#1b1b1b}header{background:${b.color};color:#fff;padding:.8rem 1rem;font-weight:600}
main{max-width:30rem;margin:1.5rem auto;background:#fff;padding:1.25rem;border-radius:8px;border:1px solid #d5dce6}
label{display:block;margin:.6rem 0 .2rem;font-weight:600}input{width:100%;box-sizing:border-box;padding:.55rem;font:inherit;border:1px solid #8a9bb0;border-radius:5px}
button{margin-top:1rem;width:100%;padding:.7rem;font:inherit;background:${b.color};color:#fff;border:0;border-radius:5px;cursor:pointer}
.tabs a{display:inline-block;padding:.4rem .8rem;margin-right:.3rem;border:1px solid #c5cfdb;border-radius:5px 5px 0 0;text-decoration:none;color:#333}.tabs a.on{background:${b.color};color:#fff}
.err{color:#b00020}.dev{background:#fff8e1;border:1px dashed #f9a825;padding:.5rem;font-size:.9rem;margin-top:1rem}.dev code{font-size:.85rem}
</style></head><body><header>${esc(b.name)}</header><main><h1>${esc(title)}</h1>${body.html}</main></body></html>`;
}

function loginPage(kind: SimKind, uid: string, tab: string, accounts: SimAccount[], error: string): string {
  const tabs = kind === 'dvcqg'
    ? [['cccd', 'CMT/CCCD'], ['usb', 'USB ký số'], ['sim', 'SIM ký số']]
    : [['cccd', 'Số định danh cá nhân'], ['qr', 'Quét mã QR']];
  const tabBar = html`<nav class="tabs">${tabs.map(([id, label]) => html`<a href="/interaction/${uid}?tab=${id}" class="${id === tab ? 'on' : ''}">${label}</a>`)}</nav>`;
  const hint = tab === 'usb' ? 'Cắm USB ký số, nhập mã số thuế/số định danh và mật khẩu (mô phỏng: USB không được kiểm tra).'
    : tab === 'sim' ? 'Nhập số điện thoại có SIM ký số và mật khẩu (mô phỏng: nhập tên đăng nhập thử nghiệm).'
      : tab === 'qr' ? 'Mở ứng dụng VNeID và quét mã QR (mô phỏng: mã QR không được tạo, hãy dùng tab "Số định danh cá nhân").' : '';
  const devList = html`<div class="dev"><strong>Tài khoản thử nghiệm</strong> (mật khẩu <code>Matkhau@123</code>, OTP <code>123456</code>):<br>${accounts.map((a) => html`<code>${a.username}</code> — ${a.label}<br>`)}</div>`;
  return page(kind, 'Đăng nhập', html`${tabBar}
${hint ? html`<p>${hint}</p>` : ''}${error ? html`<p class="err" role="alert">${error}</p>` : ''}
<form method="post" action="/interaction/${uid}/login?tab=${tab}">
<label for="username">${kind === 'dvcqg' ? 'Số CMT/CCCD hoặc mã số thuế' : 'Số định danh cá nhân'}</label>
<input id="username" name="username" autocomplete="username" required>
<label for="password">Mật khẩu</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Đăng nhập</button>
</form>${devList}`);
}

function otpPage(kind: SimKind, uid: string, a: SimAccount, error: string): string {
  const phone = maskPhone(String(a.claims.SoDienThoai ?? '0900000000'));
  return page(kind, 'Xác thực OTP', html`<p>Mã OTP đã được gửi tới số điện thoại <strong>${phone}</strong>. Mã có hiệu lực trong 5 phút.</p>
${error ? html`<p class="err" role="alert">${error}</p>` : ''}
<form method="post" action="/interaction/${uid}/otp">
<label for="otp">Mã OTP</label>
<input id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required>
<button type="submit">XÁC NHẬN</button>
</form>
<p><a href="/interaction/${uid}">Gửi lại OTP</a> · <a href="/interaction/${uid}">Chọn phương thức xác thực khác</a></p>
<div class="dev">Môi trường thử nghiệm: mã OTP là <code>${raw(esc(a.otp))}</code>.</div>`);
}
