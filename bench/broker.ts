// Benchmark child: the broker with Redis, logging off, against the minimal upstream.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../src/config/schema.js';
import { createLogger } from '../src/ops/logger.js';
import { startBroker } from '../src/server.js';

const { port, upstream, redisUrl, redirectUri } = JSON.parse(process.argv[2]!) as { port: number; upstream: string; redisUrl: string; redirectUri: string };
const cfg = configSchema({ production: false }).parse({
  issuer: `http://127.0.0.1:${port}`,
  listen: { host: '127.0.0.1', port },
  redis: { url: redisUrl, keyPrefix: 'bench:' },
  keys: { signingJwks: join(tmpdir(), `igate-bench-${port}.json`), generateIfMissing: true, cookieKeys: ['bench-cookie-key-0123456789abcdef'], subjectKey: 'bench-subject-key-0123456789abcdef' },
  limits: { loginsPerIpPerMinute: 100_000 },
  upstreams: { vneid: { issuer: upstream, clientId: 'bench', clientSecret: 'bench-upstream-secret' } },
  clients: [{ clientId: 'portal', clientSecret: 'bench-portal-secret', province: 'x', redirectUris: [redirectUri] }],
  policy: { default: { phases: [{ from: '2020-01-01', citizen: ['vneid'] }] } },
});
await startBroker(cfg, { production: false, log: createLogger({ level: 'silent' }) });
process.stdout.write('ready\n');
process.on('SIGTERM', () => process.exit(0));
