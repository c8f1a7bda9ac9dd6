import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import middie from '@fastify/middie';
import type Provider from 'oidc-provider';
import type { BrokerConfig, PolicyConfig } from './config/schema.js';
import { compilePolicy, type Policy } from './policy/index.js';
import { BrokerError } from './errors/catalogue.js';
import { BrowserBinding } from './interaction/browser.js';
import { renderErrorPage } from './interaction/pages.js';
import { interactionRoutes } from './interaction/routes.js';
import { STYLESHEET } from './interaction/view.js';
import { systemClock, type Clock } from './ops/clock.js';
import { healthRoutes } from './ops/health.js';
import type { Logger } from './ops/logger.js';
import { newRequestId, tagRequest } from './ops/request-id.js';
import { LoginRecords } from './provider/accounts.js';
import { createProvider } from './provider/index.js';
import type { SigningKey } from './provider/keys.js';
import { UpstreamLogout } from './provider/logout.js';
import { auditRoutes } from './audit/http.js';
import { createAudit, type Audit } from './audit/index.js';
import { Signatures } from './signature/index.js';
import { createStepUp, type SmsSender, type StepUp } from './stepup/index.js';
import type { Store } from './store/store.js';
import { Upstreams } from './upstream/index.js';

export interface BrokerDeps {
  cfg: BrokerConfig;
  production: boolean;
  store: Store;
  keys: SigningKey[];
  log: Logger;
  clock?: Clock;
  /** Replaces the configured SMS sender (tests, the dev stack's shared outbox). */
  smsSender?: SmsSender | undefined;
}

export interface Broker {
  app: FastifyInstance;
  provider: Provider;
  upstreams: Upstreams;
  /** Replace the policy in force (config reload); returns the compiled policy. */
  setPolicy(policy: PolicyConfig): Policy;
  /** The policy in force. */
  policy(): Policy;
  /** OTP step-up, when configured. */
  stepup: StepUp | undefined;
  audit: Audit;
}

// Paths served by the broker's own routes; everything else is the OpenID provider.
const BROKER_PATHS = /^\/(interaction|upstream|static|healthz|readyz|audit)(\/|\?|$)/;

const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

export async function createBroker(deps: BrokerDeps): Promise<Broker> {
  const { cfg, store, log } = deps;
  const clock = deps.clock ?? systemClock;
  let policy: Policy = compilePolicy(cfg.policy);
  const getPolicy = () => policy;

  const logins = new LoginRecords(store, cfg.session.ttlSeconds + 600);
  const upstreams = new Upstreams(cfg, { allowHttp: !deps.production });
  const pages = { support: cfg.ui.supportContact, log };
  const audit = await createAudit(cfg, { store, clock, log, signingKeys: deps.keys });
  const logout = new UpstreamLogout({ store, upstreams, logins, issuer: cfg.issuer, log, audit: audit.log });
  const stepup = cfg.stepup ? createStepUp(cfg.stepup, { store, clock, log, sender: deps.smsSender }) : undefined;
  const signatures = cfg.signature ? await Signatures.create(cfg.signature, { store, clock, issuer: cfg.issuer, log, production: deps.production }) : undefined;
  const devSign = cfg.signature?.devSigner && !deps.production ? await devSigner(cfg.signature.devSigner) : undefined;
  const provider = createProvider({ cfg, keys: deps.keys, store, logins, clock, policy: getPolicy, pages, logout, audit: audit.log });
  // oidc-provider validates static clients lazily; a bad registration must stop the boot instead.
  for (const c of cfg.clients) {
    try {
      await provider.Client.find(c.clientId);
    } catch (err) {
      throw new Error(`clients: ${c.clientId} is not a valid OpenID client: ${(err as { error_description?: string }).error_description ?? (err as Error).message}`, { cause: err });
    }
  }
  provider.on('server_error', (_ctx, err) => log.error({ err }, 'provider server_error'));
  const backchannel = (client: string, ok: boolean, reason?: string) => audit.log.append({ event: 'logout.backchannel', outcome: ok ? 'success' : 'failure', client, province: cfg.clients.find((c) => c.clientId === client)?.province, reason })
    .catch((err: unknown) => log.error({ err }, 'audit of a back-channel logout failed'));
  provider.on('backchannel.error', (_ctx, err, client) => {
    log.warn({ client: client.clientId, err: { message: err.message } }, 'back-channel logout to a portal failed');
    void backchannel(client.clientId, false, err.message);
  });
  provider.on('backchannel.success', (_ctx, client) => void backchannel(client.clientId, true));

  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    genReqId: () => newRequestId(),
    trustProxy: cfg.proxy,
    // One log line per login step (ours), not two per HTTP request.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
  });
  app.addHook('onRequest', async (req) => {
    tagRequest(req.raw, req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    if (reply.statusCode >= 500) log.warn({ req, res: reply, ms: Math.round(reply.elapsedTime) }, 'request failed');
  });

  await app.register(middie);
  const callback = provider.callback();
  app.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
    if (BROKER_PATHS.test(req.url ?? '')) return next();
    void callback(req, res);
  });
  await app.register(formbody);

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.headers(PAGE_HEADERS);
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) reply.header('cache-control', 'no-store');
    return payload;
  });

  app.get('/static/broker.css', async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=86400').send(STYLESHEET));

  healthRoutes(app, { store, upstreams, info: () => ({ issuer: cfg.issuer, policy: { version: policy.version } }) });

  const browser = new BrowserBinding(cfg.issuer, cfg.keys.cookieKeys[0]!);
  await app.register(async (scope) => {
    await interactionRoutes(scope, { cfg, provider, store, upstreams, logins, browser, clock, policy: getPolicy, log, logout, stepup, signatures, devSign, audit: audit.log });
  });

  await app.register(async (scope) => {
    await auditRoutes(scope, { audit, store, cfg: cfg.audit, cookieKey: cfg.keys.cookieKeys[0]!, timeZone: cfg.policy.timezone, secure: cfg.issuer.startsWith('https:'), browser, support: cfg.ui.supportContact });
  });

  app.setNotFoundHandler(async (req, reply) => {
    const e = new BrokerError('not_found');
    return reply.code(404).type('text/html').send(renderErrorPage({ code: e.code, locale: 'vi', requestId: req.id, support: cfg.ui.supportContact }));
  });

  upstreams.warmUp((name, err) => log.warn({ idp: name, err: { message: (err as Error).message } }, 'upstream not reachable at start; retried on the next login'));

  return {
    app,
    provider,
    upstreams,
    setPolicy(next) {
      policy = compilePolicy(next);
      return policy;
    },
    policy: getPolicy,
    stepup,
    audit,
  };
}

/** Development: sign challenges with the dev CA's business certificates (loaded only when configured). */
async function devSigner(dir: string) {
  const { loadDevSigner, signCms } = await import('./dev/pki.js');
  const signers = new Map<string, ReturnType<typeof loadDevSigner>>();
  return async (challenge: string, taxCode: string) => {
    if (!signers.has(taxCode)) signers.set(taxCode, loadDevSigner(dir, taxCode));
    const s = await signers.get(taxCode);
    if (!s) return undefined;
    return challenge === 'probe' ? 'available' : signCms(challenge, s.signer, s.chain, { detached: false });
  };
}
