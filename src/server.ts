import { createBroker, type Broker } from './app.js';
import type { RuntimeEnv } from './config/env.js';
import { loadConfig, type LoadOptions } from './config/load.js';
import { PolicyReloader } from './config/reload.js';
import type { BrokerConfig, PolicyConfig } from './config/schema.js';
import type { Clock } from './ops/clock.js';
import type { SmsSender } from './stepup/index.js';
import { createLogger, type Logger } from './ops/logger.js';
import { loadSigningKeys } from './provider/keys.js';
import { openStore, type Store } from './store/index.js';

export interface RunningBroker {
  broker: Broker;
  store: Store;
  url: string;
  /** Reload the policy from `file` on change and SIGHUP. */
  watch(file: string, opts: LoadOptions, intervalMs?: number): PolicyReloader;
  close(): Promise<void>;
}

/** Start a broker from an already parsed config (used by the CLI, `npm start` and the tests). */
export async function startBroker(cfg: BrokerConfig, opts: { production: boolean; redisUrl?: string | undefined; log: Logger; port?: number; clock?: Clock; smsSender?: SmsSender }): Promise<RunningBroker> {
  const keys = await loadSigningKeys(cfg.keys.signingJwks, { production: opts.production, generateIfMissing: cfg.keys.generateIfMissing });
  const store = await openStore(cfg, { production: opts.production, redisUrl: opts.redisUrl, log: opts.log });
  const broker = await createBroker({ cfg, production: opts.production, store, keys, log: opts.log, smsSender: opts.smsSender, ...(opts.clock ? { clock: opts.clock } : {}) });
  const url = await broker.app.listen({ host: cfg.listen.host, port: opts.port ?? cfg.listen.port });
  opts.log.info({ url, issuer: cfg.issuer, store: store.kind }, 'broker listening');
  let reloader: PolicyReloader | undefined;
  return {
    broker,
    store,
    url,
    watch(file, loadOpts, intervalMs) {
      reloader?.stop();
      const target = { setPolicy: (p: PolicyConfig) => broker.setPolicy(p), policyVersion: () => broker.policy().version };
      const audit = broker.audit.log;
      reloader = new PolicyReloader(file, loadOpts, target, cfg, opts.log, ({ result, trigger, version, previous }) =>
        audit.append({ event: 'config.reloaded', outcome: result === 'rejected' ? 'failure' : 'success', reason: result, policyVersion: version, detail: { trigger: trigger.slice(0, 120), previousVersion: previous } })).start(intervalMs);
      return reloader;
    },
    async close() {
      reloader?.stop();
      await broker.app.close();
      await broker.audit.log.close();
      await store.close();
    },
  };
}

/** `igate-broker --config FILE`: the server, with graceful shutdown on SIGTERM/SIGINT. */
export async function serve(file: string, env: RuntimeEnv): Promise<void> {
  const log = createLogger({ level: env.logLevel });
  const cfg = await loadConfig(file, { production: env.production, vars: env.vars });
  const running = await startBroker(cfg, { production: env.production, redisUrl: env.redisUrl, log });
  running.watch(file, { production: env.production, vars: env.vars });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing requests in flight');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    running.close().then(() => process.exit(0), (err: unknown) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
