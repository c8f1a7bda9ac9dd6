import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { esc, html, type Raw } from '../interaction/view.js';

/**
 * A demo provincial portal (relying party) built with openid-client, as a province would
 * integrate: code flow + PKCE against the broker, claims shown after login, logout.
 * Development only.
 */

export interface DemoPortalOptions {
  port: number;
  publicUrl: string;
  brokerIssuer: string;
  portals: { clientId: string; clientSecret: string; label: string }[];
}

interface PortalSession {
  pending?: { clientId: string; verifier: string; state: string; nonce: string };
  clientId?: string;
  claims?: Record<string, unknown>;
  idToken?: string;
  userinfo?: Record<string, unknown>;
  error?: string;
  loggedOutByBroker?: boolean;
}

export async function startDemoPortal(o: DemoPortalOptions): Promise<{ url: string; close(): Promise<void> }> {
  const sessions = new Map<string, PortalSession>();
  const configs = new Map<string, Promise<oidc.Configuration>>();
  const redirectUri = `${o.publicUrl}/callback`;

  const configFor = (clientId: string) => {
    let c = configs.get(clientId);
    if (!c) {
      const p = o.portals.find((x) => x.clientId === clientId);
      if (!p) throw new Error(`unknown portal ${clientId}`);
      c = oidc.discovery(new URL(o.brokerIssuer), p.clientId, undefined, oidc.ClientSecretBasic(p.clientSecret), { execute: [oidc.allowInsecureRequests] });
      c.catch(() => configs.delete(clientId));
      configs.set(clientId, c);
    }
    return c;
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, page('Lỗi', html`<p class="err">${String(err)}</p>`)));
  });

  function sessionOf(req: IncomingMessage, res: ServerResponse): PortalSession {
    const sid = /(?:^|;\s*)demo_sid=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? '')?.[1];
    if (sid && sessions.has(sid)) return sessions.get(sid)!;
    const id = randomBytes(16).toString('base64url');
    const s: PortalSession = {};
    sessions.set(id, s);
    res.setHeader('set-cookie', `demo_sid=${id}; Path=/; HttpOnly; SameSite=Lax`);
    return s;
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', o.publicUrl);
    if (url.pathname === '/backchannel-logout' && req.method === 'POST') {
      // The broker tells us a session ended; a real portal would verify the logout token and end its session.
      res.writeHead(200).end();
      return;
    }
    const s = sessionOf(req, res);
    if (url.pathname === '/login') {
      const clientId = url.searchParams.get('portal') ?? o.portals[0]!.clientId;
      const config = await configFor(clientId);
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      s.pending = { clientId, verifier, state, nonce };
      const extra: Record<string, string> = {};
      for (const k of ['idp_hint', 'acr_values', 'prompt', 'ui_locales', 'max_age']) {
        const v = url.searchParams.get(k);
        if (v) extra[k] = v;
      }
      const to = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri, scope: 'openid profile phone email address signature', state, nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
      });
      return redirect(res, to.href);
    }
    if (url.pathname === '/callback') {
      const p = s.pending;
      s.pending = undefined;
      if (!p) return redirect(res, '/');
      if (url.searchParams.get('error')) {
        s.error = `${url.searchParams.get('error')}: ${url.searchParams.get('error_description') ?? ''}`;
        return redirect(res, '/');
      }
      const config = await configFor(p.clientId);
      const tokens = await oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: p.verifier, expectedState: p.state, expectedNonce: p.nonce, idTokenExpected: true });
      const claims = tokens.claims()!;
      Object.assign(s, { clientId: p.clientId, claims: { ...claims }, idToken: tokens.id_token, error: undefined });
      s.userinfo = { ...(await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)) };
      return redirect(res, '/');
    }
    if (url.pathname === '/logout' && s.clientId && s.idToken) {
      const config = await configFor(s.clientId);
      const to = oidc.buildEndSessionUrl(config, { id_token_hint: s.idToken, post_logout_redirect_uri: `${o.publicUrl}/`, state: oidc.randomState() });
      delete s.claims;
      delete s.idToken;
      delete s.userinfo;
      return redirect(res, to.href);
    }
    if (url.pathname !== '/') return send(res, 404, page('Không tìm thấy', html`<p>404</p>`));
    return send(res, 200, home(o, s));
  }

  await new Promise<void>((resolve) => server.listen(o.port, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: o.publicUrl || `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function redirect(res: ServerResponse, to: string) {
  res.writeHead(303, { location: to, 'cache-control': 'no-store' }).end();
}

function send(res: ServerResponse, status: number, body: string) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(body);
}

function home(o: DemoPortalOptions, s: PortalSession): string {
  if (s.claims) {
    const rows = Object.entries(s.claims).map(([k, v]) => html`<tr><th>${k}</th><td><code>${JSON.stringify(v)}</code></td></tr>`);
    const info = Object.entries(s.userinfo ?? {}).map(([k, v]) => html`<tr><th>${k}</th><td><code>${JSON.stringify(v)}</code></td></tr>`);
    return page('Đã đăng nhập', html`<p>Cổng <strong>${s.clientId}</strong> đã nhận ID token từ hệ thống xác thực tập trung.</p>
<h2>ID token</h2><table>${rows}</table><h2>Userinfo (/me)</h2><table>${info}</table>
<p><a class="btn" href="/logout">Đăng xuất</a></p>`);
  }
  const options = html`<details><summary>Tuỳ chọn (dành cho kiểm thử)</summary>
<label>idp_hint <select name="idp_hint"><option value="">—</option><option>vneid</option><option>dvcqg</option></select></label>
<label>acr_values <select name="acr_values"><option value="">—</option><option>urn:igate:acr:2</option><option>urn:igate:acr:3</option></select></label>
<label>prompt <select name="prompt"><option value="">—</option><option>login</option></select></label>
<label>ui_locales <select name="ui_locales"><option value="">vi</option><option>en</option></select></label></details>`;
  return page('Cổng dịch vụ công (demo)', html`${s.error ? html`<p class="err">Đăng nhập không thành công: ${s.error}</p>` : ''}
<p>Nộp hồ sơ thủ tục hành chính trực tuyến. Chọn tỉnh và bấm "Đăng nhập".</p>
${o.portals.map((p) => html`<form method="get" action="/login"><input type="hidden" name="portal" value="${p.clientId}">${options}<button type="submit">Đăng nhập — ${p.label}</button></form>`)}`);
}

function page(title: string, body: Raw): string {
  return `<!doctype html><html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title>
<style>body{font:16px/1.5 system-ui,Arial,sans-serif;margin:0;background:#f6f7f9}header{background:#00695c;color:#fff;padding:.8rem 1rem;font-weight:600}
main{max-width:48rem;margin:1rem auto;padding:0 1rem}form{background:#fff;border:1px solid #ddd;border-radius:8px;padding:1rem;margin:1rem 0}
button,.btn{display:inline-block;padding:.6rem 1rem;background:#00695c;color:#fff;border:0;border-radius:5px;font:inherit;text-decoration:none;cursor:pointer;margin-top:.5rem}
label{display:block;margin:.3rem 0}table{border-collapse:collapse;background:#fff;width:100%}th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}.err{color:#b00020}</style>
</head><body><header>Cổng dịch vụ công tỉnh (demo, môi trường thử nghiệm)</header><main><h1>${esc(title)}</h1>${body.html}</main></body></html>`;
}
