import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import { z } from 'zod';
import type { AccountType } from '../config/schema.js';
import { BrokerError, type ErrorCode } from '../errors/catalogue.js';
import type { Store } from '../store/store.js';
import type { UpstreamClient } from './client.js';
import type { Identity } from './identity.js';
import { toIdentity } from './mapping.js';

/**
 * The broker's login at one upstream: state + nonce + PKCE, kept server-side in the store,
 * single use, 10 minutes, bound to the interaction and to the browser that started it.
 */

export const TRANSACTION_TTL_SECONDS = 600;

const transactionRecord = z.object({
  uid: z.string(),
  idp: z.string(),
  accountType: z.enum(['citizen', 'business', 'organization']).optional(),
  nonce: z.string(),
  verifier: z.string(),
  browser: z.string(),
  createdAt: z.number(),
  /** The page language of this login, for pages shown at the callback. */
  locale: z.enum(['vi', 'en']).optional(),
});
export type Transaction = z.infer<typeof transactionRecord>;

// The transaction key is tagged by its state: it is the only key of its operations.
const txKey = (state: string) => `utx:{${state}}`;
const hash = (v: string) => createHash('sha256').update(v).digest('base64url');

export interface StartOptions {
  uid: string;
  accountType?: AccountType | undefined;
  /** Stable random value from the browser's transaction cookie. */
  browserId: string;
  /** Ask the upstream for a fresh login (portal sent prompt=login or max_age elapsed). */
  forceLogin?: boolean;
  locale?: string;
  now: number;
}

export async function startTransaction(store: Store, upstream: UpstreamClient, opts: StartOptions): Promise<URL> {
  const config = await upstream.configuration();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const verifier = oidc.randomPKCECodeVerifier();
  const record: Transaction = {
    uid: opts.uid, idp: upstream.name, nonce, verifier, browser: hash(opts.browserId), createdAt: opts.now,
    ...(opts.locale === 'en' || opts.locale === 'vi' ? { locale: opts.locale } : {}),
    ...(opts.accountType ? { accountType: opts.accountType } : {}),
  };
  const [challenge] = await Promise.all([
    oidc.calculatePKCECodeChallenge(verifier),
    store.set(txKey(state), JSON.stringify(record), TRANSACTION_TTL_SECONDS),
  ]);
  return oidc.buildAuthorizationUrl(config, {
    ...upstream.cfg.authorizationParams,
    redirect_uri: upstream.redirectUri,
    scope: upstream.cfg.scope,
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...(opts.forceLogin ? { prompt: 'login' } : {}),
    ...(opts.locale ? { ui_locales: opts.locale } : {}),
  });
}

export interface CallbackResult {
  tx: Transaction;
  identity: Identity;
  /** Kept for upstream logout (id_token_hint). */
  idToken: string | undefined;
}

/** An error that happened after the transaction was found: the page can offer a retry. */
export class TransactionError extends BrokerError {
  constructor(code: ErrorCode, readonly tx: Transaction, detail?: string, options?: { cause?: unknown }) {
    super(code, detail, options);
  }
}

/**
 * Validate the upstream's answer and turn it into an Identity. The transaction is taken
 * (deleted) first, so whatever happens next it cannot be replayed.
 */
export async function completeTransaction(store: Store, upstream: UpstreamClient, callbackUrl: URL, browserId: string | undefined): Promise<CallbackResult> {
  const state = callbackUrl.searchParams.get('state');
  if (!state) throw new BrokerError('upstream_state_missing', `${upstream.name}: callback without state`);
  const raw = await store.take(txKey(state));
  if (!raw) throw new BrokerError('upstream_state_invalid', `${upstream.name}: unknown, expired or replayed state`);
  const tx = transactionRecord.parse(JSON.parse(raw));

  if (tx.idp !== upstream.name) {
    throw new TransactionError('upstream_mixup', tx, `transaction for ${tx.idp} delivered to the ${upstream.name} callback`);
  }
  if (!browserId || hash(browserId) !== tx.browser) {
    throw new TransactionError('upstream_browser_mismatch', tx, `${upstream.name}: transaction cookie missing or different`);
  }
  const config = await upstream.configuration();
  // RFC 9207: exact string compare, before any token request (AT-01, PC-20).
  const iss = callbackUrl.searchParams.get('iss');
  if (iss !== null && iss !== upstream.expectedIssuer) {
    throw new TransactionError('upstream_mixup', tx, `${upstream.name}: iss "${iss}" is not "${upstream.expectedIssuer}"`);
  }
  if (iss === null && config.serverMetadata().authorization_response_iss_parameter_supported) {
    throw new TransactionError('upstream_mixup', tx, `${upstream.name}: iss missing although the upstream advertises it`);
  }
  const error = callbackUrl.searchParams.get('error');
  if (error) {
    const code: ErrorCode = error === 'access_denied' ? 'upstream_denied' : 'upstream_error';
    throw new TransactionError(code, tx, `${upstream.name}: error=${error.slice(0, 64)}`);
  }

  try {
    const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: tx.verifier,
      expectedNonce: tx.nonce,
      expectedState: state,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims();
    if (!idClaims) throw new TransactionError('upstream_invalid_response', tx, `${upstream.name}: no ID token`);
    let claims: Record<string, unknown> = upstream.cfg.claimsFrom === 'userinfo' ? { sub: idClaims.sub } : { ...idClaims };
    if (upstream.cfg.claimsFrom !== 'id_token') {
      // fetchUserInfo checks that userinfo's sub is the ID token's sub (AT-09).
      const info = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
      claims = { ...claims, ...info };
    }
    const identity = toIdentity({ name: upstream.name, kind: upstream.kind, issuer: upstream.expectedIssuer }, claims);
    return { tx, identity, idToken: tokens.id_token };
  } catch (err) {
    if (err instanceof TransactionError) throw err;
    if (err instanceof BrokerError) throw new TransactionError(err.code, tx, err.detail, { cause: err });
    throw new TransactionError(classify(err), tx, `${upstream.name}: ${describe(err)}`, { cause: err });
  }
}

/** Map an openid-client / fetch failure to the catalogue. */
function classify(err: unknown): ErrorCode {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'upstream_unavailable';
    if (e.name === 'TypeError' && /fetch failed/.test(e.message)) return 'upstream_unavailable';
    if ('code' in e && typeof e.code === 'string' && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT|UND_ERR_)/.test(e.code)) return 'upstream_unavailable';
    if (e.name === 'ResponseBodyError' || e.name === 'WWWAuthenticateChallengeError') return 'upstream_error';
  }
  if (err instanceof Error && /RESPONSE_IS_NOT_JSON|RESPONSE_IS_NOT_CONFORM/.test(String((err as { code?: string }).code))) return 'upstream_error';
  return 'upstream_invalid_response';
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: string }).code;
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
  return `${err.name}${code ? ` ${code}` : ''}: ${err.message}${cause}`;
}
