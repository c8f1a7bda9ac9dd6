import Provider, { errors, interactionPolicy, type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { BrokerConfig, ClientConfig } from '../config/schema.js';
import type { Clock } from '../ops/clock.js';
import { evaluateIdentity, type Policy, type Step } from '../policy/index.js';
import type { Store } from '../store/store.js';
import { ACR_VALUES, acrLevel, findAccountFn, pairwiseSubject, requestedAcrLevel, type LoginRecords } from './accounts.js';
import { storeAdapter } from './adapter.js';
import type { SigningKey } from './keys.js';
import type { UpstreamLogout } from './logout.js';
import type { AuditLog } from '../audit/index.js';
import { providerAudit } from './audit-hooks.js';
import { logoutSource, postLogoutSuccessSource, renderError, type PageContext } from './pages.js';

export interface ProviderDeps {
  cfg: BrokerConfig;
  keys: SigningKey[];
  store: Store;
  logins: LoginRecords;
  clock: Clock;
  /** The policy in force (reloadable). */
  policy: () => Policy;
  pages: PageContext;
  logout: UpstreamLogout;
  audit: AuditLog;
}

export const ACCESS_TOKEN_TTL = 600;
export const CODE_TTL = 60;

/** Portal registration → oidc-provider client metadata. Code flow only, exact redirect URIs. */
function clientMetadata(c: ClientConfig): ClientMetadata {
  return {
    client_id: c.clientId,
    client_secret: c.clientSecret,
    ...(c.name ? { client_name: c.name } : {}),
    redirect_uris: c.redirectUris,
    post_logout_redirect_uris: c.postLogoutRedirectUris,
    response_types: ['code'],
    grant_types: c.refreshTokens ? ['authorization_code', 'refresh_token'] : ['authorization_code'],
    token_endpoint_auth_method: c.tokenEndpointAuthMethod,
    // query only, form_post for portals registered for it (AT-16)
    response_modes: c.formPost ? ['query', 'form_post'] : ['query'],
    subject_type: c.subjectType,
    id_token_signed_response_alg: 'RS256',
    ...(c.backchannelLogoutUri ? { backchannel_logout_uri: c.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
  };
}

export function createProvider(deps: ProviderDeps): Provider {
  const { cfg, logins, clock } = deps;
  const provinceOf = new Map(cfg.clients.map((c) => [c.clientId, c.province]));
  // Back-channel logout URIs come from the operator's config, not from dynamic registration, so
  // they may be on the provinces' internal networks: oidc-provider's SSRF guard (which refuses
  // private and loopback addresses) is lifted for exactly those origins and kept for anything else.
  const trustedOrigins = new Set(cfg.clients.flatMap((c) => (c.backchannelLogoutUri ? [new URL(c.backchannelLogoutUri).origin] : [])));

  const policy = interactionPolicy.base();
  // The broker, not the session cookie alone, decides whether an existing SSO session may be
  // reused for this portal: its province's rules must allow the way that session logged in,
  // and the acr asked for must not exceed what that login proved. max_age is checked by the
  // provider's own max_age check.
  // The broker, not the session cookie alone, decides whether an existing SSO session may be
  // reused for this portal: its province's rules must accept the way that session logged in
  // (otherwise: a new login), and the acr asked for must not exceed what that login proved
  // (otherwise: step-up). max_age is checked by the provider's own max_age check.
  // Both checks below read the same answer: computed once per request.
  const reuseOnce = new WeakMap<KoaContextWithOIDC, ReturnType<typeof reuseDecision>>();
  const reuse = (ctx: KoaContextWithOIDC) => {
    let r = reuseOnce.get(ctx);
    if (!r) reuseOnce.set(ctx, (r = reuseDecision(ctx)));
    return r;
  };
  const reuseDecision = async (ctx: KoaContextWithOIDC) => {
    const session = ctx.oidc.session;
    if (!session?.accountId) return undefined;
    const record = await logins.find(session.accountId, session.authTime());
    if (!record) {
      const client = ctx.oidc.client?.clientId;
      await deps.audit.append({ event: 'session.expired', outcome: 'info', client, province: client ? provinceOf.get(client) : undefined, ip: ctx.ip })
        .catch((err: unknown) => deps.pages.log.error({ err: { message: (err as Error).message } }, 'audit of an expired session failed'));
      return { reusable: false, stepUp: false };
    }
    const level = acrLevel(record.acr);
    const satisfied: Step[] = [...(level >= 3 ? ['signature' as const] : []), ...(level >= 2 ? ['otp' as const] : [])];
    const province = provinceOf.get(ctx.oidc.client!.clientId) ?? '';
    const decision = evaluateIdentity(deps.policy(), province, { identity: record.identity, satisfied }, clock.now());
    if (decision.outcome === 'deny') return { reusable: false, stepUp: false };
    const wanted = Math.max(requestedAcrLevel(ctx.oidc.params ?? {}), decision.outcome === 'require' ? (decision.steps.includes('signature') ? 3 : 2) : 0);
    return { reusable: true, stepUp: wanted > level };
  };
  const login = policy.get('login')!;
  login.checks.add(new interactionPolicy.Check('broker_session_not_reusable', 'the existing session does not satisfy this portal', 'login_required',
    async (ctx: KoaContextWithOIDC) => ((await reuse(ctx))?.reusable === false ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT)));
  login.checks.add(new interactionPolicy.Check('broker_stepup_required', 'the portal asks for more assurance than the session has', 'interaction_required',
    async (ctx: KoaContextWithOIDC) => ((await reuse(ctx))?.stepUp ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT)));

  const configuration: Configuration = {
    adapter: storeAdapter(deps.store, () => clock.now()),
    clients: cfg.clients.map(clientMetadata),
    jwks: { keys: deps.keys as NonNullable<Configuration['jwks']>['keys'] },
    cookies: {
      keys: cfg.keys.cookieKeys,
      names: { session: 'igate_session', interaction: 'igate_interaction', resume: 'igate_interaction_resume' },
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    findAccount: findAccountFn(logins),
    claims: {
      // acr, amr and auth_time are listed under openid so that every ID token carries them,
      // not only those whose portal asked with the claims parameter.
      acr: null, amr: null, auth_time: null, sid: null, iss: null,
      openid: ['sub', 'acr', 'amr', 'auth_time', 'account_type', 'national_id', 'tax_code', 'organization_name', 'idp', 'identity_level'],
      profile: ['name', 'birthdate', 'gender'],
      email: ['email'],
      phone: ['phone_number'],
      address: ['address'],
      // The verified certificate of a business login (acr 3): serial and issuer.
      signature: ['signature'],
    },
    // Claims granted by scope appear in the ID token too: a portal needs no userinfo call.
    conformIdTokenClaims: false,
    acrValues: ACR_VALUES,
    responseTypes: ['code'],
    subjectTypes: ['public', 'pairwise'],
    pkce: { required: () => true },
    extraParams: ['idp_hint'],
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      claimsParameter: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => logoutSource(deps.pages, ctx, form.replace('</form>', `${await deps.logout.prepare(ctx)}</form>`)),
        postLogoutSuccessSource: (ctx) => postLogoutSuccessSource(deps.pages, ctx),
      },
    },
    interactions: {
      policy,
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    // Portals are the provinces' own services: the grant covers what the portal asked for,
    // without a consent screen.
    async loadExistingGrant(ctx) {
      const { oidc } = ctx;
      const accountId = oidc.session?.accountId;
      if (!accountId || !oidc.client) return undefined;
      const grantId = oidc.result?.consent?.grantId ?? oidc.session.grantIdFor(oidc.client.clientId);
      const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
      const grant = existing && existing.accountId === accountId ? existing : new oidc.provider.Grant({ accountId, clientId: oidc.client.clientId });
      grant.addOIDCScope([...(oidc.requestParamScopes as Set<string>)].join(' '));
      const claims = [...(oidc.requestParamClaims as Set<string>)];
      if (claims.length) grant.addOIDCClaims(claims);
      await grant.save();
      return grant;
    },
    async pairwiseIdentifier(_ctx, accountId, client) {
      return pairwiseSubject(cfg.keys.subjectKey, String(client.sectorIdentifier ?? client.clientId), accountId);
    },
    // Opaque access tokens remember which login they came from, so userinfo serves that login.
    async extraTokenClaims(ctx, token) {
      const code = ctx.oidc.entities.AuthorizationCode as { authTime?: number } | undefined;
      const authTime = code?.authTime ?? (token as { authTime?: number }).authTime;
      return authTime ? { auth_time: authTime } : undefined;
    },
    renderError: (ctx, out, error) => renderError(deps.pages, ctx, out, error),
    ttl: {
      AccessToken: ACCESS_TOKEN_TTL,
      AuthorizationCode: CODE_TTL,
      IdToken: ACCESS_TOKEN_TTL,
      Interaction: cfg.session.interactionTtlSeconds,
      Session: cfg.session.ttlSeconds,
      Grant: cfg.session.ttlSeconds,
      RefreshToken: cfg.session.ttlSeconds,
      ClientCredentials: ACCESS_TOKEN_TTL,
    },
    rotateRefreshToken: true,
    fetch(input, init) {
      const url = new URL(input instanceof Request ? input.url : input);
      if (init && trustedOrigins.has(url.origin)) {
        const { dispatcher: _guard, ...rest } = init as RequestInit & { dispatcher?: unknown };
        return fetch(input, rest);
      }
      return fetch(input, init);
    },
    clockTolerance: 15,
  };

  const provider = new Provider(cfg.issuer, configuration);
  const audited = providerAudit(deps.audit, provinceOf, deps.pages.log);
  provider.proxy = cfg.proxy;

  provider.use(async (ctx, next) => {
    // Every provider response: no framing, no referrer (AT-17, AT-19), no caching of HTML.
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Content-Security-Policy', "frame-ancestors 'none'");
    ctx.set('Referrer-Policy', 'no-referrer');
    await next();
    await burnCodeOnFailedRedemption(ctx as KoaContextWithOIDC);
    await deps.logout.afterConfirm(ctx as KoaContextWithOIDC);
    await audited(ctx as KoaContextWithOIDC);
  });
  return provider;
}

/**
 * oidc-provider checks the PKCE verifier before it consumes the code, so a wrong verifier
 * would leave the code usable for another guess. DESIGN.md: a wrong verifier burns the code.
 */
async function burnCodeOnFailedRedemption(ctx: KoaContextWithOIDC) {
  if (ctx.oidc?.route !== 'token' || ctx.status !== 400) return;
  const params = ctx.oidc.params as { grant_type?: string; code?: string } | undefined;
  const body = ctx.body as { error?: string } | undefined;
  if (params?.grant_type !== 'authorization_code' || !params.code || body?.error !== 'invalid_grant') return;
  const code = await ctx.oidc.provider.AuthorizationCode.find(params.code, { ignoreExpiration: true }).catch(() => undefined);
  const consumed = (code as { consumed?: number } | undefined)?.consumed;
  if (code && code.clientId === ctx.oidc.client?.clientId && !consumed) await code.consume().catch((err: unknown) => {
    if (!(err instanceof errors.InvalidGrant)) throw err;
  });
}
