import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as oidc from 'openid-client';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { configSchema, type BrokerConfig } from '../../src/config/schema.js';
import type { Clock } from '../../src/ops/clock.js';
import { DevOutbox } from '../../src/stepup/index.js';
import { startSimulator, type Simulator } from '../../src/dev/simulator.js';
import { createLogger } from '../../src/ops/logger.js';
import { startBroker, type RunningBroker } from '../../src/server.js';
import { Browser, type Page } from './browser.js';
import { freePort, startRedis, type TestRedis } from './redis.js';

export const PORTALS = {
  lamdong: { clientId: 'lamdong-igate', clientSecret: 'lamdong-test-secret', province: 'lam-dong', redirectUri: 'https://dichvucong.lamdong.gov.vn/oidc/callback', postLogout: 'https://dichvucong.lamdong.gov.vn/' },
  daknong: { clientId: 'daknong-igate', clientSecret: 'daknong-test-secret', province: 'dak-nong', redirectUri: 'https://dichvucong.daknong.gov.vn/auth/callback', postLogout: 'https://dichvucong.daknong.gov.vn/' },
} as const;
export type PortalName = keyof typeof PORTALS;

export const PASSWORD = 'Matkhau@123';
export const OTP = '123456';

export interface Stack {
  redis: TestRedis;
  dvcqg: Simulator;
  vneid: Simulator;
  broker: RunningBroker;
  cfg: BrokerConfig;
  issuer: string;
  /** Every log line the broker wrote, as parsed JSON. */
  logs: Record<string, unknown>[];
  rawLogs: string[];
  /** Back-channel logout requests the portals received: path (client id) and logout_token. */
  backchannel: { clientId: string; logoutToken: string }[];
  configFile?: string | undefined;
  policyFile?: string | undefined;
  /** SMS the broker sent (the dev outbox): tests read codes as a person reads their phone. */
  outbox: DevOutbox;
  close(): Promise<void>;
}

export interface StackOptions {
  /** The policy section (default: everything allowed). */
  policy?: Record<string, unknown>;
  /** The broker's clock: policy decisions are taken at this instant. */
  clock?: Clock;
  /** Write the config and policy to files and reload on change (hot reload tests). */
  files?: boolean;
  /** Shallow overrides of the parsed config (after the defaults below). */
  tweak?: (raw: Record<string, unknown>) => void;
  redis?: TestRedis;
  /** Use the embedded store instead of Redis. */
  memory?: boolean;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const redis = opts.redis ?? await startRedis();
  const brokerPort = await freePort();
  const issuer = `http://127.0.0.1:${brokerPort}`;
  const cb = (n: string) => `${issuer}/upstream/${n}/callback`;
  const loggedOut = [`${issuer}/upstream/logged-out`];
  const dvcqg = await startSimulator({ kind: 'dvcqg', clients: [{ clientId: 'broker', clientSecret: 'dvcqg-test-secret', redirectUris: [cb('dvcqg')], postLogoutRedirectUris: loggedOut, tokenEndpointAuthMethod: 'client_secret_post' }] });
  // VNeID signs with an internal issuer that differs from its public address (UPSTREAMS.md).
  const vneid = await startSimulator({ kind: 'vneid', issuer: 'http://sso.dancuquocgia.internal:8080/auth/realms/citizen', clients: [{ clientId: 'dvc-test-web', clientSecret: 'vneid-test-secret', redirectUris: [cb('vneid')], postLogoutRedirectUris: loggedOut }] });
  const dir = mkdtempSync(join(tmpdir(), 'igate-test-'));
  const backchannel = await startBackchannelReceiver();
  const raw: Record<string, unknown> = {
    issuer,
    listen: { host: '127.0.0.1', port: brokerPort },
    ...(opts.memory ? {} : { redis: { url: redis.url, keyPrefix: redis.keyPrefix } }),
    keys: { signingJwks: join(dir, 'jwks.json'), generateIfMissing: true, cookieKeys: ['test-cookie-key-0123456789abcdef'], subjectKey: 'test-subject-key-0123456789abcdef' },
    upstreams: {
      vneid: { issuer: vneid.url, expectedIssuer: vneid.issuer, clientId: 'dvc-test-web', clientSecret: 'vneid-test-secret', claimsFrom: 'both', timeoutMs: 2000 },
      dvcqg: {
        issuer: dvcqg.url, endpoints: dvcqg.endpoints, clientId: 'broker', clientSecret: 'dvcqg-test-secret',
        tokenEndpointAuthMethod: 'client_secret_post', authorizationParams: { acr_values: 'LoA1' }, claimsFrom: 'userinfo', timeoutMs: 2000,
      },
    },
    stepup: {
      encryptionKeys: [{ id: 'k1', key: Buffer.from('test-otp-encryption-key-32-bytes').toString('base64') }],
      sms: { sender: 'dev' },
    },
    // Everything allowed: the policy engine has its own tests (policy-*.test.ts) that tweak this.
    policy: opts.policy ?? { default: { phases: [{ from: '2020-01-01', citizen: ['vneid', 'dvcqg'], business: ['vneid', 'dvcqg'] }] } },
    clients: Object.values(PORTALS).map((p) => ({
      clientId: p.clientId, clientSecret: p.clientSecret, province: p.province, name: `Cổng dịch vụ công ${p.province}`,
      redirectUris: [p.redirectUri], postLogoutRedirectUris: [p.postLogout], backchannelLogoutUri: `${backchannel.url}/${p.clientId}`,
    })),
  };
  opts.tweak?.(raw);
  let cfg: BrokerConfig;
  let configFile: string | undefined;
  let policyFile: string | undefined;
  if (opts.files) {
    // JSON is YAML: the config file refers to the policy file, as an operator's would.
    configFile = join(dir, 'broker.yaml');
    policyFile = join(dir, 'policy.yaml');
    const { policy, ...rest } = raw;
    writeFileSync(policyFile, stringify(policy));
    writeFileSync(configFile, stringify({ ...rest, policyFile: './policy.yaml' }));
    cfg = await loadConfig(configFile, { production: false, vars: {} });
  } else {
    cfg = configSchema({ production: false }).parse(raw);
  }
  const logs: Record<string, unknown>[] = [];
  const rawLogs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        rawLogs.push(line);
        logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  const log = createLogger({ level: 'debug', destination: sink });
  const outbox = new DevOutbox();
  const broker = await startBroker(cfg, { production: false, log, smsSender: outbox, ...(opts.clock ? { clock: opts.clock } : {}) });
  if (configFile) broker.watch(configFile, { production: false, vars: {} }, 50);
  return {
    redis, dvcqg, vneid, broker, cfg, issuer, logs, rawLogs, backchannel: backchannel.received, configFile, policyFile, outbox,
    async close() {
      await broker.close();
      await Promise.all([dvcqg.close(), vneid.close(), backchannel.close()]);
      if (!opts.redis) await redis.stop();
    },
  };
}

