import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { devCommand } from '../cli/dev.js';
import { readEnv } from '../config/env.js';
import { ConfigError, loadConfig } from '../config/load.js';
import { createLogger } from '../ops/logger.js';
import { startBroker } from '../server.js';
import { startDemoPortal } from './portal.js';
import { startSimulator } from './simulator.js';
import { DevOutbox } from '../stepup/index.js';

/**
 * `npm start`: the whole development stack on one machine — simulated DVCQG (:3101) and VNeID
 * (:3102), the broker (:3000) from config/dev.yaml, and a demo portal (:3200).
 */
const env = readEnv();
const file = env.configFile ?? 'config/dev.yaml';
const log = createLogger({ level: env.logLevel });

try {
  if (env.production) throw new Error('npm start runs the development stack; it refuses NODE_ENV=production');
  const cfg = await loadConfig(file, { production: false, vars: env.vars });
  // The dev CA the signature step trusts in development (written once, git-ignored).
  if (cfg.signature?.devSigner && !existsSync(join(cfg.signature.devSigner, 'root.pem'))) {
    await devCommand(['ca', '--out', cfg.signature.devSigner], env);
    log.info({ dir: cfg.signature.devSigner }, 'development CA written');
  }
  const dv = cfg.upstreams.dvcqg;
  const vn = cfg.upstreams.vneid;
  if (!dv || !vn) throw new Error(`${file}: the dev stack expects upstreams named dvcqg and vneid`);
  const callback = (name: string) => `${cfg.issuer}/upstream/${name}/callback`;
  const port = (u: string) => Number(new URL(u).port);

  const outbox = new DevOutbox((m) => log.info({ devOutbox: true, to: m.to, text: m.text }, 'SMS (dev outbox: http://localhost:3101/dev/outbox)'));
  const dvcqg = await startSimulator({
    kind: 'dvcqg', port: port(dv.issuer), publicUrl: dv.issuer, outbox,
    clients: [{ clientId: dv.clientId, clientSecret: dv.clientSecret, redirectUris: [callback('dvcqg')], postLogoutRedirectUris: [`${cfg.issuer}/upstream/logged-out`], tokenEndpointAuthMethod: dv.tokenEndpointAuthMethod }],
  });
  const vneid = await startSimulator({
    kind: 'vneid', port: port(vn.issuer), publicUrl: vn.issuer,
    clients: [{ clientId: vn.clientId, clientSecret: vn.clientSecret, redirectUris: [callback('vneid')], postLogoutRedirectUris: [`${cfg.issuer}/upstream/logged-out`], tokenEndpointAuthMethod: vn.tokenEndpointAuthMethod }],
  });
  const broker = await startBroker(cfg, { production: false, redisUrl: env.redisUrl, log, smsSender: outbox });
  broker.watch(file, { production: false, vars: env.vars });
  const portals = cfg.clients.filter((c) => c.redirectUris.includes('http://localhost:3200/callback'));
  const portal = await startDemoPortal({
    port: 3200, publicUrl: 'http://localhost:3200', brokerIssuer: cfg.issuer,
    portals: portals.map((c) => ({ clientId: c.clientId, clientSecret: c.clientSecret, label: c.name ?? c.clientId })),
  });

  console.log(`
  igate-sso-broker — development stack
    demo portal      ${portal.url}      ← open this, click "Đăng nhập"
    broker           ${cfg.issuer}      (discovery: ${cfg.issuer}/.well-known/openid-configuration)
    simulated DVCQG  ${dvcqg.url}      (SMS sent by the broker: ${dvcqg.url}/dev/outbox)
    simulated VNeID  ${vneid.url}
    store            ${broker.store.kind === 'memory' ? 'embedded in-process (set REDIS_URL to use Redis)' : 'Redis'}
  Test accounts: src/dev/accounts.yaml (password Matkhau@123, OTP 123456), e.g. 079088001234.
`);

  const stop = async () => {
    await Promise.allSettled([portal.close(), broker.close(), dvcqg.close(), vneid.close()]);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : `npm start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
