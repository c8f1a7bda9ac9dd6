import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, createServer } from 'node:net';
import { Redis } from 'ioredis';

/**
 * A real Redis for a test file: REDIS_URL when set (with a unique key prefix per file), else a
 * private redis-server on a free port, killed when the test process exits.
 */
export interface TestRedis {
  url: string;
  keyPrefix: string;
  /** Direct access for assertions on what is stored. */
  client: Redis;
  stop(): Promise<void>;
  /** Stop the server (FT tests): only for the private server. */
  kill?: () => void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 250; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`redis-server did not start on port ${port}`);
}

let cachedBinary: string | undefined;
function redisServerBinary(): string {
  if (cachedBinary) return cachedBinary;
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (!found) {
    throw new Error('The tests need a real Redis: set REDIS_URL, or install redis-server (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis).');
  }
  cachedBinary = found;
  return found;
}

export async function startRedis(): Promise<TestRedis> {
  const keyPrefix = `t${randomBytes(4).toString('hex')}:`;
  if (process.env.REDIS_URL) {
    const client = new Redis(process.env.REDIS_URL, { keyPrefix });
    return { url: process.env.REDIS_URL, keyPrefix, client, stop: async () => void (await client.quit()) };
  }
  const port = await freePort();
  const proc: ChildProcess = spawn(redisServerBinary(), ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
  const kill = () => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  };
  process.once('exit', kill);
  const url = `redis://127.0.0.1:${port}/0`;
  await waitForPort(port);
  const client = new Redis(url, { keyPrefix, maxRetriesPerRequest: 1 });
  client.on('error', () => {}); // the fault tests kill the server on purpose
  return {
    url, keyPrefix, client, kill,
    async stop() {
      client.disconnect();
      kill();
    },
  };
}
