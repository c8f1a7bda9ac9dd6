import { errors, type ErrorOut, type KoaContextWithOIDC } from 'oidc-provider';
import { BrokerError, ERRORS, type ErrorCode } from '../errors/catalogue.js';
import { renderErrorPage, renderLoggedOut } from '../interaction/pages.js';
import { html, layout, pickLocale, raw, type Locale } from '../interaction/view.js';
import type { Logger } from '../ops/logger.js';
import { requestIdOf } from '../ops/request-id.js';
import { StoreUnavailableError } from '../store/store.js';

/** What the provider's pages need from the broker. */
export interface PageContext {
  support: string;
  log: Logger;
}

function localeOf(ctx: KoaContextWithOIDC): Locale {
  const params = ctx.oidc?.params as { ui_locales?: unknown } | undefined;
  return pickLocale(params?.ui_locales ?? ctx.query?.ui_locales);
}

function codeFor(out: ErrorOut, error: Error): ErrorCode {
  if (error instanceof errors.SessionNotFound) return 'interaction_expired';
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e instanceof StoreUnavailableError) return 'store_unavailable';
    if (e instanceof BrokerError) return e.code;
  }
  if (out.error === 'server_error') return 'internal';
  return 'portal_request_invalid';
}

/**
 * Errors the provider cannot send back to a portal (unknown client, unregistered redirect_uri,
 * lost interaction cookie …): a page, never a redirect (AT-14).
 */
export function renderError(pages: PageContext, ctx: KoaContextWithOIDC, out: ErrorOut, error: Error): void {
  const code = codeFor(out, error);
  const requestId = requestIdOf(ctx.req);
  const level = ERRORS[code].status >= 500 ? 'error' : 'warn';
  pages.log[level]({ requestId, code, oauthError: out.error, description: out.error_description, route: ctx.oidc?.route, err: code === 'internal' ? error : undefined }, 'provider error page');
  ctx.status = ERRORS[code].status;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = renderErrorPage({
    code,
    locale: localeOf(ctx),
    requestId,
    support: pages.support,
    oauth: code === 'portal_request_invalid' ? { error: out.error, description: out.error_description } : undefined,
  });
}

const LOGOUT = {
  title: { vi: 'Đăng xuất', en: 'Log out' },
  question: {
    vi: 'Bạn có muốn đăng xuất khỏi hệ thống xác thực tập trung không? Bạn sẽ được đăng xuất khỏi các Cổng dịch vụ công đã đăng nhập bằng tài khoản này.',
    en: 'Do you want to log out of the central login service? You will be logged out of every public-service portal you entered with this account.',
  },
  yes: { vi: 'Đăng xuất', en: 'Log out' },
  no: { vi: 'Không, giữ đăng nhập', en: 'No, stay logged in' },
} as const;

export function logoutSource(pages: PageContext, ctx: KoaContextWithOIDC, form: string): void {
  const locale = localeOf(ctx);
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  const formId = /id="([^"]+)"/.exec(form)?.[1] ?? 'op.logoutForm';
  ctx.body = layout({
    locale,
    title: LOGOUT.title[locale],
    support: pages.support,
    body: html`<div class="card"><p>${LOGOUT.question[locale]}</p>${raw(form)}
<button type="submit" form="${formId}" name="logout" value="yes">${LOGOUT.yes[locale]}</button>
<button type="submit" form="${formId}" class="secondary">${LOGOUT.no[locale]}</button></div>`,
  });
}

export function postLogoutSuccessSource(pages: PageContext, ctx: KoaContextWithOIDC): void {
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = renderLoggedOut(localeOf(ctx), pages.support);
}
