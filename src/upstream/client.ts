import * as oidc from 'openid-client';
import { z } from 'zod';
import type { IdpKind, UpstreamConfig } from '../config/schema.js';
import { BrokerError } from '../errors/catalogue.js';

/**
 * One upstream identity provider (DVCQG or VNeID) as seen by openid-client v6.
 * Metadata comes from discovery or from explicit endpoints; the expected issuer may differ
 * from the public host (VNeID's Keycloak signs with an internal address).
 */

const discoveryDocument = z.object({
  issuer: z.string(),
  authorization_endpoint: z.string().url(),
  token_endpoint: z.string().url(),
  userinfo_endpoint: z.string().url().optional(),
  jwks_uri: z.string().url(),
  end_session_endpoint: z.string().url().optional(),
  authorization_response_iss_parameter_supported: z.boolean().optional(),
  id_token_signing_alg_values_supported: z.array(z.string()).optional(),
});

const RETRY_AFTER_FAILURE_MS = 15_000;

export class UpstreamClient {
  readonly kind: IdpKind;
  readonly expectedIssuer: string;
  private pending: Promise<oidc.Configuration> | undefined;
  private failedAt = 0;

  constructor(
    readonly name: string,
    readonly cfg: UpstreamConfig,
    readonly redirectUri: string,
    private readonly allowHttp: boolean,
  ) {
    this.kind = cfg.kind ?? (name as IdpKind);
    this.expectedIssuer = cfg.expectedIssuer ?? cfg.issuer;
  }

  /**
   * The openid-client configuration, discovered once and cached. A failed discovery is retried
   * on a later login (not more than every 15 s), so a broker that boots while an upstream is
   * down starts anyway and recovers by itself (FT-06).
   */
  configuration(): Promise<oidc.Configuration> {
    if (!this.pending || (this.failedAt && Date.now() - this.failedAt > RETRY_AFTER_FAILURE_MS)) {
      this.failedAt = 0;
      this.pending = this.build().catch((err: unknown) => {
        this.failedAt = Date.now();
        throw err;
      });
    }
    return this.pending;
  }

  /** True once metadata is known and the last attempt did not fail. */
  get available(): boolean {
    return this.failedAt === 0;
  }

  private async build(): Promise<oidc.Configuration> {
    const e = this.cfg.endpoints ?? {};
    let meta: oidc.ServerMetadata;
    if (e.authorization && e.token && e.jwks) {
      meta = {
        issuer: this.expectedIssuer,
        authorization_endpoint: e.authorization,
        token_endpoint: e.token,
        jwks_uri: e.jwks,
        ...(e.userinfo ? { userinfo_endpoint: e.userinfo } : {}),
        ...(e.endSession ? { end_session_endpoint: e.endSession } : {}),
      };
    } else {
      const doc = await this.discover();
      meta = {
        ...doc,
        ...(e.authorization ? { authorization_endpoint: e.authorization } : {}),
        ...(e.token ? { token_endpoint: e.token } : {}),
        ...(e.userinfo ? { userinfo_endpoint: e.userinfo } : {}),
        ...(e.jwks ? { jwks_uri: e.jwks } : {}),
        ...(e.endSession ? { end_session_endpoint: e.endSession } : {}),
      };
    }
    const auth = this.cfg.tokenEndpointAuthMethod === 'client_secret_post'
      ? oidc.ClientSecretPost(this.cfg.clientSecret)
      : oidc.ClientSecretBasic(this.cfg.clientSecret);
    const config = new oidc.Configuration(meta, this.cfg.clientId, {
      id_token_signed_response_alg: 'RS256',
      [oidc.clockTolerance]: this.cfg.clockToleranceSeconds,
    }, auth);
    config.timeout = this.cfg.timeoutMs / 1000;
    // http:// upstreams are allowed for localhost in development only (config schema refuses them otherwise).
    if (this.allowHttp) oidc.allowInsecureRequests(config);
    return config;
  }

  private async discover() {
    const url = `${this.cfg.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(this.cfg.timeoutMs), headers: { accept: 'application/json' } });
    } catch (err) {
      throw new BrokerError('upstream_unavailable', `${this.name}: discovery at ${url} failed: ${(err as Error).message}`, { cause: err });
    }
    if (!res.ok) throw new BrokerError('upstream_unavailable', `${this.name}: discovery at ${url} answered HTTP ${res.status}`);
    const doc = discoveryDocument.safeParse(await res.json().catch(() => null));
    if (!doc.success) throw new BrokerError('upstream_unavailable', `${this.name}: discovery document at ${url} is malformed`);
    // Issuer pinning (PC-21): a document that names another issuer is refused, whatever its endpoints.
    if (doc.data.issuer !== this.expectedIssuer) {
      throw new BrokerError('upstream_unavailable', `${this.name}: discovery issuer "${doc.data.issuer}" is not the configured "${this.expectedIssuer}"`);
    }
    return doc.data;
  }
}