/** The portal side of a flow: openid-client against the broker, as a provincial portal would use it. */
export class TestPortal {
  private config: oidc.Configuration | undefined;
  constructor(readonly stack: Stack, readonly name: PortalName = 'lamdong') {}

  get portal() {
    return PORTALS[this.name];
  }

  async configuration(): Promise<oidc.Configuration> {
    this.config ??= await oidc.discovery(new URL(this.stack.issuer), this.portal.clientId, undefined, oidc.ClientSecretBasic(this.portal.clientSecret), { execute: [oidc.allowInsecureRequests] });
    return this.config;
  }

  async authorize(params: Record<string, string> = {}) {
    const config = await this.configuration();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.portal.redirectUri, scope: 'openid', state, nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...params,
    });
    return { url: url.href, verifier, state, nonce };
  }

  isCallback = (url: string) => url.startsWith(this.portal.redirectUri);

  async exchange(callbackUrl: string, req: { verifier: string; state: string; nonce: string }) {
    const config = await this.configuration();
    return oidc.authorizationCodeGrant(config, new URL(callbackUrl), { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce, idTokenExpected: true });
  }
}

export interface LoginOptions {
  idp: 'vneid' | 'dvcqg';
  accountType?: 'citizen' | 'business';
  username: string;
  password?: string;
  otp?: string;
  params?: Record<string, string>;
  browser?: Browser;
}

/** Drive a whole login as a person: chooser, upstream login + OTP, back to the portal. */
export async function login(portal: TestPortal, o: LoginOptions) {
  const browser = o.browser ?? new Browser();
  const req = await portal.authorize(o.params);
  let page = await browser.go(req.url, portal.isCallback);
  if (page.url.includes('/interaction/') && page.body.includes('name="choice"')) {
    page = await browser.submit(page, { choice: `${o.accountType ?? 'citizen'}:${o.idp}` }, { stopAt: portal.isCallback });
  }
  page = await upstreamLogin(browser, page, o, portal.isCallback);
  return { browser, req, page };
}

/** On a simulator's login page: password step then OTP step. */
export async function upstreamLogin(browser: Browser, page: Page, o: { username: string; password?: string; otp?: string }, stopAt: (u: string) => boolean): Promise<Page> {
  if (!page.body.includes('name="password"')) return page;
  const otpPage = await browser.submit(page, { username: o.username, password: o.password ?? PASSWORD });
  if (!otpPage.body.includes('name="otp"')) return otpPage;
  return browser.submit(otpPage, { otp: o.otp ?? OTP }, { stopAt });
}

/** The portals' back-channel logout endpoints: a local HTTP server that records what it receives. */
async function startBackchannelReceiver() {
  const received: { clientId: string; logoutToken: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += String(c)));
    req.on('end', () => {
      received.push({ clientId: (req.url ?? '/').slice(1), logoutToken: new URLSearchParams(body).get('logout_token') ?? '' });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    received,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
