import * as oidc from 'openid-client';
import type { BrokerConfig } from '../config/schema.js';
import { UpstreamClient } from './client.js';

export type { Identity } from './identity.js';
export { UpstreamClient } from './client.js';
export { startTransaction, completeTransaction, TransactionError, type CallbackResult } from './transaction.js';

/** The configured upstreams by name, each with its callback at /upstream/:name/callback. */
export class Upstreams {
  readonly byName: ReadonlyMap<string, UpstreamClient>;

  constructor(cfg: BrokerConfig, opts: { allowHttp: boolean }) {
    this.byName = new Map(Object.entries(cfg.upstreams).map(([name, up]) =>
      [name, new UpstreamClient(name, up, `${cfg.issuer}/upstream/${name}/callback`, opts.allowHttp)]));
  }

  get(name: string): UpstreamClient | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /** Start discovery of every upstream without waiting: a down upstream must not stop the boot. */
  warmUp(onError: (name: string, err: unknown) => void): void {
    for (const [name, up] of this.byName) up.configuration().catch((err: unknown) => onError(name, err));
  }

  /** RP-initiated logout at the upstream, when it publishes an end-session endpoint. */
  async endSessionUrl(name: string, idTokenHint: string | undefined, postLogoutRedirectUri: string): Promise<URL | undefined> {
    const up = this.byName.get(name);
    if (!up) return undefined;
    const config = await up.configuration();
    if (!config.serverMetadata().end_session_endpoint) return undefined;
    return oidc.buildEndSessionUrl(config, {
      ...(idTokenHint ? { id_token_hint: idTokenHint } : {}),
      post_logout_redirect_uri: postLogoutRedirectUri,
      client_id: up.cfg.clientId,
    });
  }
}
