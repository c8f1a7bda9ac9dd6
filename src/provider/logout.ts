import { randomBytes } from 'node:crypto';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { z } from 'zod';
import type { AuditLog } from '../audit/index.js';
import type { Logger } from '../ops/logger.js';
import type { Store } from '../store/store.js';
import type { Upstreams } from '../upstream/index.js';
import type { LoginRecords } from './accounts.js';

/**
 * Logout that also ends the session at the upstream (DVCQG/VNeID), so that the next login can
 * use another account without clearing the browser (the pain point of seed 000).
 *
 * 1. The confirmation page (logoutSource) parks a plan under a random key: which login, which
 *    upstream, its ID token; the key rides in the confirmation form.
 * 2. After the provider ended the broker session, the browser is sent to the upstream's
 *    end-session endpoint instead of straight back, with post_logout_redirect_uri
 *    <issuer>/upstream/logged-out and a state that remembers the final destination.
 * 3. /upstream/logged-out takes the state (single use) and finishes at that destination.
 */

const PLAN_TTL = 600;
const planKey = (k: string) => `ulo:{${k}}`;
const returnKey = (s: string) => `ulo-return:{${s}}`;
const plan = z.object({ sessionUid: z.string(), sub: z.string(), authTime: z.number(), idp: z.string(), idToken: z.string().optional() });

export const UPSTREAM_LOGOUT_FIELD = 'upstream_logout';

export class UpstreamLogout {
  readonly returnPath = '/upstream/logged-out';

  constructor(
    private readonly deps: { store: Store; upstreams: Upstreams; logins: LoginRecords; issuer: string; log: Logger; audit: AuditLog },
  ) {}

  /** On the confirmation page: a hidden field referring to the plan, or '' when there is nothing to end upstream. */
  async prepare(ctx: KoaContextWithOIDC): Promise<string> {
    const session = ctx.oidc.session;
    if (!session?.accountId) return '';
    const record = await this.deps.logins.find(session.accountId, session.authTime());
    if (!record) return '';
    const key = randomBytes(16).toString('base64url');
    await this.deps.store.set(planKey(key), JSON.stringify({
      sessionUid: session.uid, sub: record.sub, authTime: record.authTime, idp: record.identity.idp, idToken: record.upstreamIdToken,
    }), PLAN_TTL);
    return `<input type="hidden" name="${UPSTREAM_LOGOUT_FIELD}" value="${key}"/>`;
  }

  /** After end_session_confirm: forget the login and detour through the upstream's logout. */
  async afterConfirm(ctx: KoaContextWithOIDC): Promise<void> {
    if (ctx.oidc?.route !== 'end_session_confirm' || ctx.status !== 303) return;
    const body = ctx.oidc.body as Record<string, unknown> | undefined;
    const key = body?.[UPSTREAM_LOGOUT_FIELD];
    if (typeof key !== 'string' || body?.logout !== 'yes') return;
    const raw = await this.deps.store.take(planKey(key));
    if (!raw) return;
    const p = plan.parse(JSON.parse(raw));
    if (p.sessionUid !== ctx.oidc.session?.uid) return;
    await this.deps.logins.remove(p.sub, p.authTime);
    const destination = ctx.response.get('location');
    const state = randomBytes(16).toString('base64url');
    let upstreamUrl: URL | undefined;
    try {
      upstreamUrl = await this.deps.upstreams.endSessionUrl(p.idp, p.idToken, `${this.deps.issuer}${this.returnPath}`);
    } catch (err) {
      this.deps.log.warn({ idp: p.idp, err: { message: (err as Error).message } }, 'upstream logout skipped: upstream unavailable');
    }
    if (!upstreamUrl || !destination) return;
    upstreamUrl.searchParams.set('state', state);
    await this.deps.store.set(returnKey(state), destination, PLAN_TTL);
    this.deps.log.info({ idp: p.idp }, 'logout: ending the upstream session');
    await this.deps.audit.append({ event: 'logout.upstream', outcome: 'info', idp: p.idp, subject: undefined, client: ctx.oidc.client?.clientId });
    ctx.redirect(upstreamUrl.href);
    ctx.status = 303;
  }

  /** Where the upstream sends the browser back: the destination saved for this state, once. */
  async destination(state: unknown): Promise<string | undefined> {
    if (typeof state !== 'string' || !/^[A-Za-z0-9_-]{10,64}$/.test(state)) return undefined;
    return (await this.deps.store.take(returnKey(state))) ?? undefined;
  }
}
